//! `skill-toolchain`: every `skill` command, the build side included. `skill` hands it the
//! commands that build (see `skill_cli::cli::Binary` for why they live apart).

fn main() -> std::process::ExitCode {
    skill_cli::cli::main_toolchain()
}
