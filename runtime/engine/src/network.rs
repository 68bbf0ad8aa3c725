//! Outgoing network: only wasi:http, only to the hosts the instance was granted, and only to
//! addresses checked here. Raw sockets stay closed (the WASI context allows no addresses).
//!
//! A host name is not an address: a granted name is resolved here, every address it gives is
//! checked (loopback, link-local such as cloud metadata, private, unique-local, unspecified,
//! multicast and other non-global ranges are refused unless that very address was granted as
//! an IP literal), and the connection goes to the address that passed, with no second lookup.
//! wasi:http does not follow redirects, so a guest that follows one makes a new request, which
//! comes through this filter again. Every wait (lookup, connect, first byte, between bytes)
//! ends by the call's deadline.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use tokio::time::Instant;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use skill_manifest::capabilities::{HostPattern, Target, non_global};

/// Outgoing requests one instance may have open at once (each holds a socket).
pub const MAX_OPEN_REQUESTS: usize = 32;
/// Used when the guest sets no timeout of its own (the call's deadline still applies).
const DEFAULT_WAIT: Duration = Duration::from_secs(30);

/// A request the filter refused, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// `host[:port]` as the request named it.
    pub authority: String,
    pub reason: RefusalReason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefusalReason {
    /// No grant matches the host and port.
    NotGranted,
    /// The name resolved only to addresses no grant allows.
    Address { addr: IpAddr, kind: &'static str },
    /// `user@host`: refused, whatever the host.
    UserInfo,
    /// More than [`MAX_OPEN_REQUESTS`] open at once.
    TooMany,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let host = &self.authority;
        match &self.reason {
            RefusalReason::NotGranted => write!(f, "{host}, which it was not granted"),
            RefusalReason::Address { addr, kind } => write!(
                f,
                "{host}, which resolves to {addr} ({kind}); a name never grants such an address"
            ),
            RefusalReason::UserInfo => write!(f, "{host}, an address with user info"),
            RefusalReason::TooMany => write!(
                f,
                "{host} while {MAX_OPEN_REQUESTS} of its requests were still open"
            ),
        }
    }
}

/// The hosts one instance may reach, what it tried that was refused, and its open requests.
#[derive(Clone, Default)]
pub struct NetworkPolicy {
    allowed: Arc<Vec<HostPattern>>,
    refused: Arc<Mutex<Vec<Refusal>>>,
    open: Arc<AtomicUsize>,
    /// When the current call must be over; every network wait ends by then.
    pub(crate) deadline: Option<Instant>,
}

impl NetworkPolicy {
    pub fn new(allowed: Vec<HostPattern>) -> Self {
        NetworkPolicy {
            allowed: Arc::new(allowed),
            ..Default::default()
        }
    }

    /// The refusals so far, leaving the record empty for the next call in this store.
    pub fn take_refused(&self) -> Vec<Refusal> {
        self.refused
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default()
    }

    /// Requests (or their response bodies) still open: a kept instance must hold none.
    pub fn open_requests(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }

    fn refuse(&self, authority: &str, reason: RefusalReason) {
        record(&self.refused, authority, reason);
    }
}

fn record(refused: &Mutex<Vec<Refusal>>, authority: &str, reason: RefusalReason) {
    if let Ok(mut refused) = refused.lock()
        && !refused.iter().any(|r| r.authority == authority)
        && refused.len() < 64
    {
        refused.push(Refusal {
            authority: authority.to_string(),
            reason,
        });
    }
}

type ResponseFuture = Box<
    dyn Future<
            Output = wasmtime_wasi_http::Result<(
                http::Response<WasiBody>,
                Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
            )>,
        > + Send,
>;

