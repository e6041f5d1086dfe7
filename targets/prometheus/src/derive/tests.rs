//! The derivation's unit tests: each shape's series, values and evaluation time.

use super::*;

/// A Prometheus scraping a node exporter and two services (`a` and `ipfs`), and a cluster
/// job `web` whose instance is discovered.
fn universe() -> Universe {
    let target = |job: &str, instance: Option<&str>, port| TargetLabels {
        job: job.into(),
        instance: instance.map(Into::into),
        port,
    };
    Universe::from_iter([
        target("node", Some("prod1:9100"), 9100),
        target("a", Some("prod1:8080"), 8080),
        target("ipfs", Some("prod1:5001"), 5001),
        target("web", None, 8080),
    ])
}

fn derive_in(expr: &str, pending: u64, universe: &Universe) -> Result<Derived, String> {
    derive(expr, pending, Scrape { universe, owner: &[] }, &mut ShapeCache::default())
}

fn derived(expr: &str) -> Derived {
    derive_in(expr, 300, &universe()).unwrap_or_else(|e| panic!("{expr}: {e}"))
}

/// The series and the evaluation time of a test file evaluating every minute.
fn at_a_minute(d: &Derived) -> (u64, Vec<Series>, Vec<Series>) {
    let eval = d.eval_seconds(STEP);
    (eval, d.firing(eval), d.quiet(eval))
}

#[test]
fn a_selector_compared_with_zero_fires_at_zero_and_is_quiet_at_one() {
    let d = derived("up{job=\"ipfs\"} == 0");
    let (eval, firing, quiet) = at_a_minute(&d);
    assert_eq!(eval, 600);
    assert_eq!(
        firing,
        vec![Series { series: "up{instance=\"prod1:5001\", job=\"ipfs\"}".into(), values: "0x10".into() }]
    );
    assert_eq!(quiet[0].values, "1x10");
    assert_eq!(d.sample.value, Some(0.0));
    assert_eq!(d.sample.labels.get("__name__").map(String::as_str), Some("up"));
}

#[test]
fn time_minus_a_timestamp_uses_a_slope_and_an_exact_value() {
    let d = derived("time() - last_success_timestamp_seconds{name=\"x\"} > 900");
    let (_, firing, quiet) = at_a_minute(&d);
    assert_eq!(firing[0].values, "-901+60x10");
    assert_eq!(d.sample.value, Some(901.0));
    assert!(!d.sample.labels.contains_key("__name__"));
    assert_eq!(quiet[0].values, "0+60x10");
}

#[test]
fn absent_fires_without_the_series_and_carries_its_equality_labels() {
    let d = derived("absent(up{job=\"web\", instance=~\"h.*\"})");
    let (_, firing, quiet) = at_a_minute(&d);
    assert!(firing.is_empty());
    assert_eq!(d.sample.labels, Labels::from([("job".into(), "web".into())]));
    assert_eq!(quiet.len(), 1);
    assert_eq!(quiet[0].series, "up{instance=\"h\", job=\"web\"}", "a discovered instance takes the matcher's example");
}

#[test]
fn set_operations_rates_and_aggregations_derive() {
    for expr in [
        "rate(http_requests_total{code=~\"5..\"}[5m]) > 1",
        "increase(jobs_total[1h]) == 0",
        "sum by (job) (rate(x[5m])) > 0.5",
        "max without (instance) (x) < 3",
        "a > 1 and on (job) b == 0",
        "a > 1 or absent(b)",
        "a > 1 unless b > 5",
        "count(up == 0) > 0",
        "x / 60 > 5",
        "2 < x",
        "cert_expiry_seconds - time() < 86400 * 7",
    ] {
        derived(expr);
    }
}

#[test]
fn an_increase_compared_with_zero_is_quiet_while_the_counter_grows() {
    let d = derived("increase(jobs_total[16h]) == 0");
    let (_, firing, quiet) = at_a_minute(&d);
    assert_eq!(firing[0].values, "1x970");
    assert!(quiet[0].values.starts_with("0+"), "{quiet:?}");
}

