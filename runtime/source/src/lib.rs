//! Where packages come from. Today: OCI registries — names and references, credentials,
//! pushing a built skill as an OCI artifact and pulling one back verified by digest. What is
//! pulled is bytes; the installer checks it with the engine and commits it to the store like a
//! local install.
//!
//! No wasmtime here: `cargo tree -p skill-source | grep wasmtime` stays empty.

pub mod artifact;
pub mod auth;
pub mod deps;
pub mod git;
pub mod oci;
pub mod reference;
pub mod sign;

pub use artifact::Artifact;
pub use oci::{Registry, Resolved};
pub use reference::{Pick, RegistryConfig, Repository, Request};
pub use semver;
