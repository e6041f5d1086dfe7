//! `spec graph`: kinds drawn by shape and colour (jobs too), alerts' and backups' edges, and a box per node
//! and cluster holding what is placed there, so fifty resources stay readable; the DOT is read
//! back by Graphviz's own `dot` (SKIPPED when it is not installed).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn spec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spec")).args(args).output().expect("spec runs")
}

fn tour() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/tour")
}

fn dot_of(path: &Path) -> String {
    let output = spec(&["graph", path.to_str().expect("utf-8 path")]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("utf-8")
}

/// Every vertex's label with its shape and the label of the box it is drawn in (if any).
fn vertices(dot: &str) -> BTreeMap<String, (String, Option<String>)> {
    let mut found = BTreeMap::new();
    let mut group: Option<String> = None;
    let mut pending_group = false;
    for line in dot.lines().map(str::trim) {
        if line.starts_with("subgraph cluster_") {
            pending_group = true;
        } else if pending_group && line.starts_with("label=") {
            group = Some(line.trim_start_matches("label=\"").trim_end_matches("\";").to_string());
            pending_group = false;
        } else if line == "}" {
            group = None;
        } else if line.starts_with('v') && !line.contains("->") {
            let label = line.split("label=\"").nth(1).and_then(|rest| rest.split('"').next()).expect("label");
            let shape = line.split("shape=").nth(1).and_then(|rest| rest.split(',').next()).expect("shape");
            found.insert(label.to_string(), (shape.to_string(), group.clone()));
        }
    }
    found
}

#[test]
fn kinds_have_shapes_and_placed_things_sit_in_their_node_or_cluster() {
    let dot = dot_of(&tour());
    assert_eq!(dot, dot_of(&tour()), "graph output is not stable");
    let vertices = vertices(&dot);
    let shape_and_group = |label: &str| vertices.get(label).cloned().unwrap_or_else(|| panic!("{label} in\n{dot}"));
    let node = |name: &str| Some(format!("node {name}"));
    assert_eq!(shape_and_group("node prod1"), ("box3d".into(), node("prod1")));
    assert_eq!(shape_and_group("service db"), ("box".into(), node("prod1")));
    assert_eq!(shape_and_group("storage ipfs-data"), ("cylinder".into(), node("prod1")));
    assert_eq!(shape_and_group("backup ipfs"), ("folder".into(), node("prod1")), "a backup sits with its storage");
    assert_eq!(shape_and_group("service temporal"), ("box".into(), Some("cluster main".into())));
    assert_eq!(shape_and_group("cluster main"), ("component".into(), Some("cluster main".into())));
    assert_eq!(shape_and_group("workflow consolidate"), ("cds".into(), Some("cluster main".into())));
    assert_eq!(shape_and_group("step extract"), ("ellipse".into(), Some("cluster main".into())));
    assert_eq!(shape_and_group("alert ipfs-down"), ("octagon".into(), None));
    assert_eq!(shape_and_group("secret db-password"), ("note".into(), None));
    assert_eq!(shape_and_group("network mesh"), ("hexagon".into(), None));
    assert_eq!(shape_and_group("node worker-1"), ("box3d".into(), node("worker-1")), "a NATS member sits there");
    assert_eq!(shape_and_group("node gpu2"), ("box3d".into(), None), "nothing placed there: no box");
    let fills: std::collections::BTreeSet<&str> =
        dot.lines().filter_map(|l| l.split("fillcolor=\"").nth(1)).map(|rest| &rest[..7]).collect();
    assert!(fills.len() >= 9, "a colour per kind: {fills:?}");
}

#[test]
fn alerts_and_backups_have_their_edges() {
    let path = tour();
    let graph: serde_json::Value =
        serde_json::from_slice(&spec(&["graph", "--format", "json", path.to_str().expect("utf-8")]).stdout)
            .expect("JSON");
    let vertices = graph["vertices"].as_array().expect("vertices");
    let id = |kind: &str, name: &str| {
        vertices.iter().find(|v| v["kind"] == kind && v["name"] == name).and_then(|v| v["id"].as_u64()).expect("vertex")
    };
    let edges = graph["edges"].as_array().expect("edges");
    let has =
        |from: u64, to: u64, kind: &str| edges.iter().any(|e| e["from"] == from && e["to"] == to && e["kind"] == kind);
    assert!(has(id("alert", "ipfs-down"), id("service", "ipfs"), "watches"), "{graph}");
    assert!(has(id("backup", "ipfs"), id("storage", "ipfs-data"), "backup-source"));
    assert!(has(id("backup", "ipfs"), id("secret", "restic-password"), "secret-use"));
    let dot = dot_of(&path);
    let edge = |from: u64, to: u64| {
        dot.lines().find(|l| l.trim().starts_with(&format!("v{from} -> v{to} "))).map(str::to_string)
    };
    let watches = edge(id("alert", "ipfs-down"), id("service", "ipfs")).expect("alert edge in DOT");
    assert!(watches.contains("label=\"watches\""), "{watches}");
    let backs_up = edge(id("backup", "ipfs"), id("storage", "ipfs-data")).expect("backup edge in DOT");
    assert!(backs_up.contains("label=\"backs up\""), "{backs_up}");
    assert_ne!(watches.split("color=").nth(1), backs_up.split("color=").nth(1), "edge kinds differ in colour");
    // The box says where db runs; the JSON keeps the edge.
    assert!(has(id("service", "db"), id("node", "prod1"), "placement"));
    assert_eq!(edge(id("service", "db"), id("node", "prod1")), None);
}

#[test]
fn fifty_services_are_grouped_by_node_and_graphviz_reads_the_drawing() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("graph_fifty");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    std::fs::write(dir.join("main.spec"), spec_testkit::generate_estate(50)).expect("write");
    let dot = dot_of(&dir);
    let vertices = vertices(&dot);
    let services: Vec<_> = vertices.iter().filter(|(label, _)| label.starts_with("service ")).collect();
    assert!(services.len() >= 50, "{}", services.len());
    for (label, (_, group)) in &services {
        assert!(
            group.as_deref().is_some_and(|g| g.starts_with("node ") || g.starts_with("cluster ")),
            "{label} is drawn outside its node or cluster"
        );
    }
    let boxes = dot.lines().filter(|l| l.trim_start().starts_with("subgraph cluster_")).count();
    assert!((5..=12).contains(&boxes), "one box per node or cluster, not per resource: {boxes}");
    for (name, text) in [("tour", dot_of(&tour())), ("fifty", dot)] {
        let Ok(mut graphviz) = Command::new("dot")
            .arg("-Tsvg")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
        else {
            eprintln!("SKIPPED: Graphviz `dot` is not installed; the drawing is not read back");
            return;
        };
        use std::io::Write as _;
        graphviz.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write DOT");
        let output = graphviz.wait_with_output().expect("dot runs");
        let said = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success() && said.trim().is_empty(), "dot on {name}: {said}");
        assert!(String::from_utf8_lossy(&output.stdout).contains("<svg"));
    }
}

