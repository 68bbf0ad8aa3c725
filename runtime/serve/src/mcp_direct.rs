//! A direct path for the commonest MCP HTTP request: a plain `tools/call` in an established
//! handshake-era session.
//!
//! rmcp 3.11 routes every session POST through its session worker, the service loop and a
//! handler task, and back through a per-request channel: measured here as ~150 µs a call on
//! top of the tool, three times the budget for the whole server. This layer answers the plain
//! case itself with the same handler code (`mcp::run_tool`) and rmcp's own message types,
//! and hands everything else to rmcp untouched: other methods, calls that ask for progress
//! or carry other `_meta`, unknown sessions, 2026-07-28 requests (stateless, with their
//! own header rules), and anything with a header rmcp would have to judge. A call still
//! running after `json_reply::JSON_WAIT` is answered as a stream with keep-alives instead.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::model::{
    CallToolRequestParams, ClientJsonRpcMessage, ClientRequest, ProtocolVersion,
    ServerJsonRpcMessage, ServerResult,
};
use rmcp::transport::streamable_http_server::SessionManager;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;

use super::ServeState;
use super::json_reply::JSON_WAIT;
use super::mcp::run_tool;

pub struct Direct {
    pub state: Arc<ServeState>,
    pub sessions: Arc<LocalSessionManager>,
    pub max_body_bytes: usize,
}

/// MCP sessions the server keeps at once (each ~55 KB of rmcp state, kept up to 5 minutes
/// after its last use): a client opening sessions in a loop is refused, not served until the
/// server runs out of memory.
pub const MAX_SESSIONS: usize = 1024;

pub async fn plain_tool_calls(
    State(direct): State<Arc<Direct>>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() == Method::POST
        && !request.headers().contains_key("mcp-session-id")
        && direct.sessions.sessions.read().await.len() >= MAX_SESSIONS
    {
        return (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, HeaderValue::from_static("30"))],
            "too many MCP sessions are open; close one (DELETE /mcp) or retry later",
        )
            .into_response();
    }
    let Some(session) = candidate_session(&request) else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, direct.max_body_bytes).await {
        Ok(bytes) => bytes,
        Err(_) => return axum::http::StatusCode::PAYLOAD_TOO_LARGE.into_response(),
    };
    let known = direct
        .sessions
        .has_session(&session.into())
        .await
        .unwrap_or(false);
    let call = if known { plain_call(&bytes) } else { None };
    let Some((id, params)) = call else {
        return next
            .run(Request::from_parts(parts, Body::from(bytes)))
            .await;
    };
    let state = direct.state.clone();
    let call = Box::pin(async move {
        let message = match run_tool(&state, params, None).await {
            Ok(result) => {
                let mut result = ServerResult::CallToolResult(result);
                result.strip_result_type_for_legacy_peer();
                result.strip_non_object_output_for_legacy_peer();
                ServerJsonRpcMessage::response(result, id)
            }
            Err(error) => ServerJsonRpcMessage::error(error, Some(id)),
        };
        serde_json::to_vec(&message).unwrap_or_default()
    });
    reply(call, JSON_WAIT, KEEP_ALIVE).await
}

/// How often a streamed reply sends a comment while the call runs (as rmcp's streams do).
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The serialized reply as a JSON body when it is ready within `wait`; otherwise an SSE
/// stream that sends headers now, a comment every `keep_alive`, and then the reply.
async fn reply(
    mut call: futures::future::BoxFuture<'static, Vec<u8>>,
    wait: Duration,
    keep_alive: Duration,
) -> Response {
    if let Ok(body) = tokio::time::timeout(wait, &mut call).await {
        let content_type = HeaderValue::from_static("application/json");
        return ([(header::CONTENT_TYPE, content_type)], body).into_response();
    }
    let events = futures::stream::unfold(Some(call), move |call| async move {
        let mut call = call?;
        tokio::select! {
            body = &mut call => {
                let mut event = b"data: ".to_vec();
                event.extend_from_slice(&body);
                event.extend_from_slice(b"\n\n");
                Some((Ok::<_, Infallible>(Bytes::from(event)), None))
            }
            _ = tokio::time::sleep(keep_alive) => {
                Some((Ok(Bytes::from_static(b": keep-alive\n\n")), Some(call)))
            }
        }
    });
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        Body::from_stream(events),
    )
        .into_response()
}

