//! The main loop: editor messages, finished checks and the debounce timer, one at a time.
//!
//! Documents live in memory. Each open document belongs to one namespace (the estate `spec check`
//! would be run on: see [`folder::Namespace`]), checked on a worker thread [`DEBOUNCE`] after the
//! last edit, at most one check per namespace at a time; when a check ends, its diagnostics are
//! published for every file of the namespace (and cleared where they went away). Requests are answered at once from the last
//! check; each open document keeps its own syntax tree, handed over by the check that parsed it
//! and kept current through edits by re-parsing only the declarations an edit touches (see
//! `spec_compiler::ide::live`), so no request re-parses a whole file. Only a folder's very first
//! request waits for its first check. Large values the main loop lets go of (a replaced check, a
//! document's old tree) are dropped on a thread of their own: freeing a 5 MB estate's trees takes
//! longer than answering a request.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, after, never, select, unbounded};
use lsp_server::{Connection, ErrorCode, Message, Notification, ProtocolError, Request, Response};
use lsp_types::notification::Notification as _;
use lsp_types::{
    CompletionOptions, OneOf, PublishDiagnosticsParams, ServerCapabilities, TextDocumentSyncCapability,
    TextDocumentSyncKind, Uri,
};
use spec_compiler::ide::live::LiveFile;
use spec_compiler::ide::query::{Local, World};
use spec_compiler::ide::{Analysis, LineIndex};
use spec_compiler::source::{FileId, Origin, Span};
use spec_compiler::target::Target;

use crate::folder::Namespace;
use crate::handlers::Reply;
use crate::stdlib::StdlibFiles;
use crate::transport::{RawResponse, RawSender};
use crate::{convert, folder, handlers};

/// The back ends every check runs, shared with the check threads.
type Targets = Arc<Vec<Box<dyn Target>>>;

/// How long after the last edit a folder is checked again.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

/// The id given to an open document its folder's last check did not see.
const UNCHECKED: FileId = FileId(u32::MAX);

/// A namespace, checked.
pub struct Checked {
    /// The folder its files are named relative to.
    pub folder: PathBuf,
    /// What the check found.
    pub analysis: Analysis,
    /// The version of each open document the check read.
    pub versions: HashMap<PathBuf, i32>,
    lines: Vec<OnceLock<LineIndex>>,
}

impl Checked {
    fn new(folder: PathBuf, analysis: Analysis, versions: HashMap<PathBuf, i32>) -> Checked {
        let lines = analysis.sources.iter().map(|_| OnceLock::new()).collect();
        Checked { folder, analysis, versions, lines }
    }

    /// The line index of a file as the check read it.
    pub fn lines(&self, file: FileId) -> Option<&LineIndex> {
        let cell = self.lines.get(file.0 as usize)?;
        Some(cell.get_or_init(|| LineIndex::new(&self.analysis.sources.get(file).text)))
    }
}

/// A document open in the editor.
pub struct Document {
    /// Its URI, as the editor spelled it.
    pub uri: Uri,
    /// The file it is, for `file:` URIs.
    pub path: Option<PathBuf>,
    /// The namespace it belongs to, for `file:` URIs.
    pub namespace: Option<Namespace>,
    /// Its current text.
    pub text: String,
    /// The editor's version of it.
    pub version: i32,
    lines: OnceLock<LineIndex>,
    live: Option<Live>,
}

/// A document's tree, kept current through edits, and the check its edits count from.
struct Live {
    /// The check that read the text the edits start from; `None` when no check read it (the
    /// tree was parsed whole and every name of it is in its local index).
    base: Option<Arc<Checked>>,
    file: LiveFile,
}

impl Document {
    fn new(uri: Uri, path: Option<PathBuf>, namespace: Option<Namespace>, text: String, version: i32) -> Document {
        Document { uri, path, namespace, text, version, lines: OnceLock::new(), live: None }
    }

    /// The line index of the current text.
    pub fn lines(&self) -> &LineIndex {
        self.lines.get_or_init(|| LineIndex::new(&self.text))
    }

    /// Whether the current text is known to be free of syntax errors (`None`: not parsed yet).
    pub fn syntax_ok(&self) -> Option<bool> {
        self.live.as_ref().map(|live| !live.file.has_syntax_errors())
    }
}

