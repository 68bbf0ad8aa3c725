//! The `skill` command line, shared by its three binaries (installed side by side): `skill`
//! (calling tools, the store's commands), `skill-serve` (`skill serve`) and `skill-toolchain`
//! (everything, the build side included). `skill` hands a command to the others by exec;
//! `cli::Binary` says which runs what and why. Each command in `cli/` parses its arguments,
//! makes one library call (skill-build, skill-host, skill-serve, skill-store) and prints
//! through `ui::Printer`.

pub mod cli;
pub mod ui;
