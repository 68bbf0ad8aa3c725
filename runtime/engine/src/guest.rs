//! The contract's `guest` export, under whichever contract version a component implements.
//!
//! `bindgen!` generates lookups for the current version's export name only; these look the
//! export up under every supported version, and call it with the current version's types
//! (the same shapes: wasmtime checks them structurally when the functions are loaded).

use wasmtime::component::{ComponentExportIndex, Instance, InstancePre, TypedFunc};
use wasmtime::{Store, format_err};

use crate::bindings::{CONTRACT_VERSIONS, CURRENT, ContractVersion, types as wit};
use crate::host::HostState;

/// Where a component's guest functions are, found once per linked component.
#[derive(Clone)]
pub(crate) struct GuestIndices {
    pub version: ContractVersion,
    info: ComponentExportIndex,
    tools: ComponentExportIndex,
    /// Only from 0.3.0.
    tool_details: Option<ComponentExportIndex>,
    execute: ComponentExportIndex,
    validate_config: ComponentExportIndex,
}

type ExecuteResult = (Result<wit::Output, wit::ToolError>,);
type Config = (Vec<(String, String)>,);

/// The guest functions of one instance.
pub(crate) struct GuestFuncs {
    pub info: TypedFunc<(), (wit::SkillInfo,)>,
    pub tools: TypedFunc<(), (Vec<wit::Tool>,)>,
    pub tool_details: Option<TypedFunc<(), (Vec<wit::ToolDetails>,)>>,
    pub execute: TypedFunc<(String, Vec<wit::Arg>), ExecuteResult>,
    pub validate_config: TypedFunc<Config, (Result<(), String>,)>,
}

impl GuestIndices {
    pub fn new(pre: &InstancePre<HostState>) -> wasmtime::Result<Self> {
        let component = pre.component();
        let (version, instance) = CONTRACT_VERSIONS
            .iter()
            .find_map(|version| {
                component
                    .get_export_index(None, version.guest_export().as_str())
                    .map(|index| (*version, index))
            })
            .ok_or_else(|| {
                format_err!("no exported instance named `{}`", CURRENT.guest_export())
            })?;
        let lookup = |name: &str| {
            component
                .get_export_index(Some(&instance), name)
                .ok_or_else(|| format_err!("`{}` does not export `{name}`", version.guest_export()))
        };
        Ok(GuestIndices {
            version,
            info: lookup("info")?,
            tools: lookup("tools")?,
            tool_details: match version.has_tool_details() {
                true => Some(lookup("describe-tools")?),
                false => None,
            },
            execute: lookup("execute")?,
            validate_config: lookup("validate-config")?,
        })
    }

    /// The typed functions of `instance` (checks their types against the contract's).
    pub fn load(
        &self,
        store: &mut Store<HostState>,
        instance: &Instance,
    ) -> wasmtime::Result<GuestFuncs> {
        Ok(GuestFuncs {
            info: instance.get_typed_func(&mut *store, self.info)?,
            tools: instance.get_typed_func(&mut *store, self.tools)?,
            tool_details: match self.tool_details {
                Some(index) => Some(instance.get_typed_func(&mut *store, index)?),
                None => None,
            },
            execute: instance.get_typed_func(&mut *store, self.execute)?,
            validate_config: instance.get_typed_func(&mut *store, self.validate_config)?,
        })
    }
}
