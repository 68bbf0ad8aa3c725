//! The versions of what the binary bundles, as Cargo resolved them (build.rs reads
//! Cargo.lock and the SDK's Cargo.toml): `skill version` reports them and `skill.lock` and
//! component metadata record them, so an upgrade can never record a stale number.

/// The wasmtime the engine embeds.
pub const WASMTIME: &str = env!("SKILL_WASMTIME_VERSION");
/// wasmtime-wizer, which snapshots initialized Rust components.
pub const WIZER: &str = env!("SKILL_WIZER_VERSION");
/// wit-component, which turns a core module into a component.
pub const WIT_COMPONENT: &str = env!("SKILL_WIT_COMPONENT_VERSION");
/// The skill SDKs (Rust, JavaScript, Python share one version).
pub const SDK: &str = env!("SKILL_SDK_VERSION");

/// The binaryen release the `wasm-opt` crate builds: the crate's minor version
/// (wasm-opt 0.116.1 builds binaryen version_116).
pub fn binaryen() -> &'static str {
    let crate_version = env!("SKILL_WASM_OPT_CRATE_VERSION");
    crate_version.split('.').nth(1).unwrap_or(crate_version)
}
