//! `spec lsp`: the language server. It speaks the Language Server Protocol over stdio and is glue
//! between the protocol and the core's editor queries (`spec_compiler::ide`).
//!
//! - [`server`]: the main loop: documents kept in memory, one check per folder (one folder is one
//!   namespace, as with `spec check <folder>`), debounced after edits and run on a worker thread
//!   so requests are answered from the last check while the next one runs.
//! - [`handlers`]: hover, definition, references, completion, formatting, document symbols.
//! - [`folder`]: reads a folder with the open documents laid over the files on disk.
//! - [`convert`]: URIs and paths, byte spans and UTF-16 ranges, diagnostics.
//! - [`transport`]: stdio framing, with results already serialised written as they are.
//! - [`stdlib`]: the stdlib presets written once to a private read-only folder, so go-to-definition
//!   on `use std.postgres` opens a real file in every editor.
//!
//! Invariant: no message, however malformed the document or the request, stops the server; a
//! panic in a handler or a check (a bug) is caught, logged on stderr and answered with an error.

pub mod convert;
pub mod folder;
pub mod handlers;
pub mod server;
pub mod stdlib;
pub mod transport;

/// Serves the protocol on stdin and stdout until the editor says `exit`; every check runs
/// `targets` (the back ends), as `spec check` does.
pub fn run_stdio(targets: Vec<Box<dyn spec_compiler::target::Target>>) -> Result<(), String> {
    let (connection, raw, threads) = transport::stdio().map_err(|e| e.to_string())?;
    server::serve(&connection, Some(raw), targets).map_err(|e| e.to_string())?;
    drop(connection);
    threads.join().map_err(|e| e.to_string())
}
