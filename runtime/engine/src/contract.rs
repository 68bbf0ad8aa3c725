//! Checks a wasm binary against the skill contract by name, before wasmtime ever sees it, so a
//! wrong component gets an exact list of what is missing or unexpected plus a hint. (Wasmtime
//! then checks the types when it links the component.)

use wasmparser::{Parser, Payload};

use crate::bindings::{COMMAND_EXPORT, CONTRACT, CONTRACT_VERSIONS, CURRENT, ContractVersion};
use skill_manifest::error::{Error, Result};

/// WASI 0.2 interfaces the sandbox links (`wasmtime_wasi::p2::add_to_linker_sync` and
/// wasi:http's outgoing side). Any
/// `0.2.x` version is accepted: wasmtime links semver-compatible names.
const WASI_INTERFACES: &[&str] = &[
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:clocks/monotonic-clock",
    "wasi:clocks/wall-clock",
    "wasi:filesystem/types",
    "wasi:filesystem/preopens",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
    "wasi:sockets/network",
    "wasi:sockets/instance-network",
    "wasi:sockets/tcp",
    "wasi:sockets/tcp-create-socket",
    "wasi:sockets/udp",
    "wasi:sockets/udp-create-socket",
    "wasi:sockets/ip-name-lookup",
    "wasi:http/types",
    "wasi:http/outgoing-handler",
];

/// What kind of file this is, judged by its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WasmKind {
    Component,
    CoreModule,
    NotWasm,
}

pub fn wasm_kind(bytes: &[u8]) -> WasmKind {
    if Parser::is_component(bytes) {
        WasmKind::Component
    } else if Parser::is_core_wasm(bytes) {
        WasmKind::CoreModule
    } else {
        WasmKind::NotWasm
    }
}

/// The result of comparing a component's imports and exports with the contract world.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ContractReport {
    pub imports: Vec<String>,
    pub exports: Vec<String>,
    /// Contract exports the component does not provide.
    pub missing_exports: Vec<String>,
    /// Imports the sandbox does not provide: the component could never be instantiated.
    pub unexpected_imports: Vec<String>,
    /// Exports beyond the contract: harmless, reported as warnings.
    pub extra_exports: Vec<String>,
    /// The contract version the component's `guest` export implements.
    #[serde(serialize_with = "version_package")]
    pub contract: Option<ContractVersion>,
    /// Whether it also exports `wasi:cli/run`, which `skill exec` runs.
    pub command: bool,
}

fn version_package<S: serde::Serializer>(
    version: &Option<ContractVersion>,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    match version {
        Some(version) => serializer.serialize_str(&version.package()),
        None => serializer.serialize_none(),
    }
}

/// Exports the supported toolchains add on their own (componentize-qjs's `init`,
/// componentize-py's `exports`, the Rust SDK's Wizer initializer): expected, so not worth a
/// warning.
const TOOLCHAIN_EXPORTS: &[&str] = &["init", "exports", "wizer-initialize"];

impl ContractReport {
    pub fn is_ok(&self) -> bool {
        self.missing_exports.is_empty() && self.unexpected_imports.is_empty()
    }

    /// Warnings worth showing even when the component is acceptable.
    pub fn warnings(&self) -> Vec<String> {
        self.extra_exports
            .iter()
            .filter(|e| !TOOLCHAIN_EXPORTS.contains(&e.as_str()))
            .map(|e| format!("component exports `{e}`, which is not part of the contract and will not be used"))
            .collect()
    }