/// Drops `value` on a thread of its own, so the main loop does not wait for a large tree to be
/// freed (when no thread can be started, it is dropped here).
fn drop_later<T: Send + 'static>(value: T) {
    let _ = std::thread::Builder::new().name("spec-drop".into()).spawn(move || drop(value));
}

#[derive(Default)]
struct FolderState {
    checked: Option<Arc<Checked>>,
    running: bool,
    due: Option<Instant>,
    /// Files given diagnostics by the last publication, to clear them when they go away.
    published: BTreeSet<PathBuf>,
}

/// What a request handler sees: the document under the cursor in its folder's world.
pub struct Context<'a> {
    /// The queries' world.
    pub world: World<'a>,
    /// The document.
    pub document: &'a Document,
    /// Its folder's last check.
    pub checked: &'a Checked,
    /// The stdlib's files.
    pub stdlib: &'a StdlibFiles,
}

impl Context<'_> {
    /// The byte offset of a position in the document.
    pub fn offset(&self, position: lsp_types::Position) -> u32 {
        convert::offset(self.document.lines(), &self.document.text, position)
    }

    /// The location of a span: in the document (its current text), another file of the folder or
    /// the stdlib.
    pub fn location(&self, span: Span) -> Option<lsp_types::Location> {
        if span.file == self.world.file {
            let range = convert::range(self.document.lines(), &self.document.text, span.start, span.end);
            return Some(lsp_types::Location { uri: self.document.uri.clone(), range });
        }
        location(self.checked, self.stdlib, span)
    }
}

/// The location of a span of a checked namespace.
pub(crate) fn location(checked: &Checked, stdlib: &StdlibFiles, span: Span) -> Option<lsp_types::Location> {
    let file = checked.analysis.sources.get(span.file);
    let path = match file.origin {
        Origin::Stdlib => stdlib.path(&file.path)?,
        Origin::User | Origin::Data => checked.folder.join(&file.path),
    };
    let range = convert::range(checked.lines(span.file)?, &file.text, span.start, span.end);
    Some(lsp_types::Location { uri: convert::path_to_uri(&path)?, range })
}

/// What the server offers.
pub fn capabilities() -> ServerCapabilities {
    use lsp_types::{
        CodeActionKind, CodeActionOptions, CodeActionProviderCapability, FoldingRangeProviderCapability, RenameOptions,
        SemanticTokenModifier, SemanticTokenType, SemanticTokensFullOptions, SemanticTokensLegend,
        SemanticTokensOptions, SignatureHelpOptions,
    };
    use spec_compiler::ide::tokens::Class;
    let legend = SemanticTokensLegend {
        token_types: Class::ALL.iter().map(|class| SemanticTokenType::new(class.as_str())).collect(),
        token_modifiers: vec![SemanticTokenModifier::DECLARATION],
    };
    ServerCapabilities {
        semantic_tokens_provider: Some(
            SemanticTokensOptions {
                legend,
                range: Some(true),
                full: Some(SemanticTokensFullOptions::Bool(true)),
                ..SemanticTokensOptions::default()
            }
            .into(),
        ),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            ..CodeActionOptions::default()
        })),
        rename_provider: Some(OneOf::Right(RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: Default::default(),
        })),
        workspace_symbol_provider: Some(OneOf::Left(true)),
        workspace: Some(lsp_types::WorkspaceServerCapabilities {
            workspace_folders: Some(lsp_types::WorkspaceFoldersServerCapabilities {
                supported: Some(true),
                change_notifications: Some(OneOf::Left(true)),
            }),
            file_operations: None,
        }),
        document_highlight_provider: Some(OneOf::Left(true)),
        folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
        signature_help_provider: Some(SignatureHelpOptions {
            trigger_characters: Some(vec!["{".into(), ",".into()]),
            retrigger_characters: Some(vec!["=".into(), " ".into()]),
            ..SignatureHelpOptions::default()
        }),
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::INCREMENTAL)),
        hover_provider: Some(lsp_types::HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![".".into()]),
            ..CompletionOptions::default()
        }),
        document_formatting_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        ..ServerCapabilities::default()
    }
}

type CheckResult = (Namespace, Option<Checked>);

