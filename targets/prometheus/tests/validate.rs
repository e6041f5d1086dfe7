//! The Prometheus output read by the real tools: every rule file passes `promtool check rules`
//! and every derived unit test passes `promtool test rules` (run in the output folder, as
//! `rule_files` are relative), for the tour, a generated estate and the corpus case; every alert
//! gets its test; hostile strings come back unchanged through serde_yaml and promtool; E0623
//! refuses exactly the alert templates promtool refuses; the tour's output is snapshotted. A
//! missing promtool makes a test print SKIPPED.

use std::path::{Path, PathBuf};
use std::process::Command;

use indexmap::IndexMap;
use spec_compiler::diagnostics::Code;
use spec_compiler::model::types::{Duration, Spanned};
use spec_compiler::model::{Alert, Model, Resource, Severity};
use spec_compiler::source::{Origin, SourceFile, SourceMap, Span};
use spec_compiler::target::{Context, Target};
use spec_target_prometheus::escape::promql_string;
use spec_target_prometheus::{Prometheus, Scope, rule_groups};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn have_promtool() -> bool {
    Command::new("promtool").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// Writes `files` under a fresh `dir` and returns the folder holding the Prometheus files.
fn materialise(dir: &Path, files: &[(String, String)]) -> PathBuf {
    let _ = std::fs::remove_dir_all(dir);
    for (path, contents) in files {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::write(&target, contents).expect("write");
    }
    dir.join("prometheus")
}

/// Runs promtool over every rule file and test file in `folder`, failing on any complaint.
fn promtool_accepts(folder: &Path, files: &[(String, String)]) -> (usize, usize) {
    let (mut checked, mut tested) = (0, 0);
    for (path, _) in files {
        let name = path.strip_prefix("prometheus/").expect("under prometheus/");
        let args: &[&str] = if name.ends_with(".rules.yml") {
            checked += 1;
            &["check", "rules"]
        } else {
            tested += 1;
            &["test", "rules"]
        };
        let output = Command::new("promtool").args(args).arg(name).current_dir(folder).output().expect("runs");
        assert!(
            output.status.success(),
            "promtool {} {name}: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    (checked, tested)
}

/// Compiles an estate file or folder and runs the target, returning files and the target's
/// diagnostic codes.
fn build(path: &Path) -> (Vec<(String, String)>, Vec<Code>) {
    let (sources, compilation) = spec_testkit::compile_path(path, None);
    assert_eq!(compilation.errors(), 0, "{}: {:#?}", path.display(), compilation.diagnostics);
    let context = Context { model: &compilation.model, sources: &sources, root_from_out: "..".into() };
    let generated = Prometheus.generate(&context);
    let files = generated.files.into_iter().map(|f| (f.path, f.contents)).collect();
    (files, generated.diagnostics.iter().map(|d| d.code).collect())
}

fn generated_estate() -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("prometheus-generated-estate.spec");
    std::fs::write(&path, spec_testkit::generate_estate(40)).expect("write");
    path
}

/// The number of alerting rules, and of test scenarios, in the files.
fn count(files: &[(String, String)]) -> (usize, usize) {
    let lines = |suffix: &str, prefix: &str| {
        files
            .iter()
            .filter(|(p, _)| p.ends_with(suffix))
            .flat_map(|(_, c)| c.lines())
            .filter(|l| l.trim_start().starts_with(prefix))
            .count()
    };
    (lines(".rules.yml", "- alert: "), lines(".test.yml", "- name: "))
}

#[test]
fn every_alert_has_a_test_and_promtool_accepts_rules_and_tests() {
    let estates = [
        ("tour", workspace().join("examples/tour")),
        ("k8s-platform", workspace().join("examples/k8s-platform")),
        ("nats-services", workspace().join("examples/nats-services")),
        ("gpu-k3s-tiers", workspace().join("examples/gpu-k3s-tiers")),
        ("ml-training", workspace().join("examples/ml-training")),
        ("redis-cluster", workspace().join("specs/targets/nixos/redis_cluster_members_on_nixos_and_ubuntu.spec")),
        ("sovereign-box", workspace().join("examples/sovereign-box")),
        ("colours", workspace().join("specs/targets/nixos/blue_green_colours_on_two_nodes_generate_cleanly.spec")),
        ("colour-pair", workspace().join("specs/targets/nixos/blue_green_pair_behind_nginx_generates_cleanly.spec")),
        ("generated", generated_estate()),
        ("case", workspace().join("specs/targets/prometheus/alerts_of_every_kind_generate_tested_rules.spec")),
        (
            "dump",
            workspace().join("specs/targets/nixos/a_database_dump_copied_to_a_bucket_and_b2_generates_cleanly.spec"),
        ),
        (
            "copies",
            workspace().join("specs/targets/prometheus/offsite_copies_with_their_own_rpo_generate_tested_rules.spec"),
        ),
        (
            "histograms-and-ratios",
            workspace().join("specs/targets/prometheus/histogram_and_ratio_alerts_generate_tested_rules.spec"),
        ),
        (
            "latency-slos",
            workspace().join("specs/targets/prometheus/latency_slos_on_histograms_generate_tested_burn_rate_alerts.spec"),
        ),
        (
            "slos",
            workspace().join("specs/targets/prometheus/slos_generate_recording_rules_and_tested_burn_rate_alerts.spec"),
        ),
        (
            "stateful-nixos",
            workspace().join(
                "specs/targets/nixos/stateful_presets_postgres_standby_nats_cluster_vault_and_n8n_generate_cleanly.spec",
            ),
        ),
        (
            "stateful-cluster",
            workspace().join(
                "specs/targets/kubernetes/stateful_presets_postgres_replicas_vault_and_n8n_generate_cleanly.spec",
            ),
        ),
    ];
    for (name, estate) in estates {
        let (files, codes) = build(&estate);
        assert!(codes.is_empty(), "{name}: {codes:?}");
        let (rules, scenarios) = count(&files);
        assert!(rules > 0, "{name} has alerts");
        assert_eq!(scenarios, 2 * rules, "{name}: a firing and a quiet scenario per alert");
        if !have_promtool() {
            eprintln!(
                "SKIPPED: promtool is not installed (apt-get install prometheus); {name}'s rules were not checked"
            );
            continue;
        }
        let folder = materialise(&Path::new(env!("CARGO_TARGET_TMPDIR")).join("prometheus").join(name), &files);
        let (checked, tested) = promtool_accepts(&folder, &files);
        assert_eq!(checked, tested, "{name}: a test file beside every rule file");
    }
}

#[test]
fn the_tour_ipfs_down_alert_is_checked_and_tested() {
    let (files, _) = build(&workspace().join("examples/tour/main.spec"));
    let estate: Vec<(String, String)> = files.into_iter().filter(|(p, _)| p.contains("/estate.")).collect();
    assert_eq!(estate.len(), 2, "the estate group's rules and tests");
    assert!(estate[0].1.contains("alert: \"IpfsDown\"") && estate[1].1.contains("alertname: \"IpfsDown\""));
    // The instance the hosts' scrape configuration labels ipfs's target with, not an example.
    assert!(estate[1].1.contains("summary: \"IPFS on prod1:5001 is down\""), "{}", estate[1].1);
    assert!(estate[1].1.contains("series: 'up{instance=\"prod1:5001\", job=\"ipfs\"}'"), "{}", estate[1].1);
    if !have_promtool() {
        eprintln!("SKIPPED: promtool is not installed; the ipfs-down alert was not checked");
        return;
    }
    let folder = materialise(&Path::new(env!("CARGO_TARGET_TMPDIR")).join("prometheus-ipfs-down"), &estate);
    assert_eq!(promtool_accepts(&folder, &estate), (1, 1));
}

#[test]
fn a_cluster_scope_holds_only_that_clusters_area() {
    let text = std::fs::read_to_string(workspace().join("examples/tour/main.spec")).expect("tour");
    let mut sources = SourceMap::new();
    let file = sources.add(SourceFile::new("main.spec", text, Origin::User));
    let compilation = spec_compiler::driver::compile(&mut sources, &[file], None);
    let index = spec_compiler::target::Index::new(&compilation.model);
    let all = rule_groups(&index, Scope::Everything);
    let names: Vec<&str> = all.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["estate", "node-prod1", "cluster-main"]);
    let main = rule_groups(&index, Scope::Cluster("main"));
    assert_eq!(main, vec![all[2].clone()]);
    assert_eq!(main[0].rules[0].alert, "ConsolidateWorkflowOverdue");
    assert!(rule_groups(&index, Scope::Cluster("elsewhere")).is_empty());
}

const HOSTILE: &[&str] = &[
    "{{",
    "}}",
    "{{ $labels.job }}",
    "${HOME}",
    "it's",
    "say \"hi\"",
    "key: value",
    "# not a comment",
    "yes",
    "0x1F",
    "~",
    "2024-01-01",
    "first line\nsecond line",
    "back\\slash",
    "unicode ünïcødé ✓ 🚀",
    " leading and trailing spaces ",
    "",
];

/// An estate of one alert per hostile string: the string is a PromQL label value of its
/// expression (of a label no scrape sets: a `job` must be a scraped job's), an extra label's value and (unless it holds `{{`, which in a template is an action
/// on purpose) its summary.
fn hostile_estate(sources: &mut SourceMap) -> Model {
    let file = sources.add(SourceFile::new("hostile.spec", "alert hostile {}\n", Origin::User));
    let span = Span::new(file, 0, 5);
    let spanned = |value: String| Spanned { value, span };
    let alerts = HOSTILE
        .iter()
        .enumerate()
        .map(|(i, hostile)| Resource {
            name: format!("hostile-{i}"),
            span,
            name_span: span,
            spec: Alert {
                severity: Spanned { value: Severity::Warning, span },
                expr: spanned(format!("up{{path={}}} == 0", promql_string(hostile))),
                pending_for: Some(Spanned { value: Duration(60_000), span }),
                summary: (!hostile.contains("{{")).then(|| spanned(hostile.to_string())),
                description: None,
                labels: IndexMap::from([("note".to_string(), spanned(hostile.to_string()))]),
            },
            presets: Vec::new(),
            rows: Default::default(),
        })
        .collect();
    Model { alerts, ..Model::default() }
}

#[test]
fn hostile_strings_round_trip_through_yaml_and_promtool() {
    let mut sources = SourceMap::new();
    let model = hostile_estate(&mut sources);
    let context = Context { model: &model, sources: &sources, root_from_out: "..".into() };
    let generated = Prometheus.generate(&context);
    assert!(generated.diagnostics.is_empty(), "{:#?}", generated.diagnostics);
    let files: Vec<(String, String)> = generated.files.into_iter().map(|f| (f.path, f.contents)).collect();
    let test_file = &files.iter().find(|(p, _)| p.ends_with(".test.yml")).expect("a test file").1;
    let rules_file = &files.iter().find(|(p, _)| p.ends_with(".rules.yml")).expect("a rule file").1;

    // Read back with a real YAML parser: the rule keeps each expression as written, and each
    // firing scenario expects the hostile string as the series label, extra label and summary.
    let rules: serde_yaml::Value = serde_yaml::from_str(rules_file).expect("the rule file is YAML");
    let tests: serde_yaml::Value = serde_yaml::from_str(test_file).expect("the test file is YAML");
    for (i, hostile) in HOSTILE.iter().enumerate() {
        let rule = &rules["groups"][0]["rules"][i];
        assert_eq!(rule["expr"].as_str(), Some(format!("up{{path={}}} == 0", promql_string(hostile)).as_str()));
        let scenario = &tests["tests"][2 * i];
        assert_eq!(scenario["name"].as_str(), Some(format!("Hostile{i} fires").as_str()));
        let expected = &scenario["alert_rule_test"][0]["exp_alerts"][0];
        // An empty label value is no label at all, in a series and in a rule.
        let label_value = (!hostile.is_empty()).then_some(*hostile);
        for label in ["path", "note"] {
            assert_eq!(expected["exp_labels"][label].as_str(), label_value, "label {label} of {hostile:?}");
        }
        if !hostile.contains("{{") {
            assert_eq!(expected["exp_annotations"]["summary"].as_str(), Some(*hostile), "summary {hostile:?}");
        }
        let description = expected["exp_annotations"]["description"].as_str().expect("a description");
        assert!(description.contains(&promql_string(hostile)), "{description:?} names the expression as written");
    }

    // And with promtool: the rule engine's template expansion yields those same strings.
    if !have_promtool() {
        eprintln!("SKIPPED: promtool is not installed; hostile strings were not read back by Prometheus");
        return;
    }
    let folder = materialise(&Path::new(env!("CARGO_TARGET_TMPDIR")).join("prometheus-hostile"), &files);
    assert_eq!(promtool_accepts(&folder, &files), (1, 1));
}

#[test]
fn the_examples_outputs_match_their_snapshots() {
    for (name, estate) in [
        ("tour", workspace().join("examples/tour")),
        ("k8s-platform", workspace().join("examples/k8s-platform")),
        ("nats-services", workspace().join("examples/nats-services")),
        ("gpu-k3s-tiers", workspace().join("examples/gpu-k3s-tiers")),
        ("ml-training", workspace().join("examples/ml-training")),
        ("sovereign-box", workspace().join("examples/sovereign-box")),
    ] {
        let files = spec_testkit::generate(&Prometheus, &estate);
        let mut all = String::new();
        for (path, contents) in &files {
            all.push_str(&format!("----- {path} -----\n{contents}"));
        }
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(workspace().join("snapshots/targets/prometheus"));
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.bind(|| insta::assert_snapshot!(name, all));
    }
}

/// E0623 refuses exactly the summaries `promtool check rules` refuses, for templates Prometheus
/// loads and for each kind of parse error the check knows: the compiler's verdict on an alert
/// with the template, against promtool's on a one-rule file holding it as written.
#[test]
fn e0623_refuses_the_templates_promtool_refuses() {
    if !have_promtool() {
        eprintln!("SKIPPED: promtool is not installed; E0623 was not compared with Prometheus");
        return;
    }
    let functions = "query first label value strvalue args reReplaceAll safeHtml match title toUpper toLower \
                     graphLink tableLink sortByLabel stripPort stripDomain humanize humanize1024 humanizeDuration \
                     humanizePercentage humanizeTimestamp toTime pathPrefix externalURL parseDuration and call html \
                     index slice js len not or print printf println urlquery eq ge gt le lt ne";
    let mut templates: Vec<String> = [
        "plain text with } and }} and {",
        "{{ $labels.instance }} is down ({{ $value | humanize }})",
        "{{ .Labels.job }} {{- \" x }} \" -}} {{ `raw }}` }}",
        "{{ if gt $value 1.5e3 }}high{{ else if lt $value 0x1F }}low{{ else }}ok{{ end }}",
        "{{ range query \"up\" }}{{ .Labels.instance }}{{ end }}",
        "{{/* a comment with }} inside */}}{{ printf \"%.2f\" $value }}",
        "{{ with $x := 3 }}{{ $x }}{{ end }}{{ reReplaceAll \"(.*)\" \"$1\" $labels.a }}",
        "{{ \"{{\" }} stays text",
        "a {{ b",
        "{{ $value }",
        "{{ }}",
        "{{ humanise $value }}",
        "{{ b }}",
        "{{ if true }}x",
        "x{{ end }}",
        "{{ else }}",
        "{{ \"abc }}",
        "{{/* open }}",
        "{{${}}",
        "{{ $value ! }}",
        "{{ ✓ }}",
        "{{ (len $x }}",
        "{{ len $x) }}",
        "{{ $x : 1 }}",
        "{{ range $i, $s := query \"up\" }}{{ $i }}{{ end }}{{ $y := 2 }}{{ $y = 3 }}{{ 1e+3 }}{{ -2 }}",
    ]
    .map(String::from)
    .to_vec();
    templates.extend(functions.split_whitespace().map(|f| format!("{{{{ if false }}}}{{{{ {f} }}}}{{{{ end }}}}")));
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("prometheus-e0623");
    std::fs::create_dir_all(&dir).expect("scratch");
    let mut refused = 0;
    for template in &templates {
        let literal: String = template
            .chars()
            .map(|c| match c {
                '"' | '\\' | '$' => format!("\\{c}"),
                c => c.to_string(),
            })
            .collect();
        let estate = format!(
            "node n1 {{ os = nixos }}\nalert a {{ severity = warning, expr = \"up == 0\", summary = \"{literal}\" }}\n"
        );
        let mut sources = SourceMap::new();
        let file = sources.add(SourceFile::new("main.spec", estate, Origin::User));
        let compilation = spec_compiler::driver::compile(&mut sources, &[file], None);
        let spec_refuses = compilation.diagnostics.iter().any(|d| d.code == Code::E0623);
        assert!(
            compilation.diagnostics.iter().all(|d| d.code == Code::E0623),
            "{template}: {:?}",
            compilation.diagnostics
        );
        use serde_yaml::{Mapping, Value};
        let map = |entries: Vec<(&str, Value)>| {
            Value::Mapping(entries.into_iter().map(|(k, v)| (Value::from(k), v)).collect::<Mapping>())
        };
        let rule = map(vec![
            ("alert", "A".into()),
            ("expr", "up == 0".into()),
            ("annotations", map(vec![("summary", template.as_str().into())])),
        ]);
        let file = map(vec![(
            "groups",
            Value::Sequence(vec![map(vec![("name", "g".into()), ("rules", Value::Sequence(vec![rule]))])]),
        )]);
        let rule = serde_yaml::to_string(&file).expect("YAML");
        std::fs::write(dir.join("rules.yml"), rule).expect("write");
        let output =
            Command::new("promtool").args(["check", "rules", "rules.yml"]).current_dir(&dir).output().expect("runs");
        assert_eq!(spec_refuses, !output.status.success(), "{template}: {}", String::from_utf8_lossy(&output.stdout));
        refused += usize::from(spec_refuses);
    }
    assert_eq!(refused, 16, "the sixteen broken templates are refused, the others accepted");
}

/// The alert names of each rule group of an estate written inline.
fn groups_of(text: &str) -> Vec<(String, Vec<String>)> {
    let (_, compilation) = spec_testkit::compile("main.spec", text.to_string());
    let index = spec_compiler::target::Index::new(&compilation.model);
    rule_groups(&index, Scope::Everything)
        .into_iter()
        .map(|g| (g.name, g.rules.into_iter().map(|r| r.alert).collect()))
        .collect()
}

const ROUTED: &str = r#"
node app1 { os = nixos, address = 10.0.0.1 }
cluster k1 { distribution = k3s, servers = [node.app1], namespace = "apps" }
service api { on = node.app1, image = "example/api:1", ports { http = 8080/tcp }, metrics { port = http } }
service web { on = cluster.k1, image = "example/web:1", ports { http = 8080/tcp }, metrics { port = http } }
alert api-slow { severity = warning, expr = "rate(http_requests_total{job=\"api\"}[5m]) > 100" }
alert web-slow { severity = warning, expr = "rate(http_requests_total{job=\"web\"}[5m]) > 100" }
alert load-high { severity = info, expr = "node_load1 > 50" }
"#;

/// Top-level alerts go to the Prometheus that scrapes what they select: the hosts' (`estate`), a
/// cluster's (its group, its `PrometheusRule`), or every one when they name no job or instance;
/// each Prometheus gets each alert once.
#[test]
fn top_level_alerts_go_where_their_targets_are_scraped() {
    let groups = groups_of(ROUTED);
    let of = |name: &str| groups.iter().find(|(n, _)| n == name).map(|(_, a)| a.clone()).unwrap_or_default();
    assert_eq!(of("estate"), ["ApiSlow", "LoadHigh"]);
    assert_eq!(of("cluster-k1"), ["WebSlow", "LoadHigh", "WebTargetDown"]);
    for (name, alerts) in &groups {
        let unique: std::collections::HashSet<&String> = alerts.iter().collect();
        assert_eq!(unique.len(), alerts.len(), "{name} evaluates an alert twice: {alerts:?}");
    }
    let (_, compilation) = spec_testkit::compile("main.spec", ROUTED.to_string());
    let index = spec_compiler::target::Index::new(&compilation.model);
    let cluster = rule_groups(&index, Scope::Cluster("k1"));
    assert_eq!(cluster.len(), 1, "the cluster's PrometheusRule holds its own area, top-level alerts included");
    assert!(cluster[0].rules.iter().any(|r| r.alert == "WebSlow"));
}

/// The generated `TargetDown` is left out when the spec's own alert, top-level or the service's,
/// already fires on `up == 0` for the service's job; an alert on another job or of another shape
/// leaves it in.
#[test]
fn a_written_target_down_alert_replaces_the_generated_one() {
    let estate = |alerts: &str| {
        let text = format!(
            "node app1 {{ os = nixos, address = 10.0.0.1 }}\n\
             service api {{\n  on = node.app1\n  image = \"example/api:1\"\n  ports {{ http = 8080/tcp }}\n  \
             metrics {{ port = http }}\n{alerts}}}\n"
        );
        groups_of(&text).into_iter().flat_map(|(_, alerts)| alerts).collect::<Vec<_>>()
    };
    let generated = |alerts: Vec<String>| alerts.iter().any(|a| a == "ApiTargetDown");
    assert!(generated(estate("")));
    let own = "  alert down { severity = critical, expr = \"up{job=\\\"api\\\"} < 1\", for = 2m }\n";
    assert!(!generated(estate(own)), "the service's own alert reports it down");
    let other = "  alert busy { severity = warning, expr = \"rate(http_requests_total{job=\\\"api\\\"}[5m]) > 9\" }\n";
    assert!(generated(estate(other)));
    let top_level = |expr: &str| {
        let text = format!(
            "node app1 {{ os = nixos, address = 10.0.0.1 }}\n\
             service api {{ on = node.app1, image = \"example/api:1\", ports {{ http = 8080/tcp }}, metrics {{ port = http }} }}\n\
             alert api-down {{ severity = critical, expr = \"{expr}\" }}\n"
        );
        generated(groups_of(&text).into_iter().flat_map(|(_, alerts)| alerts).collect())
    };
    assert!(!top_level("up{job=\\\"api\\\"} == 0"));
    assert!(!top_level("min(up{job=~\\\"api|db\\\"}) == 0"));
    assert!(top_level("up{job=\\\"db\\\"} == 0"));
    assert!(top_level("up == 0"), "an alert on every job is not this service's");
}

/// Every objective of the SLO case gets its seven recording rules and its two burn-rate alerts,
/// in the area of the Prometheus that scrapes its indicator (the hosts' for `api`, the cluster's
/// for `web`), recording rules before the alerts that read them (promtool runs them in the other test).
#[test]
fn objectives_get_recording_rules_and_burn_rate_alerts_where_their_indicator_is_scraped() {
    let (files, codes) = build(
        &workspace().join("specs/targets/prometheus/slos_generate_recording_rules_and_tested_burn_rate_alerts.spec"),
    );
    assert!(codes.is_empty(), "{codes:?}");
    let file = |name: &str| files.iter().find(|(p, _)| p == name).map(|(_, c)| c.clone()).unwrap_or_default();
    let (estate, node, cluster) = (
        file("prometheus/estate.rules.yml"),
        file("prometheus/node-n1.rules.yml"),
        file("prometheus/cluster-k1.rules.yml"),
    );
    for (text, slo) in [(&node, "api-available"), (&estate, "api-requests"), (&cluster, "web-requests")] {
        assert_eq!(text.matches(&format!("slo: \"{slo}\"")).count(), 7 + 2, "{slo}: {text}");
        assert!(text.find("- record:") < text.find("ErrorBudgetBurn"), "{slo}: records first");
    }
    let alerts: usize = [&estate, &node, &cluster].iter().map(|t| t.matches("ErrorBudget").count()).sum();
    assert_eq!(alerts, 6, "a page and a ticket alert per objective");
}

/// A latency objective's error ratio is the share of its histogram's observations above the bound:
/// the bucket at `below` in seconds (a whole second matching Prometheus 3's `2.0` too) over the
/// count, with the selector's own matchers, in the area of the Prometheus scraping it; the test
/// series are those two, labelled as the scrape configuration labels the service's target.
#[test]
fn latency_objectives_read_the_bucket_at_their_bound_over_the_count() {
    let (files, codes) = build(
        &workspace().join("specs/targets/prometheus/latency_slos_on_histograms_generate_tested_burn_rate_alerts.spec"),
    );
    assert!(codes.is_empty(), "{codes:?}");
    let file = |name: &str| files.iter().find(|(p, _)| p == name).map(|(_, c)| c.clone()).unwrap_or_default();
    let (cluster, estate) = (file("prometheus/cluster-k1.rules.yml"), file("prometheus/estate.rules.yml"));
    assert!(
        cluster.contains(
            "1 - (sum(rate(http_request_duration_seconds_bucket{job=\"web\", le=\"0.1\"}[5m])) / \
             sum(rate(http_request_duration_seconds_count{job=\"web\"}[5m])))"
        ),
        "{cluster}"
    );
    assert!(
        estate.contains(r#"query_duration_seconds_bucket{job="api", kind=~"read|write", le=~"2|2\\.0"}"#),
        "{estate}"
    );
    let tests = file("prometheus/estate.test.yml");
    assert!(tests.contains(r#"query_duration_seconds_bucket{instance="n1:8080", job="api", kind="read", le="2"}"#));
    assert!(tests.contains(r#"query_duration_seconds_count{instance="n1:8080", job="api", kind="read"}"#));
}

/// A cluster backup's staleness alert reads the k8up metrics of its Schedule, which the Kubernetes
/// back end writes into the namespace of the storage (or of the service whose dump it copies); and a service's down alert sends the reader
/// to the namespace its pods run in. Before, both named the cluster's first namespace, so on a
/// cluster holding several the backup alert selected series that never exist.
#[test]
fn cluster_alerts_name_the_namespace_of_what_they_watch() {
    let estate = workspace().join("examples/k8s-platform");
    let (files, _) = build(&estate);
    let (_, compilation) = spec_testkit::compile_path(&estate, None);
    let rules = &files.iter().find(|(p, _)| p == "prometheus/cluster-platform.rules.yml").expect("rules").1;
    let mut checked = 0;
    for backup in compilation.model.backups.iter().filter(|b| b.spec.rpo.is_some()) {
        // The storage's namespace, or the dumped service's (where the Schedule selects its pods).
        let chosen = match backup.spec.service() {
            Some(name) => {
                compilation.model.services.iter().find(|s| s.name == name).expect("service").spec.namespace.as_ref()
            }
            None => compilation
                .model
                .storage
                .iter()
                .find(|s| s.name == backup.spec.source.name)
                .expect("storage")
                .spec
                .namespace
                .as_ref(),
        };
        let namespace = &chosen.expect("a chosen namespace").value;
        let wanted = format!("namespace=\"{namespace}\", schedule=\"{}\"", backup.name);
        assert!(rules.contains(&wanted), "no alert reads {wanted}:\n{rules}");
        checked += 1;
    }
    assert!(checked > 0, "the example has a backup with an RPO on its cluster");
    assert!(rules.contains("look at the pods of postgresql in namespace data"), "{rules}");
}

/// A service's tier sets the severity of the alerts generated for it, on a node as on a cluster:
/// `critical` and `high` page, `normal` warns, `low` is for the record, and a service without a
/// tier pages; the rules and their tests pass promtool.
#[test]
fn a_tier_sets_the_severity_of_generated_alerts() {
    let severity_of = |tier: &str| {
        let text = format!(
            "node app1 {{ os = nixos, address = 10.0.0.1 }}\n\
             service api {{ on = node.app1, image = \"example/api:1\", ports {{ http = 8080/tcp }}, metrics {{ port = http }}{tier} }}\n"
        );
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("tier{}.spec", tier.len()));
        std::fs::write(&path, text).expect("write");
        let (files, codes) = build(&path);
        assert!(codes.is_empty(), "{tier}: {codes:?}");
        let rules = files.iter().find(|(p, _)| p.ends_with("node-app1.rules.yml")).expect("the node's rules");
        let document: serde_yaml::Value = serde_yaml::from_str(&rules.1).expect("YAML");
        let alert = document["groups"][0]["rules"]
            .as_sequence()
            .into_iter()
            .flatten()
            .find(|r| r["alert"] == "ApiTargetDown")
            .expect("ApiTargetDown")
            .clone();
        if have_promtool() {
            let folder = materialise(
                &Path::new(env!("CARGO_TARGET_TMPDIR")).join("prometheus-tier").join(tier.len().to_string()),
                &files,
            );
            promtool_accepts(&folder, &files);
        }
        alert["labels"]["severity"].as_str().expect("a severity").to_string()
    };
    assert_eq!(severity_of(""), "critical");
    assert_eq!(severity_of(", tier = high"), "critical");
    assert_eq!(severity_of(", tier = normal"), "warning");
    assert_eq!(severity_of(", tier = low"), "info");
}
