//! `skill-serve`: `skill serve`, in a binary of its own so that `skill run` does not load the
//! server stack (see `skill_cli::cli::Binary`).

fn main() -> std::process::ExitCode {
    skill_cli::cli::main_serve()
}