#[test]
fn unsupported_shapes_say_why() {
    for expr in [
        "up == bool 0",
        "up offset 5m == 0",
        "topk(3, x) > 1",
        "predict_linear(x[1h], 3600) < 0",
        "a % b > 1",
        // The aggregation drops `le`, so no bucket reaches the quantile.
        "histogram_quantile(0.9, sum(rate(x_bucket[5m]))) > 1",
        "histogram_quantile(1.5, x_bucket) > 1",
        // The whole is not a sum: each errors series would be divided by itself.
        "rate(r_total{code=\"5xx\"}[5m]) / rate(r_total[5m]) > 0.1",
    ] {
        assert!(derive_in(expr, 0, &universe()).is_err(), "{expr}");
    }
    assert!(derive_in("up == 0 and up > 2", 0, &universe()).is_err(), "contradicting needs of one series");
}

#[test]
fn a_selector_no_scraped_target_carries_is_refused_with_the_jobs_scraped() {
    let universe = universe();
    let mut shapes = ShapeCache::default();
    let regex_without_port = "time() - node_systemd_timer_last_trigger_seconds{job=\"node\", instance=~\"prod1\"} > 5";
    let reason = unscraped(regex_without_port, &universe, &mut shapes).expect("no target is `prod1`");
    assert!(reason.contains("`node`, `a`, `ipfs`, `web`"), "{reason}");
    assert!(unscraped("up{job=\"db\"} == 0", &universe, &mut shapes).is_some());
    assert!(derive_in("up{job=\"db\"} == 0", 0, &universe).is_err());
    for scraped in ["up{job=\"ipfs\"} == 0", "x{instance=\"prod1:9100\"} > 1", "up{job=\"web\", instance=\"a:1\"} == 0"]
    {
        assert_eq!(unscraped(scraped, &universe, &mut shapes), None, "{scraped}");
    }
    let d = derived("node_load1{instance=\"prod1:9100\"} > 4");
    assert_eq!(d.sample.labels.get("job").map(String::as_str), Some("node"), "the job of the target");
}

#[test]
fn long_ranges_are_sampled_coarsely_enough_for_promtool() {
    // A weekly workflow's overdue alert: 10,140 samples a minute apart would be refused.
    let weekly = derived("increase(argo_workflows_cronworkflows_triggered_total{name=\"w\"}[7d1h]) == 0");
    assert_eq!(weekly.step_seconds, 960);
    let beside_instant = derived("increase(x_total[7d1h]) == 0 and up == 1");
    assert_eq!(beside_instant.step_seconds, 240, "an instant selector needs a sample every 4m");
    let eval = weekly.eval_seconds(weekly.step_seconds);
    assert_eq!(eval % weekly.step_seconds, 0);
    assert!(eval >= 300 + 169 * 3600 + 300, "{eval}");
    let yearly = derived("increase(x_total[366d]) == 0");
    assert!((366 * 86_400) / yearly.step_seconds <= MAX_RANGE_SAMPLES);
    assert!(
        yearly.firing(yearly.eval_seconds(yearly.step_seconds))[0]
            .values
            .ends_with(&format!("x{}", yearly.eval_seconds(yearly.step_seconds) / yearly.step_seconds))
    );
    let mixed = derive_in("increase(x_total[31d]) == 0 and up == 1", 0, &universe());
    assert!(mixed.is_err_and(|e| e.contains("instant selector")));
}

#[test]
fn regex_examples_match_their_patterns() {
    assert_eq!(regex_example("5..").as_deref(), Some("5xx"));
    assert_eq!(regex_example("prod1(:[0-9]+)?").as_deref(), Some("prod1"));
    assert_eq!(regex_example("a\\.service|b\\.service").as_deref(), Some("a.service"));
}

/// The input series of a test, as `(series, values)` pairs.
fn pairs(series: &[Series]) -> Vec<(&str, &str)> {
    series.iter().map(|s| (s.series.as_str(), s.values.as_str())).collect()
}

