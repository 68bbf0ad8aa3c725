//! The MCP side of `skill serve` (rmcp): `tools/list` from the catalog, `tools/call` through
//! the executor with the guest's progress forwarded, and `tools/list_changed` when
//! `$SKILL_HOME` changes — to handshake-era sessions directly and to 2026-07-28 clients
//! through `subscriptions/listen`. Plain `tools/call` requests of HTTP sessions take a direct
//! path (`mcp_direct`) into the same `run_tool`.

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ProgressNotificationParam,
    ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Resource,
    ResourceContents, ServerCapabilities, ServerConfig, SubscriptionFilter, Tool, ToolAnnotations,
};
use rmcp::service::{NotificationContext, RequestContext, SubscriptionContext};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use skill_engine::host::{Event, EventSink};
use skill_engine::{Error, ErrorKind};
use skill_host::{Finished, Overrides};

use super::catalog::Route;
use super::{ServeState, ToolsMode};

/// Tools per `tools/list` page.
pub const TOOLS_PAGE: usize = 100;
/// Progress notifications waiting for one client; a client that does not keep up loses
/// progress beyond these (never the result).
const PROGRESS_BACKLOG: usize = 32;

#[derive(Clone)]
pub struct SkillMcp {
    state: Arc<ServeState>,
}

impl SkillMcp {
    pub fn new(state: Arc<ServeState>) -> Self {
        SkillMcp { state }
    }
}

/// A route as MCP lists it: its title starts with the instance, as its description does (a
/// host may show the title instead of the name when it asks for permission, and what comes
/// first cannot be pushed out of sight by the author's text), and its annotations are those
/// the permissions do not contradict.
pub fn tool_of(route: &Route) -> Tool {
    let mut tool = Tool::new(
        route.mcp_name.clone(),
        route.description(),
        route.input_schema.clone(),
    );
    let def = &route.tool;
    if let Some(title) = &def.title {
        tool.title = Some(format!(
            "[{}@{}] {title}",
            route.skill.manifest.name, route.instance
        ));
    }
    if !def.annotations.is_empty() {
        let mut annotations = ToolAnnotations::default();
        annotations.read_only_hint = def.annotations.read_only;
        annotations.destructive_hint = def.annotations.destructive;
        annotations.idempotent_hint = def.annotations.idempotent;
        annotations.open_world_hint = def.annotations.open_world;
        tool.annotations = Some(annotations);
    }
    if let Some(serde_json::Value::Object(schema)) = &def.output_schema {
        tool.output_schema = Some(Arc::new(schema.clone()));
    }
    tool
}

/// A call's outcome as MCP content: text (and structured data) on success; everything else
/// — a tool error, bad arguments, an unconfigured instance, a trap or a limit — an
/// `isError` result the model can read, never a protocol error.
pub fn call_result(route: &Route, outcome: Result<Finished, Error>) -> CallToolResult {
    match outcome.and_then(|finished| finished.result) {
        Ok(output) => {
            let text = if output.text.is_empty() {
                output
                    .data
                    .as_ref()
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            } else {
                output.text
            };
            let declared = route.tool.output_schema.is_some();
            let data = match output.data {
                // structuredContent must be an object; other JSON stays in the text.
                Some(data @ serde_json::Value::Object(_)) => Some(data),
                _ if declared => {
                    return CallToolResult::error(vec![ContentBlock::text(format!(
                        "{}: the tool declares an output schema but returned no JSON object as data",
                        route.qualified()
                    ))]);
                }
                _ => None,
            };
            let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
            result.structured_content = data;
            result
        }
        // A tool's own error reads as it wrote it; the runtime's errors carry their hint.
        Err(e) if e.kind() == ErrorKind::Tool => CallToolResult::error(vec![ContentBlock::text(
            format!("{}: {e}", route.qualified()),
        )]),
        Err(e) => {
            let mut text = format!("{}: {}", route.qualified(), e.message());
            if let Some(hint) = crate::hint::remote_hint(&e) {
                text.push_str(&format!(" (hint: {hint})"));
            }
            CallToolResult::error(vec![ContentBlock::text(text)])
        }
    }
}

/// `tools/call`, for the rmcp handler and for the direct HTTP path (`mcp_direct`). Only an
/// unknown tool is a protocol error.
pub async fn run_tool(
    state: &Arc<ServeState>,
    request: CallToolRequestParams,
    events: Option<EventSink>,
) -> Result<CallToolResult, McpError> {
    if state.tools_mode == ToolsMode::Search {
        return crate::search::call(state, request, events).await;
    }
    let catalog = state.catalog();
    let Some(route) = catalog.route(&request.name) else {
        return Err(McpError::invalid_params(
            format!("no tool named `{}`", request.name),
            None,
        ));
    };
    let arguments = request.arguments.unwrap_or_default();
    let outcome = state
        .executor
        .call(route, &arguments, Overrides::default(), events)
        .await;
    Ok(call_result(route, outcome))
}

