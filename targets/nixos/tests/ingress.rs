//! Ingress routes read back from the generated module by `nix-instantiate`: every route of every
//! service on the node is a location of its host's nginx virtual host, proxied to the port its
//! service listens on at loopback (a container's port published there, the port Prometheus's
//! module listens on); a host with TLS redirects to HTTPS with an ACME certificate for the
//! route's email and issuer, and one without does neither; nginx's ports, and only those of the
//! services that are exposed, are open to the public. Before nginx was generated the same estate
//! served no route at all (W1101).

use std::path::{Path, PathBuf};
use std::process::Command;

use spec_target_nixos::Nixos;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn every_route_is_an_nginx_location_proxied_to_its_service_on_loopback() {
    if !Command::new("nix-instantiate").arg("--version").output().is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED: nix-instantiate is not installed; ingress routes were not read back");
        return;
    }
    let case = workspace().join("specs/targets/nixos/ingress_routes_through_nginx_with_acme_generate_cleanly.spec");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nixos-ingress");
    let _ = std::fs::remove_dir_all(&dir);
    let files = spec_testkit::generate(&Nixos, &case);
    for (path, contents) in &files {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::write(&target, contents).expect("write");
    }
    let module = dir.join("nixos/web1/default.nix");
    let eval = |expression: &str| spec_testkit::nix_module_eval(&module, "{ curl = \"curl\"; }", expression);
    let hosts = eval("m.services.nginx.virtualHosts");
    let certs = eval("m.security.acme.certs");
    let containers = eval("m.virtualisation.oci-containers.containers");
    let (_, compilation) = spec_testkit::compile_path(&case, None);
    let mut routes = 0;
    let mut tls_hosts = 0;
    for service in &compilation.model.services {
        for (name, route) in &service.spec.ingress {
            let route = &route.value;
            let host = &hosts[route.host.value.as_str()];
            let port = service.spec.ports[route.port.value.0.as_str()].number;
            let what = format!("route `{name}` of `{}`", service.name);
            assert_eq!(
                host["locations"][route.path()]["proxyPass"],
                format!("http://127.0.0.1:{port}"),
                "{what}: {host}"
            );
            // The service listens there: a container publishes the port on loopback, Prometheus's
            // module listens on every address at its port.
            match containers.get(service.name.as_str()) {
                Some(container) => assert!(
                    container["ports"]
                        .as_array()
                        .expect("ports")
                        .iter()
                        .any(|p| p == &format!("127.0.0.1:{port}:{port}/tcp")),
                    "{what}: {container}"
                ),
                None => assert_eq!(eval("m.services.prometheus.port"), port, "{what}"),
            }
            match &route.tls {
                Some(tls) => {
                    tls_hosts += 1;
                    assert_eq!(host["forceSSL"], true, "{what}");
                    assert_eq!(host["enableACME"], true, "{what}");
                    let cert = &certs[route.host.value.as_str()];
                    assert_eq!(cert["email"], tls.value.email.as_ref().expect("email").value.as_str(), "{what}");
                    match &tls.value.issuer {
                        Some(issuer) => assert_eq!(cert["server"], issuer.value.as_str(), "{what}"),
                        None => assert!(cert.get("server").is_none(), "{what}: Let's Encrypt is the default"),
                    }
                }
                None => {
                    assert!(host.get("forceSSL").is_none() && host.get("enableACME").is_none(), "{what}: {host}");
                    assert!(certs.get(route.host.value.as_str()).is_none(), "{what}");
                }
            }
            routes += 1;
        }
    }
    assert!(routes >= 5 && tls_hosts >= 3, "the case has routes with and without TLS");
    assert_eq!(eval("m.services.nginx.enable"), true);
    assert_eq!(eval("m.security.acme.acceptTerms"), true);
    // nginx's ports are public; no service port is (each is published on loopback only).
    assert_eq!(eval("m.networking.firewall.allowedTCPPorts"), serde_json::json!([80, 443]));
}

/// A k3s cluster running Istio's ingress gateway starts its servers without the bundled Traefik,
/// the two being load balancers on 80 and 443, and its agents without the flag (`k3s agent`
/// refuses it); without the gateway Traefik stays.
#[test]
fn k3s_servers_drop_traefik_where_istios_gateway_runs() {
    let flags = |with_gateway: bool| {
        let gateway = if with_gateway {
            "service istio-ingressgateway { use std.istio.gateway, on = cluster.main }\n"
        } else {
            ""
        };
        let source = format!(
            "import std.istio\n\
             secret k3s-token {{ nixos = agenix {{ file = \"secrets/k3s-token.age\" }} }}\n\
             node k1 {{ os = nixos, address = 10.1.0.1 }}\n\
             node k2 {{ os = nixos, address = 10.1.0.2 }}\n\
             cluster main {{ distribution = k3s, servers = [node.k1], agents = [node.k2], token = secret.k3s-token, namespace = \"istio-system\" }}\n\
             {gateway}"
        );
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nixos-k3s-gateway");
        std::fs::create_dir_all(&dir).expect("mkdir");
        let case = dir.join(format!("gateway-{with_gateway}.spec"));
        std::fs::write(&case, source).expect("write");
        let files = spec_testkit::generate(&Nixos, &case);
        ["k1", "k2"].map(|node| {
            let module = files
                .iter()
                .find(|(p, _)| p == &format!("nixos/{node}/default.nix"))
                .map(|(_, c)| c.clone())
                .unwrap_or_else(|| panic!("no module for {node}: {files:?}"));
            module.lines().find(|l| l.contains("services.k3s.extraFlags")).unwrap_or_default().to_string()
        })
    };
    let [server, agent] = flags(true);
    assert!(server.contains("\"--disable=traefik\""), "{server}");
    assert!(!agent.contains("--disable"), "{agent}");
    let [server, _] = flags(false);
    assert!(!server.contains("--disable"), "{server}");
}