/// The server's state.
pub struct Server<'c> {
    connection: &'c Connection,
    documents: BTreeMap<String, Document>,
    folders: BTreeMap<Namespace, FolderState>,
    /// The editor's workspace folders (from `initialize`).
    workspace: Vec<PathBuf>,
    raw: RawSender,
    targets: Targets,
    results: (Sender<CheckResult>, Receiver<CheckResult>),
    stdlib: StdlibFiles,
}

/// Runs the protocol on `connection`: the initialize handshake, then the main loop until the
/// editor's `shutdown` and `exit`. Results already serialised go through `raw` when the
/// transport has it ([`crate::transport`]). Each check runs `targets` as `spec check` does.
pub fn serve(connection: &Connection, raw: RawSender, targets: Vec<Box<dyn Target>>) -> Result<(), ProtocolError> {
    let capabilities = serde_json::to_value(capabilities()).unwrap_or_default();
    let initialize = connection.initialize(capabilities)?;
    let mut server = Server {
        workspace: workspace_folders(&initialize),
        connection,
        raw,
        targets: Arc::new(targets),
        documents: BTreeMap::new(),
        folders: BTreeMap::new(),
        results: unbounded(),
        stdlib: StdlibFiles::write(),
    };
    let dynamic = "/capabilities/workspace/didChangeWatchedFiles/dynamicRegistration";
    if initialize.pointer(dynamic) == Some(&serde_json::Value::Bool(true)) {
        server.watch_files();
    }
    let outcome = server.run();
    server.stdlib.remove();
    outcome
}

