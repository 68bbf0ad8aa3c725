//! The REST API: list skills, execute a tool (plain, SSE stream, WebSocket), health,
//! readiness, Prometheus metrics and the OpenAPI document.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use skill_engine::host::{Event, EventSink};
use skill_engine::{Error, ErrorKind};

use super::ServeState;
use super::catalog::Route;
use skill_host::instances::InstanceRef;
use skill_host::{Finished, Notice, Overrides};

/// Progress and log events waiting to be written to one SSE or WebSocket client. A client
/// that does not read loses events beyond these (results are never dropped).
const EVENT_BACKLOG: usize = 64;
/// Calls one WebSocket runs at once; further requests on it wait (and so does reading it).
const CALLS_PER_SOCKET: usize = 8;

/// What a WebSocket may send: messages no larger than a request body.
#[derive(Clone, Copy)]
struct SocketLimits {
    max_message: usize,
}

pub fn router(state: Arc<ServeState>, max_body: usize) -> Router {
    Router::new()
        .route("/api/v1/skills", get(list_skills))
        .route("/api/v1/skills/{name}", get(get_skill))
        .route("/api/v1/execute", post(execute))
        .route("/api/v1/stream", post(stream))
        .route(
            "/api/v1/ws",
            get(websocket).layer(axum::Extension(SocketLimits {
                max_message: max_body,
            })),
        )
        .route("/api/v1/openapi.json", get(openapi))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        // `--max-body` for the JSON bodies too: axum's extractors stop at 2 MiB by default,
        // whatever the server allows.
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .with_state(state)
}

/// `POST /api/v1/execute` and `/stream`, and each WebSocket message.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecuteRequest {
    /// `NAME` or `NAME@INSTANCE`.
    pub skill: String,
    #[serde(default)]
    pub instance: Option<String>,
    pub tool: String,
    #[serde(default)]
    pub args: serde_json::Map<String, Value>,
    /// Shortens (never extends) the instance's own timeout.
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// Echoed back on WebSocket replies.
    #[serde(default)]
    pub id: Option<Value>,
}

struct ApiError(Error);

