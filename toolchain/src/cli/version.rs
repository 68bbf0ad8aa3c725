use std::process::ExitCode;

use super::Context;
use crate::sdk::SDK_VERSION;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON on stdout
    #[arg(long)]
    json: bool,
}

pub fn run(_ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let info = serde_json::json!({
        "skill": env!("CARGO_PKG_VERSION"),
        "wasmtime": skill_runtime::WASMTIME_VERSION,
        "contract": skill_runtime::bindings::CONTRACT,
        "sdk_rust": SDK_VERSION,
    });
    if args.json {
        println!("{}", serde_json::to_string_pretty(&info)?);
    } else {
        println!("skill {}", env!("CARGO_PKG_VERSION"));
        println!("wasmtime {}", skill_runtime::WASMTIME_VERSION);
        println!("contract {}", skill_runtime::bindings::CONTRACT);
        println!("skill-sdk (rust) {SDK_VERSION}");
    }
    Ok(ExitCode::SUCCESS)
}