impl Server<'_> {
    fn run(&mut self) -> Result<(), ProtocolError> {
        let messages = self.connection.receiver.clone();
        let results = self.results.1.clone();
        loop {
            let due = self.folders.values().filter(|f| !f.running).filter_map(|f| f.due).min();
            let timer = match due {
                Some(due) => after(due.saturating_duration_since(Instant::now())),
                None => never(),
            };
            select! {
                recv(messages) -> message => match message {
                    Err(_) => return Ok(()),
                    Ok(Message::Request(request)) => {
                        if self.connection.handle_shutdown(&request)? {
                            return Ok(());
                        }
                        self.request(request);
                    }
                    Ok(Message::Notification(notification)) => {
                        if notification.method == lsp_types::notification::Exit::METHOD {
                            return Ok(());
                        }
                        self.notification(notification);
                    }
                    Ok(Message::Response(_)) => {}
                },
                recv(results) -> result => if let Ok(result) = result {
                    self.install(result);
                },
                recv(timer) -> _ => self.start_due_checks(),
            }
        }
    }

    fn send(&self, message: impl Into<Message>) {
        // The editor having gone is seen by the main loop's receiver.
        let _ = self.connection.sender.send(message.into());
    }

    fn request(&mut self, request: Request) {
        let id = request.id.clone();
        let method = request.method.clone();
        let started = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| handlers::dispatch(self, request)));
        let reply = match outcome {
            Ok(reply) => reply,
            Err(_) => {
                eprintln!("spec lsp: `{method}` panicked (a bug in spec; the server goes on)");
                let message = format!("internal error in `{method}`");
                Reply::Message(Response::new_err(id, ErrorCode::InternalError as i32, message))
            }
        };
        let elapsed = started.elapsed();
        if elapsed > Duration::from_millis(50) {
            eprintln!("spec lsp: `{method}` took {} ms", elapsed.as_millis());
        }
        match (reply, &self.raw) {
            (Reply::Message(response), _) => self.send(response),
            // The editor having gone is seen by the main loop's receiver.
            (Reply::Raw(raw), Some(sender)) => drop(sender.send(raw)),
            (Reply::Raw(RawResponse { id, result }), None) => {
                let result = serde_json::from_str(&result).unwrap_or_default();
                self.send(Response { id, response_result: Ok(result) });
            }
        }
    }

    fn notification(&mut self, notification: Notification) {
        use lsp_types::notification::{
            DidChangeTextDocument, DidChangeWatchedFiles, DidChangeWorkspaceFolders, DidCloseTextDocument,
            DidOpenTextDocument, DidSaveTextDocument,
        };
        let method = notification.method.as_str();
        let params = notification.params;
        match method {
            DidOpenTextDocument::METHOD => {
                let Ok(params) = serde_json::from_value::<lsp_types::DidOpenTextDocumentParams>(params) else { return };
                let document = params.text_document;
                let path = convert::uri_to_path(document.uri.as_str()).filter(|p| !self.stdlib.contains(p));
                let namespace = path.as_deref().map(|p| Namespace::of(p, &self.workspace));
                let key = document.uri.as_str().to_string();
                let opened = Document::new(document.uri, path, namespace.clone(), document.text, document.version);
                if let Some(replaced) = self.documents.insert(key, opened) {
                    drop_later(replaced);
                }
                if let Some(namespace) = namespace {
                    // A namespace's first check starts at once; later ones wait out the edits.
                    let known = self.folders.get(&namespace).is_some_and(|f| f.checked.is_some() || f.running);
                    self.schedule(&namespace, if known { DEBOUNCE } else { Duration::ZERO });
                }
            }
            DidChangeTextDocument::METHOD => {
                let Ok(params) = serde_json::from_value::<lsp_types::DidChangeTextDocumentParams>(params) else {
                    return;
                };
                let Some(document) = self.documents.get_mut(params.text_document.uri.as_str()) else { return };
                for change in params.content_changes {
                    apply_change(document, change);
                }
                document.version = params.text_document.version;
                if let Some(namespace) = document.namespace.clone() {
                    self.schedule(&namespace, DEBOUNCE);
                }
            }
            DidCloseTextDocument::METHOD | DidSaveTextDocument::METHOD => {
                let Some(uri) = params.pointer("/textDocument/uri").and_then(|u| u.as_str()) else { return };
                let namespace = self.documents.get(uri).and_then(|d| d.namespace.clone());
                if method == DidCloseTextDocument::METHOD
                    && let Some(closed) = self.documents.remove(uri)
                {
                    drop_later(closed);
                }
                if let Some(namespace) = namespace {
                    self.schedule(&namespace, DEBOUNCE);
                }
            }
            DidChangeWorkspaceFolders::METHOD => {
                let Ok(params) = serde_json::from_value::<lsp_types::DidChangeWorkspaceFoldersParams>(params) else {
                    return;
                };
                let paths = |folders: Vec<lsp_types::WorkspaceFolder>| {
                    folders.into_iter().filter_map(|f| convert::uri_to_path(f.uri.as_str())).collect::<Vec<_>>()
                };
                let removed = paths(params.event.removed);
                self.workspace.retain(|folder| !removed.contains(folder));
                self.workspace.extend(paths(params.event.added));
                self.find_namespaces_again();
            }
            DidChangeWatchedFiles::METHOD => {
                let Ok(params) = serde_json::from_value::<lsp_types::DidChangeWatchedFilesParams>(params) else {
                    return;
                };
                for change in params.changes {
                    let Some(path) = convert::uri_to_path(change.uri.as_str()) else { continue };
                    if path.file_name().is_some_and(|name| name == folder::MARKER) {
                        self.find_namespaces_again();
                    }
                    let namespaces: Vec<Namespace> =
                        self.folders.keys().filter(|n| n.contains(&path)).cloned().collect();
                    for namespace in namespaces {
                        self.schedule(&namespace, DEBOUNCE);
                    }
                }
            }
            _ => {}
        }
    }

    /// Asks the editor to report changes to `.spec` files and `spec.toml` markers it did not make
    /// itself (a `git checkout`, a marker created), so the namespaces are checked again.
    fn watch_files(&self) {
        let watchers = ["**/*.spec".to_string(), format!("**/{}", folder::MARKER)];
        let watchers: Vec<serde_json::Value> =
            watchers.iter().map(|glob| serde_json::json!({"globPattern": glob})).collect();
        let registration = serde_json::json!({"registrations": [{
            "id": "spec-files",
            "method": "workspace/didChangeWatchedFiles",
            "registerOptions": {"watchers": watchers},
        }]});
        // The editor's answer is read, and ignored, by the main loop.
        let id = lsp_server::RequestId::from("spec-watch".to_string());
        self.send(Request::new(id, "client/registerCapability".into(), registration));
    }

    /// Moves each open document to the namespace it belongs to now (a workspace folder or a
    /// marker file came or went), checking the namespaces that gained one.
    fn find_namespaces_again(&mut self) {
        let mut moved = Vec::new();
        for document in self.documents.values_mut() {
            let Some(path) = &document.path else { continue };
            let namespace = Namespace::of(path, &self.workspace);
            if document.namespace.as_ref() != Some(&namespace) {
                document.namespace = Some(namespace.clone());
                document.live = None;
                moved.push(namespace);
            }
        }
        for namespace in moved {
            self.schedule(&namespace, Duration::ZERO);
        }
    }

    fn schedule(&mut self, namespace: &Namespace, delay: Duration) {
        let state = self.folders.entry(namespace.clone()).or_default();
        state.due = Some(Instant::now() + delay);
    }

    fn start_due_checks(&mut self) {
        let now = Instant::now();
        let due: Vec<Namespace> = self
            .folders
            .iter()
            .filter(|(_, state)| !state.running && state.due.is_some_and(|d| d <= now))
            .map(|(folder, _)| folder.clone())
            .collect();
        for folder in due {
            self.start_check(folder);
        }
    }

    /// The open documents of `namespace`, with their versions.
    fn open_in(&self, namespace: &Namespace) -> (BTreeMap<PathBuf, String>, HashMap<PathBuf, i32>) {
        let mut texts = BTreeMap::new();
        let mut versions = HashMap::new();
        for document in self.documents.values() {
            if let Some(path) = document.path.as_ref().filter(|p| namespace.contains(p)) {
                texts.insert(path.clone(), document.text.clone());
                versions.insert(path.clone(), document.version);
            }
        }
        (texts, versions)
    }

    fn start_check(&mut self, folder: Namespace) {
        let (texts, versions) = self.open_in(&folder);
        let state = self.folders.entry(folder.clone()).or_default();
        state.running = true;
        state.due = None;
        let sender = self.results.0.clone();
        let targets = self.targets.clone();
        let folder_of_error = folder.clone();
        let spawned = std::thread::Builder::new()
            .name("spec-check".into())
            // The evaluator and checker recurse over nesting; give them the main thread's room.
            .stack_size(64 << 20)
            .spawn(move || {
                let checked = check(&folder, &texts, versions, &targets);
                let _ = sender.send((folder, checked));
            });
        if let Err(error) = spawned {
            eprintln!("spec lsp: cannot start a check: {error}");
            if let Some(state) = self.folders.get_mut(&folder_of_error) {
                state.running = false;
            }
        }
    }

    fn install(&mut self, (namespace, checked): CheckResult) {
        let folder = namespace.root.clone();
        let state = self.folders.entry(namespace.clone()).or_default();
        state.running = false;
        let Some(mut checked) = checked else { return };
        // Each open document the check read as it is now takes over the check's tree of it.
        let mut handed: Vec<(String, LiveFile)> = Vec::new();
        for (key, document) in &self.documents {
            let Some(path) = document.path.as_ref().filter(|p| checked.versions.get(*p) == Some(&document.version))
            else {
                continue;
            };
            let Some(file) = checked.analysis.file(&folder::display(&folder, path)) else { continue };
            // Versions restart when a document is reopened: the text itself must be the same.
            if checked.analysis.sources.get(file).text != document.text {
                continue;
            }
            let index = file.0 as usize;
            let tree = checked.analysis.trees.get_mut(index).and_then(Option::take);
            let errors = checked.analysis.syntax_errors.get_mut(index).map(std::mem::take).unwrap_or_default();
            if let Some(tree) = tree {
                handed.push((key.clone(), LiveFile::checked(file, tree, errors)));
            }
        }
        let checked = Arc::new(checked);
        for (key, file) in handed {
            if let Some(document) = self.documents.get_mut(&key) {
                let live = Live { base: Some(checked.clone()), file };
                if let Some(old) = document.live.replace(live) {
                    drop_later(old);
                }
            }
        }
        let state = self.folders.entry(namespace.clone()).or_default();
        if let Some(old) = state.checked.replace(checked) {
            drop_later(old);
        }
        self.publish(&namespace);
    }

    /// The namespace's last check; the first time, waits for it (or runs it here).
    fn checked(&mut self, folder: &Namespace) -> Option<Arc<Checked>> {
        loop {
            let state = self.folders.entry(folder.clone()).or_default();
            if let Some(checked) = &state.checked {
                return Some(checked.clone());
            }
            if !state.running {
                let (texts, versions) = self.open_in(folder);
                let checked = check(folder, &texts, versions, &self.targets);
                self.install((folder.clone(), checked));
                return self.folders.get(folder)?.checked.clone();
            }
            let result = self.results.1.recv().ok()?;
            self.install(result);
        }
    }

    fn publish(&mut self, namespace: &Namespace) {
        let folder = namespace.root.as_path();
        let Some(state) = self.folders.get(namespace) else { return };
        let Some(checked) = state.checked.clone() else { return };
        let mut by_path: BTreeMap<PathBuf, Vec<lsp_types::Diagnostic>> = BTreeMap::new();
        for path in &state.published {
            by_path.entry(path.clone()).or_default();
        }
        for document in self.documents.values() {
            if let Some(path) = document.path.as_ref().filter(|_| document.namespace.as_ref() == Some(namespace)) {
                by_path.entry(path.clone()).or_default();
            }
        }
        let sources = &checked.analysis.sources;
        for diagnostic in &checked.analysis.diagnostics {
            let span = diagnostic.primary.span;
            let file = sources.get(span.file);
            let Some(lines) = checked.lines(span.file).filter(|_| file.origin == Origin::User) else { continue };
            let range = convert::range(lines, &file.text, span.start, span.end);
            let locate = |span: Span| location(&checked, &self.stdlib, span);
            by_path.entry(folder.join(&file.path)).or_default().push(convert::diagnostic(diagnostic, range, &locate));
        }
        let mut published = BTreeSet::new();
        for (path, diagnostics) in by_path {
            let open = self.documents.values().find(|d| d.path.as_ref() == Some(&path));
            let uri = match open {
                Some(document) => document.uri.clone(),
                None => match convert::path_to_uri(&path) {
                    Some(uri) => uri,
                    None => continue,
                },
            };
            let version = open.map(|d| d.version).filter(|v| checked.versions.get(&path) == Some(v));
            if !diagnostics.is_empty() {
                published.insert(path);
            }
            let params = PublishDiagnosticsParams { uri, diagnostics, version };
            self.send(Notification::new(lsp_types::notification::PublishDiagnostics::METHOD.into(), params));
        }
        if let Some(state) = self.folders.get_mut(namespace) {
            state.published = published;
        }
    }

    /// Runs `answer` on the context of the document `uri`, when it is a file of a folder.
    pub fn with_context<R>(&mut self, uri: &Uri, answer: impl FnOnce(&Context<'_>) -> R) -> Option<R> {
        let open = self.documents.get(uri.as_str())?;
        let (path, namespace) = (open.path.clone()?, open.namespace.clone()?);
        let folder = namespace.root.clone();
        let latest = self.checked(&namespace)?;
        let document = self.documents.get_mut(uri.as_str())?;
        let file = latest.analysis.file(&folder::display(&folder, &path)).unwrap_or(UNCHECKED);
        // A document no check has read as it is, nor handed a tree: parsed whole, once.
        let usable = document.live.as_ref().is_some_and(|live| live.base.is_some() || live.file.file == file);
        if !usable {
            let live = Live { base: None, file: LiveFile::parse(file, &document.text) };
            if let Some(old) = document.live.replace(live) {
                drop_later(old);
            }
        }
        let document = &*document;
        let live = document.live.as_ref()?;
        let checked = live.base.as_ref().unwrap_or(&latest);
        let world = World {
            file: live.file.file,
            text: &document.text,
            ast: &live.file.tree,
            local: Some(Local { index: live.file.local(), edits: live.file.edits() }),
            global: &checked.analysis.index,
            sources: &checked.analysis.sources,
            model: &checked.analysis.compilation.model,
        };
        let context = Context { world, document, checked, stdlib: &self.stdlib };
        Some(answer(&context))
    }

    /// Every namespace checked, first checking the workspace folders' own when no open document
    /// has made them known yet (so symbols can be searched before a file is opened).
    pub fn every_checked(&mut self) -> Vec<Arc<Checked>> {
        let workspace: Vec<Namespace> =
            self.workspace.iter().map(|folder| Namespace::of(&folder.join("-"), &self.workspace)).collect();
        for namespace in workspace {
            if !self.folders.contains_key(&namespace) {
                self.checked(&namespace);
            }
        }
        let namespaces: Vec<Namespace> = self.folders.keys().cloned().collect();
        namespaces.iter().filter_map(|namespace| self.checked(namespace)).collect()
    }

    /// The stdlib's files.
    pub fn stdlib(&self) -> &StdlibFiles {
        &self.stdlib
    }

    /// The open document `uri`.
    pub fn document(&self, uri: &Uri) -> Option<&Document> {
        self.documents.get(uri.as_str())
    }
}

