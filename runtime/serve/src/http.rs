//! The HTTP listener: REST routes and MCP streamable HTTP on one port or Unix socket,
//! tower-http layers (tracing, Host/Origin guard, compression, CORS, body size and time
//! limits), optional bearer token, optional TLS (rustls), a connection cap and header
//! timeouts, and a graceful shutdown that stops accepting, ends MCP streams and drains
//! running calls.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::HeaderValue;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use skill_engine::{Error, Result};
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
    /// Listen on this Unix socket instead of `host:port`.
    pub unix: Option<PathBuf>,
    pub token: Option<String>,
    pub tls: Option<(PathBuf, PathBuf)>,
    pub rest: bool,
    pub mcp: bool,
    pub cors_origins: Vec<String>,
    pub allowed_hosts: Vec<String>,
    pub max_body_bytes: usize,
    /// Connections served at once; further clients wait to be accepted.
    pub max_connections: usize,
}

/// How long a client may take to send a request's headers (also: how long an idle
/// keep-alive connection is kept), its TLS handshake, and each piece of its body.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// What every connection is served by: the Host/Origin guard and the body's idle timeout, in
/// front of the router (so no route, WebSocket upgrades included, can miss them), then the
/// router. Done here rather than as axum middleware: two `from_fn` layers cost each request
/// several allocations (measured: ~10% of REST throughput).
#[derive(Clone)]
pub struct Front {
    router: Router,
    guard: Arc<security::Guard>,
}

impl hyper::service::Service<axum::http::Request<hyper::body::Incoming>> for Front {
    type Response = axum::response::Response;
    type Error = std::convert::Infallible;
    type Future = futures::future::Either<
        std::future::Ready<std::result::Result<axum::response::Response, std::convert::Infallible>>,
        tower::util::Oneshot<Router, axum::extract::Request>,
    >;

    fn call(&self, request: axum::http::Request<hyper::body::Incoming>) -> Self::Future {
        let authority = request.uri().authority().map(|a| a.as_str());
        if let Some(why) = self.guard.refusal(request.headers(), authority) {
            return futures::future::Either::Left(std::future::ready(Ok(security::forbidden(why))));
        }
        let request = request.map(|body| axum::body::Body::new(IdleBody::new(body, BODY_TIMEOUT)));
        futures::future::Either::Right(tower::ServiceExt::oneshot(self.router.clone(), request))
    }
}

