use std::process::ExitCode;

use super::Context;
use skill_build::sdk::SDK_VERSION;
use skill_build::tools::Kit;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON on stdout
    #[arg(long)]
    json: bool,
}

/// skill's version, the contract it implements, and every tool it bundles or pins.
pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let json = args.json || ctx.output_json;
    let bundled: Vec<(String, String)> = skill_build::pipeline::rust_release_tools();
    let js = Kit::Js.pins();
    let python = Kit::Python.pins();
    let go = Kit::Go.pins();
    if json {
        let map = |pairs: &[(String, String)]| -> serde_json::Map<String, serde_json::Value> {
            pairs
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::json!(v)))
                .collect()
        };
        let info = serde_json::json!({
            "skill": env!("CARGO_PKG_VERSION"),
            "contract": skill_engine::bindings::CONTRACT,
            "wasmtime": skill_build::versions::WASMTIME,
            "sdk": SDK_VERSION,
            "bundled": map(&bundled),
            "pinned": { "javascript": map(&js), "python": map(&python), "go": map(&go) },
        });
        println!("{}", serde_json::to_string_pretty(&info)?);
        return Ok(ExitCode::SUCCESS);
    }
    let list = |pairs: &[(String, String)]| {
        pairs
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!("skill {}", env!("CARGO_PKG_VERSION"));
    println!("contract {}", skill_engine::bindings::CONTRACT);
    println!("wasmtime {}", skill_build::versions::WASMTIME);
    println!("sdk {SDK_VERSION} (rust, javascript, python, go)");
    println!("bundled: {}", list(&bundled));
    println!("pinned for JavaScript/TypeScript: {}", list(&js));
    println!("pinned for Python: {}", list(&python));
    println!("pinned for Go: {}", list(&go));
    Ok(ExitCode::SUCCESS)
}