impl WasiHttpHooks for NetworkPolicy {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
    ) -> ResponseFuture {
        drop(fut);
        let deny = || -> ResponseFuture { Box::new(async { Err(HttpError::HttpRequestDenied) }) };
        let Some(authority) = request.uri().authority().cloned() else {
            return Box::new(async { Err(HttpError::HttpRequestUriInvalid) });
        };
        let shown = authority.as_str().to_string();
        if let Some((_, host)) = shown.rsplit_once('@') {
            // The user info may be a password: it is never repeated in a message or a log.
            self.refuse(&format!("***@{host}"), RefusalReason::UserInfo);
            return deny();
        }
        let use_tls = request.uri().scheme() == Some(&http::uri::Scheme::HTTPS);
        let port = authority
            .port_u16()
            .unwrap_or(if use_tls { 443 } else { 80 });
        let Some(target) = Target::parse(authority.host()) else {
            return Box::new(async { Err(HttpError::HttpRequestUriInvalid) });
        };
        if matches!(target, Target::Ip(ip) if ip.is_unspecified()) {
            self.refuse(&shown, RefusalReason::NotGranted);
            return deny();
        }
        if !self.allowed.iter().any(|p| p.allows(&target, port)) {
            self.refuse(&shown, RefusalReason::NotGranted);
            return deny();
        }
        if self.open.load(Ordering::Acquire) >= MAX_OPEN_REQUESTS {
            self.refuse(&shown, RefusalReason::TooMany);
            return deny();
        }
        let open = OpenRequest::new(&self.open);
        let allowed = self.allowed.clone();
        let refused = self.refused.clone();
        let deadline = self
            .deadline
            .unwrap_or_else(|| Instant::now() + DEFAULT_WAIT);
        Box::new(async move {
            let addrs = match &target {
                Target::Ip(ip) => vec![SocketAddr::new(*ip, port)],
                Target::Name(name) => {
                    let resolved = within(
                        deadline,
                        None,
                        tokio::net::lookup_host((name.as_str(), port)),
                    )
                    .await
                    .map_err(|_| HttpError::DnsTimeout)?
                    .map_err(|_| HttpError::DnsError {
                        rcode: None,
                        info_code: None,
                    })?;
                    let mut good = Vec::new();
                    let mut first_bad = None;
                    for addr in resolved {
                        let literal = Target::Ip(addr.ip());
                        match non_global(addr.ip()) {
                            Some(kind) if !allowed.iter().any(|p| p.allows(&literal, port)) => {
                                first_bad.get_or_insert((addr.ip(), kind));
                            }
                            _ => good.push(addr),
                        }
                    }
                    if good.is_empty() {
                        if let Some((addr, kind)) = first_bad {
                            record(&refused, &shown, RefusalReason::Address { addr, kind });
                            return Err(HttpError::HttpRequestDenied);
                        }
                        return Err(HttpError::DestinationNotFound);
                    }
                    good
                }
            };
            send(request, options, &target, addrs, use_tls, deadline, open).await
        })
    }
}

