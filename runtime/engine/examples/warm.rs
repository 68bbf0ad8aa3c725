//! Micro-benchmark of the server's hot path in the runtime alone: calls into one kept
//! instance (`WarmInstance::execute`, with its deadline machinery), and a fresh instance per
//! call, with the pooled engine `skill serve` uses. Compare two builds (before/after a
//! change) on the same component:
//!
//!   cargo run --release -p skill-engine --example warm -- examples/rust-skill/target/skill/rust-skill.wasm
use std::time::{Duration, Instant};
fn main() {
    let argv: Vec<String> = std::env::args().collect();
    let wasm = std::fs::read(&argv[1]).unwrap();
    let n: usize = argv.get(2).map(|s| s.parse().unwrap()).unwrap_or(100_000);
    let home = tempfile::tempdir().unwrap();
    let home = skill_engine::SkillHome::at(home.path());
    let (runtime, _) =
        skill_engine::Runtime::for_server(&home, skill_engine::engine::PoolSize::default())
            .unwrap();
    let skill = runtime.load_bytes(&wasm).unwrap();
    let options = skill_engine::CallOptions::default();
    let args: skill_manifest::args::Args = vec![
        ("a".into(), skill_manifest::args::ArgValue::Integer(2)),
        ("b".into(), skill_manifest::args::ArgValue::Integer(40)),
    ];
    let mut best = f64::MAX;
    for _round in 0..5 {
        let mut instance = skill.instantiate(&options).unwrap();
        let t = Instant::now();
        for _ in 0..n {
            let out = instance
                .execute("add", &args, Duration::from_secs(30), None)
                .unwrap();
            assert!(out.result.is_ok());
            if !instance.reusable() {
                instance = skill.instantiate(&options).unwrap();
            }
        }
        let per = t.elapsed().as_secs_f64() * 1e6 / n as f64;
        best = best.min(per);
    }
    println!("warm call: {best:.2} us (best of 5 x {n})");
    // A fresh instance per call.
    let t = Instant::now();
    for _ in 0..(n / 10) {
        let _ = skill.execute("add", &args, &options).unwrap();
    }
    println!(
        "fresh instance + call: {:.2} us",
        t.elapsed().as_secs_f64() * 1e6 / (n / 10) as f64
    );
}
