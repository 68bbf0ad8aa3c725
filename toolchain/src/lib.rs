//! The `skill` toolchain: project detection, templates, the build pipeline, and the CLI that
//! wires them (and the runtime) to the terminal.

pub mod build;
pub mod cli;
pub mod doctor;
pub mod lockfile;
pub mod project;
pub mod sdk;
pub mod templates;
pub mod testing;
pub mod tools;
pub mod ui;
pub mod watch;
