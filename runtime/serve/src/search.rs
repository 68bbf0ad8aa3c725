//! `skill serve --tools=search`: instead of every tool of every instance (tens of thousands
//! of tokens with fifty skills), an MCP client sees three tools: `find_tools` (search by
//! task), `describe_tool` (one tool's input schema and SKILL.md section) and `call_tool`
//! (run one by its MCP name). The name a client approves in `call_tool`'s arguments is the
//! real `<skill>_<instance>__<tool>`, and the call goes through the same executor, sandbox and
//! limits as a listed tool's.

use std::sync::{Arc, OnceLock};

use rmcp::ErrorData as McpError;
use rmcp::model::{CallToolRequestParams, CallToolResult, ContentBlock, Tool};
use serde_json::{Map, Value, json};
use skill_engine::host::EventSink;
use skill_host::Overrides;
use skill_index::embed::{Embedder, Provider};
use skill_index::{Index, Mode, Vectors};

use super::ServeState;
use super::mcp::call_result;

pub const FIND: &str = "find_tools";
pub const DESCRIBE: &str = "describe_tool";
pub const CALL: &str = "call_tool";
/// Most tools one `find_tools` returns.
const MAX_LIMIT: usize = 20;

/// The embedder of the server's search settings, made on the first search and kept (the
/// local model is about 90 MB); None when there is none (search is then by words).
#[derive(Default)]
pub struct Searcher {
    provider: Provider,
    embedder: OnceLock<Option<Arc<dyn Embedder>>>,
    /// One embedding at a time: what a search holds (the model's activations, a server's
    /// answer) is then bounded for the whole server, not per concurrent request.
    one_at_a_time: std::sync::Mutex<()>,
}

impl Searcher {
    pub fn new(provider: Provider) -> Self {
        Searcher {
            provider,
            embedder: OnceLock::new(),
            one_at_a_time: Default::default(),
        }
    }

    /// Called on a blocking thread (`spawn_blocking`).
    fn embedder(&self, home: &skill_engine::SkillHome) -> Option<Arc<dyn Embedder>> {
        let make = || {
            self.provider
                .embedder(home)
                .map_err(|e| tracing::warn!("searching by words only: {e}"))
                .ok()
                .flatten()
                .map(Arc::from)
        };
        // A server's blocking HTTP client must not be dropped on an async thread (as a kept
        // one would be when the server stops): one per search, made and dropped here.
        if self.provider.is_remote() {
            return make();
        }
        self.embedder.get_or_init(make).clone()
    }
}

fn schema(value: Value) -> Arc<Map<String, Value>> {
    match value {
        Value::Object(map) => Arc::new(map),
        _ => unreachable!("schemas are objects"),
    }
}

/// The three tools a client sees in search mode.
pub fn meta_tools() -> Vec<Tool> {
    vec![
        Tool::new(
            FIND,
            "Find tools for a task among all installed skills. Describe what you want to do in plain words; returns the best matching tools with their names (pass one to describe_tool or call_tool).",
            schema(json!({
                "type": "object",
                "properties": {
                    "query": { "type": "string", "description": "The task, in your own words (e.g. \"open an issue on GitHub\")" },
                    "limit": { "type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 5, "description": "At most this many tools" }
                },
                "required": ["query"]
            })),
        ),
        Tool::new(
            DESCRIBE,
            "Describe one tool found by find_tools: its full input schema and its documentation.",
            schema(json!({
                "type": "object",
                "properties": {
                    "name": { "type": "string", "description": "The tool's name as find_tools gave it (<skill>_<instance>__<tool>)" }
                },
                "required": ["name"]
            })),
        ),
        Tool::new(
            CALL,
            "Call one tool found by find_tools, by its name, with arguments matching its input schema (see describe_tool). It runs sandboxed with only the permissions its skill instance was granted.",
            schema(json!({
                "type": "object",
                "properties": {
                    "name": { "type": "string", "description": "The tool's name (<skill>_<instance>__<tool>)" },
                    "arguments": { "type": "object", "description": "The tool's arguments", "default": {} }
                },
                "required": ["name"]
            })),
        ),
    ]
}

fn text_arg<'a>(args: &'a Map<String, Value>, name: &str) -> Result<&'a str, McpError> {
    args.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| McpError::invalid_params(format!("`{name}` (a string) is required"), None))
}