/// Checks a namespace, catching a panic (a bug) so the server goes on.
fn check(
    folder: &Namespace,
    texts: &BTreeMap<PathBuf, String>,
    versions: HashMap<PathBuf, i32>,
    targets: &[Box<dyn Target>],
) -> Option<Checked> {
    match catch_unwind(AssertUnwindSafe(|| folder::check(folder, texts, targets))) {
        Ok(analysis) => Some(Checked::new(folder.root.clone(), analysis, versions)),
        Err(_) => {
            eprintln!("spec lsp: checking {} panicked (a bug in spec; the server goes on)", folder.root.display());
            None
        }
    }
}

/// The workspace folders of `initialize`'s parameters: `workspaceFolders`, else `rootUri`, else
/// the deprecated `rootPath`.
fn workspace_folders(initialize: &serde_json::Value) -> Vec<PathBuf> {
    let folders: Vec<PathBuf> = initialize["workspaceFolders"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|folder| convert::uri_to_path(folder["uri"].as_str()?))
        .collect();
    if !folders.is_empty() {
        return folders;
    }
    let root = initialize["rootUri"].as_str().and_then(convert::uri_to_path);
    let root = root.or_else(|| initialize["rootPath"].as_str().map(PathBuf::from));
    root.into_iter().collect()
}

