//! `skill`: see the crate's documentation (lib.rs) for what runs here and what is handed on.

fn main() -> std::process::ExitCode {
    skill_cli::cli::main()
}
