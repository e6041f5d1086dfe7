//! Editor queries over the syntax of an estate: what is at an offset, where a name is defined and
//! used, what may be typed at a cursor, how a file is outlined, highlighted and folded, how a
//! name is renamed, which quick fixes a check's diagnostics offer. One module per feature. The language server
//! (`compiler/lsp`) is protocol glue over this module.
//!
//! Everything here is pure: it reads syntax trees ([`crate::syntax::ast`]), the kinds' JSON
//! Schemas ([`crate::model::kind_schema`]) and the checked [`crate::model::Model`], never files.
//! Offsets are bytes, as in [`crate::source::Span`]; [`position::LineIndex`] converts them to the
//! UTF-16 line/character pairs editors speak.
//!
//! Invariants: no query panics on any tree the parser returns, however malformed the text; every
//! query is linear in the size of the file it walks (or reads a prebuilt [`index::Index`]), so an
//! answer on a 10,000-service estate takes milliseconds.

pub mod analysis;
pub mod complete;
pub mod fix;
pub mod folding;
pub mod highlight;
pub mod hover;
pub mod index;
pub mod live;
pub mod outline;
pub mod position;
pub mod query;
pub mod rename;
pub mod schema;
pub mod shift;
pub mod signature;
pub mod symbols;
pub mod tokens;
pub mod walk;

pub use analysis::Analysis;
pub use index::{Definition, Index, Symbol};
pub use position::LineIndex;
