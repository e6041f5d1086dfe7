//! Blue-green rollouts on NixOS read back from the generated module by `nix-instantiate`: each
//! blue-green service is two containers, one per colour, running its colour's image and
//! publishing every declared port on loopback at that colour's own host port, and no container
//! of the service's own name; nginx's stream configuration holds, per port, an upstream pair of
//! exactly those two host ports with the idle colour `down`, and a server listening on the port
//! where the service is reached (loopback, and podman's bridge for the container that needs it);
//! what needs the service depends on the active colour's container, and its ingress route
//! proxies to the port nginx listens on. Before this the same estate was W1130: no instance ran.

use std::path::{Path, PathBuf};
use std::process::Command;

use spec_compiler::model::{Colour, Rollout};
use spec_target_nixos::Nixos;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The blocks `upstream NAME { … }` and `server { … }` of a stream configuration, in order, each
/// as its name (empty for a server) and its directive lines.
fn blocks(config: &str) -> Vec<(String, String, Vec<String>)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String, Vec<String>)> = None;
    for line in config.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(head) = line.strip_suffix('{') {
            let mut words = head.split_whitespace();
            let kind = words.next().expect("a block kind").to_string();
            current = Some((kind, words.next().unwrap_or_default().to_string(), Vec::new()));
        } else if line == "}" {
            blocks.push(current.take().expect("a block closes after it opens"));
        } else {
            let directive = line.split('#').next().expect("text").trim().trim_end_matches(';').to_string();
            current.as_mut().expect("directives lie in blocks").2.push(directive);
        }
    }
    blocks
}

#[test]
fn each_colour_is_a_container_and_nginx_sends_clients_to_the_active_one() {
    if !Command::new("nix-instantiate").arg("--version").output().is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED: nix-instantiate is not installed; blue-green pairs were not read back");
        return;
    }
    let case = workspace().join("specs/targets/nixos/blue_green_pair_behind_nginx_generates_cleanly.spec");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nixos-blue-green");
    let _ = std::fs::remove_dir_all(&dir);
    for (path, contents) in spec_testkit::generate(&Nixos, &case) {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::write(&target, contents).expect("write");
    }
    let module = dir.join("nixos/web1/default.nix");
    let eval = |expression: &str| spec_testkit::nix_module_eval(&module, "{}", expression);
    let containers = eval("m.virtualisation.oci-containers.containers");
    assert_eq!(eval("m.services.nginx.enable"), true);
    let config = eval("m.services.nginx.streamConfig");
    let blocks = blocks(config.as_str().expect("text"));
    let hosts = eval("m.services.nginx.virtualHosts");
    let (_, compilation) = spec_testkit::compile_path(&case, None);
    let model = &compilation.model;
    let mut pairs = 0;
    for service in &model.services {
        let Some(Rollout::BlueGreen { active, blue, green }) = service.spec.rollout.as_ref().map(|r| &r.value) else {
            continue;
        };
        let image = &service.spec.image.as_ref().expect("an image").value;
        assert!(containers.get(service.name.as_str()).is_none(), "`{}` runs only as its colours", service.name);
        let mut host_ports = std::collections::BTreeMap::new();
        for (colour, own) in [(Colour::Blue, blue), (Colour::Green, green)] {
            let name = format!("{}-{}", service.name, colour.name());
            let container = &containers[name.as_str()];
            let expected_image = own.as_ref().and_then(|i| i.value.image()).unwrap_or(image);
            assert_eq!(container["image"], expected_image, "{name}");
            let published: Vec<&str> =
                container["ports"].as_array().expect("ports").iter().map(|p| p.as_str().expect("text")).collect();
            assert_eq!(published.len(), service.spec.ports.len(), "{name}: one loopback port per declared port");
            for (port_name, port) in &service.spec.ports {
                let protocol = format!("{:?}", port.protocol).to_lowercase();
                let entry = published
                    .iter()
                    .find(|p| p.ends_with(&format!(":{}/{protocol}", port.number)))
                    .unwrap_or_else(|| panic!("{name}: port `{port_name}` is not published: {published:?}"));
                let (address, rest) = entry.split_once(':').expect("ADDRESS:HOST:PORT");
                assert_eq!(address, "127.0.0.1", "{name}: a colour listens on loopback only");
                let host: u16 = rest.split(':').next().expect("host port").parse().expect("a port");
                assert_ne!(host, port.number, "{name}: the service's own port is nginx's");
                host_ports.insert((port_name.clone(), colour.name()), host);
            }
        }
        for (port_name, port) in &service.spec.ports {
            pairs += 1;
            let index = blocks
                .iter()
                .position(|(kind, name, _)| kind == "upstream" && name == &format!("{}_{port_name}", service.name))
                .unwrap_or_else(|| panic!("no upstream for port `{port_name}` of `{}`: {blocks:?}", service.name));
            let servers = &blocks[index].2;
            assert_eq!(servers.len(), 2, "an upstream pair: {servers:?}");
            for colour in [Colour::Blue, Colour::Green] {
                let target = format!("server 127.0.0.1:{}", host_ports[&(port_name.clone(), colour.name())]);
                let line = servers.iter().find(|s| s.starts_with(&target)).expect("each colour is a server");
                assert_eq!(line.ends_with(" down"), colour != active.value, "{line}: only the active colour is up");
            }
            let (kind, _, server) = &blocks[index + 1];
            assert_eq!(kind, "server");
            assert!(server.contains(&format!("proxy_pass {}_{port_name}", service.name)), "{server:?}");
            let udp = if format!("{:?}", port.protocol) == "Udp" { " udp" } else { "" };
            for bind in ["127.0.0.1", "10.88.0.1"] {
                let listen = format!("listen {bind}:{}{udp}", port.number);
                assert!(server.contains(&listen), "`{}` is reached at {bind}: {server:?}", service.name);
            }
        }
        for (_, route) in &service.spec.ingress {
            let port = service.spec.ports[route.value.port.value.0.as_str()].number;
            let proxy = &hosts[route.value.host.value.as_str()]["locations"][route.value.path()]["proxyPass"];
            assert_eq!(proxy, &format!("http://127.0.0.1:{port}"), "the route goes through the switch");
        }
        for needer in model.services.iter().filter(|s| s.spec.needs.iter().any(|n| n.name == service.name)) {
            let depends = &containers[needer.name.as_str()]["dependsOn"];
            let active_container = format!("{}-{}", service.name, active.value.name());
            assert_eq!(
                depends,
                &serde_json::json!([active_container]),
                "`{}` waits for the active colour",
                needer.name
            );
        }
    }
    assert_eq!(pairs, 2, "both ports of `site` are switched");
}