    /// One error naming every difference, with a hint how to fix each kind.
    pub fn into_result(self) -> Result<ContractReport> {
        if self.is_ok() {
            return Ok(self);
        }
        let mut problems = Vec::new();
        let mut hints = Vec::new();
        if !self.missing_exports.is_empty() {
            problems.push(format!("missing export {}", quoted(&self.missing_exports)));
            hints.push(
                "a skill must export the contract's `guest` interface; in Rust, list your tools in \
                 `skill_sdk::export!(...)`",
            );
        }
        if !self.unexpected_imports.is_empty() {
            problems.push(format!(
                "unexpected import {}",
                quoted(&self.unexpected_imports)
            ));
            hints.push(
                "the sandbox provides only `skill-engine:skill/host` and WASI 0.2 cli, clocks, \
                 filesystem, io, random, sockets and outgoing http; remove the code or dependency that needs the rest",
            );
        }
        Err(Error::contract(format!(
            "component does not implement {CONTRACT}: {}",
            problems.join("; ")
        ))
        .with_hint(hints.join("; ")))
    }
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads the top-level import and export names of a component and compares them with the
/// contract. Fails for files that are not components, saying what they are instead.
pub fn check_component(bytes: &[u8]) -> Result<ContractReport> {
    match wasm_kind(bytes) {
        WasmKind::Component => {}
        WasmKind::CoreModule => {
            return Err(Error::invalid("this is a core wasm module, not a component").with_hint(
                "build it as a component (target wasm32-wasip2, or `wasm-tools component new`); \
                 `skill build` does this for you",
            ));
        }
        WasmKind::NotWasm => {
            return Err(Error::invalid("this is not a WebAssembly file (bad magic number)")
                .with_hint("pass the component `skill build` produced (target/skill/<name>.wasm) or a skill directory"));
        }
    }
    let (imports, exports) = top_level_names(bytes)?;
    let mut report = ContractReport {
        imports,
        exports,
        ..Default::default()
    };

    report.contract = CONTRACT_VERSIONS.iter().copied().find(|version| {
        let export = version.guest_export();
        report.exports.iter().any(|e| same_interface(e, &export))
    });
    if report.contract.is_none() {
        report.missing_exports.push(CURRENT.guest_export());
    }
    for import in &report.imports {
        // The host and types of the version the guest export implements, and no other: a
        // component built against 0.1.0 does not get 0.2.0's `call-tool`.
        let other_version = report.contract.is_some_and(|version| {
            is_contract_interface(import)
                && !same_interface(import, &version.host_import())
                && !same_interface(import, &version.types_interface())
        });
        if !is_provided_import(import) || other_version {
            report.unexpected_imports.push(import.clone());
        }
    }
    for export in &report.exports {
        if is_command(export) {
            report.command = true;
        } else if !is_guest(export) && !is_contract_types(export) {
            report.extra_exports.push(export.clone());
        }
    }
    Ok(report)
}

fn top_level_names(bytes: &[u8]) -> Result<(Vec<String>, Vec<String>)> {
    let malformed = |e: wasmparser::BinaryReaderError| {
        Error::invalid(format!("malformed component: {e}"))
            .with_hint("the file is damaged or was not produced by a wasm toolchain; rebuild it")
    };
    let mut imports = Vec::new();
    let mut exports = Vec::new();
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(malformed)? {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(reader) if depth == 0 => {
                for import in reader {
                    imports.push(import.map_err(malformed)?.name.name.to_string());
                }
            }
            Payload::ComponentExportSection(reader) if depth == 0 => {
                for export in reader {
                    exports.push(export.map_err(malformed)?.name.name.to_string());
                }
            }
            _ => {}
        }
    }
    Ok((imports, exports))
}

/// Splits `ns:pkg/iface@1.2.3` into (`ns:pkg/iface`, `1.2.3`).
fn split_version(name: &str) -> (&str, Option<&str>) {
    match name.split_once('@') {
        Some((base, version)) => (base, Some(version)),
        None => (name, None),
    }
}

/// Same interface and a semver-compatible version (same major, or same minor while major is 0).
fn same_interface(name: &str, contract_name: &str) -> bool {
    let (base, version) = split_version(name);
    let (contract_base, contract_version) = split_version(contract_name);
    base == contract_base && compatible(version, contract_version)
}

fn compatible(a: Option<&str>, b: Option<&str>) -> bool {
    let parse = |v: &str| {
        let mut parts = v.split(['.', '-', '+']).map(|p| p.parse::<u64>().ok());
        (parts.next().flatten(), parts.next().flatten())
    };
    match (a, b) {
        (Some(a), Some(b)) => match (parse(a), parse(b)) {
            ((Some(0), Some(minor_a)), (Some(0), Some(minor_b))) => minor_a == minor_b,
            ((Some(major_a), _), (Some(major_b), _)) => major_a == major_b && major_a != 0,
            _ => false,
        },
        _ => false,
    }
}

fn is_guest(name: &str) -> bool {
    CONTRACT_VERSIONS
        .iter()
        .any(|v| same_interface(name, &v.guest_export()))
}

fn is_contract_types(name: &str) -> bool {
    CONTRACT_VERSIONS
        .iter()
        .any(|v| same_interface(name, &v.types_interface()))
}

fn is_contract_interface(name: &str) -> bool {
    name.starts_with("skill-engine:skill/")
}

fn is_command(name: &str) -> bool {
    let (base, version) = split_version(name);
    base == COMMAND_EXPORT && compatible(version, Some("0.2.0"))
}

