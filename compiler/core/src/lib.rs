//! The pure core of the `spec` compiler: source text in, a checked model and diagnostics out.
//!
//! Stages, each a function over plain data that returns its product beside its diagnostics and
//! never fails: [`syntax`] (text → AST), [`eval`] (ASTs → evaluated, resolved resources with presets
//! and overlays applied), [`model`] (resources → the typed, checked model targets read). The
//! [`driver`] runs them in order. This crate does no IO: callers hand it the text of every file.

pub mod diagnostics;
pub mod driver;
pub mod environments;
pub mod eval;
pub mod graph;
pub mod ide;
pub mod model;
pub mod parallel;
pub mod promql;
pub mod source;
pub mod stdlib;
pub mod syntax;
pub mod target;