/// The session a POST names, when nothing about its headers needs rmcp's judgement: no
/// Origin (not a browser; Host was checked by the guard in front of every route), JSON in,
/// both reply types accepted, a handshake-era protocol version.
fn candidate_session(request: &Request) -> Option<String> {
    if request.method() != Method::POST {
        return None;
    }
    let headers = request.headers();
    if headers.contains_key(header::ORIGIN) {
        return None;
    }
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let content_type = value(header::CONTENT_TYPE.as_str())?;
    let accept = value(header::ACCEPT.as_str())?;
    let version = value("mcp-protocol-version")?;
    let legacy = ProtocolVersion::KNOWN_VERSIONS
        .iter()
        .any(|v| v.as_str() == version && version < ProtocolVersion::STANDARD_HEADERS.as_str());
    let plain = content_type.split(';').next()?.trim() == "application/json"
        && accept.contains("application/json")
        && accept.contains("text/event-stream")
        && legacy
        && !has_standard_headers(headers);
    plain
        .then(|| value("mcp-session-id").map(str::to_string))
        .flatten()
}

/// SEP-2243 routing headers (`Mcp-Method`, `Mcp-Name`, ...): rmcp checks them against the
/// body.
fn has_standard_headers(headers: &HeaderMap) -> bool {
    headers.keys().any(|k| {
        k.as_str().starts_with("mcp-")
            && !matches!(k.as_str(), "mcp-session-id" | "mcp-protocol-version")
    })
}

/// A `tools/call` request with no `_meta` (no progress token, no per-request version) and
/// none of the 2026-07-28 retry fields.
fn plain_call(body: &Bytes) -> Option<(rmcp::model::RequestId, CallToolRequestParams)> {
    // rmcp moves `params._meta` into the request's extensions, so look at the raw shape.
    #[derive(serde::Deserialize)]
    struct Params {
        #[serde(rename = "_meta")]
        meta: Option<serde::de::IgnoredAny>,
    }
    #[derive(serde::Deserialize)]
    struct Shape {
        params: Option<Params>,
    }
    let shape: Shape = serde_json::from_slice(body).ok()?;
    if shape.params.is_some_and(|p| p.meta.is_some()) {
        return None;
    }
    let message: ClientJsonRpcMessage = serde_json::from_slice(body).ok()?;
    let (request, id) = message.into_request()?;
    let ClientRequest::CallToolRequest(call) = request else {
        return None;
    };
    let params = call.params;
    let plain = params.input_responses.is_none() && params.request_state.is_none();
    plain.then_some((id, params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_calls_take_the_direct_path() {
        let call = |json: &str| plain_call(&Bytes::from(json.to_string())).map(|(_, p)| p.name);
        assert_eq!(
            call(r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"a__b","arguments":{"x":1}}}"#)
                .as_deref(),
            Some("a__b")
        );
        // A progress token needs notifications on a stream: rmcp's path.
        assert_eq!(
            call(
                r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"a__b","_meta":{"progressToken":1}}}"#
            ),
            None
        );
        assert_eq!(
            call(r#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#),
            None
        );
        assert_eq!(
            call(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
            None
        );
        assert_eq!(call("{not json"), None);
    }

    #[tokio::test]
    async fn a_slow_call_streams_with_keep_alives_then_its_reply() {
        let body = |delay_ms: u64| -> futures::future::BoxFuture<'static, Vec<u8>> {
            Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(delay_ms)).await;
                br#"{"jsonrpc":"2.0","id":1,"result":{}}"#.to_vec()
            })
        };
        let wait = Duration::from_millis(50);
        let keep_alive = Duration::from_millis(40);
        let fast = reply(body(0), wait, keep_alive).await;
        assert_eq!(fast.headers()[header::CONTENT_TYPE], "application/json");

        let slow = reply(body(200), wait, keep_alive).await;
        assert_eq!(slow.headers()[header::CONTENT_TYPE], "text/event-stream");
        let bytes = axum::body::to_bytes(slow.into_body(), 1 << 20)
            .await
            .unwrap();
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        assert!(text.starts_with(": keep-alive\n\n"), "{text}");
        assert!(
            text.ends_with("data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n"),
            "{text}"
        );
    }
}
