//! Measures `skill find` on the labelled set in `eval/`: recall@1, recall@5 and MRR for
//! keywords (BM25) alone, the local embedding model alone, and both fused; and query latency.
//!
//!     cargo run --release -p skill-index --example eval [-- --json]
//!
//! The model is found as `skill find` finds it (`SKILL_MODEL_DIR`, `$SKILL_HOME/models`, a
//! Hugging Face cache); without it only keywords are measured. `scripts/bench-find.sh` runs
//! this with the model `scripts/install.sh` installed.

use std::collections::BTreeMap;
use std::time::Instant;

use serde::Deserialize;

use skill_index::embed::{Embedder, LocalModel, find_local_model};
use skill_index::{Index, Mode, Vectors};
use skill_manifest::manifest::{ComponentDigest, PackageManifest, ParamDef, ParamKind, ToolDef};

#[derive(Deserialize)]
struct Skill {
    name: String,
    description: String,
    summary: Option<String>,
    tools: Vec<Tool>,
}

#[derive(Deserialize, Clone)]
struct Tool {
    name: String,
    description: String,
    #[serde(default)]
    params: BTreeMap<String, String>,
    doc: Option<String>,
}

#[derive(Deserialize)]
struct Query {
    query: String,
    expect: Vec<String>,
    kind: String,
}

/// The skill as it would be installed: a manifest, and a SKILL.md when the corpus has its text.
fn package(skill: &Skill) -> (PackageManifest, Option<String>) {
    let tools = skill
        .tools
        .iter()
        .map(|t| ToolDef {
            name: t.name.clone(),
            description: t.description.clone(),
            params: t
                .params
                .iter()
                .map(|(name, description)| ParamDef {
                    name: name.clone(),
                    description: description.clone(),
                    kind: ParamKind::String,
                    required: false,
                    default: None,
                    choices: vec![],
                })
                .collect(),
            ..ToolDef::default()
        })
        .collect();
    let manifest = PackageManifest {
        format: 1,
        name: skill.name.clone(),
        version: "1.0.0".into(),
        description: skill.description.clone(),
        author: None,
        license: None,
        repository: None,
        contract: "skill-engine:skill@0.3.0".into(),
        component: ComponentDigest {
            sha256: String::new(),
            size: 0,
        },
        tools,
    };
    let mut md = format!(
        "---\nname: {}\ndescription: {}\n---\n\n# {}\n\n",
        skill.name,
        serde_json::to_string(&skill.description).unwrap(),
        skill.name
    );
    if let Some(summary) = &skill.summary {
        md.push_str(&format!("{summary}\n\n"));
    }
    for tool in &skill.tools {
        if let Some(doc) = &tool.doc {
            md.push_str(&format!("## {}\n\n{doc}\n\n", tool.name));
        }
    }
    (manifest, Some(md))
}

#[derive(Default, serde::Serialize)]
struct Score {
    recall_at_1: f64,
    recall_at_5: f64,
    mrr: f64,
    queries: usize,
}