impl ServerHandler for SkillMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_tool_list_changed()
                .enable_resources()
                .build(),
        )
        .with_server_info(Implementation::new("skill", env!("CARGO_PKG_VERSION")))
        .with_instructions(match self.state.tools_mode {
            ToolsMode::All => {
                "Tools of installed WebAssembly skills, named <skill>_<instance>__<tool>. \
                 Each runs sandboxed with only the permissions its instance was granted."
            }
            ToolsMode::Search => {
                "Tools of installed WebAssembly skills, found on demand: call find_tools with \
                 the task in plain words, describe_tool for a tool's input schema, then \
                 call_tool with its name and arguments. Each runs sandboxed with only the \
                 permissions its instance was granted."
            }
        })
    }

    /// Pages of [`TOOLS_PAGE`] tools; the cursor is the last name of the previous page.
    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        if self.state.tools_mode == ToolsMode::Search {
            return Ok(ListToolsResult::with_all_items(crate::search::meta_tools()));
        }
        let catalog = self.state.catalog();
        let after = request.and_then(|r| r.cursor);
        let mut page: Vec<Tool> = catalog
            .routes_after(after.as_deref())
            .take(TOOLS_PAGE + 1)
            .map(tool_of)
            .collect();
        let more = page.len() > TOOLS_PAGE;
        page.truncate(TOOLS_PAGE);
        let mut result = ListToolsResult::with_all_items(page);
        if more {
            result.next_cursor = result.tools.last().map(|t| t.name.to_string());
        }
        Ok(result)
    }

    /// Each served skill's SKILL.md, as `skill://<skill>/SKILL.md`.
    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let catalog = self.state.catalog();
        let resources = served_skill_docs(&catalog)
            .map(|(skill, text)| {
                Resource::new(
                    skill_md_uri(&skill.manifest.name),
                    skill.manifest.name.clone(),
                )
                .with_title(format!("{} SKILL.md", skill.manifest.name))
                .with_description(skill.manifest.description.clone())
                .with_mime_type("text/markdown")
                .with_size(text.len() as u64)
            })
            .collect();
        Ok(ListResourcesResult::with_all_items(resources))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let catalog = self.state.catalog();
        let found = served_skill_docs(&catalog)
            .find(|(skill, _)| skill_md_uri(&skill.manifest.name) == request.uri);
        match found {
            Some((_, text)) => Ok(ReadResourceResult::new(vec![
                ResourceContents::text(text, request.uri.clone()).with_mime_type("text/markdown"),
            ])
            .into()),
            None => Err(McpError::resource_not_found(
                format!("no resource `{}`", request.uri),
                None,
            )),
        }
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        match self.state.tools_mode {
            ToolsMode::All => self.state.catalog().route(name).map(tool_of),
            ToolsMode::Search => crate::search::meta_tools()
                .into_iter()
                .find(|t| t.name == name),
        }
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let (events, forwarder) = match context.meta.get_progress_token() {
            Some(token) => {
                let (sink, forwarder) = progress_sink(token, context.peer.clone());
                (Some(sink), Some(forwarder))
            }
            None => (None, None),
        };
        let result = run_tool(&self.state, request, events).await;
        // Progress for a request must reach the client before its result does.
        if let Some(forwarder) = forwarder {
            let _ = forwarder.await;
        }
        Ok(result?.into())
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        // Handshake-era sessions get list_changed on their own channel until it closes.
        let mut changes = self.state.tools_changed.subscribe();
        let peer = context.peer.clone();
        tokio::spawn(async move {
            while changes.changed().await.is_ok() {
                if peer.notify_tool_list_changed().await.is_err() {
                    break;
                }
            }
        });
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        (requested.tools_list_changed == Some(true))
            .then(|| SubscriptionFilter::builder().tools_list_changed().build())
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), McpError> {
        let mut changes = self.state.tools_changed.subscribe();
        loop {
            tokio::select! {
                _ = context.cancelled() => return Ok(()),
                changed = changes.changed() => {
                    if changed.is_err() {
                        return Ok(());
                    }
                    if context.sink().notify_tool_list_changed().await.is_err() {
                        return Ok(());
                    }
                }
            }
        }
    }
}

fn skill_md_uri(skill: &str) -> String {
    format!("skill://{skill}/SKILL.md")
}

/// The SKILL.md of each skill this server serves a tool of (`--only` applies).
fn served_skill_docs(
    catalog: &super::Catalog,
) -> impl Iterator<Item = (&skill_store::store::InstalledSkill, &str)> {
    let served: std::collections::BTreeSet<&str> = catalog
        .routes()
        .map(|r| r.skill.manifest.name.as_str())
        .collect();
    catalog
        .skills
        .iter()
        .filter(move |s| served.contains(s.manifest.name.as_str()))
        .filter_map(|s| Some((s.as_ref(), s.skill_md.as_deref()?)))
}

/// Forwards the guest's progress reports (made on the blocking call thread) to the client,
/// in order, as `notifications/progress` for the request's progress token.
/// The forwarder ends once the call is over and every copy of the sink is dropped.
fn progress_sink(
    token: rmcp::model::ProgressToken,
    peer: rmcp::Peer<RoleServer>,
) -> (EventSink, tokio::task::JoinHandle<()>) {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(f64, String)>(PROGRESS_BACKLOG);
    let forwarder = tokio::spawn(async move {
        let mut step = 0.0;
        while let Some((percent, message)) = rx.recv().await {
            // Progress must increase; a report without a percentage counts one step.
            step = if percent > step {
                percent
            } else {
                step + 0.001
            };
            let mut param = ProgressNotificationParam::new(token.clone(), step);
            param = param.with_total(100.0);
            if !message.is_empty() {
                param = param.with_message(message);
            }
            if peer.notify_progress(param).await.is_err() {
                break;
            }
        }
    });
    let sink: EventSink = Arc::new(move |event: &Event| match event {
        Event::Progress { percent, message } => {
            let _ = tx.try_send((percent.map_or(-1.0, f64::from), message.clone()));
        }
        Event::Log { level, message } => {
            tracing::debug!(level = level.as_str(), "guest: {message}");
        }
    });
    (sink, forwarder)
}
