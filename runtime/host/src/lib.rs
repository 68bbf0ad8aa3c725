//! Calling a tool of an installed skill instance, the one way every front end does it:
//! `SKILL[@INSTANCE]:TOOL` → the installed skill, its instance and the tool (or a not-found
//! error that lists what exists) → the instance's call options (config, sealed secrets,
//! sandbox, limits) → the limit policy for who is asking → the call → one typed outcome, with
//! notices (permissions not granted, directories left closed, hosts refused) for the caller
//! to show.
//!
//! `skill run`, `skill serve` (MCP, REST, WebSocket), `skill test` and `skill watch` all go
//! through here. Instance management (review and approval, config changes) lives here too:
//! it decides what a call may do.

pub mod call;
pub mod instances;
pub mod route;

pub use call::{
    Caller, Finished, Notice, Overrides, Resolved, Throwaway, call_once, call_throwaway, exec_once,
    prepare, resolve,
};
pub use instances::InstanceRef;