pub fn app(state: Arc<ServeState>, options: &HttpOptions, shutdown: &CancellationToken) -> Front {
    let allowed_hosts = security::allowed_hosts(&options.host, &options.allowed_hosts);
    let origins = security::Origins::new(&options.cors_origins);
    let mut app = Router::new();
    if options.rest {
        app = app.merge(rest::router(state.clone(), options.max_body_bytes));
    }
    if options.mcp {
        let config = StreamableHttpServerConfig::default()
            .with_allowed_hosts(allowed_hosts.clone())
            .with_allowed_origins(origins.for_rmcp())
            // Plain JSON replies to stateless (2026-07-28) requests that send no notification
            // first; an SSE stream otherwise. Handshake-era sessions get the same from the
            // json_reply layer below.
            .with_json_response(true)
            .with_cancellation_token(shutdown.child_token())
            .with_max_request_body_bytes(options.max_body_bytes);
        let mcp_state = state.clone();
        let mut sessions = LocalSessionManager::default();
        // A session that never sends `initialize` goes after 10 s (rmcp's default: 60 s).
        sessions.session_config.init_timeout = Some(Duration::from_secs(10));
        let sessions = Arc::new(sessions);
        let service = StreamableHttpService::new(
            move || Ok(SkillMcp::new(mcp_state.clone())),
            sessions.clone(),
            config,
        );
        let direct = Arc::new(mcp_direct::Direct {
            state: state.clone(),
            sessions,
            max_body_bytes: options.max_body_bytes,
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
    Front {
        router: app.layer(TraceLayer::new_for_http()),
        // Every route, WebSocket upgrades included: Host (DNS rebinding) and Origin (web pages).
        guard: Arc::new(security::Guard {
            hosts: allowed_hosts,
            origins,
        }),
    }
}

/// A request body that fails when no data comes for `idle`. The timer is armed only when a
/// read has to wait (tower-http's `TimeoutBody` arms one for every frame, which costs a wake of
/// tokio's driver thread on every request).
struct IdleBody<B> {
    inner: B,
    idle: Duration,
    timer: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl<B> IdleBody<B> {
    fn new(inner: B, idle: Duration) -> Self {
        IdleBody {
            inner,
            idle,
            timer: None,
        }
    }
}

impl<B> http_body::Body for IdleBody<B>
where
    B: http_body::Body<Data = axum::body::Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<std::result::Result<http_body::Frame<Self::Data>, Self::Error>>>
    {
        use std::task::Poll;
        match std::pin::Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                self.timer = None;
                Poll::Ready(frame.map(|f| f.map_err(axum::Error::new)))
            }
            Poll::Pending => {
                let idle = self.idle;
                let timer = self
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(axum::Error::new(
                        "no request body data for too long",
                    )))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
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
    on_listening: impl FnOnce(String, bool),
) -> Result<()> {
    let shutdown = CancellationToken::new();
    let app = app(state.clone(), &options, &shutdown);
    raise_fd_limit();
    let listener = Listener::bind(&options).await?;
    let tls = match &options.tls {
        Some((cert, key)) => Some(tls_acceptor(cert, key)?),
        None => None,
    };
    on_listening(listener.address(), tls.is_some());
    let signal_token = shutdown.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: no new connections, draining running calls");
        signal_token.cancel();
    });
    serve_connections(listener, tls, app, options.max_connections, shutdown).await;
    wait_for_calls(&state).await;
    Ok(())
}

/// Where the server listens: TCP, or a Unix socket (only its owner may connect).
enum Listener {
    Tcp(tokio::net::TcpListener),
    Unix(tokio::net::UnixListener, PathBuf),
}

/// A connection from either kind of listener.
trait Connection: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static> Connection for T {}

impl Listener {
    async fn bind(options: &HttpOptions) -> Result<Listener> {
        if let Some(path) = &options.unix {
            return bind_unix(path).map(|l| Listener::Unix(l, path.clone()));
        }
        let listener = tokio::net::TcpListener::bind((options.host.as_str(), options.port))
            .await
            .map_err(|e| {
                Error::invalid(format!(
                    "cannot listen on {}:{}: {e}",
                    options.host, options.port
                ))
                .with_hint("pick another port with --port (0 picks a free one)")
            })?;
        Ok(Listener::Tcp(listener))
    }

    fn address(&self) -> String {
        match self {
            Listener::Tcp(l) => l
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_else(|_| "?".into()),
            Listener::Unix(_, path) => format!("unix:{}", path.display()),
        }
    }

    async fn accept(&self) -> std::io::Result<Accepted> {
        Ok(match self {
            Listener::Tcp(l) => {
                let (stream, _) = l.accept().await?;
                let _ = stream.set_nodelay(true);
                Accepted::Tcp(stream)
            }
            Listener::Unix(l, _) => Accepted::Unix(l.accept().await?.0),
        })
    }
}

/// A connection just accepted.
enum Accepted {
    Tcp(tokio::net::TcpStream),
    Unix(tokio::net::UnixStream),
}

impl Accepted {
    /// The connection, once its client has sent a first byte within `wait` (a client that
    /// connects and says nothing holds a descriptor and a connection slot: it is dropped).
    async fn first_byte(self, wait: Duration) -> Option<Box<dyn Connection>> {
        match self {
            // A peek that returns data, not mere readiness (which some kernels report at once).
            Accepted::Tcp(s) => {
                let mut byte = [0u8; 1];
                match tokio::time::timeout(wait, s.peek(&mut byte)).await {
                    Ok(Ok(n)) if n > 0 => Some(Box::new(s)),
                    _ => None,
                }
            }
            // Only the socket's owner can connect; readiness is enough.
            Accepted::Unix(s) => match tokio::time::timeout(wait, s.readable()).await {
                Ok(Ok(())) => Some(Box::new(s)),
                _ => None,
            },
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Listener::Unix(_, path) = self {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A Unix socket at `path`, readable and writable by its owner only. A stale socket file is
/// replaced; anything else at that path is an error.
fn bind_unix(path: &std::path::Path) -> Result<tokio::net::UnixListener> {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            return Err(
                Error::invalid(format!("{} exists and is not a socket", path.display()))
                    .with_hint("pick another path for --unix"),
            );
        }
        std::fs::remove_file(path).map_err(|e| Error::io("remove", path, e))?;
    }
    // Created with no permissions for others from the start (umask), then 0600.
    let old = unsafe { libc::umask(0o177) };
    let bound = tokio::net::UnixListener::bind(path);
    unsafe { libc::umask(old) };
    let listener = bound.map_err(|e| Error::io("listen on", path, e))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| Error::io("set permissions on", path, e))?;
    Ok(listener)
}

/// Serves every accepted connection (at most `max_connections` at once; the rest wait in the
/// kernel's backlog) until `shutdown`, then drains them for up to [`DRAIN_LIMIT`]. Each
/// connection must send its headers within [`HEADER_TIMEOUT`] (idle keep-alive connections
/// included) and finish a TLS handshake within the same time.
async fn serve_connections(
    listener: Listener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    app: Front,
    max_connections: usize,
    shutdown: CancellationToken,
) {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::server::graceful::GracefulShutdown;

    let slots = Arc::new(tokio::sync::Semaphore::new(max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    // HTTP/1.1 only: an HTTP/2 connection with no open stream has no idle timeout in hyper
    // (a client answering pings could hold it, and its slot, forever). MCP and REST clients
    // speak HTTP/1.1.
    let mut builder = Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_buf_size(64 << 10);
    let builder = Arc::new(builder);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            _ = shutdown.cancelled() => break,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors, most likely: wait a little rather than spin.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = shutdown.cancelled() => break,
        };
        let tls = tls.clone();
        let service = app.clone();
        let watcher = graceful.watcher();
        let builder = builder.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let Some(stream) = accepted.first_byte(HEADER_TIMEOUT).await else {
                return;
            };
            let stream: Box<dyn Connection> = match tls {
                Some(acceptor) => {
                    match tokio::time::timeout(HEADER_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(s)) => Box::new(s),
                        Ok(Err(e)) => {
                            tracing::debug!("TLS handshake failed: {e}");
                            return;
                        }
                        Err(_) => return,
                    }
                }
                None => stream,
            };
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            if let Err(e) = watcher.watch(conn.into_owned()).await {
                tracing::debug!("connection ended: {e}");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_LIMIT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("gave up waiting for connections after {DRAIN_LIMIT:?}");
    }
}

/// Raises the soft limit on open files to the hard limit: the connection cap and the calls'
/// own caps are what bound descriptors, not an accident of the login shell's default.
fn raise_fd_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain libc calls on a local struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
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
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
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
