//! The benchmark floor for `scripts/bench-serve.sh`: a JSON-RPC server that answers an MCP
//! client with canned replies and does no other work, so timing a client against it
//! measures the client and the transport alone.
//!
//! Usage: mcp_floor stdio        (newline-delimited JSON-RPC on stdin/stdout)
//!        mcp_floor http PORT    (POST /mcp, JSON responses; prints the port on stderr)

use std::io::{BufRead, Write};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// The reply for one request, or `None` for a notification.
fn reply(request: &Value) -> Option<Value> {
    let id = request.get("id")?.clone();
    let method = request["method"].as_str().unwrap_or_default();
    let result = match method {
        "initialize" => json!({
            "protocolVersion": request["params"]["protocolVersion"].as_str().unwrap_or("2025-11-25"),
            "capabilities": { "tools": {} },
            "serverInfo": { "name": "floor", "version": "1" }
        }),
        "tools/list" => json!({ "tools": [{
            "name": "floor__noop",
            "description": "Returns a canned reply",
            "inputSchema": { "type": "object", "properties": { "a": { "type": "integer" }, "b": { "type": "integer" } } }
        }] }),
        "tools/call" => json!({ "content": [{ "type": "text", "text": "42" }], "isError": false }),
        "ping" => json!({}),
        _ => {
            return Some(json!({ "jsonrpc": "2.0", "id": id,
                "error": { "code": -32601, "message": "method not found" } }));
        }
    };
    Some(json!({ "jsonrpc": "2.0", "id": id, "result": result }))
}

fn stdio() {
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let Ok(request) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if let Some(reply) = reply(&request) {
            let mut text = reply.to_string();
            text.push('\n');
            stdout.write_all(text.as_bytes()).unwrap();
            stdout.flush().unwrap();
        }
    }
}

async fn mcp(headers: HeaderMap, body: String) -> Response {
    let _ = headers;
    let Ok(request) = serde_json::from_str::<Value>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    match reply(&request) {
        Some(reply) => (
            [
                ("content-type", "application/json"),
                ("mcp-session-id", "floor"),
            ],
            reply.to_string(),
        )
            .into_response(),
        None => StatusCode::ACCEPTED.into_response(),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("stdio") => stdio(),
        Some("http") => {
            let port: u16 = args.get(2).and_then(|p| p.parse().ok()).unwrap_or(0);
            let runtime = tokio::runtime::Runtime::new().unwrap();
            runtime.block_on(async {
                let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
                    .await
                    .unwrap();
                eprintln!("listening on http://{}", listener.local_addr().unwrap());
                let app = Router::new().route(
                    "/mcp",
                    post(mcp)
                        .get(|| async { StatusCode::METHOD_NOT_ALLOWED })
                        .delete(|| async { StatusCode::OK }),
                );
                axum::serve(listener, app).await.unwrap();
            });
        }
        _ => {
            eprintln!("usage: mcp_floor stdio | mcp_floor http PORT");
            std::process::exit(2);
        }
    }
}