impl ApiError {
    fn status(&self) -> StatusCode {
        match self.0.kind() {
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::InvalidInput => StatusCode::BAD_REQUEST,
            ErrorKind::PermissionDenied => StatusCode::FORBIDDEN,
            ErrorKind::NotConfigured | ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::Tool => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::Timeout => StatusCode::GATEWAY_TIMEOUT,
            ErrorKind::Contract
            | ErrorKind::Trap
            | ErrorKind::MemoryLimit
            | ErrorKind::OutputLimit
            | ErrorKind::Io
            | ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

pub fn error_json(e: &Error) -> Value {
    json!({ "error": { "kind": e.kind().as_str(), "message": e.message(), "hint": crate::hint::remote_hint(e) } })
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status(), Json(error_json(&self.0))).into_response()
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

async fn list_skills(State(state): State<Arc<ServeState>>) -> Json<Value> {
    let catalog = state.catalog();
    let skills: Vec<Value> = catalog
        .skills
        .iter()
        .map(|s| catalog.skill_json(s))
        .collect();
    Json(json!({ "skills": skills }))
}

async fn get_skill(
    State(state): State<Arc<ServeState>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let catalog = state.catalog();
    let skill = catalog.skill(&name).ok_or_else(|| {
        Error::not_found(format!("skill `{name}` is not served here"))
            .with_hint("GET /api/v1/skills lists what is")
    })?;
    Ok(Json(catalog.skill_json(skill)))
}

/// The route a request names, or a not-found error that says what exists.
fn resolve(state: &ServeState, request: &ExecuteRequest) -> Result<Route, Error> {
    // The same `NAME[@INSTANCE]` rules as the CLI (one instance, a valid name, `default`).
    let r = InstanceRef::parse(&request.skill, request.instance.as_deref())?;
    let (skill, instance) = (r.skill.as_str(), r.instance.as_str());
    let catalog = state.catalog();
    if let Some(route) = catalog.find(skill, instance, &request.tool) {
        return Ok(route.clone());
    }
    let Some(installed) = catalog.skill(skill) else {
        return Err(
            Error::not_found(format!("skill `{skill}` is not served here"))
                .with_hint("GET /api/v1/skills lists what is"),
        );
    };
    let instances = catalog.instances.get(skill).cloned().unwrap_or_default();
    if !instances.iter().any(|i| i == instance) {
        return Err(
            Error::not_found(format!("skill `{skill}` has no instance `{instance}`"))
                .with_hint(format!("instances: {}", instances.join(", "))),
        );
    }
    // Served, with that instance: only the tool is unknown.
    Err(installed
        .manifest
        .find_tool(&request.tool)
        .err()
        .unwrap_or_else(|| Error::not_found(format!("`{}` is not served here", request.tool))))
}

/// The JSON body of a finished call: `{text, data, duration_ms}` (and `warnings`, when the
/// call had notices such as refused hosts), or an error.
fn outcome_json(finished: Result<Finished, Error>) -> Result<Value, Error> {
    let finished = finished?;
    let duration_ms = finished.duration.as_secs_f64() * 1000.0;
    // The tool's own error, whatever it says it is: 422 (the call ran), kind `tool`.
    let output = finished
        .result
        .map_err(|e| Error::new(ErrorKind::Tool, e.message()))?;
    let mut body = json!({ "text": output.text, "data": output.data, "duration_ms": duration_ms });
    if !finished.notices.is_empty() {
        let warnings: Vec<String> = finished.notices.iter().map(Notice::remote_text).collect();
        body["warnings"] = json!(warnings);
    }
    Ok(body)
}

async fn run(
    state: &Arc<ServeState>,
    request: &ExecuteRequest,
    events: Option<EventSink>,
) -> Result<Value, Error> {
    let route = resolve(state, request)?;
    let overrides = Overrides {
        timeout: request.timeout_ms.map(Duration::from_millis),
    };
    let outcome = state
        .executor
        .call(&route, &request.args, overrides, events)
        .await;
    outcome_json(outcome)
}

async fn execute(
    State(state): State<Arc<ServeState>>,
    body: Result<Json<ExecuteRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(request) = body.map_err(bad_json)?;
    Ok(Json(run(&state, &request, None).await?))
}

fn bad_json(rejection: axum::extract::rejection::JsonRejection) -> ApiError {
    ApiError(
        Error::invalid(format!("bad request body: {}", rejection.body_text())).with_hint(
            r#"send JSON like {"skill": "hello@default", "tool": "greet", "args": {"name": "World"}}"#,
        ),
    )
}

/// Guest events as JSON, for SSE `progress`/`log` events and WebSocket messages.
fn event_json(event: &Event) -> (&'static str, Value) {
    match event {
        Event::Progress { percent, message } => (
            "progress",
            json!({ "percent": percent, "message": message }),
        ),
        Event::Log { level, message } => ("log", json!({ "level": level, "message": message })),
    }
}

/// `POST /api/v1/stream`: SSE events `start`, `progress` (and `log`), `done`, then `close`.
async fn stream(
    State(state): State<Arc<ServeState>>,
    body: Result<Json<ExecuteRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Sse<impl futures::Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let Json(request) = body.map_err(bad_json)?;
    let route = resolve(&state, &request)?;
    let (tx, rx) = tokio::sync::mpsc::channel::<SseEvent>(EVENT_BACKLOG);
    let start = json!({ "skill": route.skill.manifest.name, "instance": route.instance, "tool": route.tool.name });
    let _ = tx.try_send(SseEvent::default().event("start").data(start.to_string()));
    let sink_tx = tx.clone();
    // Bounded: a client that does not read loses progress, not the server's memory.
    let events: EventSink = Arc::new(move |event: &Event| {
        let (name, data) = event_json(event);
        let _ = sink_tx.try_send(SseEvent::default().event(name).data(data.to_string()));
    });
    tokio::spawn(async move {
        let done = match run(&state, &request, Some(events)).await {
            Ok(result) => result,
            Err(e) => error_json(&e),
        };
        let _ = tx
            .send(SseEvent::default().event("done").data(done.to_string()))
            .await;
        let _ = tx.send(SseEvent::default().event("close").data("{}")).await;
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx).map(Ok);
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// `GET /api/v1/ws`: each text message is an execute request; replies carry its `id`:
/// `{"id", "type": "progress"|"log", ...}` while it runs, then `{"id", "type": "done", ...}`.
/// Messages are limited like request bodies (`--max-body`), and one socket runs at most
/// [`CALLS_PER_SOCKET`] calls at once.
async fn websocket(
    State(state): State<Arc<ServeState>>,
    axum::Extension(limits): axum::Extension<SocketLimits>,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .max_message_size(limits.max_message)
        .max_frame_size(limits.max_message)
        .on_upgrade(move |socket| serve_socket(state, socket))
}

async fn serve_socket(state: Arc<ServeState>, socket: WebSocket) {
    let (mut sender, mut receiver) = socket.split();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Value>(EVENT_BACKLOG);
    let running = Arc::new(tokio::sync::Semaphore::new(CALLS_PER_SOCKET));
    let writer = tokio::spawn(async move {
        use futures::SinkExt;
        while let Some(value) = rx.recv().await {
            if sender
                .send(Message::Text(value.to_string().into()))
                .await
                .is_err()
            {
                break;
            }
        }
    });
    while let Some(Ok(message)) = receiver.next().await {
        let text = match message {
            Message::Text(text) => text,
            Message::Close(_) => break,
            _ => continue,
        };
        let request: ExecuteRequest = match serde_json::from_str(&text) {
            Ok(r) => r,
            Err(e) => {
                let err = Error::invalid(format!("bad message: {e}"));
                let mut reply = error_json(&err);
                reply["type"] = json!("done");
                let _ = tx.send(reply).await;
                continue;
            }
        };
        // Calls on one socket run concurrently (up to a few); replies are matched by `id`.
        let Ok(slot) = running.clone().acquire_owned().await else {
            break;
        };
        let state = state.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let id = request.id.clone().unwrap_or(Value::Null);
            let sink_tx = tx.clone();
            let sink_id = id.clone();
            let events: EventSink = Arc::new(move |event: &Event| {
                let (kind, mut data) = event_json(event);
                data["id"] = sink_id.clone();
                data["type"] = json!(kind);
                let _ = sink_tx.try_send(data);
            });
            let mut reply = match run(&state, &request, Some(events)).await {
                Ok(result) => result,
                Err(e) => error_json(&e),
            };
            reply["id"] = id;
            reply["type"] = json!("done");
            let _ = tx.send(reply).await;
        });
    }
    drop(tx);
    let _ = writer.await;
}

async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn ready(State(state): State<Arc<ServeState>>) -> Response {
    if state.is_ready() {
        Json(json!({ "status": "ready" })).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "loading" })),
        )
            .into_response()
    }
}

