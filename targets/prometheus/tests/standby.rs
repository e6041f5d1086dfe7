//! The alerts of `std.postgres.standby` read the standby's own scrape job only: postgres_exporter
//! exports `pg_replication_is_replica` on every server (0 on a primary) and `pg_up` on every
//! exporter, so an unscoped `DbStandbyNotAStandby` would page for the primary forever and a primary
//! outage would page twice. Checked by promtool over the corpus case's generated rules (`db` on
//! db1, its standby `db-standby` on db2), with the primary's series present: the standby's alerts
//! stay quiet while the primary reports 0, and fire when the standby's own series do.

use std::path::Path;
use std::process::Command;

use spec_compiler::target::{Context, Target};
use spec_target_prometheus::Prometheus;

fn have_promtool() -> bool {
    Command::new("promtool").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// A promtool test of `rules`: the primary's exporter (`job="db"`) reports a primary that is down
/// or not in recovery, the standby's (`job="db-standby"`) reports `standby_up` and
/// `standby_replica`; the test expects none of the standby's alerts to fire at 10 minutes.
fn scenario(rules: &str, standby_up: u8, standby_replica: u8) -> String {
    let mut out = format!(
        "rule_files:\n  - {rules}\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n\
         \x20     - series: 'pg_up{{job=\"db\", instance=\"db1:9187\"}}'\n        values: '0x20'\n\
         \x20     - series: 'pg_replication_is_replica{{job=\"db\", instance=\"db1:9187\"}}'\n        values: '0x20'\n\
         \x20     - series: 'pg_up{{job=\"db-standby\", instance=\"db2:9187\"}}'\n        values: '{standby_up}x20'\n\
         \x20     - series: 'pg_replication_is_replica{{job=\"db-standby\", instance=\"db2:9187\"}}'\n        values: '{standby_replica}x20'\n\
         \x20   alert_rule_test:\n"
    );
    for alert in ["DbStandbyDown", "DbStandbyNotAStandby"] {
        out.push_str(&format!("      - eval_time: 10m\n        alertname: {alert}\n        exp_alerts: []\n"));
    }
    out
}

#[test]
fn the_standbys_alerts_stay_quiet_for_the_primarys_series() {
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "../../specs/targets/nixos/stateful_presets_postgres_standby_nats_cluster_vault_and_n8n_generate_cleanly.spec",
    );
    let (sources, compilation) = spec_testkit::compile_path(&case, None);
    assert_eq!(compilation.errors(), 0, "{:#?}", compilation.diagnostics);
    let context = Context { model: &compilation.model, sources: &sources, root_from_out: "..".into() };
    let files = Prometheus.generate(&context).files;
    let (path, rules) = files
        .iter()
        .find(|f| f.path.ends_with(".rules.yml") && f.contents.contains("\"DbStandbyNotAStandby\""))
        .map(|f| (f.path.clone(), f.contents.clone()))
        .expect("the standby's rules");
    for alert in ["DbStandbyDown", "DbStandbyNotAStandby"] {
        let rule = rules.split("- alert: ").find(|r| r.starts_with(&format!("\"{alert}\""))).expect("the alert");
        assert!(rule.contains(r#"job=\"db-standby\""#) || rule.contains(r#"job="db-standby""#), "{alert}: {rule}");
    }
    if !have_promtool() {
        eprintln!("SKIPPED: promtool is not installed; the standby's alerts were not run against the primary's series");
        return;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("prometheus-standby");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let name = Path::new(&path).file_name().expect("a file").to_string_lossy().into_owned();
    std::fs::write(dir.join(&name), &rules).expect("write");
    let run = |test: String, file: &str| {
        std::fs::write(dir.join(file), test).expect("write");
        Command::new("promtool").args(["test", "rules", file]).current_dir(&dir).output().expect("runs")
    };
    // The primary is a primary (0) and, here, down: nothing of the standby's fires.
    let quiet = run(scenario(&name, 1, 1), "quiet.test.yml");
    assert!(
        quiet.status.success(),
        "the primary's series fire the standby's alerts: {}{}",
        String::from_utf8_lossy(&quiet.stdout),
        String::from_utf8_lossy(&quiet.stderr)
    );
    // The standby's own series still fire them: promtool's failure names each alert that fired,
    // with its labels, none of them the primary's.
    let firing = run(scenario(&name, 0, 0), "firing.test.yml");
    let report = String::from_utf8_lossy(&firing.stdout).into_owned() + &String::from_utf8_lossy(&firing.stderr);
    assert!(!firing.status.success(), "the standby's own series fire nothing: {report}");
    for alert in ["DbStandbyDown", "DbStandbyNotAStandby"] {
        assert!(report.contains(&format!("alertname: {alert}")), "{alert} fires for the standby: {report}");
    }
    assert!(!report.contains("job=\"db\"") && !report.contains("instance=\"db1:9187\""), "{report}");
}
