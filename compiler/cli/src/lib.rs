//! The parts of the `spec` command that the benchmark (`compiler/bench`) drives in process too:
//! the back ends, reading an estate from disk and writing a build's files. The subcommands live in
//! the binary.

pub mod backends;
pub mod load;
pub mod output;
