//! Host bindings generated from the one contract package in `wit/`.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "skill",
    // Exports are called with `call_async`, so a call can be dropped at its deadline while
    // the guest waits in the host. The contract's own host functions stay synchronous.
    exports: { default: async },
});

pub use exports::skill_engine::skill::guest;
// `self::`: the generated module shares its name with this crate (`skill_engine`).
pub use self::skill_engine::skill::{host, types};

/// Name of the export every skill must provide.
pub const GUEST_EXPORT: &str = "skill-engine:skill/guest@0.1.0";
/// Name of the host interface a skill may import.
pub const HOST_IMPORT: &str = "skill-engine:skill/host@0.1.0";
/// The contract package, as shown to users.
pub const CONTRACT: &str = "skill-engine:skill@0.1.0";