#[test]
fn a_histogram_quantile_is_exactly_the_bound_of_an_empty_bucket_below_a_full_one() {
    let d = derived(
        "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job=\"web\"}[5m]))) > 0.1",
    );
    let (eval, firing, quiet) = at_a_minute(&d);
    assert_eq!(eval, 900, "5m of lookback, the 5m range, then `for`");
    let bucket = |le: &str| {
        format!("http_request_duration_seconds_bucket{{instance=\"10.42.0.1:8080\", job=\"web\", le=\"{le}\"}}")
    };
    let (inf, above, below) = (bucket("+Inf"), bucket("0.2"), bucket("0.05"));
    assert_eq!(pairs(&firing), [(inf.as_str(), "0+60x15"), (above.as_str(), "1x15")]);
    assert_eq!(pairs(&quiet), [(inf.as_str(), "0+60x15"), (below.as_str(), "1x15")]);
    assert_eq!(d.sample.value, Some(0.2), "the quantile is the bound, exactly");
    assert!(d.sample.labels.is_empty(), "{:?}", d.sample.labels);
    let by_route =
        derived("histogram_quantile(0.9, sum by (le, route) (rate(x_bucket{route=~\"/v1/.*\"}[5m]))) >= 0.25");
    assert_eq!(by_route.sample.labels, Labels::from([("route".into(), "/v1/".into())]));
}

#[test]
fn a_ratio_of_two_counters_divides_two_rates_over_a_hundred() {
    let d = derived("sum(rate(errors_total{job=\"a\"}[5m])) / sum(rate(requests_total{job=\"a\"}[5m])) > 0.05");
    let (_, firing, quiet) = at_a_minute(&d);
    let errors = "errors_total{instance=\"prod1:8080\", job=\"a\"}";
    let requests = "requests_total{instance=\"prod1:8080\", job=\"a\"}";
    // 10 and 2.5 errors a second against 100 requests: twice and half the threshold.
    assert_eq!(pairs(&firing), [(errors, "0+600x15"), (requests, "0+6000x15")]);
    assert_eq!(pairs(&quiet), [(errors, "0+150x15"), (requests, "0+6000x15")]);
    let gauges = derived("pg_stat_activity_count{job=\"a\"} / pg_settings_max_connections{job=\"a\"} > 0.8");
    assert_eq!(gauges.sample.value, Some(0.9), "90 of 100 connections, exactly");
    assert_eq!(gauges.sample.labels.get("job").map(String::as_str), Some("a"));
    assert!(!gauges.sample.labels.contains_key("__name__"));
}

#[test]
fn errors_over_all_requests_of_one_counter_leave_the_rest_to_the_good_series() {
    let d = derived(
        "sum(rate(http_requests_total{job=\"a\", code=~\"5..\"}[5m])) / sum(rate(http_requests_total{job=\"a\"}[5m])) > 0.05",
    );
    let (_, firing, _) = at_a_minute(&d);
    let bad = "http_requests_total{code=\"5xx\", instance=\"prod1:8080\", job=\"a\"}";
    let good = "http_requests_total{instance=\"prod1:8080\", job=\"a\"}";
    // 10 of 100 requests a second fail: the total selector sums both series.
    assert_eq!(pairs(&firing), [(bad, "0+600x15"), (good, "0+5400x15")]);
    assert_eq!(d.sample.value, None, "Prometheus sums in its own order");
}

#[test]
fn vector_matching_forms_the_labels_prometheus_gives() {
    let on = derived("sum by (job, instance) (a) > on (job, instance) b * 0.9");
    assert_eq!(on.sample.value, Some(90.0));
    assert_eq!(on.sample.labels.keys().collect::<Vec<_>>(), ["instance", "job"]);
    let left = derived("x{job=\"a\"} - on (instance) group_left (team) y{job=\"a\", team=\"db\"} > 30");
    assert_eq!(left.sample.labels.get("team").map(String::as_str), Some("db"), "copied from the one side");
    assert!(derive_in("x{job=\"a\"} / y{job=\"node\"} > 1", 0, &universe()).is_err(), "different jobs never match");
}
