//! The server on a generated 10,000-service estate: after the first check, every kind of request
//! is answered, and its time printed (run with `--release -- --nocapture` for the figures in the
//! README). Times are printed, not asserted: the tests check answers, the figures are measured.
//! Each request is timed several times and the median and the slowest printed, as the machine is
//! shared; the allocator is the `spec` binary's (mimalloc). The estate is one 5 MB file, the worst case for a document's own tree after an edit.

use std::time::{Duration, Instant};

/// The `spec` binary's allocator, so the figures are those of `spec lsp`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use crossbeam_channel::Receiver;
use lsp_server::{Connection, Message, Notification, Request, RequestId};
use serde_json::{Value, json};
use spec_lsp::transport::RawResponse;

/// The back ends `spec lsp` runs in every check, as `spec check` does.
fn back_ends() -> Vec<Box<dyn spec_compiler::target::Target>> {
    vec![
        Box::new(spec_target_nixos::Nixos),
        Box::new(spec_target_systemd::Systemd),
        Box::new(spec_target_kubernetes::Kubernetes),
        Box::new(spec_target_prometheus::Prometheus),
    ]
}

/// The editor's end: messages, and the results the server writes already serialised (the
/// outline), as `spec lsp` sends them over stdio.
struct Client {
    connection: Connection,
    raw: Receiver<RawResponse>,
}

/// Sends a request and waits for its answer; the time is until the answer is ready to be written
/// (a raw result is parsed afterwards, outside the time, as the editor would).
fn request(client: &Client, id: i32, method: &str, params: Value) -> (Value, Duration) {
    let started = Instant::now();
    let sent = client.connection.sender.send(Request::new(RequestId::from(id), method.into(), params).into());
    assert!(sent.is_ok(), "the server is gone");
    loop {
        crossbeam_channel::select! {
            recv(client.connection.receiver) -> message => match message {
                Ok(Message::Response(response)) if response.id == RequestId::from(id) => match response.response_result {
                    Ok(result) => return (result, started.elapsed()),
                    Err(error) => panic!("{method}: {error:?}"),
                },
                Ok(_) => {}
                Err(error) => panic!("{method}: no answer: {error}"),
            },
            recv(client.raw) -> raw => match raw {
                Ok(raw) if raw.id == RequestId::from(id) => {
                    let elapsed = started.elapsed();
                    return (serde_json::from_str(&raw.result).expect("a raw result is JSON"), elapsed);
                }
                Ok(_) => {}
                Err(error) => panic!("{method}: no answer: {error}"),
            },
            default(Duration::from_secs(120)) => panic!("{method}: no answer in 120 s"),
        }
    }
}