/// A meta tool's call. Only a call of an unknown tool is a protocol error; a tool name that
/// `call_tool` or `describe_tool` does not know is an `isError` result the model can read.
pub async fn call(
    state: &Arc<ServeState>,
    request: CallToolRequestParams,
    events: Option<EventSink>,
) -> Result<CallToolResult, McpError> {
    let args = request.arguments.unwrap_or_default();
    match &*request.name {
        FIND => {
            let query = text_arg(&args, "query")?.to_string();
            let limit = args
                .get("limit")
                .and_then(Value::as_u64)
                .map_or(5, |n| (n as usize).clamp(1, MAX_LIMIT));
            let state = state.clone();
            tokio::task::spawn_blocking(move || find(&state, &query, limit))
                .await
                .map_err(|e| McpError::internal_error(format!("search failed: {e}"), None))
        }
        DESCRIBE => Ok(describe(state, text_arg(&args, "name")?)),
        CALL => {
            let name = text_arg(&args, "name")?;
            let arguments = match args.get("arguments") {
                None | Some(Value::Null) => Map::new(),
                Some(Value::Object(map)) => map.clone(),
                Some(_) => {
                    return Err(McpError::invalid_params(
                        "`arguments` must be an object",
                        None,
                    ));
                }
            };
            let catalog = state.catalog();
            let Some(route) = catalog.route(name) else {
                return Ok(unknown(name));
            };
            let outcome = state
                .executor
                .call(route, &arguments, Overrides::default(), events)
                .await;
            Ok(call_result(route, outcome))
        }
        other => Err(McpError::invalid_params(
            format!("no tool named `{other}` (this server offers {FIND}, {DESCRIBE} and {CALL})"),
            None,
        )),
    }
}

fn unknown(name: &str) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(format!(
        "no tool named `{name}`; use {FIND} to find one"
    ))])
}

/// Searches the index (kept in step with the store) and answers with the served routes of
/// each hit: one entry per instance.
fn find(state: &ServeState, query: &str, limit: usize) -> CallToolResult {
    let catalog = state.catalog();
    let index = Index::open(&state.home);
    let _one = state
        .searcher
        .one_at_a_time
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let embedder = state.searcher.embedder(&state.home);
    // A server that fails (down, slow, lying) leaves the search to words, with a warning.
    let ranked = embedder.as_ref().and_then(|embedder| {
        let warn = |e: skill_engine::Error| tracing::warn!("searching by words only: {e}");
        let mut vectors = Vectors::load(&state.home, &embedder.id());
        if vectors.is_stale(&index) {
            vectors
                .refresh(&index, embedder.as_ref())
                .map_err(warn)
                .ok()?;
            let _ = vectors.save(&state.home);
        }
        let mut query_vector = embedder.embed(&[query.to_string()]).map_err(warn).ok()?;
        Some((vectors, query_vector.pop()?))
    });
    // Every hit: those of skills this server does not serve are dropped below, and must not
    // push served ones out first.
    let all = index.len();
    let hits = match &ranked {
        Some((vectors, q)) => index.search_with(query, all, Mode::Hybrid, vectors, q),
        None => index.search(query, all),
    };
    let mut found = Vec::new();
    for hit in &hits {
        for route in catalog
            .routes()
            .filter(|r| r.skill.manifest.name == hit.entry.skill && r.tool.name == hit.entry.tool)
        {
            found.push(json!({
                "name": route.mcp_name,
                "skill": route.skill.manifest.name,
                "instance": route.instance,
                "tool": route.tool.name,
                "description": route.tool.description,
                "score": (hit.score * 1000.0).round() / 1000.0,
            }));
        }
        if found.len() >= limit {
            break;
        }
    }
    found.truncate(limit);
    let text = if found.is_empty() {
        format!("No tool matches \"{query}\". Try other words: what the tool does, not how.")
    } else {
        found
            .iter()
            .map(|f| {
                // One line a tool: a description with line breaks could forge another entry.
                let description = f["description"].as_str().unwrap_or_default();
                format!(
                    "{} — [{}@{}] {}",
                    f["name"].as_str().unwrap_or_default(),
                    f["skill"].as_str().unwrap_or_default(),
                    f["instance"].as_str().unwrap_or_default(),
                    description.split_whitespace().collect::<Vec<_>>().join(" ")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
    result.structured_content = Some(json!({ "tools": found }));
    result
}

fn describe(state: &ServeState, name: &str) -> CallToolResult {
    let catalog = state.catalog();
    let Some(route) = catalog.route(name) else {
        return unknown(name);
    };
    let documentation = route
        .skill
        .skill_md
        .as_deref()
        .and_then(|text| skill_manifest::skill_md::SkillMd::parse(text).ok())
        .and_then(|md| {
            md.tool_section(&route.tool.name)
                .map(|s| skill_manifest::skill_md::authored(&s.text))
        })
        .unwrap_or_default();
    let schema = Value::Object((*route.input_schema).clone());
    let mut text = format!(
        "{} — {}\nInput schema: {}",
        route.mcp_name,
        route.description(),
        serde_json::to_string_pretty(&schema).unwrap_or_default()
    );
    // Title, annotations and output schema exactly as `--tools=all` would list them.
    let listed = serde_json::to_value(crate::mcp::tool_of(route)).unwrap_or_default();
    let mut described = json!({
        "name": route.mcp_name,
        "skill": route.skill.manifest.name,
        "instance": route.instance,
        "tool": route.tool.name,
        "description": route.description(),
        "inputSchema": schema,
        "documentation": documentation,
    });
    for key in ["title", "annotations", "outputSchema"] {
        if let Some(value) = listed.get(key) {
            text.push_str(&format!("\n{key}: {value}"));
            described[key] = value.clone();
        }
    }
    if !documentation.is_empty() {
        text.push_str(&format!("\n\nDocumentation:\n{documentation}"));
    }
    let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
    result.structured_content = Some(described);
    result
}