async fn metrics(State(state): State<Arc<ServeState>>) -> Response {
    let mut text = state.executor.metrics.render();
    text.push_str(&format!(
        "# HELP skill_calls_in_flight Tool calls running now.\n# TYPE skill_calls_in_flight gauge\nskill_calls_in_flight {}\n",
        state.executor.in_flight()
    ));
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

async fn openapi() -> Json<Value> {
    Json(openapi_document())
}

/// OpenAPI 3.1 description of the routes above.
pub fn openapi_document() -> Value {
    let error = json!({ "$ref": "#/components/schemas/Error" });
    let execute_body = json!({
        "required": true,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ExecuteRequest" } } }
    });
    let errors = json!({
        "400": { "description": "Bad JSON, unknown or ill-typed arguments", "content": { "application/json": { "schema": error } } },
        "401": { "description": "Missing or wrong bearer token" },
        "403": { "description": "A Host the server does not answer to, or a browser Origin that was not configured" },
        "409": { "description": "An instance that is not configured (a required key is not set)", "content": { "application/json": { "schema": error } } },
        "404": { "description": "Unknown skill, instance or tool", "content": { "application/json": { "schema": error } } },
        "422": { "description": "The tool ran and reported an error", "content": { "application/json": { "schema": error } } },
        "500": { "description": "The guest trapped or hit a memory or output limit (kinds trap, memory-limit, output-limit)", "content": { "application/json": { "schema": error } } },
        "504": { "description": "The call ran out of time", "content": { "application/json": { "schema": error } } }
    });
    let mut execute_responses = errors.clone();
    execute_responses["200"] = json!({ "description": "The tool's result", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ExecuteResult" } } } });
    let mut stream_responses = errors;
    stream_responses["200"] = json!({ "description": "Server-sent events: start, progress, log, done (the result or an error), close", "content": { "text/event-stream": { "schema": { "type": "string" } } } });
    json!({
        "openapi": "3.1.0",
        "info": { "title": "skill", "version": env!("CARGO_PKG_VERSION"), "description": "Run the tools of installed WebAssembly skills. MCP (streamable HTTP) is served at /mcp." },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": {
                "ExecuteRequest": {
                    "type": "object",
                    "required": ["skill", "tool"],
                    "additionalProperties": false,
                    "properties": {
                        "skill": { "type": "string", "description": "NAME or NAME@INSTANCE", "examples": ["hello@default"] },
                        "instance": { "type": "string", "description": "The instance, when not given in `skill` (default: default)" },
                        "tool": { "type": "string" },
                        "args": { "type": "object", "description": "Arguments by name, typed as the tool declares" },
                        "timeout_ms": { "type": "integer", "minimum": 1, "description": "Shortens the instance's own timeout" },
                        "id": { "description": "Echoed on WebSocket replies" }
                    }
                },
                "ExecuteResult": {
                    "type": "object",
                    "required": ["text", "duration_ms"],
                    "properties": { "text": { "type": "string" }, "data": {}, "duration_ms": { "type": "number" } }
                },
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": { "error": { "type": "object", "required": ["kind", "message"], "properties": {
                        "kind": { "type": "string", "enum": ["not-found", "invalid-input", "not-configured", "permission-denied", "conflict", "contract", "tool", "trap", "timeout", "memory-limit", "output-limit", "io", "internal", "forbidden", "unauthorized"] },
                        "message": { "type": "string" },
                        "hint": { "type": ["string", "null"] }
                    } } }
                }
            }
        },
        "security": [{ "bearer": [] }, {}],
        "paths": {
            "/api/v1/skills": { "get": { "summary": "Installed skills with their instances and tools", "responses": { "200": { "description": "Skills", "content": { "application/json": { "schema": { "type": "object" } } } } } } },
            "/api/v1/skills/{name}": { "get": {
                "summary": "One skill",
                "parameters": [{ "name": "name", "in": "path", "required": true, "schema": { "type": "string" } }],
                "responses": { "200": { "description": "The skill", "content": { "application/json": { "schema": { "type": "object" } } } }, "404": { "description": "Not served here", "content": { "application/json": { "schema": error } } } }
            } },
            "/api/v1/execute": { "post": { "summary": "Run a tool and wait for its result", "requestBody": execute_body, "responses": execute_responses } },
            "/api/v1/stream": { "post": { "summary": "Run a tool, streaming its progress as server-sent events", "requestBody": execute_body, "responses": stream_responses } },
            "/api/v1/ws": { "get": { "summary": "WebSocket: send execute requests (with an id), receive progress and done messages", "responses": { "101": { "description": "Switching protocols" } } } },
            "/health": { "get": { "summary": "Liveness", "security": [], "responses": { "200": { "description": "Alive" } } } },
            "/ready": { "get": { "summary": "Readiness: every component loaded", "security": [], "responses": { "200": { "description": "Ready" }, "503": { "description": "Still loading" } } } },
            "/metrics": { "get": { "summary": "Prometheus metrics", "responses": { "200": { "description": "Text exposition format", "content": { "text/plain": { "schema": { "type": "string" } } } } } } }
        }
    })
}
