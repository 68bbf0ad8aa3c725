//! The HTTP listener: REST routes and MCP streamable HTTP on one port, tower-http layers
//! (tracing, compression, CORS, body limit), optional bearer token, optional TLS (rustls),
//! and a graceful shutdown that stops accepting, ends MCP streams and drains running calls.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::HeaderValue;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use skill_runtime::{Error, Result};
use tokio_util::sync::CancellationToken;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use super::ServeState;
use super::mcp::SkillMcp;
use super::{json_reply, mcp_direct, rest, security};

/// How long shutdown waits for running calls before giving up on them.
const DRAIN_LIMIT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub host: String,
    pub port: u16,
    pub token: Option<String>,
    pub tls: Option<(PathBuf, PathBuf)>,
    pub rest: bool,
    pub mcp: bool,
    pub cors_origins: Vec<String>,
    pub allowed_hosts: Vec<String>,
    pub max_body_bytes: usize,
}

pub fn app(state: Arc<ServeState>, options: &HttpOptions, shutdown: &CancellationToken) -> Router {
    let mut app = Router::new();
    if options.rest {
        app = app.merge(rest::router(state.clone()));
    }
    if options.mcp {
        let allowed_hosts = security::allowed_hosts(&options.host, &options.allowed_hosts);
        let config = StreamableHttpServerConfig::default()
            .with_allowed_hosts(allowed_hosts.clone())
            .with_allowed_origins(security::allowed_origins(&options.cors_origins))
            // Plain JSON replies to stateless (2026-07-28) requests that send no notification
            // first; an SSE stream otherwise. Handshake-era sessions get the same from the
            // json_reply layer below.
            .with_json_response(true)
            .with_cancellation_token(shutdown.child_token())
            .with_max_request_body_bytes(options.max_body_bytes);
        let mcp_state = state.clone();
        let sessions = Arc::new(LocalSessionManager::default());
        let service = StreamableHttpService::new(
            move || Ok(SkillMcp::new(mcp_state.clone())),
            sessions.clone(),
            config,
        );
        let direct = Arc::new(mcp_direct::Direct {
            state: state.clone(),
            sessions,
            max_body_bytes: options.max_body_bytes,
            allowed_hosts,
        });
        // Outermost first: the direct path never reaches rmcp; rmcp's replies pass json_reply.
        app = app.merge(
            Router::new()
                .route_service("/mcp", service)
                .layer(axum::middleware::from_fn(json_reply::single_reply_as_json))
                .layer(axum::middleware::from_fn_with_state(
                    direct,
                    mcp_direct::plain_tool_calls,
                )),
        );
    }
    if let Some(token) = &options.token {
        app = app.layer(axum::middleware::from_fn_with_state(
            Arc::new(token.clone()),
            security::require_token,
        ));
    }
    app = app
        .layer(RequestBodyLimitLayer::new(options.max_body_bytes))
        .layer(CompressionLayer::new().compress_when(compressible()));
    if let Some(cors) = cors_layer(&options.cors_origins) {
        app = app.layer(cors);
    }
    app.layer(TraceLayer::new_for_http())
}

/// Compress what is worth it: not small bodies (a typical tool reply; gzip costs both ends
/// more than it saves on loopback), not event streams (they must flush as they go), not
/// images or gRPC.
fn compressible() -> impl Predicate {
    SizeAbove::new(1024)
        .and(NotForContentType::SSE)
        .and(NotForContentType::IMAGES)
        .and(NotForContentType::GRPC)
}

/// CORS only when origins are configured (`*` allows any, without credentials).
fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok())
                .collect::<Vec<_>>(),
        )
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods(tower_http::cors::Any)
            .allow_headers(tower_http::cors::Any)
            .expose_headers(tower_http::cors::Any),
    )
}

/// Binds, reports the address, and serves until Ctrl-C or SIGTERM.
pub async fn serve(
    state: Arc<ServeState>,
    options: HttpOptions,
    on_listening: impl FnOnce(SocketAddr, bool),
) -> Result<()> {
    let shutdown = CancellationToken::new();
    let app = app(state.clone(), &options, &shutdown);
    let listener = tokio::net::TcpListener::bind((options.host.as_str(), options.port))
        .await
        .map_err(|e| {
            Error::invalid(format!(
                "cannot listen on {}:{}: {e}",
                options.host, options.port
            ))
            .with_hint("pick another port with --port (0 picks a free one)")
        })?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::internal(format!("no local address: {e}")))?;
    let tls = match &options.tls {
        Some((cert, key)) => Some(tls_acceptor(cert, key)?),
        None => None,
    };
    on_listening(addr, tls.is_some());
    let signal_token = shutdown.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: no new connections, draining running calls");
        signal_token.cancel();
    });
    match tls {
        None => {
            let server = axum::serve(listener, app).with_graceful_shutdown({
                let token = shutdown.clone();
                async move { token.cancelled().await }
            });
            let drained = async {
                server
                    .await
                    .map_err(|e| Error::internal(format!("server failed: {e}")))
            };
            tokio::select! {
                result = drained => result?,
                _ = async { shutdown.cancelled().await; tokio::time::sleep(DRAIN_LIMIT).await } => {
                    tracing::warn!("gave up waiting for connections after {DRAIN_LIMIT:?}");
                }
            }
        }
        Some(acceptor) => serve_tls(listener, acceptor, app, shutdown.clone()).await,
    }
    wait_for_calls(&state).await;
    Ok(())
}

