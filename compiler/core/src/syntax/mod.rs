//! Stage 1, syntax: source text to [`ast::File`], with every node spanned.
//!
//! The lexer ([`lexer`]) scans tokens on demand and classifies literals with nom; the parser
//! ([`parser`]) reads the grammar by recursive descent and recovers after mistakes. See
//! `docs/language.md` for the language these implement.

pub mod ast;
pub mod format;
pub mod lexer;
pub mod parser;

pub use parser::{MAX_DEPTH, parse_file, parse_in_pieces};
