//! Plain JSON replies for MCP requests whose answer is one message.
//!
//! rmcp 3.11 answers every POST of a handshake-era session with an SSE stream, even when the
//! stream holds nothing but the response. The spec lets a server answer with either, and a
//! JSON body is much cheaper for clients to read (the Python client spends ~1.5 ms more per
//! call on an SSE reply). This layer looks at the first events of the stream: when the first
//! message carrying data is the JSON-RPC response, that message becomes an
//! `application/json` body; when a notification comes first (progress, logs), the events read
//! so far are replayed in front of the rest of the stream, so nothing is lost or reordered.
//! A reply that takes longer than [`JSON_WAIT`] streams too: headers go out at once and the
//! stream's keep-alives hold the connection open through proxies with idle timeouts.

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use futures::StreamExt;

/// How long a reply may be held back to send it as JSON; past it, it streams.
pub const JSON_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

pub async fn single_reply_as_json(request: Request, next: Next) -> Response {
    let post = request.method() == Method::POST;
    let response = next.run(request).await;
    if !post || !is_event_stream(&response) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let mut stream = body.into_data_stream();
    let mut read = Vec::new();
    // Start of the first event not yet looked at.
    let mut looked = 0;
    let deadline = tokio::time::Instant::now() + JSON_WAIT;
    loop {
        while let Some((event_len, data)) = next_event(&read[looked..]) {
            looked += event_len;
            if data.is_empty() {
                // Priming event or keep-alive comment: nothing for the client to read.
                continue;
            }
            if is_response(&data) {
                parts.headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                parts.headers.remove(header::CACHE_CONTROL);
                parts.headers.remove("x-accel-buffering");
                return Response::from_parts(parts, Body::from(data));
            }
            // A notification or a server request first: keep streaming.
            return replay(parts, read, stream);
        }
        let Ok(next) = tokio::time::timeout_at(deadline, stream.next()).await else {
            return replay(parts, read, stream);
        };
        match next {
            Some(Ok(chunk)) => read.extend_from_slice(&chunk),
            // The stream ended or failed before a response: pass on what came.
            Some(Err(_)) | None => {
                return Response::from_parts(parts, Body::from(read));
            }
        }
    }
}

fn is_event_stream(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"))
}

/// The events read so far, then the rest of the stream as it comes.
fn replay(
    parts: axum::http::response::Parts,
    read: Vec<u8>,
    rest: impl futures::Stream<Item = Result<Bytes, axum::Error>> + Send + 'static,
) -> Response {
    let head = futures::stream::once(async move { Ok::<_, axum::Error>(Bytes::from(read)) });
    Response::from_parts(parts, Body::from_stream(head.chain(rest)))
}

/// The length of the first complete event in `buf` (through its blank line) and its data
/// lines joined, or `None` while the event is incomplete.
fn next_event(buf: &[u8]) -> Option<(usize, Vec<u8>)> {
    let mut data: Vec<u8> = Vec::new();
    let mut has_data = false;
    let mut pos = 0;
    loop {
        let end = buf[pos..].iter().position(|&b| b == b'\n')? + pos;
        let line = &buf[pos..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        pos = end + 1;
        if line.is_empty() {
            return Some((pos, data));
        }
        if let Some(value) = line.strip_prefix(b"data:") {
            let value = value.strip_prefix(b" ").unwrap_or(value);
            if has_data {
                data.push(b'\n');
            }
            data.extend_from_slice(value);
            has_data = true;
        }
    }
}

/// A JSON-RPC response or error (an `id` and no `method`).
fn is_response(data: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Shape {
        id: Option<serde::de::IgnoredAny>,
        method: Option<serde::de::IgnoredAny>,
    }
    serde_json::from_slice::<Shape>(data).is_ok_and(|m| m.id.is_some() && m.method.is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_split_at_blank_lines_and_their_data_joined() {
        let buf = b"id: 0\nretry: 3000\ndata:\n\ndata: {\"a\":\ndata: 1}\n\ndata: partial";
        let (len, data) = next_event(buf).unwrap();
        assert!(data.is_empty());
        let (len2, data2) = next_event(&buf[len..]).unwrap();
        assert_eq!(data2, b"{\"a\":\n1}");
        assert!(next_event(&buf[len + len2..]).is_none());
        assert_eq!(next_event(b"data: x\r\n\r\n").unwrap().1, b"x");
    }

    #[test]
    fn only_responses_and_errors_count_as_the_reply() {
        assert!(is_response(br#"{"jsonrpc":"2.0","id":1,"result":{}}"#));
        assert!(is_response(
            br#"{"jsonrpc":"2.0","id":"x","error":{"code":1,"message":"m"}}"#
        ));
        assert!(!is_response(
            br#"{"jsonrpc":"2.0","method":"notifications/progress","params":{}}"#
        ));
        assert!(!is_response(
            br#"{"jsonrpc":"2.0","id":7,"method":"sampling/createMessage"}"#
        ));
        assert!(!is_response(b"not json"));
    }
}
