//! The editor side of the LSP tests: the real `spec lsp` binary started over stdio, framed
//! JSON-RPC written and read, and the small helpers the sessions share (scratch folders, URIs,
//! positions, the `initialize` handshake with the capabilities the server must announce).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long any answer may take before the test fails (generous: debug builds, a busy machine).
pub(crate) const PATIENCE: Duration = Duration::from_secs(60);

pub(crate) struct Client {
    pub(crate) child: Child,
    pub(crate) stdin: ChildStdin,
    pub(crate) incoming: Receiver<Value>,
    /// Notifications read while waiting for a response.
    pub(crate) pending: Vec<Value>,
    pub(crate) next_id: i64,
}

pub(crate) fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length: ") {
            length = value.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

impl Client {
    pub(crate) fn start(dir: &Path) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_spec"))
            .arg("lsp")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spec lsp starts");
        let stdin = child.stdin.take().expect("stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let (sender, incoming) = channel();
        std::thread::spawn(move || {
            while let Some(message) = read_message(&mut stdout) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        Client { child, stdin, incoming, pending: Vec::new(), next_id: 0 }
    }

    pub(crate) fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write to the server");
        self.stdin.flush().expect("flush");
    }

    pub(crate) fn next(&mut self, deadline: Instant) -> Value {
        match self.incoming.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(message) => message,
            Err(RecvTimeoutError::Timeout) => panic!("the server did not answer in time"),
            Err(RecvTimeoutError::Disconnected) => panic!("the server closed its output"),
        }
    }

    pub(crate) fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let deadline = Instant::now() + PATIENCE;
        loop {
            let message = self.next(deadline);
            if message["id"] == json!(id) {
                assert!(message.get("error").is_none(), "{method} failed: {message}");
                return message["result"].clone();
            }
            self.pending.push(message);
        }
    }

    /// A request expected to fail: its error.
    pub(crate) fn request_error(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let deadline = Instant::now() + PATIENCE;
        loop {
            let message = self.next(deadline);
            if message["id"] == json!(id) {
                return message["error"].clone();
            }
            self.pending.push(message);
        }
    }

    pub(crate) fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// The next diagnostics published for `uri`.
    pub(crate) fn diagnostics(&mut self, uri: &str) -> Value {
        let is_for = |m: &Value| m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri;
        if let Some(index) = self.pending.iter().position(is_for) {
            return self.pending.remove(index)["params"].clone();
        }
        let deadline = Instant::now() + PATIENCE;
        loop {
            let message = self.next(deadline);
            if is_for(&message) {
                return message["params"].clone();
            }
            self.pending.push(message);
        }
    }

    pub(crate) fn shutdown(mut self) {
        assert_eq!(self.request("shutdown", Value::Null), Value::Null);
        self.notify("exit", Value::Null);
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                assert!(status.success(), "spec lsp exited with {status}");
                return;
            }
            assert!(Instant::now() < deadline, "spec lsp did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

pub(crate) fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

pub(crate) fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// The zero-based line and character of the `nth` occurrence of `needle` in `text` (ASCII), plus
/// `shift` characters.
pub(crate) fn at(text: &str, needle: &str, nth: usize, shift: u32) -> Value {
    let offset = text.match_indices(needle).nth(nth).map(|(i, _)| i).expect("needle in text");
    let line = text.get(..offset).expect("prefix").matches('\n').count();
    let column = offset - text.get(..offset).expect("prefix").rfind('\n').map_or(0, |i| i + 1);
    json!({"line": line, "character": column as u32 + shift})
}

pub(crate) fn range(start: (u32, u32), end: (u32, u32)) -> Value {
    json!({"start": {"line": start.0, "character": start.1}, "end": {"line": end.0, "character": end.1}})
}

pub(crate) const NODES: &str = "node prod1 { os = nixos, cpu = 8, memory = 32GiB }\n";

pub(crate) const MAIN: &str = "import std.postgres

service db {
  use std.postgres { version = 16 }
  on = node.prod1
}

service web {
  on = node.prod1
  image = \"nginx:1.27\"
  replicas = \"two\"
  needs = [service.db]
}
";

pub(crate) fn initialize(client: &mut Client, dir: &Path) {
    initialize_with(client, json!({"processId": null, "rootUri": uri(dir), "capabilities": {}}));
}

pub(crate) fn initialize_with(client: &mut Client, params: Value) {
    let result = client.request("initialize", params);
    assert_eq!(
        result["capabilities"],
        json!({
            "textDocumentSync": 2,
            "hoverProvider": true,
            "completionProvider": {"triggerCharacters": ["."]},
            "signatureHelpProvider": {"triggerCharacters": ["{", ","], "retriggerCharacters": ["=", " "]},
            "definitionProvider": true,
            "referencesProvider": true,
            "documentHighlightProvider": true,
            "documentSymbolProvider": true,
            "workspaceSymbolProvider": true,
            "workspace": {"workspaceFolders": {"supported": true, "changeNotifications": true}},
            "codeActionProvider": {"codeActionKinds": ["quickfix"]},
            "documentFormattingProvider": true,
            "renameProvider": {"prepareProvider": true},
            "foldingRangeProvider": true,
            "semanticTokensProvider": {
                "legend": {
                    "tokenTypes": ["comment", "keyword", "type", "property", "enumMember", "variable", "parameter",
                        "function", "namespace", "string", "number"],
                    "tokenModifiers": ["declaration"],
                },
                "range": true,
                "full": true,
            },
        })
    );
    client.notify("initialized", json!({}));
}

/// Opens `path` (with `text`) and returns its URI.
pub(crate) fn open(client: &mut Client, path: &Path, text: &str) -> String {
    let uri = uri(path);
    let document = json!({"uri": uri, "languageId": "spec", "version": 1, "text": text});
    client.notify("textDocument/didOpen", json!({"textDocument": document}));
    uri
}
