//! The streams the Kubernetes back end writes, run as the cluster runs each `job-stream-*`
//! release's container: its arguments (`sh -c …`, which nats-box's entrypoint executes) with its
//! environment, against a stand-in `nats` on the path that records what it was given (the
//! server's URL, `stream add --config FILE`, and the file's content). What it read is then applied
//! to a real JetStream cluster of three `nats-server`s: every one of nats-services' streams is
//! created, applying it again changes nothing, and what the graph rules refuse (E0773 overlapping
//! subjects, E0774 replicas beyond the members) the server refuses too. The servers speak NATS's text protocol over TCP,
//! which is all a request to the JetStream API (`$JS.API.STREAM.CREATE.<name>`) needs.
//!
//! `nats-server` is found on the path (`apt-get install nats-server`) or at `NATS_SERVER_BIN`;
//! without one the test says SKIPPED.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use spec_target_kubernetes::Kubernetes;

fn nats_server() -> Option<PathBuf> {
    let candidates = [std::env::var_os("NATS_SERVER_BIN").map(PathBuf::from), Some(PathBuf::from("nats-server"))];
    candidates
        .into_iter()
        .flatten()
        .find(|bin| Command::new(bin).arg("--version").output().is_ok_and(|o| o.status.success()))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// Three JetStream servers routed to each other, killed when dropped.
struct Cluster {
    servers: Vec<Child>,
    client_port: u16,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for server in &mut self.servers {
            let _ = server.kill();
            let _ = server.wait();
        }
    }
}

fn start_cluster(bin: &Path, store: &Path) -> Cluster {
    let clients: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let routes: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let route_list = routes.iter().map(|p| format!("nats://127.0.0.1:{p}")).collect::<Vec<_>>().join(",");
    let servers = (0..3)
        .map(|i| {
            // The limits the production servers have (a 50 GiB claim each, 2 GiB of memory)
            // rather than the default share of this machine's free disk, which other work fills:
            // the streams' sizes are reserved, not written.
            let config = store.join(format!("n{i}.conf"));
            std::fs::create_dir_all(store).expect("a store folder");
            std::fs::write(
                &config,
                format!(
                    "jetstream {{\n  store_dir: \"{}\"\n  max_file_store: 50G\n  max_memory_store: 2G\n}}\n",
                    store.join(format!("n{i}")).display()
                ),
            )
            .expect("the server's configuration");
            Command::new(bin)
                .arg("-c")
                .arg(&config)
                .args(["--name", &format!("n{i}"), "--addr", "127.0.0.1", "--port", &clients[i].to_string()])
                .args(["--cluster_name", "test", "--cluster", &format!("nats://127.0.0.1:{}", routes[i])])
                .args(["--routes", &route_list])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("nats-server starts")
        })
        .collect();
    Cluster { servers, client_port: clients[0] }
}

/// A client of NATS's text protocol, enough for requests.
struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    next: u32,
}

impl Client {
    fn connect(port: u16) -> Client {
        let deadline = Instant::now() + Duration::from_secs(20);
        let stream = loop {
            match TcpStream::connect(("127.0.0.1", port)) {
                Ok(stream) => break stream,
                Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
                Err(error) => panic!("nats-server did not listen: {error}"),
            }
        };
        stream.set_read_timeout(Some(Duration::from_secs(3))).expect("a read timeout");
        let mut client = Client {
            reader: BufReader::new(stream.try_clone().expect("a second handle on the socket")),
            writer: stream,
            next: 0,
        };
        let mut info = String::new();
        client.reader.read_line(&mut info).expect("the INFO line");
        assert!(info.starts_with("INFO"), "{info}");
        client.writer.write_all(b"CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true,\"no_responders\":true}\r\nSUB _INBOX.test.* 1\r\n").expect("the server takes the request");
        client
    }

