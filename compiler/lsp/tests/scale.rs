//! The server on a generated 10,000-service estate: after the first check, every kind of request
//! is answered, and its time printed (run with `--release -- --nocapture` for the figures in the
//! README). Times are printed, not asserted: the tests check answers, the figures are measured.
//! The estate is one 5 MB file, the worst case for the document's own re-parse after an edit.

use std::time::{Duration, Instant};

use lsp_server::{Connection, Message, Notification, Request, RequestId};
use serde_json::{Value, json};

fn request(client: &Connection, id: i32, method: &str, params: Value) -> (Value, Duration) {
    let started = Instant::now();
    let sent = client.sender.send(Request::new(RequestId::from(id), method.into(), params).into());
    assert!(sent.is_ok(), "the server is gone");
    loop {
        match client.receiver.recv_timeout(Duration::from_secs(120)) {
            Ok(Message::Response(response)) if response.id == RequestId::from(id) => match response.response_result {
                Ok(result) => return (result, started.elapsed()),
                Err(error) => panic!("{method}: {error:?}"),
            },
            Ok(_) => {}
            Err(error) => panic!("{method}: no answer: {error}"),
        }
    }
}

fn notify(client: &Connection, method: &str, params: Value) {
    let sent = client.sender.send(Notification::new(method.into(), params).into());
    assert!(sent.is_ok(), "the server is gone");
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

    let (server, client) = Connection::memory();
    let thread = std::thread::spawn(move || spec_lsp::server::serve(&server).map_err(|e| e.to_string()));
    request(&client, 1, "initialize", json!({"processId": null, "capabilities": {}}));
    notify(&client, "initialized", json!({}));
    let started = Instant::now();
    notify(
        &client,
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "spec", "version": 1, "text": text}}),
    );
    loop {
        match client.receiver.recv_timeout(Duration::from_secs(300)) {
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
    let cases = [
        ("hover on a field", "textDocument/hover", at("  resources {", 2), "CPU and memory"),
        ("hover on a reference", "textDocument/hover", at("needs     = [service.svc7]", 16), "service svc7"),
        ("hover on a preset", "textDocument/hover", at("std.postgres {", 5), "preset std.postgres"),
        ("definition", "textDocument/definition", at("needs     = [service.svc7]", 16), "uri"),
        ("references", "textDocument/references", references, "uri"),
        ("completion of `service.`", "textDocument/completion", at("service.svc7]", 8), "\"isIncomplete\":true"),
        ("completion of fields", "textDocument/completion", at("  image     =", 2), "resources"),
        ("document symbols", "textDocument/documentSymbol", json!({"textDocument": {"uri": uri}}), "svc9999"),
        (
            "formatting",
            "textDocument/formatting",
            json!({"textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": true}}),
            "newText",
        ),
    ];
    let mut id = 10;
    for (name, method, params, expected) in &cases {
        id += 1;
        let (result, elapsed) = request(&client, id, method, params.clone());
        let shown: String = result.to_string().chars().take(300).collect();
        assert!(result.to_string().contains(expected), "{name}: {shown}");
        println!("{name}: {:.1} ms", elapsed.as_secs_f64() * 1000.0);
    }

    // After an edit and before the next check: the document is re-parsed for the request.
    let edited = text.replacen("cpu = 64", "cpu = 63", 1);
    notify(
        &client,
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": edited}]}),
    );
    let (result, elapsed) = request(&client, 99, "textDocument/hover", at("needs     = [service.svc7]", 16));
    assert!(result.to_string().contains("service svc7"), "{result}");
    println!("hover right after an edit (the 5 MB document re-parsed): {:.1} ms", elapsed.as_secs_f64() * 1000.0);

    request(&client, 100, "shutdown", Value::Null);
    notify(&client, "exit", Value::Null);
    let outcome = thread.join().expect("server thread");
    assert_eq!(outcome, Ok(()));
}