fn notify(client: &Client, method: &str, params: Value) {
    let sent = client.connection.sender.send(Notification::new(method.into(), params).into());
    assert!(sent.is_ok(), "the server is gone");
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

/// The median and the slowest of some times.
fn figures(times: &mut [Duration]) -> String {
    times.sort();
    let median = times.get(times.len() / 2).copied().unwrap_or_default();
    let slowest = times.last().copied().unwrap_or_default();
    format!("median {}, slowest {}", ms(median), ms(slowest))
}

fn position(text: &str, needle: &str, shift: u32) -> Value {
    let offset = text.find(needle).expect("needle");
    let line = text.get(..offset).expect("prefix").matches('\n').count();
    let column = offset - text.get(..offset).expect("prefix").rfind('\n').map_or(0, |i| i + 1);
    json!({"line": line, "character": column as u32 + shift})
}

#[test]
fn every_request_on_10000_services_is_answered_after_the_first_check() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("lsp-scale");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch");
    let text = spec_testkit::generate_estate(10_000);
    let path = dir.join("estate.spec");
    std::fs::write(&path, &text).expect("write estate");
    let uri = format!("file://{}", path.display());

    let (server, connection) = Connection::memory();
    let (raw_sender, raw) = crossbeam_channel::unbounded();
    let client = Client { connection, raw };
    let thread = std::thread::spawn(move || {
        spec_lsp::server::serve(&server, Some(raw_sender), back_ends()).map_err(|e| e.to_string())
    });
    request(&client, 1, "initialize", json!({"processId": null, "capabilities": {}}));
    notify(&client, "initialized", json!({}));
    let started = Instant::now();
    notify(
        &client,
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "spec", "version": 1, "text": text}}),
    );
    loop {
        match client.connection.receiver.recv_timeout(Duration::from_secs(300)) {
            Ok(Message::Notification(n)) if n.method == "textDocument/publishDiagnostics" => {
                assert_eq!(n.params["diagnostics"], json!([]), "the generated estate checks clean");
                break;
            }
            Ok(_) => {}
            Err(error) => panic!("no diagnostics: {error}"),
        }
    }
    println!("first check, 10,000 services: {} ms", started.elapsed().as_millis());

    let at =
        |needle: &str, shift: u32| json!({"textDocument": {"uri": uri}, "position": position(&text, needle, shift)});
    let mut references = at("node.n7\n", 6);
    references["context"] = json!({"includeDeclaration": true});
    let screen_start = position(&text, "needs     = [service.svc7]", 0)["line"].as_u64().unwrap_or(0);
    let screen = json!({"textDocument": {"uri": uri}, "range": {
        "start": {"line": screen_start, "character": 0}, "end": {"line": screen_start + 60, "character": 0}}});
    let mut rename = at("needs     = [service.svc7]", 23);
    rename["newName"] = json!("renamed7");
    let actions = json!({"textDocument": {"uri": uri}, "range": screen["range"], "context": {"diagnostics": []}});
    let cases = [
        ("hover on a field", "textDocument/hover", at("  resources {", 2), "CPU and memory"),
        ("hover on a reference", "textDocument/hover", at("needs     = [service.svc7]", 16), "service svc7"),
        ("hover on a preset", "textDocument/hover", at("std.postgres {", 5), "preset std.postgres"),
        ("definition", "textDocument/definition", at("needs     = [service.svc7]", 16), "uri"),
        ("references", "textDocument/references", references, "uri"),
        ("completion of `service.`", "textDocument/completion", at("service.svc7]", 8), "\"isIncomplete\":true"),
        // The fields the service does not set yet (it sets `resources`, not `volumes`).
        ("completion of fields", "textDocument/completion", at("  image     =", 2), "volumes"),
        ("document symbols", "textDocument/documentSymbol", json!({"textDocument": {"uri": uri}}), "svc9999"),
        (
            "formatting",
            "textDocument/formatting",
            json!({"textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": true}}),
            "newText",
        ),
        ("semantic tokens of a screen", "textDocument/semanticTokens/range", screen, "data"),
        (
            "semantic tokens of the file",
            "textDocument/semanticTokens/full",
            json!({"textDocument": {"uri": uri}}),
            "data",
        ),
        ("folding ranges", "textDocument/foldingRange", json!({"textDocument": {"uri": uri}}), "startLine"),
        ("highlights", "textDocument/documentHighlight", at("needs     = [service.svc7]", 16), "kind"),
        ("prepare rename", "textDocument/prepareRename", at("needs     = [service.svc7]", 23), "svc7"),
        ("rename", "textDocument/rename", rename, "changes"),
        ("workspace symbols", "workspace/symbol", json!({"query": "svc999"}), "svc9990"),
        ("code actions", "textDocument/codeAction", actions, "["),
        ("signature help", "textDocument/signatureHelp", at("std.postgres {", 15), "version"),
    ];
    let mut id = 10;
    let mut next_id = move || {
        id += 1;
        id
    };
    for (name, method, params, expected) in &cases {
        let mut times = Vec::new();
        let mut result = Value::Null;
        for _ in 0..5 {
            let (answer, elapsed) = request(&client, next_id(), method, params.clone());
            times.push(elapsed);
            result = answer;
        }
        let shown: String = result.to_string().chars().take(300).collect();
        assert!(result.to_string().contains(expected), "{name}: {shown}");
        let serialised = Instant::now();
        let bytes = serde_json::to_string(&result).map_or(0, |json| json.len());
        let serialised = serialised.elapsed();
        println!("{name}: {} ({} KB, serialised for stdio in {})", figures(&mut times), bytes / 1024, ms(serialised));
    }

    // Typing in the first service of the file, each keystroke answered before the next check: the
    // document's tree is patched where the edit fell (one ranged edit, as editors send them), and
    // every later declaration moved, the most work an edit can cause.
    let mut version = 1;
    let mut text = text.clone();
    let mut after_edit: Vec<(&str, Vec<Duration>)> = vec![
        ("hover", Vec::new()),
        ("completion of `service.`", Vec::new()),
        ("document symbols", Vec::new()),
        ("formatting", Vec::new()),
    ];
    for keystroke in 0..5 {
        version += 1;
        let inserted = format!("  # typed {keystroke}\n");
        let at_line = position(&text, "\nservice ", 1);
        let line = at_line["line"].as_u64().unwrap_or(0) + 1;
        let offset = text.match_indices('\n').nth(line as usize - 1).map_or(0, |(i, _)| i + 1);
        text.insert_str(offset, &inserted);
        let here = json!({"line": line, "character": 0});
        notify(
            &client,
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"range": {"start": here, "end": here}, "text": inserted}]}),
        );
        let at = |needle: &str, shift: u32| json!({"textDocument": {"uri": uri}, "position": position(&text, needle, shift)});
        let document = json!({"textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": true}});
        let requests = [
            ("textDocument/hover", at("needs     = [service.svc999]", 16), "service svc999"),
            ("textDocument/completion", at("service.svc999]", 8), "isIncomplete"),
            ("textDocument/documentSymbol", document.clone(), "svc9999"),
            ("textDocument/formatting", document, "newText"),
        ];
        for (index, (method, params, expected)) in requests.into_iter().enumerate() {
            let (result, elapsed) = request(&client, next_id(), method, params);
            assert!(
                result.to_string().contains(expected),
                "{method} after an edit: {}",
                result.to_string().chars().take(300).collect::<String>()
            );
            if let Some((_, times)) = after_edit.get_mut(index) {
                times.push(elapsed);
            }
        }
        // The hover's range is where the reference is now.
        let (hover, _) = request(&client, next_id(), "textDocument/hover", at("needs     = [service.svc999]", 16));
        assert_eq!(hover["range"]["start"], position(&text, "service.svc999]", 0), "{hover}");
    }
    for (name, times) in &mut after_edit {
        println!("{name} right after an edit (5 keystrokes): {}", figures(times));
    }

    // A whole new text (what editors without incremental sync send): the one changed range is
    // found by comparing the texts, and the tree patched there.
    let edited = text.replacen("cpu = 64", "cpu = 63", 1);
    version += 1;
    notify(
        &client,
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": edited}]}),
    );
    let (result, elapsed) = request(
        &client,
        next_id(),
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": position(&edited, "needs     = [service.svc7]", 16)}),
    );
    assert!(result.to_string().contains("service svc7"), "{result}");
    println!("hover right after a whole-text change (5 MB compared): {}", ms(elapsed));

    // The next check, of the edited estate, as the debounce starts it.
    let started = Instant::now();
    loop {
        match client.connection.receiver.recv_timeout(Duration::from_secs(300)) {
            Ok(Message::Notification(n))
                if n.method == "textDocument/publishDiagnostics" && n.params["version"] == json!(version) =>
            {
                break;
            }
            Ok(_) => {}
            Err(error) => panic!("no diagnostics after the edits: {error}"),
        }
    }
    println!("the check after the edits published within {} of the last edit", ms(started.elapsed()));

    request(&client, 100, "shutdown", Value::Null);
    notify(&client, "exit", Value::Null);
    let outcome = thread.join().expect("server thread");
    assert_eq!(outcome, Ok(()));
}
