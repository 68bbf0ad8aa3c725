//! Building skills: which language a project is ([`project`]), which of its files are
//! sources (one walker, one ignore rule set), the pipeline from sources to an AOT-compiled
//! component ([`pipeline`]), the private build-tool kits ([`tools`]), the SDKs and templates
//! embedded in the binary, the build's lock file, and `skill test`.
//!
//! It reports what it is doing through [`progress::Progress`] and never prints: the CLI shows
//! spinners and status lines, other callers may show nothing.

pub mod docs;
pub mod doctor;
pub mod lockfile;
pub mod pipeline;
pub mod progress;
pub mod project;
pub mod sdk;
pub mod sources;
pub mod templates;
pub mod testing;
pub mod tools;
pub mod versions;
