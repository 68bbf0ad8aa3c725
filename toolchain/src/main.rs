fn main() -> std::process::ExitCode {
    skill_toolchain::cli::main()
}
