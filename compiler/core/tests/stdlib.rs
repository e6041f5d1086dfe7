//! The stdlib must check with zero diagnostics, alone and when every preset is used on a node and
//! on a cluster with its defaults.

// Tests read the corpus from disk; the no-IO rule is for the core library itself.
#![allow(clippy::disallowed_methods)]

use spec_compiler::driver;
use spec_compiler::source::{Origin, SourceFile, SourceMap};
use spec_compiler::stdlib::MODULES;

fn compile(text: &str) -> driver::Compilation {
    let mut sources = SourceMap::new();
    let file = sources.add(SourceFile::new("uses.spec", text, Origin::User));
    driver::compile(&mut sources, &[file], None)
}

#[test]
fn the_stdlib_alone_has_no_diagnostics() {
    let mut sources = SourceMap::new();
    let compilation = driver::compile(&mut sources, &[], None);
    assert!(compilation.diagnostics.is_empty(), "{:#?}", compilation.diagnostics);
}

#[test]
fn every_preset_checks_with_its_defaults_on_a_node_and_a_cluster() {
    let mut text = String::from(
        "node prod1 { os = nixos, cpu = 64, memory = 256GiB }\ncluster main { distribution = k3s, servers = [node.prod1] }\n\
         secret engine-db { nixos = agenix { file = \"secrets/engine-db.age\" }, k8s = existing { name = \"engine-db\", key = \"password\" } }\n",
    );
    for (module, _) in MODULES.iter().filter(|(m, _)| !CLUSTER_MODULES.contains(m) && !CHART_ONLY_MODULES.contains(m)) {
        // The parameters a preset cannot default (a file only the operator places, the database
        // the workflow engines and n8n keep their state in, beside them), and a port nginx's
        // default would share with the IPFS gateway's on the one node, and Tempo's OTLP ports the
        // collector's; the DCGM exporter's job is its service's own name.
        let arguments = |place: &str| match *module {
            "dcgm" => format!(" {{ job = \"dcgm-{place}\" }}"),
            // DeepFlow's server on the host's network: the pod's ports are claimed on the node too.
            "deepflow" => {
                let ports = if place == "pod" {
                    ", port = 21417, querier_port = 21416, profile_port = 21419, grpc_port = 31035, ingester_port = 31033"
                } else {
                    ""
                };
                format!(
                    " {{ mysql = service.postgres-{place}, clickhouse = service.postgres-{place}, mysql_password = secret.engine-db, clickhouse_password = secret.engine-db{ports} }}"
                )
            }
            "grafana" => " { secret_key_file = \"/var/lib/grafana/secret-key\" }".to_string(),
            "nginx" => " { port = 8088 }".to_string(),
            "tempo" => " { otlp_port = 4418, otlp_grpc_port = 4417 }".to_string(),
            "n8n" => format!(" {{ database = service.postgres-{place} }}"),
            "temporal" | "prefect" => {
                format!(" {{ database = service.postgres-{place}, password = secret.engine-db }}")
            }
            _ => String::new(),
        };
        text.push_str(&format!("import std.{module}\n"));
        let host = arguments("host");
        let pod = arguments("pod");
        text.push_str(&format!("service {module}-host {{\n  use std.{module}{host}\n  on = node.prod1\n}}\n"));
        text.push_str(&format!("service {module}-pod {{\n  use std.{module}{pod}\n  on = cluster.main\n}}\n"));
    }
    let compilation = compile(&text);
    assert!(compilation.diagnostics.is_empty(), "{:#?}", compilation.diagnostics);
    assert_eq!(
        compilation.model.services.len(),
        (MODULES.len() - CLUSTER_MODULES.len() - CHART_ONLY_MODULES.len()) * 2
    );
    for service in &compilation.model.services {
        assert!(!service.spec.ports.is_empty(), "`{}` got no ports from its preset", service.name);
    }
}

/// The modules whose service presets are charts only, with no form on a host (an operator's
/// controller: Argo Rollouts; Istio's control plane).
const CHART_ONLY_MODULES: [&str; 2] = ["argo_rollouts", "istio"];

#[test]
fn every_chart_only_preset_checks_with_its_defaults_on_a_cluster() {
    let compilation = compile(
        "import std.istio
node k1 { os = nixos }
cluster main { distribution = k3s, servers = [node.k1], version = \"1.30\", namespace = \"istio-system\" }
\
         service istio-base { use std.istio.base, on = cluster.main }
service istio-cni { use std.istio.cni, on = cluster.main }
\
         service istiod { use std.istio.istiod, on = cluster.main }
\
         service istio-ingressgateway { use std.istio.gateway, on = cluster.main }
",
    );
    assert!(compilation.diagnostics.is_empty(), "{:#?}", compilation.diagnostics);
    let charts: Vec<_> = compilation
        .model
        .services
        .iter()
        .filter_map(|s| s.spec.helm.as_ref()?.name.as_ref().map(|n| n.value.clone()))
        .collect();
    assert_eq!(charts, ["base", "cni", "istiod", "gateway"]);
}

/// The modules whose presets are for a cluster (its ingress controller, its certificate issuer).
const CLUSTER_MODULES: [&str; 2] = ["certmanager", "traefik"];

#[test]
fn the_argo_rollouts_preset_checks_on_a_cluster_and_installs_its_chart() {
    let compilation = compile(
        "import std.argo_rollouts\nnode k1 { os = nixos }\ncluster main { distribution = k3s, servers = [node.k1] }\nservice argo-rollouts {\n  use std.argo_rollouts\n  on = cluster.main\n}\n",
    );
    assert!(compilation.diagnostics.is_empty(), "{:#?}", compilation.diagnostics);
    let helm = compilation.model.services[0].spec.helm.as_ref().expect("the preset's chart");
    assert_eq!(helm.value.chart.value, "https://argoproj.github.io/argo-helm");
    assert_eq!(helm.value.name.as_ref().map(|n| n.value.as_str()), Some("argo-rollouts"));
    assert!(helm.value.version.is_some(), "the chart's version is pinned");
}

#[test]
fn every_cluster_preset_checks_with_its_defaults_and_writes_its_manifest() {
    let compilation = compile(
        "import std.certmanager\nimport std.traefik\nnode k1 { os = nixos }\ncluster main {\n  use std.traefik\n  use std.certmanager.issuer { email = \"ops@example.com\" }\n  distribution = k3s\n  servers = [node.k1]\n}\n",
    );
    assert!(compilation.diagnostics.is_empty(), "{:#?}", compilation.diagnostics);
    let manifests = &compilation.model.clusters[0].spec.manifest;
    let kinds: Vec<_> = manifests.values().map(|m| m.value.field("kind").unwrap_or_default().to_string()).collect();
    assert_eq!(kinds, ["HelmChartConfig", "ClusterIssuer"]);
}

#[test]
fn the_using_block_wins_over_the_preset() {
    let compilation = compile(
        "import std.postgres\nnode prod1 { os = nixos }\nservice db {\n  use std.postgres { port = 5433 }\n  on = node.prod1\n  ports { postgres = 6432/tcp }\n}\n",
    );
    assert!(compilation.diagnostics.is_empty(), "{:#?}", compilation.diagnostics);
    let db = &compilation.model.services[0].spec;
    assert_eq!(db.ports.get("postgres").map(|p| p.value.number), Some(6432));
    // The preset's own payload still saw its parameter.
    let nixos = db.nixos.as_ref().expect("the preset's nixos payload");
    assert_eq!(nixos.get("services.postgresql.settings.port"), Some(&spec_compiler::model::types::Payload::Int(5433)));
}
