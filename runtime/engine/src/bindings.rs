//! Host bindings generated from the one contract package in `wit/`.
//!
//! Only the current version is generated. Older versions differ from it by what they lack
//! (0.1.0 has no `call-tool`, 0.2.0 no `describe-tools`), and their types are the same shapes, which wasmtime checks
//! structurally: `engine.rs` links each version's host interface by name with these types, and
//! `runtime.rs` finds the guest export under whichever version a component implements.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "skill",
    // Exports are called with `call_async`, so a call can be dropped at its deadline while
    // the guest waits in the host. `call-tool` runs another skill: it waits for that call.
    exports: { default: async },
    imports: { "skill-engine:skill/host.call-tool": async },
});

pub use exports::skill_engine::skill::guest;
// `self::`: the generated module shares its name with this crate (`skill_engine`).
pub use self::skill_engine::skill::{host, types};

/// The contract package this runtime builds against, as shown to users.
pub const CONTRACT: &str = "skill-engine:skill@0.3.0";

/// Contract versions the runtime links, newest first. A component implements exactly one
/// (its `guest` export says which); older ones keep running unchanged (wit/README.md).
pub const CONTRACT_VERSIONS: &[ContractVersion] = &[
    ContractVersion::V0_3,
    ContractVersion::V0_2,
    ContractVersion::V0_1,
];

/// One supported version of the contract package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ContractVersion {
    /// The first contract: no `call-tool`.
    V0_1,
    /// `host.call-tool`: calling the tools of declared dependencies.
    V0_2,
    /// `guest.describe-tools`: titles, annotations and output schemas of tools.
    V0_3,
}

impl ContractVersion {
    pub fn version(self) -> &'static str {
        match self {
            ContractVersion::V0_1 => "0.1.0",
            ContractVersion::V0_2 => "0.2.0",
            ContractVersion::V0_3 => "0.3.0",
        }
    }

    /// `skill-engine:skill@0.2.0`.
    pub fn package(self) -> String {
        format!("skill-engine:skill@{}", self.version())
    }

    /// `skill-engine:skill/guest@0.2.0`: what a skill of this version exports.
    pub fn guest_export(self) -> String {
        format!("skill-engine:skill/guest@{}", self.version())
    }

    /// `skill-engine:skill/host@0.2.0`: what a skill of this version may import.
    pub fn host_import(self) -> String {
        format!("skill-engine:skill/host@{}", self.version())
    }

    /// `skill-engine:skill/types@0.2.0`.
    pub fn types_interface(self) -> String {
        format!("skill-engine:skill/types@{}", self.version())
    }

    /// Whether the host interface of this version has `call-tool`.
    pub fn has_call_tool(self) -> bool {
        self >= ContractVersion::V0_2
    }

    /// Whether the guest interface of this version exports `describe-tools`.
    pub fn has_tool_details(self) -> bool {
        self >= ContractVersion::V0_3
    }
}

/// The current version: what SDKs and `skill build` produce.
pub const CURRENT: ContractVersion = ContractVersion::V0_3;

/// The optional command export `skill exec` runs (`wasi:cli/run`, any 0.2.x).
pub const COMMAND_EXPORT: &str = "wasi:cli/run";
