//! The wasmtime host for skill components: the engine and linker, the host imports (log,
//! progress, config, outgoing HTTP through the network policy), the AOT cache, the contract
//! check, and calls — one fresh store per call, or a kept instance for servers.
//!
//! Every front end (CLI, MCP, HTTP) goes through the same path:
//! [`Store`](skill_store::store::Store) → [`PackageManifest`](skill_manifest::manifest::PackageManifest) →
//! [`Runtime::load_installed`](runtime::Runtime::load_installed) →
//! [`args::parse_cli`](skill_manifest::args::parse_cli) → [`LoadedSkill::execute`](runtime::LoadedSkill::execute).

pub mod aot;
pub mod bindings;
pub mod contract;
pub mod engine;
mod guest;
pub mod host;
pub mod network;
pub mod package;
pub mod runtime;

pub use runtime::{
    Allocation, CallOptions, CallOutcome, LoadedSkill, Runtime, ToolError, ToolOutput,
    WarmInstance, block_on,
};
pub use skill_manifest::{Error, ErrorKind, Limits, Remedy, Result};
pub use skill_store::{Sandbox, SkillHome};