/// Applies one edit of `didChange` (a range replaced, or the whole text) to the text and to the
/// document's tree. A whole new text is compared with the old one to find the one range that
/// changed, so its tree is patched like after any other edit.
fn apply_change(document: &mut Document, change: lsp_types::TextDocumentContentChangeEvent) {
    let (start, old_end, inserted) = match change.range {
        Some(range) => {
            let lines = document.lines();
            let start = convert::offset(lines, &document.text, range.start) as usize;
            let end = (convert::offset(lines, &document.text, range.end) as usize).max(start);
            document.text.replace_range(start..end, &change.text);
            (start, end, change.text.len())
        }
        None => {
            let (start, old_end, new_end) = changed_range(&document.text, &change.text);
            drop_later(std::mem::replace(&mut document.text, change.text));
            (start, old_end, new_end - start)
        }
    };
    document.lines = OnceLock::new();
    if let Some(live) = document.live.as_mut() {
        live.file.edit(&document.text, start as u32, old_end as u32, inserted as u32);
    }
}

/// The one range that differs between `old` and `new`: its start, its end in `old` and its end
/// in `new` (the common prefix and suffix left out, cut at character boundaries).
fn changed_range(old: &str, new: &str) -> (usize, usize, usize) {
    let (old_bytes, new_bytes) = (old.as_bytes(), new.as_bytes());
    let mut prefix = old_bytes.iter().zip(new_bytes).take_while(|(a, b)| a == b).count();
    while !old.is_char_boundary(prefix) || !new.is_char_boundary(prefix) {
        prefix -= 1;
    }
    let longest = old.len().min(new.len()) - prefix;
    let mut suffix =
        old_bytes.iter().rev().zip(new_bytes.iter().rev()).take(longest).take_while(|(a, b)| a == b).count();
    while !old.is_char_boundary(old.len() - suffix) || !new.is_char_boundary(new.len() - suffix) {
        suffix -= 1;
    }
    (prefix, old.len() - suffix, new.len() - suffix)
}

#[cfg(test)]
mod tests {
    use super::changed_range;

    #[test]
    fn the_changed_range_of_two_texts_leaves_out_their_common_ends() {
        assert_eq!(changed_range("cpu = 64\n", "cpu = 63\n"), (7, 8, 8));
        assert_eq!(changed_range("ab", "aXb"), (1, 1, 2), "an insertion");
        assert_eq!(changed_range("aXb", "ab"), (1, 2, 1), "a deletion");
        assert_eq!(changed_range("aaa", "aa"), (2, 3, 2), "the common ends never overlap");
        assert_eq!(changed_range("same", "same"), (4, 4, 4));
        // `é` and `è` share their first byte: the range starts at the character.
        assert_eq!(changed_range("xé", "xè"), (1, 3, 3));
    }
}
