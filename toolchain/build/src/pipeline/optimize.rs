//! Rust release builds only: wasm-opt on the core module (binaryen cannot read components),
//! then wit-component turns the optimized module into the component, reading the contract's
//! types from the `component-type` custom section wit-bindgen left in it.

use std::path::Path;

use skill_engine::{Error, Result};

/// The binaryen version the `wasm-opt` crate builds (recorded in skill.lock).
pub const WASM_OPT_VERSION: &str = "116";
/// wit-component's version (recorded in skill.lock).
pub const WIT_COMPONENT_VERSION: &str = "0.262.0";

/// `wasm-opt -Os` with every feature enabled (rustc 1.95 emits bulk memory and more, which
/// binaryen rejects unless told). Custom sections, the component type among them, are kept.
pub fn wasm_opt(input: &Path, output: &Path) -> Result<()> {
    wasm_opt::OptimizationOptions::new_optimize_for_size()
        .all_features()
        .debug_info(false)
        .run(input, output)
        .map_err(|e| {
            Error::invalid(format!("wasm-opt failed on {}: {e}", input.display())).with_hint(
                "build with `skill build --dev` to skip wasm-opt, and report the problem",
            )
        })
}

/// Core module → component.
pub fn componentize(core: &[u8]) -> Result<Vec<u8>> {
    wit_component::ComponentEncoder::default()
        .module(core)
        .and_then(|e| e.validate(true).encode())
        .map_err(|e| {
            Error::invalid(format!("could not make a component of the core module: {e:#}"))
                .with_hint("the module lacks the contract's component type; does the crate depend on skill-sdk and call skill_sdk::export!?")
        })
}
