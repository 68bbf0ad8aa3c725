//! `skill-wasm-opt INPUT OUTPUT`: binaryen's `wasm-opt -Os` (every feature enabled, custom
//! sections kept) for `skill build`, in a process of its own.
//!
//! binaryen is C++ with ~150 static initializers and libstdc++ behind it. Linked into `skill`,
//! they ran on every start of every command — `skill run` included — for a step only Rust
//! release builds take. `skill build` runs this helper from the directory `skill` is in
//! (`cargo install` puts both there).

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let [input, output] = args.as_slice() else {
        eprintln!("usage: skill-wasm-opt INPUT.wasm OUTPUT.wasm (run by `skill build`)");
        return ExitCode::from(2);
    };
    match wasm_opt::OptimizationOptions::new_optimize_for_size()
        .all_features()
        .debug_info(false)
        .run(input, output)
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
