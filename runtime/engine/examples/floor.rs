//! The floor for `skill run`: the least a wasmtime host can do to run one tool of a
//! precompiled skill — map the `.cwasm`, link WASI and the contract's host interface,
//! instantiate, call `execute` once. No store, manifest, argument checking, cache integrity
//! check, limits or epoch ticker. `scripts/bench.sh` times `skill run` against this.
//!
//! Usage: floor <skill.cwasm> <tool> [name=value]...   (string arguments only)
//!
//! With `FLOOR_MEASURE=N` it instead instantiates N times and reports, in microseconds, the
//! median of: a new store + instantiate, the first call on that instance, and a second call
//! on the same instance. The first call minus the second is the guest's own start-up work
//! (what a Wizer snapshot could save at most).

// Synchronous bindings of its own (the runtime's exports are async): the floor is the plain
// sync call path.
mod bindings {
    wasmtime::component::bindgen!({ path: "../../wit", world: "skill" });
}
use bindings::skill_engine::skill::{host, types};
use bindings::{Skill, SkillPre};
use wasmtime::Store;
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

struct State {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl types::Host for State {}

impl host::Host for State {
    fn config_get(&mut self, _key: String) -> Option<String> {
        None
    }
    fn log(&mut self, _level: types::LogLevel, _message: String) {}
    fn progress(&mut self, _percent: Option<u8>, _message: String) {}
    fn call_tool(
        &mut self,
        _skill: String,
        _tool: String,
        _args: Vec<types::Arg>,
    ) -> Result<types::Output, types::ToolError> {
        Err(types::ToolError::Failed("not routed in the floor".into()))
    }
}

fn main() -> wasmtime::Result<()> {
    let argv: Vec<String> = std::env::args().collect();
    let [_, cwasm, tool, rest @ ..] = argv.as_slice() else {
        eprintln!("usage: floor <skill.cwasm> <tool> [name=value]...");
        std::process::exit(2);
    };
    // The same engine configuration as `skill`, or the .cwasm would not load.
    let engine = skill_engine::engine::new_engine().map_err(|e| wasmtime::format_err!("{e}"))?;
    // SAFETY: a benchmark input produced by `skill build` on this machine.
    let component = unsafe { Component::deserialize_file(&engine, cwasm)? };
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    Skill::add_to_linker::<State, HasSelf<State>>(&mut linker, |s| s)?;
    let pre = SkillPre::new(linker.instantiate_pre(&component)?)?;

    let mut store = Store::new(
        &engine,
        State {
            wasi: WasiCtxBuilder::new().build(),
            table: ResourceTable::new(),
        },
    );
    // Epoch interruption is on in the shared config; never let it fire here.
    store.set_epoch_deadline(u64::MAX);
    let args: Vec<types::Arg> = rest
        .iter()
        .filter_map(|a| a.split_once('='))
        .map(|(k, v)| types::Arg {
            name: k.to_string(),
            value: types::Value::Text(v.to_string()),
        })
        .collect();
    if let Some(n) = std::env::var("FLOOR_MEASURE")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
    {
        return measure(&engine, &pre, tool, &args, n);
    }
    let skill = pre.instantiate(&mut store)?;
    match skill
        .skill_engine_skill_guest()
        .call_execute(&mut store, tool, &args)?
    {
        Ok(output) => println!("{}", output.text),
        Err(e) => {
            eprintln!("tool error: {e:?}");
            std::process::exit(1);
        }
    }
    Ok(())
}

fn measure(
    engine: &wasmtime::Engine,
    pre: &SkillPre<State>,
    tool: &str,
    args: &[types::Arg],
    n: usize,
) -> wasmtime::Result<()> {
    use std::time::Instant;
    let (mut inst, mut first, mut second) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n {
        let t = Instant::now();
        let mut store = Store::new(
            engine,
            State {
                wasi: WasiCtxBuilder::new().build(),
                table: ResourceTable::new(),
            },
        );
        store.set_epoch_deadline(u64::MAX);
        let skill = pre.instantiate(&mut store)?;
        inst.push(t.elapsed());
        let guest = skill.skill_engine_skill_guest();
        let t = Instant::now();
        let _ = guest.call_execute(&mut store, tool, args)?;
        first.push(t.elapsed());
        let t = Instant::now();
        let _ = guest.call_execute(&mut store, tool, args)?;
        second.push(t.elapsed());
    }
    let median = |v: &mut Vec<std::time::Duration>| {
        v.sort();
        v[v.len() / 2].as_secs_f64() * 1e6
    };
    println!(
        "instantiate {:.1} us, first call {:.1} us, second call {:.1} us (median of {n})",
        median(&mut inst),
        median(&mut first),
        median(&mut second)
    );
    Ok(())
}
