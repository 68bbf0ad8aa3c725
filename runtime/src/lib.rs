//! The skill runtime: a wasmtime host for skill components, the AOT cache, the installed-skill
//! store, and the conversion of caller arguments into the contract's typed values.
//!
//! Every front end (CLI, MCP, HTTP) goes through the same path:
//! [`Store`](store::Store) → [`PackageManifest`](manifest::PackageManifest) →
//! [`Runtime::load_installed`](runtime::Runtime::load_installed) →
//! [`args::parse_cli`] → [`LoadedSkill::execute`](runtime::LoadedSkill::execute).

pub mod aot;
pub mod args;
pub mod audit;
pub mod bindings;
pub mod capabilities;
pub mod config;
pub mod contract;
pub mod dirs;
pub mod engine;
pub mod error;
pub mod fsutil;
pub mod home;
pub mod host;
pub mod instance;
pub mod manifest;
pub mod network;
pub mod package;
pub mod runtime;
pub mod secrets;
pub mod store;
pub mod text;

pub use error::{Error, ErrorKind, Result};
pub use home::SkillHome;
pub use runtime::{
    Allocation, CallOptions, CallOutcome, Limits, LoadedSkill, Runtime, ToolError, ToolOutput,
    WarmInstance, block_on,
};

/// The wasmtime version this runtime embeds (shown by `skill version`).
pub const WASMTIME_VERSION: &str = "48.0.8";