/// Counts one open request until dropped (with the response body or the connection).
#[derive(Clone)]
struct OpenRequest(#[allow(dead_code)] Arc<OpenCount>);

struct OpenCount(Arc<AtomicUsize>);

impl OpenRequest {
    fn new(open: &Arc<AtomicUsize>) -> Self {
        open.fetch_add(1, Ordering::AcqRel);
        OpenRequest(Arc::new(OpenCount(open.clone())))
    }
}

impl Drop for OpenCount {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// `future` cut off at `deadline`, or after `limit` when that comes first.
async fn within<F: Future>(
    deadline: Instant,
    limit: Option<Duration>,
    future: F,
) -> Result<F::Output, tokio::time::error::Elapsed> {
    let end = match limit {
        Some(limit) => deadline.min(Instant::now() + limit),
        None => deadline,
    };
    tokio::time::timeout_at(end, future).await
}

/// Connects to the first of `addrs` that answers (TLS for https, verified against the name
/// the guest asked for), sends the request over HTTP/1.1 and returns the response, with every
/// wait bounded by the guest's own timeouts and the call's deadline.
async fn send(
    mut request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
    target: &Target,
    addrs: Vec<SocketAddr>,
    use_tls: bool,
    deadline: Instant,
    open: OpenRequest,
) -> wasmtime_wasi_http::Result<(
    http::Response<WasiBody>,
    Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
)> {
    use wasmtime_wasi_http::io::TokioIo;
    let connect_timeout = options
        .and_then(|o| o.connect_timeout)
        .unwrap_or(DEFAULT_WAIT);
    let first_byte_timeout = options
        .and_then(|o| o.first_byte_timeout)
        .unwrap_or(DEFAULT_WAIT);
    let between_bytes_timeout = options
        .and_then(|o| o.between_bytes_timeout)
        .unwrap_or(DEFAULT_WAIT)
        .max(Duration::from_millis(1));

    let mut stream = None;
    let mut last_error = HttpError::ConnectionRefused;
    for addr in addrs {
        match within(
            deadline,
            Some(connect_timeout),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            Ok(Ok(s)) => {
                stream = Some(s);
                break;
            }
            Ok(Err(e)) => last_error = HttpError::Connect(e),
            Err(_) => last_error = HttpError::ConnectionTimeout,
        }
    }
    let stream = stream.ok_or(last_error)?;
    let stream: Box<dyn Stream> = if use_tls {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.into(),
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|_| HttpError::TlsProtocolError)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = match target {
            Target::Ip(ip) => rustls::pki_types::ServerName::from(*ip),
            Target::Name(name) => rustls::pki_types::ServerName::try_from(name.clone())
                .map_err(HttpError::InvalidDnsNameError)?,
        };
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let tls = within(
            deadline,
            Some(connect_timeout),
            connector.connect(name, stream),
        )
        .await
        .map_err(|_| HttpError::ConnectionTimeout)?
        .map_err(HttpError::Tls)?;
        Box::new(tls)
    } else {
        Box::new(stream)
    };
    let (mut sender, connection) = within(
        deadline,
        Some(connect_timeout),
        hyper::client::conn::http1::Builder::new().handshake(TokioIo::new(stream)),
    )
    .await
    .map_err(|_| HttpError::ConnectionTimeout)??;

    // Only the path goes on the wire (scheme and authority are for proxies).
    *request.uri_mut() = http::Uri::builder()
        .path_and_query(
            request
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/"),
        )
        .build()
        .map_err(|_| HttpError::HttpRequestUriInvalid)?;

    // The connection is driven while waiting for the response head, then by the returned
    // future (which wasmtime-wasi-http polls) while the body is read.
    let mut connection = Some(Box::pin(connection));
    let send = async {
        match within(
            deadline,
            Some(first_byte_timeout),
            sender.send_request(request),
        )
        .await
        {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(e)) => Err(HttpError::from(e)),
            Err(_) => Err(HttpError::ConnectionReadTimeout),
        }
    };
    let mut send = std::pin::pin!(send);
    let response = std::future::poll_fn(|cx| {
        use std::task::Poll;
        if let Poll::Ready(result) = send.as_mut().poll(cx) {
            return Poll::Ready(result);
        }
        if let Some(conn) = connection.as_mut()
            && let Poll::Ready(done) = conn.as_mut().poll(cx)
        {
            connection = None;
            if let Err(e) = done {
                return Poll::Ready(Err(HttpError::from(e)));
            }
            return send.as_mut().poll(cx);
        }
        Poll::Pending
    })
    .await?;
    let body_open = open.clone();
    let response = response.map(|incoming| {
        BoundedBody {
            incoming,
            between_bytes: between_bytes_timeout,
            deadline,
            timer: Box::pin(tokio::time::sleep_until(
                deadline.min(Instant::now() + between_bytes_timeout),
            )),
            _open: body_open,
        }
        .boxed_unsync()
    });
    let io = async move {
        let _open = open;
        let Some(connection) = connection else {
            return Ok(());
        };
        match within(deadline, None, connection).await {
            Ok(result) => result.map_err(HttpError::from),
            Err(_) => Err(HttpError::ConnectionReadTimeout),
        }
    };
    Ok((response, Box::new(io)))
}

/// A connection, plain or TLS.
trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static> Stream for T {}

/// A response body that fails when no data comes for `between_bytes` or the call's deadline
/// passes, and counts as an open request until dropped.
struct BoundedBody {
    incoming: hyper::body::Incoming,
    between_bytes: Duration,
    deadline: Instant,
    timer: std::pin::Pin<Box<tokio::time::Sleep>>,
    _open: OpenRequest,
}

impl http_body::Body for BoundedBody {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, HttpError>>> {
        use std::task::Poll;
        match std::pin::Pin::new(&mut self.incoming).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let next = self.deadline.min(Instant::now() + self.between_bytes);
                self.timer.as_mut().reset(next);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(HttpError::from(e)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match self.timer.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(HttpError::ConnectionReadTimeout))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.incoming.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.incoming.size_hint()
    }
}
