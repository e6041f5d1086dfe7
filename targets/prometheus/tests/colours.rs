//! The alerts of a blue-green service whose colours are nodes, read from the rule groups of the
//! corpus case (`api`: blue on box-b, active; green on box-a, the switch's node, beside
//! Prometheus): the service's own `TargetDown` still selects only its job, which reaches the active
//! colour through the switch; the idle colour alone gets `IdleColourDown`, a warning selecting
//! its target in the colours' job; an alert the spec writes on the colours' job is known (no
//! W0604) and replaces the generated one; and without a Prometheus on the switch's node nothing
//! scrapes the colours, so no alert selects them. Colours that are two containers beside the
//! switch (`site` of the pair case) are scraped and alerted on the same way, on their one node.
//! promtool runs the cases' tests in `validate.rs`.

use std::path::Path;

use spec_compiler::diagnostics::Code;
use spec_compiler::target::Index;
use spec_target_prometheus::{Rule, Scope, rule_groups};

fn case() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../specs/targets/nixos/blue_green_colours_on_two_nodes_generate_cleanly.spec");
    std::fs::read_to_string(path).expect("the case")
}

/// The alerting rules of `text`, and the codes of its diagnostics.
fn alerts_of(text: &str) -> (Vec<Rule>, Vec<Code>) {
    let (_, compilation) = spec_testkit::compile("main.spec", text.to_string());
    let codes = compilation.diagnostics.iter().map(|d| d.code).collect();
    let index = Index::new(&compilation.model);
    let rules = rule_groups(&index, Scope::Everything).into_iter().flat_map(|g| g.rules).collect();
    (rules, codes)
}

fn named<'r>(rules: &'r [Rule], name: &str) -> Option<&'r Rule> {
    rules.iter().find(|r| r.alert == name)
}

#[test]
fn only_the_idle_colour_gets_an_alert_and_the_service_job_stays_the_switchs() {
    let (rules, codes) = alerts_of(&case());
    assert!(codes.is_empty(), "{codes:?}");
    let down = named(&rules, "ApiTargetDown").expect("the service's own alert");
    assert_eq!(down.expr, "up{job=\"api\"} == 0");
    let idle = named(&rules, "ApiIdleColourDown").expect("the idle colour's alert");
    // Green, on box-a, at 8080 + 20,000: where the colours' job scrapes it.
    assert_eq!(idle.expr, "up{job=\"api_colours\", instance=\"box-a:28080\"} == 0");
    assert_eq!(idle.labels["severity"], "warning");
    assert_eq!(idle.labels["colour"], "green");
    assert_eq!(idle.labels["service"], "api");
    let on_colours: Vec<&str> =
        rules.iter().filter(|r| r.expr.contains("api_colours")).map(|r| r.alert.as_str()).collect();
    assert_eq!(on_colours, ["ApiIdleColourDown"], "the active blue colour is watched through the switch only");
    // Flipping `active` moves the alert to the other colour.
    let (flipped, _) = alerts_of(&case().replace("active = blue", "active = green"));
    let idle = named(&flipped, "ApiIdleColourDown").expect("the idle colour's alert");
    assert_eq!(idle.expr, "up{job=\"api_colours\", instance=\"box-b:18080\"} == 0");
    assert_eq!(idle.labels["colour"], "blue");
}

#[test]
fn an_alert_on_the_colours_job_is_known_and_replaces_the_generated_one() {
    let written = format!(
        "{}\nalert api-colour-down {{ severity = warning, expr = \"up{{job=\\\"api_colours\\\"}} == 0\" }}\n",
        case()
    );
    let (rules, codes) = alerts_of(&written);
    assert!(!codes.contains(&Code::W0604), "the colours' job is known: {codes:?}");
    assert!(named(&rules, "ApiColourDown").is_some());
    assert!(named(&rules, "ApiIdleColourDown").is_none(), "the spec's own alert reports the colours down");
    assert!(named(&rules, "ApiTargetDown").is_some(), "the service's job is another job");
}

#[test]
fn without_prometheus_beside_the_switch_no_alert_selects_the_colours() {
    let elsewhere = case().replace("use std.prometheus\n  on = node.box-a", "use std.prometheus\n  on = node.box-b");
    assert_ne!(elsewhere, case());
    let (rules, codes) = alerts_of(&elsewhere);
    assert!(codes.is_empty(), "{codes:?}");
    assert!(named(&rules, "ApiTargetDown").is_some());
    assert!(rules.iter().all(|r| !r.expr.contains("api_colours")), "nothing scrapes the colours");
}

#[test]
fn colours_beside_the_switch_are_scraped_and_the_idle_one_gets_an_alert() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../specs/targets/nixos/blue_green_pair_behind_nginx_generates_cleanly.spec");
    let text = std::fs::read_to_string(path).expect("the case");
    let (_, compilation) = spec_testkit::compile("main.spec", text.clone());
    let index = Index::new(&compilation.model);
    let colours: Vec<(String, Option<&str>)> = spec_target_prometheus::scrape::host_jobs(&index)
        .into_iter()
        .filter(|job| job.name == "site_colours")
        .flat_map(|job| job.targets.into_iter().map(|t| (t.instance, t.colour.map(|c| c.name()))))
        .collect();
    let expected = [("web1:18080".to_string(), Some("blue")), ("web1:28080".to_string(), Some("green"))];
    assert_eq!(colours, expected, "both colours on the switch's node, at their host ports");
    let (rules, codes) = alerts_of(&text);
    assert!(codes.is_empty(), "{codes:?}");
    assert_eq!(named(&rules, "SiteTargetDown").expect("the service's own alert").expr, "up{job=\"site\"} == 0");
    // Green is active: blue, at 8080 + 10,000, is idle.
    let idle = named(&rules, "SiteIdleColourDown").expect("the idle colour's alert");
    assert_eq!(idle.expr, "up{job=\"site_colours\", instance=\"web1:18080\"} == 0");
    assert_eq!(idle.labels["colour"], "blue");
    let (flipped, _) = alerts_of(&text.replace("active = green", "active = blue"));
    let idle = named(&flipped, "SiteIdleColourDown").expect("the idle colour's alert");
    assert_eq!(idle.expr, "up{job=\"site_colours\", instance=\"web1:28080\"} == 0");
}