/// Waits (bounded) until no call is running.
pub async fn wait_for_calls(state: &ServeState) {
    let deadline = tokio::time::Instant::now() + DRAIN_LIMIT;
    while state.executor.in_flight() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("install the SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

fn tls_acceptor(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<tokio_rustls::TlsAcceptor> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    use tokio_rustls::rustls;
    let bad = |what: &str, path: &std::path::Path, e: &dyn std::fmt::Display| {
        Error::invalid(format!(
            "cannot read the TLS {what} {}: {e}",
            path.display()
        ))
        .with_hint("--tls-cert takes a PEM certificate chain, --tls-key a PEM private key")
    };
    for (what, path) in [("certificate", cert), ("key", key)] {
        if let Err(e) = std::fs::metadata(path) {
            return Err(bad(what, path, &e));
        }
    }
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| bad("certificate", cert, &e))?
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| bad("certificate", cert, &e))?;
    if certs.is_empty() {
        return Err(bad("certificate", cert, &"no certificate in the file"));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| bad("key", key, &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|e| Error::invalid(format!("unusable TLS certificate or key: {e}")))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

async fn serve_tls(
    listener: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    app: Router,
    shutdown: CancellationToken,
) {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::server::graceful::GracefulShutdown;
    use hyper_util::service::TowerToHyperService;

    let graceful = GracefulShutdown::new();
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => { tracing::warn!("accept failed: {e}"); continue; }
            },
            _ = shutdown.cancelled() => break,
        };
        let acceptor = acceptor.clone();
        let service = TowerToHyperService::new(app.clone());
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let stream = match acceptor.accept(stream).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::debug!("TLS handshake failed: {e}");
                    return;
                }
            };
            let builder = Builder::new(TokioExecutor::new());
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            if let Err(e) = watcher.watch(conn.into_owned()).await {
                tracing::debug!("connection ended: {e}");
            }
        });
    }
    if tokio::time::timeout(DRAIN_LIMIT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("gave up waiting for connections after {DRAIN_LIMIT:?}");
    }
}

/// MCP over stdin/stdout until the client closes stdin.
pub async fn serve_stdio(state: Arc<ServeState>) -> Result<()> {
    match stdio_pipes() {
        Some((stdin, stdout)) => run_mcp(state.clone(), (stdin, stdout)).await?,
        None => run_mcp(state.clone(), rmcp::transport::stdio()).await?,
    }
    wait_for_calls(&state).await;
    Ok(())
}

/// stdin and stdout as non-blocking pipes, when they are pipes (as MCP clients launch
/// servers). tokio's own stdin/stdout do every read and write on a blocking thread: two
/// thread hops per request that this avoids (measured in docs/serving.md).
fn stdio_pipes() -> Option<(
    tokio::net::unix::pipe::Receiver,
    tokio::net::unix::pipe::Sender,
)> {
    use std::os::fd::AsFd;
    let stdin = std::io::stdin().as_fd().try_clone_to_owned().ok()?;
    let stdout = std::io::stdout().as_fd().try_clone_to_owned().ok()?;
    let receiver = tokio::net::unix::pipe::Receiver::from_owned_fd(stdin).ok()?;
    let sender = tokio::net::unix::pipe::Sender::from_owned_fd(stdout).ok()?;
    Some((receiver, sender))
}

async fn run_mcp<T, E, A>(state: Arc<ServeState>, transport: T) -> Result<()>
where
    T: rmcp::transport::IntoTransport<rmcp::RoleServer, E, A> + Send + 'static,
    E: std::error::Error + Send + Sync + 'static,
{
    use rmcp::ServiceExt;
    let service = SkillMcp::new(state)
        .serve(transport)
        .await
        .map_err(|e| Error::internal(format!("MCP session failed to start: {e}")))?;
    let _ = service.waiting().await;
    Ok(())
}