fn main() {
    let json = std::env::args().any(|a| a == "--json");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("eval");
    let skills: Vec<Skill> =
        serde_norway::from_str(&std::fs::read_to_string(dir.join("skills.yaml")).unwrap()).unwrap();
    let queries: Vec<Query> =
        serde_norway::from_str(&std::fs::read_to_string(dir.join("queries.yaml")).unwrap())
            .unwrap();

    let mut index = Index::empty();
    for skill in &skills {
        let (manifest, md) = package(skill);
        index.insert("1", &manifest, md.as_deref());
    }
    let home = skill_store::SkillHome::from_env().ok();
    let model_dir = home.as_ref().and_then(find_local_model);
    let model = model_dir.as_ref().map(|d| {
        let started = Instant::now();
        let model = LocalModel::load(d).expect("the model loads");
        eprintln!(
            "model loaded in {:.0} ms",
            started.elapsed().as_secs_f64() * 1000.0
        );
        model
    });
    let mut vectors = Vectors::empty(&model.as_ref().map(|m| m.id()).unwrap_or_default());
    if let Some(model) = &model {
        let started = Instant::now();
        vectors.refresh(&index, model).expect("tools embed");
        eprintln!(
            "{} tools embedded in {:.0} ms",
            index.len(),
            started.elapsed().as_secs_f64() * 1000.0
        );
    }

    let mut modes = vec![("keywords", Mode::Keywords)];
    if model.is_some() {
        modes.push(("semantic", Mode::Semantic));
        modes.push(("hybrid", Mode::Hybrid));
    }
    let query_vectors: Vec<Vec<f32>> = match &model {
        Some(m) => queries
            .iter()
            .map(|q| m.embed(std::slice::from_ref(&q.query)).unwrap().remove(0))
            .collect(),
        None => vec![Vec::new(); queries.len()],
    };
    let mut report: BTreeMap<String, BTreeMap<String, Score>> = BTreeMap::new();
    let mut misses = Vec::new();
    for (label, mode) in &modes {
        for kind in ["all", "words", "paraphrase"] {
            let mut score = Score::default();
            for (q, qv) in queries.iter().zip(&query_vectors) {
                if kind != "all" && q.kind != kind {
                    continue;
                }
                let hits = index.search_with(&q.query, 10, *mode, &vectors, qv);
                let rank = hits.iter().position(|h| {
                    q.expect
                        .contains(&format!("{}/{}", h.entry.skill, h.entry.tool))
                });
                score.queries += 1;
                if rank == Some(0) {
                    score.recall_at_1 += 1.0;
                }
                if rank.is_some_and(|r| r < 5) {
                    score.recall_at_5 += 1.0;
                }
                if let Some(r) = rank {
                    score.mrr += 1.0 / (r as f64 + 1.0);
                }
                if kind == "all" && rank.is_none_or(|r| r >= 5) && *label == modes.last().unwrap().0
                {
                    let got: Vec<String> = hits
                        .iter()
                        .take(3)
                        .map(|h| format!("{}/{}", h.entry.skill, h.entry.tool))
                        .collect();
                    misses.push(format!(
                        "{:?} expected {:?}, got {:?}",
                        q.query, q.expect, got
                    ));
                }
            }
            let n = score.queries.max(1) as f64;
            score.recall_at_1 /= n;
            score.recall_at_5 /= n;
            score.mrr /= n;
            report
                .entry(label.to_string())
                .or_default()
                .insert(kind.to_string(), score);
        }
    }

    // Latency: median of the queries, each run 20 times after a warm-up.
    let mut latency = BTreeMap::new();
    for (label, mode) in &modes {
        let mut times = Vec::new();
        for (q, qv) in queries.iter().zip(&query_vectors) {
            let _ = index.search_with(&q.query, 5, *mode, &vectors, qv);
            let started = Instant::now();
            for _ in 0..20 {
                std::hint::black_box(index.search_with(&q.query, 5, *mode, &vectors, qv));
            }
            times.push(started.elapsed().as_secs_f64() * 1000.0 / 20.0);
        }
        times.sort_by(f64::total_cmp);
        latency.insert(format!("{label}_search_ms_p50"), times[times.len() / 2]);
    }
    if let Some(model) = &model {
        let mut times: Vec<f64> = queries
            .iter()
            .map(|q| {
                let started = Instant::now();
                model.embed(std::slice::from_ref(&q.query)).unwrap();
                started.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        times.sort_by(f64::total_cmp);
        latency.insert("query_embedding_ms_p50".into(), times[times.len() / 2]);
    }

    // Indexing one 10-tool skill, as an install does: words, then (with the model loaded
    // once per install) three texts a tool.
    let ten: Vec<&Tool> = skills.iter().flat_map(|s| &s.tools).take(10).collect();
    let big = Skill {
        name: "ten-tools".into(),
        description: skills[0].description.clone(),
        summary: skills[0].summary.clone(),
        tools: ten
            .iter()
            .enumerate()
            .map(|(i, t)| Tool {
                name: format!("{}-{i}", t.name),
                description: t.description.clone(),
                params: t.params.clone(),
                doc: t.doc.clone(),
            })
            .collect(),
    };
    let (manifest, md) = package(&big);
    let started = Instant::now();
    index.insert("2", &manifest, md.as_deref());
    latency.insert(
        "index_10_tools_words_ms".into(),
        started.elapsed().as_secs_f64() * 1000.0,
    );
    if let (Some(model), Some(dir)) = (&model, &model_dir) {
        let started = Instant::now();
        let reloaded = LocalModel::load(dir).unwrap();
        latency.insert(
            "model_load_ms".into(),
            started.elapsed().as_secs_f64() * 1000.0,
        );
        let started = Instant::now();
        vectors.refresh(&index, &reloaded).unwrap();
        latency.insert(
            "index_10_tools_embeddings_ms".into(),
            started.elapsed().as_secs_f64() * 1000.0,
        );
        let _ = model;
    }

    if json {
        let out = serde_json::json!({
            "skills": skills.len(), "tools": index.len(), "queries": queries.len(),
            "scores": report, "latency": latency,
        });
        println!("{}", serde_json::to_string_pretty(&out).unwrap());
        return;
    }
    println!(
        "{} skills, {} tools, {} queries ({} words, {} paraphrases)",
        skills.len(),
        index.len(),
        queries.len(),
        queries.iter().filter(|q| q.kind == "words").count(),
        queries.iter().filter(|q| q.kind == "paraphrase").count()
    );
    println!(
        "{:<10} {:<11} {:>9} {:>9} {:>6}",
        "mode", "queries", "recall@1", "recall@5", "MRR"
    );
    for (label, kinds) in &report {
        for (kind, s) in kinds {
            println!(
                "{label:<10} {kind:<11} {:>9.3} {:>9.3} {:>6.3}",
                s.recall_at_1, s.recall_at_5, s.mrr
            );
        }
    }
    for (name, ms) in &latency {
        println!("{name}: {ms:.3}");
    }
    if !misses.is_empty() {
        println!("\nnot in the top 5 ({}):", modes.last().unwrap().0);
        for miss in misses {
            println!("  {miss}");
        }
    }
}