fn is_provided_import(name: &str) -> bool {
    if is_contract_types(name)
        || CONTRACT_VERSIONS
            .iter()
            .any(|v| same_interface(name, &v.host_import()))
    {
        return true;
    }
    let (base, version) = split_version(name);
    WASI_INTERFACES.contains(&base) && compatible(version, Some("0.2.0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_match_semver_compatibly() {
        let v01 = ContractVersion::V0_1.guest_export();
        assert!(same_interface("skill-engine:skill/guest@0.1.0", &v01));
        assert!(same_interface("skill-engine:skill/guest@0.1.7", &v01));
        assert!(!same_interface("skill-engine:skill/guest@0.2.0", &v01));
        assert!(!same_interface("skill-engine:skill/guest", &v01));
        assert!(is_guest("skill-engine:skill/guest@0.2.1"));
        assert!(is_guest("skill-engine:skill/guest@0.3.0"));
        assert!(!is_guest("skill-engine:skill/guest@0.4.0"));
        assert!(is_provided_import("skill-engine:skill/host@0.1.0"));
        assert!(is_provided_import("skill-engine:skill/host@0.2.0"));
        assert!(is_provided_import("skill-engine:skill/host@0.3.0"));
        assert!(!is_provided_import("skill-engine:skill/host@0.4.0"));
        assert!(is_command("wasi:cli/run@0.2.6"));
        assert!(!is_command("wasi:cli/run@0.3.0"));
        assert!(is_provided_import("wasi:cli/environment@0.2.3"));
        assert!(is_provided_import("wasi:io/streams@0.2.12"));
        assert!(!is_provided_import("wasi:io/streams@0.3.0"));
        assert!(is_provided_import("wasi:http/outgoing-handler@0.2.4"));
        assert!(!is_provided_import("wasi:http/incoming-handler@0.2.4"));
        assert!(!is_provided_import("wasi:keyvalue/store@0.2.0"));
        assert!(is_provided_import("skill-engine:skill/types@0.1.0"));
    }

    #[test]
    fn the_guest_export_says_which_version_a_component_implements() {
        let component = |version: &str| {
            wat::parse_str(format!(
                r#"(component
                    (import "skill-engine:skill/host@{version}" (instance))
                    (instance $guest)
                    (export "skill-engine:skill/guest@{version}" (instance $guest))
                    (export "wasi:cli/run@0.2.3" (instance $guest))
                )"#
            ))
            .unwrap()
        };
        let old = check_component(&component("0.1.0")).unwrap();
        assert_eq!(old.contract, Some(ContractVersion::V0_1));
        assert!(old.command && old.is_ok() && old.warnings().is_empty());
        let v02 = check_component(&component("0.2.0")).unwrap();
        assert_eq!(v02.contract, Some(ContractVersion::V0_2));
        let new = check_component(&component("0.3.0")).unwrap();
        assert_eq!(new.contract, Some(ContractVersion::V0_3));
        let mixed = wat::parse_str(
            r#"(component
                (import "skill-engine:skill/host@0.2.0" (instance))
                (instance $guest)
                (export "skill-engine:skill/guest@0.1.0" (instance $guest))
            )"#,
        )
        .unwrap();
        let mixed = check_component(&mixed).unwrap();
        assert_eq!(
            mixed.unexpected_imports,
            ["skill-engine:skill/host@0.2.0".to_string()]
        );
        let future = check_component(&component("0.4.0")).unwrap();
        assert_eq!(future.contract, None);
        assert_eq!(
            future.missing_exports,
            ["skill-engine:skill/guest@0.3.0".to_string()]
        );
        assert_eq!(
            future.unexpected_imports,
            ["skill-engine:skill/host@0.4.0".to_string()]
        );
    }

    #[test]
    fn kinds_are_told_apart() {
        assert_eq!(wasm_kind(b"\0asm\x01\0\0\0"), WasmKind::CoreModule);
        assert_eq!(wasm_kind(b"\0asm\x0d\0\x01\0"), WasmKind::Component);
        assert_eq!(wasm_kind(b"hello world"), WasmKind::NotWasm);
        assert!(check_component(b"hello").is_err());
    }

    #[test]
    fn every_difference_is_named() {
        let component = wat::parse_str(
            r#"(component
                (import "wasi:keyvalue/store@0.2.0" (instance))
                (import "skill-engine:skill/host@0.1.0" (instance))
                (import "wasi:cli/environment@0.2.3" (instance))
            )"#,
        )
        .unwrap();
        let report = check_component(&component).unwrap();
        assert_eq!(report.missing_exports, [CURRENT.guest_export()]);
        assert_eq!(report.unexpected_imports, ["wasi:keyvalue/store@0.2.0"]);
        let err = report.into_result().unwrap_err();
        assert_eq!(
            err.message(),
            "component does not implement skill-engine:skill@0.3.0: missing export \
             `skill-engine:skill/guest@0.3.0`; unexpected import `wasi:keyvalue/store@0.2.0`"
        );
        assert!(err.hint().unwrap().contains("the sandbox provides only"));
    }

    #[test]
    fn an_empty_component_misses_the_guest_export() {
        let err = check_component(b"\0asm\x0d\0\x01\0")
            .unwrap()
            .into_result()
            .unwrap_err();
        assert!(
            err.message()
                .contains("missing export `skill-engine:skill/guest@0.3.0`"),
            "{err}"
        );
        assert!(err.hint().unwrap().contains("skill_sdk::export!"));
    }
}