#[test]
fn jobs_sit_where_they_run_with_the_needs_on_them() {
    let case = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../specs/targets/nixos/a_migration_job_before_its_service_on_nixos_generates_cleanly.spec");
    let dot = dot_of(&case);
    let vertices = vertices(&dot);
    let node = Some("node prod1".to_string());
    assert_eq!(vertices.get("job schema"), Some(&("parallelogram".to_string(), node.clone())), "{dot}");
    assert_eq!(vertices.get("job seed"), Some(&("parallelogram".to_string(), node)), "{dot}");
    let graph: serde_json::Value =
        serde_json::from_slice(&spec(&["graph", "--format", "json", case.to_str().expect("utf-8")]).stdout)
            .expect("JSON");
    let vertices = graph["vertices"].as_array().expect("vertices");
    let id = |kind: &str, name: &str| {
        vertices.iter().find(|v| v["kind"] == kind && v["name"] == name).and_then(|v| v["id"].as_u64()).expect("vertex")
    };
    let edges = graph["edges"].as_array().expect("edges");
    let has =
        |from: u64, to: u64, kind: &str| edges.iter().any(|e| e["from"] == from && e["to"] == to && e["kind"] == kind);
    assert!(has(id("service", "api"), id("job", "seed"), "needs"), "{graph}");
    assert!(has(id("job", "seed"), id("job", "schema"), "needs"), "{graph}");
    assert!(has(id("job", "schema"), id("service", "db"), "needs"), "{graph}");
    assert!(has(id("job", "seed"), id("storage", "fixtures"), "volume"), "{graph}");
    assert!(has(id("job", "schema"), id("secret", "db-url"), "secret-use"), "{graph}");
}
