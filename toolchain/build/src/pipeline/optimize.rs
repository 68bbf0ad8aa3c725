//! Rust release builds only: wasm-opt on the core module (binaryen cannot read components),
//! then wit-component turns the optimized module into the component, reading the contract's
//! types from the `component-type` custom section wit-bindgen left in it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use skill_engine::{Error, Result};

/// The helper that runs binaryen (`skill-wasm-opt`, beside the `skill` binary), unless
/// `SKILL_WASM_OPT` names another.
pub const HELPER: &str = "skill-wasm-opt";

fn helper() -> PathBuf {
    // Only an absolute path: a relative one would be looked up in the project being built.
    if let Some(path) = std::env::var_os("SKILL_WASM_OPT").map(PathBuf::from)
        && path.is_absolute()
    {
        return path;
    }
    std::env::current_exe()
        .map(|exe| exe.with_file_name(HELPER))
        .unwrap_or_else(|_| PathBuf::from(HELPER))
}

/// `wasm-opt -Os` with every feature enabled (rustc 1.95 emits bulk memory and more, which
/// binaryen rejects unless told). Custom sections, the component type among them, are kept.
/// binaryen runs in its own process (see `skill-wasm-opt`), so only builds pay for loading it.
pub fn wasm_opt(input: &Path, output: &Path) -> Result<()> {
    let helper = helper();
    let ran = Command::new(&helper)
        .arg(input)
        .arg(output)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            Error::not_found(format!("cannot run {}: {e}", helper.display())).with_hint(format!(
                "{HELPER} is installed beside skill (`cargo install` puts it there); or build with `skill build --dev`, which skips wasm-opt"
            ))
        })?;
    if ran.status.success() {
        return Ok(());
    }
    Err(
        Error::invalid(format!("wasm-opt failed on {}", input.display()))
            .with_details(crate::tools::output_text(&ran))
            .with_hint("build with `skill build --dev` to skip wasm-opt, and report the problem"),
    )
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