    /// Sends `payload` to `subject` and returns the reply's payload.
    fn request(&mut self, subject: &str, payload: &str) -> String {
        self.next += 1;
        let inbox = format!("_INBOX.test.{}", self.next);
        write!(self.writer, "PUB {subject} {inbox} {}\r\n{payload}\r\n", payload.len())
            .expect("the server takes the request");
        loop {
            let mut line = String::new();
            // A cluster still electing its metadata leader does not answer: retried by `create`.
            if let Err(error) = self.reader.read_line(&mut line) {
                assert!(
                    matches!(error.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
                    "{error}"
                );
                return r#"{"error":{"description":"no reply"}}"#.into();
            }
            let line = line.trim_end();
            if line == "PING" {
                self.writer.write_all(b"PONG\r\n").expect("the server takes the request");
                continue;
            }
            let fields: Vec<&str> = line.split(' ').collect();
            let (is_reply, sizes) = match fields.first() {
                Some(&"MSG") => (
                    fields.get(1) == Some(&inbox.as_str()),
                    (0, fields.last().expect("a size field").parse().expect("a size field")),
                ),
                Some(&"HMSG") => (
                    fields.get(1) == Some(&inbox.as_str()),
                    (
                        fields[fields.len() - 2].parse().expect("a size field"),
                        fields.last().expect("a size field").parse::<usize>().expect("a size field"),
                    ),
                ),
                _ if line.starts_with("-ERR") => panic!("{line}"),
                _ => continue,
            };
            let mut body = vec![0; sizes.1 + 2];
            self.reader.read_exact(&mut body).expect("the message body");
            if !is_reply {
                continue;
            }
            // A header-only reply (`NATS/1.0 503`) means no JetStream yet: answered as an error.
            let payload = String::from_utf8_lossy(&body[sizes.0..sizes.1]).to_string();
            return if payload.is_empty() { r#"{"error":{"description":"no responders"}}"#.into() } else { payload };
        }
    }

    /// Creates the stream `config` describes, waiting while the cluster elects its leaders.
    fn create(&mut self, config: &serde_json::Value) -> serde_json::Value {
        let name = config["name"].as_str().expect("a named configuration");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let reply: serde_json::Value =
                serde_json::from_str(&self.request(&format!("$JS.API.STREAM.CREATE.{name}"), &config.to_string()))
                    .expect("a JSON reply");
            let description = reply["error"]["description"].as_str().unwrap_or("");
            let not_ready =
                ["no responders", "no reply", "temporarily unavailable", "no suitable peers", "insufficient resources"]
                    .iter()
                    .any(|w| description.contains(w));
            if !not_ready || Instant::now() > deadline || config["num_replicas"].as_u64().unwrap_or(1) > 3 {
                return reply;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

/// Runs each `job-stream-*` release's container command as nats-box would (its entrypoint
/// executes the arguments) with the release's environment and a stand-in `nats` first on the path,
/// and returns, by file, the configuration that `nats` was given to read, after checking that it
/// was asked to add a stream, from that file, on the release's server.
fn stream_configs() -> Vec<(String, serde_json::Value)> {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/nats-services");
    let files = spec_testkit::generate(&Kubernetes, &example);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubernetes-streams");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a folder for the stand-in");
    let stub = dir.join("nats");
    std::fs::write(
        &stub,
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$STUB_OUT/args\"\n\
         while [ $# -gt 0 ]; do [ \"$1\" = --config ] && cat \"$2\" > \"$STUB_OUT/config\"; shift; done\n",
    )
    .expect("the stand-in nats");
    std::fs::set_permissions(&stub, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("the stand-in is executable");
    let path = format!("{}:{}", dir.display(), std::env::var("PATH").unwrap_or_default());
    let mut configs = Vec::new();
    for (file, text) in files.iter().filter(|(p, _)| p.contains("/job-stream-") && p.ends_with(".values.yaml")) {
        let values: serde_json::Value = serde_yaml::from_str(text).expect("values YAML");
        let container = &values["controllers"]["main"]["containers"]["app"];
        let args: Vec<&str> = container["args"]
            .as_array()
            .expect("the container arguments")
            .iter()
            .map(|a| a.as_str().expect("the container arguments"))
            .collect();
        let env = container["env"].as_object().expect("the container environment");
        let out = dir.join(file.rsplit('/').next().expect("a file name"));
        std::fs::create_dir_all(&out).expect("a folder for the stand-in");
        let status = Command::new(args[0])
            .args(&args[1..])
            .env_clear()
            .env("PATH", &path)
            .env("STUB_OUT", &out)
            .envs(env.iter().map(|(k, v)| (k, v.as_str().expect("text values"))))
            .status()
            .expect("sh runs");
        assert!(status.success(), "{file}: {args:?}");
        let given = std::fs::read_to_string(out.join("args")).expect("the stand-in recorded its arguments");
        let given: Vec<&str> = given.lines().collect();
        assert_eq!(
            given[..4],
            ["--server", env["STREAM_SERVER"].as_str().expect("STREAM_SERVER is text"), "stream", "add"],
            "{file}"
        );
        assert_eq!(given[4], "--config", "{file}");
        let read: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.join("config")).expect("the stand-in recorded the configuration"),
        )
        .expect("the stand-in recorded the configuration");
        let written: serde_json::Value =
            serde_json::from_str(env["STREAM_CONFIG"].as_str().expect("STREAM_CONFIG is JSON text"))
                .expect("STREAM_CONFIG is JSON text");
        assert_eq!(read, written, "{file}: what `nats` read is the configuration the compiler wrote");
        assert!(
            env["STREAM_SERVER"].as_str().expect("STREAM_SERVER is text").starts_with("nats://nats.platform.svc"),
            "{file}: {env:?}"
        );
        configs.push((file.clone(), read));
    }
    configs
}

#[test]
fn every_stream_nats_services_writes_is_created_by_a_real_jetstream_cluster() {
    let configs = stream_configs();
    assert_eq!(configs.len(), 5, "{configs:#?}");
    let Some(bin) = nats_server() else {
        eprintln!("SKIPPED: nats-server is not installed; the streams' configurations were not applied");
        return;
    };
    let store = std::env::temp_dir().join(format!("spec-streams-{}", std::process::id()));
    let cluster = start_cluster(&bin, &store);
    let mut client = Client::connect(cluster.client_port);
    for (path, config) in &configs {
        let reply = client.create(config);
        assert!(reply.get("error").is_none(), "{path}: the server refused {config}: {reply}");
        assert_eq!(reply["config"]["subjects"], config["subjects"], "{path}: {reply}");
        assert_eq!(reply["config"]["max_age"], config["max_age"], "{path}: {reply}");
        assert_eq!(reply["config"]["num_replicas"], 3, "{path}: {reply}");
        // The one-shot runs again on every change of any stream's release: unchanged, it is a no-op.
        let again = client.create(config);
        assert!(again.get("error").is_none(), "{path}: applying it again failed: {again}");
    }
    // What E0773 and E0774 refuse, the server refuses.
    let (_, consciousness) =
        &configs.iter().find(|(p, _)| p.contains("consciousness")).expect("the consciousness stream");
    let mut overlapping = consciousness.clone();
    overlapping["name"] = "OVERLAPPING".into();
    overlapping["subjects"] = serde_json::json!(["consciousness.eu.*"]);
    let reply = client.create(&overlapping);
    assert!(reply["error"]["description"].as_str().is_some_and(|d| d.contains("overlap")), "{reply}");
    let mut wide = consciousness.clone();
    wide["name"] = "WIDE".into();
    wide["subjects"] = serde_json::json!(["wide.>"]);
    wide["num_replicas"] = 5.into();
    let reply = client.create(&wide);
    assert!(reply.get("error").is_some(), "five replicas on three servers: {reply}");
    drop(cluster);
    let _ = std::fs::remove_dir_all(&store);
}
