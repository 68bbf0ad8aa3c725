//! What a skill says about itself, and the checks on it: `skill.yaml` (written by the author),
//! `manifest.json` (written by the host from the component), tool definitions and their
//! arguments, capabilities and limits, the config schema, names and versions.
//!
//! Plain data: no wasmtime, no files under `$SKILL_HOME`. The one error type every skill crate
//! returns lives here too, at the bottom of the graph.

pub mod args;
pub mod capabilities;
pub mod config;
pub mod error;
pub mod limits;
pub mod manifest;
pub mod skill_md;
pub mod text;

pub use error::{Error, ErrorKind, Remedy, Result};
pub use limits::Limits;