/// Colours on two nodes, read back from both modules: each colour node runs one container of
/// the service's image, publishing at its colour port on the address the core's reachability
/// gives it (loopback beside the switch, the node's WireGuard address elsewhere, that port open on
/// the mesh's interface); the switch's node serves the service's port from an upstream naming
/// exactly those addresses, the idle one `down`; each colour reads where its database is from its
/// own node; the database admits the remote colour's node; and Prometheus on the switch's node
/// scrapes the service through the switch in its job and each colour where it publishes, in job
/// `api_colours`. Before, the colours on nodes did not parse (a colour was an image), and no
/// container ran on the second node.
#[test]
fn colours_on_two_nodes_run_on_each_and_the_switch_reaches_both() {
    if !Command::new("nix-instantiate").arg("--version").output().is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED: nix-instantiate is not installed; colours on nodes were not read back");
        return;
    }
    let case = workspace().join("specs/targets/nixos/blue_green_colours_on_two_nodes_generate_cleanly.spec");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nixos-blue-green-nodes");
    let _ = std::fs::remove_dir_all(&dir);
    for (path, contents) in spec_testkit::generate(&Nixos, &case) {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::write(&target, contents).expect("write");
    }
    let (_, compilation) = spec_testkit::compile_path(&case, None);
    let model = &compilation.model;
    let (reach, _) = spec_compiler::model::reach::derive(model, &[]);
    let service = model.services.iter().find(|s| s.name == "api").expect("the service");
    let Some(Rollout::BlueGreen { active, .. }) = service.spec.rollout.as_ref().map(|r| &r.value) else {
        panic!("a blue-green rollout")
    };
    let colours = reach.colours_of(&service.name);
    assert_eq!(colours.len(), 2, "both colours reached: {colours:?}");
    let port = service.spec.ports["http"].number;
    let eval = |node: &str, expression: &str| {
        spec_testkit::nix_module_eval(&dir.join(format!("nixos/{node}/default.nix")), "{}", expression)
    };
    let switch = service.spec.on.name.as_str();
    let mut upstream = Vec::new();
    for way in colours {
        let offset = if way.colour == Colour::Blue { 10_000 } else { 20_000 };
        let host_port = port + offset;
        let containers = eval(&way.node, "m.virtualisation.oci-containers.containers");
        let name = format!("{}-{}", service.name, way.colour.name());
        let own: Vec<&String> = containers.as_object().expect("containers").keys().collect();
        assert!(own.iter().any(|c| **c == name), "`{name}` runs on `{}`: {own:?}", way.node);
        let container = &containers[name.as_str()];
        assert_eq!(container["image"], service.spec.image.as_ref().expect("an image").value.as_str());
        assert_eq!(container["ports"], serde_json::json!([format!("{}:{host_port}:{port}/tcp", way.bind)]), "{name}");
        // The database is where this colour's node reaches it.
        let db = model.services.iter().find(|s| s.name == "db").expect("the database");
        let expected_host = if way.node == db.spec.on.name { "10.88.0.1".to_string() } else { "10.0.0.1".to_string() };
        assert_eq!(container["environment"]["DB_HOST"], expected_host.as_str(), "{name}");
        if way.node != switch {
            let opened = eval(&way.node, "m.networking.firewall.interfaces.mesh.allowedTCPPorts");
            assert!(opened.as_array().expect("ports").contains(&serde_json::json!(host_port)), "{opened}");
            let admitted = eval(db.spec.on.name.as_str(), "m.services.postgresql.authentication");
            let line = format!("host all all {}/32 scram-sha-256", way.bind);
            assert!(admitted.as_str().expect("text").lines().any(|l| l == line), "{admitted}");
        }
        let state = if way.colour == active.value { "" } else { " down" };
        upstream.push(format!("server {}:{host_port}{state}", way.bind));
    }
    let config = eval(switch, "m.services.nginx.streamConfig");
    let blocks = blocks(config.as_str().expect("text"));
    let servers: Vec<String> =
        blocks.iter().find(|(kind, name, _)| kind == "upstream" && name == "api_http").expect("the upstream").2.clone();
    assert_eq!(servers, upstream, "{config}");
    // Prometheus beside the switch scrapes the service through the switch in its own job, and
    // each colour in the colours' job exactly where the colour publishes it (the address and host
    // port of its container above, which its node opens to the switch's).
    let jobs = eval(switch, "m.services.prometheus.scrapeConfigs");
    let scraped = |name: &str| -> Vec<(String, String, String)> {
        let job = jobs.as_array().expect("jobs").iter().find(|j| j["job_name"] == name).expect("the job");
        let label = |c: &serde_json::Value, l: &str| c["labels"][l].as_str().unwrap_or("").to_string();
        let configs = job["static_configs"].as_array().expect("targets").iter();
        configs
            .map(|c| (c["targets"][0].as_str().expect("text").to_string(), label(c, "instance"), label(c, "colour")))
            .collect()
    };
    let through_switch = vec![(format!("127.0.0.1:{port}"), format!("{switch}:{port}"), String::new())];
    assert_eq!(scraped("api"), through_switch, "{jobs}");
    let mut each = Vec::new();
    for way in colours {
        let offset = if way.colour == Colour::Blue { 10_000 } else { 20_000 };
        let host_port = port + offset;
        each.push((format!("{}:{host_port}", way.bind), format!("{}:{host_port}", way.node), way.colour.name().into()));
    }
    assert_eq!(scraped("api_colours"), each, "{jobs}");
    // The other colour's node runs no Prometheus, so it scrapes nothing.
    let other = colours.iter().find(|w| w.node != switch).expect("a colour elsewhere");
    assert_eq!(eval(&other.node, "m.services.prometheus.scrapeConfigs or null"), serde_json::Value::Null);
}
