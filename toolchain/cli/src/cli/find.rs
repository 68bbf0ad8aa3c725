use std::process::ExitCode;

use console::style;
use skill_index::embed::Provider;
use skill_index::{Hit, Index, Mode, Vectors};
use skill_manifest::manifest::ToolDef;
use skill_store::instance::Instances;

use super::Context;
use crate::ui::shown;

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Searches the tools of installed skills: their names, descriptions and parameters, and what
the skills' SKILL.md say about them. Tools are ranked by meaning with an embedding model
(the local all-MiniLM-L6-v2 that `skill doctor --install` adds, or an Ollama or
OpenAI-compatible server), with matching words as a tie-breaker; without a model, by words
alone (BM25, after stemming: \"listing issues\" finds list-issues). The index is kept under
$SKILL_HOME/index and updated on install, update and remove.

Providers (--provider, or `skill settings set search.provider …`):
  auto     the local model when it is installed, else words only (the default)
  local    all-MiniLM-L6-v2 on this machine's CPU
  ollama   POST {url}/api/embed          (--url, default http://127.0.0.1:11434)
  openai   POST {url}/v1/embeddings      (--url, default https://api.openai.com; the key
           comes from SKILL_SEARCH_API_KEY, or OPENAI_API_KEY for api.openai.com only)
  none     words only

Examples:
  skill find \"open an issue on github\"
  skill find weather --limit 3 --json")]
pub struct Args {
    /// What you want to do, in your own words
    #[arg(value_name = "QUERY", required = true, num_args = 1..)]
    query: Vec<String>,

    /// At most this many tools
    #[arg(short = 'n', long, default_value_t = 5, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=100))]
    limit: u16,

    /// What ranks tools by meaning: auto, local, ollama, openai or none (setting
    /// search.provider)
    #[arg(long, value_name = "PROVIDER")]
    provider: Option<String>,

    /// The embedding server's address, for ollama and openai (setting search.url)
    #[arg(long, value_name = "URL")]
    url: Option<String>,

    /// The embedding model the server runs (setting search.model)
    #[arg(long, value_name = "MODEL")]
    model: Option<String>,

    /// Print the results as JSON on stdout
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let json = args.json || ctx.output_json;
    let home = ctx.home()?;
    let query = args.query.join(" ");
    let index = Index::open(&home);
    let provider = args
        .provider
        .clone()
        .unwrap_or_else(|| ctx.settings.get("search.provider").to_string());
    let url = args
        .url
        .clone()
        .unwrap_or_else(|| ctx.settings.get("search.url").to_string());
    let model = args
        .model
        .clone()
        .unwrap_or_else(|| ctx.settings.get("search.model").to_string());
    let embedder = Provider {
        name: provider,
        url,
        model,
    }
    .embedder(&home)?;
    let (vectors, query_vector) = match &embedder {
        Some(embedder) if !index.is_empty() => {
            let mut vectors = Vectors::load(&home, &embedder.id());
            if vectors.is_stale(&index) {
                let stage = ctx
                    .printer
                    .stage("Indexing", "tools by meaning (once per change)");
                let refreshed = vectors.refresh(&index, embedder.as_ref());
                if refreshed.is_err() {
                    stage.fail();
                } else {
                    stage.done();
                }
                refreshed?;
                // A read-only home still searches; the next writer saves.
                let _ = vectors.save(&home);
            }
            let query_vector = embedder.embed(std::slice::from_ref(&query))?.remove(0);
            (Some(vectors), query_vector)
        }
        _ => (None, Vec::new()),
    };
    let hits = match &vectors {
        Some(vectors) => index.search_with(
            &query,
            usize::from(args.limit),
            Mode::Hybrid,
            vectors,
            &query_vector,
        ),
        None => index.search(&query, usize::from(args.limit)),
    };
    let instances = Instances::new(home);
    let found: Vec<Found> = hits
        .iter()
        .map(|hit| Found::new(hit, instances.list(&hit.entry.skill)))
        .collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&found)?);
        return Ok(ExitCode::SUCCESS);
    }
    if index.is_empty() {
        ctx.printer
            .note("No skills installed. Install one with `skill install <path>`.");
        return Ok(ExitCode::SUCCESS);
    }
    if found.is_empty() {
        return Err(skill_engine::Error::not_found(format!(
            "no tool matches \"{}\" among {} installed tools",
            shown(&query),
            index.len()
        ))
        .with_hint(
            "try other words (what the tool does, not how), or see them all with `skill list -l`",
        )
        .into());
    }
    for (i, f) in found.iter().enumerate() {
        if i > 0 {
            println!();
        }
        print_found(f);
    }
    Ok(ExitCode::SUCCESS)
}

/// One result, as `--json` prints it and as the terminal shows it.
#[derive(serde::Serialize)]
struct Found<'a> {
    #[serde(flatten)]
    hit: &'a Hit<'a>,
    /// The instances that run this tool, `skill@instance`.
    instances: Vec<String>,
    /// The command that runs it, with its parameters as flags.
    command: String,
}

impl<'a> Found<'a> {
    fn new(hit: &'a Hit<'a>, instances: Vec<String>) -> Found<'a> {
        let e = hit.entry;
        // `skill:tool` runs the default instance; without one, name the first.
        let target = match instances.first() {
            Some(first) if !instances.iter().any(|i| i == "default") => {
                format!("{}@{first}", e.skill)
            }
            _ => e.skill.clone(),
        };
        let tool = ToolDef {
            name: e.tool.clone(),
            description: String::new(),
            params: e.params.clone(),
            ..ToolDef::default()
        };
        let usage = skill_manifest::args::usage_line(&tool);
        let command = format!("skill run {target}:{} {usage}", e.tool)
            .trim_end()
            .to_string();
        Found {
            hit,
            instances: instances
                .iter()
                .map(|i| format!("{}@{i}", e.skill))
                .collect(),
            command,
        }
    }
}

fn print_found(f: &Found<'_>) {
    let e = f.hit.entry;
    let at = if f.instances.is_empty() {
        e.skill.clone()
    } else {
        f.instances.join(", ")
    };
    println!(
        "{} {} → {}",
        style(format!("{:5.2}", f.hit.score)).dim(),
        style(shown(&at)).cyan(),
        style(shown(&e.tool)).bold()
    );
    // One line: a description's line breaks could pass for another result.
    let description = e
        .description
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    println!("      {}", shown(&description));
    for line in &e.excerpt {
        println!("      {} {}", style("│").dim(), shown(line));
    }
    println!("      {} {}", style("$").dim(), shown(&f.command));
    for p in &e.params {
        let mut about = format!("{} ({}", p.name, p.kind.as_str());
        if p.required {
            about.push_str(", required");
        } else if let Some(default) = &p.default {
            about.push_str(&format!(", default {default}"));
        }
        about.push(')');
        if !p.description.is_empty() {
            about.push_str(&format!(": {}", p.description));
        }
        println!("        {}", shown(&about));
    }
    if let Some(example) = &e.example {
        println!("      e.g. {}", shown(example));
    }
}
