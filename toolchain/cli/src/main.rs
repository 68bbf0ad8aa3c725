//! The `skill` binary. Each command in `cli/` parses its arguments, makes one library call
//! (skill-build, skill-host, skill-serve, skill-store) and prints through `ui::Printer`.

mod cli;
mod ui;

fn main() -> std::process::ExitCode {
    cli::main()
}
