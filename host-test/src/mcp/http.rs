//! MCP over streamable HTTP for many agents at once. In front of the SDK's
//! service, one middleware authenticates every request by its bearer token
//! (the binding the call then runs as) and caps the sessions open; the
//! SDK checks `Host` and `Origin` (DNS rebinding) and the body size.
//! `GET /healthz` answers without a token, for load balancers, and
//! `GET /metrics` for Prometheus (also on a listener of its own).
//!
//! The accept loop is this module's own (hyper's HTTP/1 connections), for
//! what `axum::serve` lacks: a header-read timeout, an idle timeout and a
//! cap on connections per client address. Every response carries the
//! request's id (`x-request-id`), which the call's log line names.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use rmcp::transport::streamable_http_server::session::local::{LocalSessionManager, SessionConfig};
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::Store;
use crate::mcp::metrics::{self, Metrics};
use crate::mcp::server::{Binding, TotpMcp};
use crate::mcp::{jsonrpc, tokens};

/// The HTTP server's limits.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub addr: SocketAddr,
    /// Sessions open at once; a new one beyond it gets 503.
    pub max_sessions: usize,
    /// Largest request body (a `tools/call` is well under 1 KiB).
    pub max_body_bytes: usize,
    /// A session idle this long is closed.
    pub session_idle: Duration,
    /// Further `Host` names (`NAME` or `NAME:PORT`) the server answers to,
    /// beyond loopback and its own address: behind a proxy, or on
    /// `0.0.0.0`, the names clients use. Each also allows the browser
    /// origins `https://NAME` and `http://NAME`.
    pub allowed_hosts: Vec<String>,
    /// Also serve `GET /metrics` (only) at this address.
    pub metrics_addr: Option<SocketAddr>,
    /// A request head (the request line and headers) not all received
    /// this long after the connection is ready for it closes the
    /// connection; this also bounds a kept-alive connection's wait for its
    /// next request.
    pub header_read_timeout: Duration,
    /// A connection that moves no byte either way for this long closes,
    /// mid-request or not (a client that stops sending its body, or stops
    /// reading). Open SSE streams get a keep-alive event every 15 s.
    pub idle_timeout: Duration,
    /// Connections open at once from one client address; one more is
    /// closed as soon as it is accepted.
    pub max_connections_per_ip: usize,
}

impl HttpOptions {
    pub fn new(addr: SocketAddr) -> Self {
        HttpOptions {
            addr,
            max_sessions: 256,
            max_body_bytes: 64 << 10,
            session_idle: Duration::from_secs(300),
            allowed_hosts: Vec::new(),
            metrics_addr: None,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections_per_ip: 64,
        }
    }
}

/// The id of one HTTP request, made when it arrives: the `x-request-id`
/// response header and the `request_id` of its tool call's log line.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// What the middleware needs: the token table and the sessions to count.
struct Gate {
    store: Arc<Store>,
    metrics: Metrics,
    sessions: Arc<LocalSessionManager>,
    max_sessions: usize,
    /// Session-opening requests in flight: the SDK puts a session in its
    /// table only while it handles `initialize`, so requests arriving
    /// together would each see room; each counts as a session from the
    /// moment it is let through.
    opening: AtomicUsize,
}

/// One place among the sessions being opened, given back when the request
/// is done (or dropped: a client that walks away).
struct Opening<'a>(&'a AtomicUsize);

impl Drop for Opening<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Serves `server` at `options.addr` (`/mcp`) until `shutdown` resolves,
/// then closes the sessions and lets requests in flight finish. Calls
/// `ready` with the address bound (port 0 picks one).
pub async fn serve_http(
    server: TotpMcp,
    store: Arc<Store>,
    options: HttpOptions,
    ready: impl FnOnce(SocketAddr),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let (listener, addr) = bind(options.addr).await?;
    let metrics_listener = match options.metrics_addr {
        Some(at) => Some(bind(at).await?),
        None => None,
    };
    let cancel = CancellationToken::new();
    let mut session_config = SessionConfig::default();
    session_config.keep_alive = Some(options.session_idle);
    let mut sessions = LocalSessionManager::default();
    sessions.session_config = session_config;
    let sessions = Arc::new(sessions);
    let metrics = server.metrics().clone();
    let service = StreamableHttpService::new(
        move || Ok(server.clone()),
        sessions.clone(),
        sdk_config(addr, &options, cancel.clone()),
    );
    let gate = Arc::new(Gate {
        store: store.clone(),
        metrics: metrics.clone(),
        sessions,
        max_sessions: options.max_sessions,
        opening: AtomicUsize::new(0),
    });
    // The health check and the metrics are routed after the token layer,
    // so they need none.
    let app = Router::new()
        .route_service("/mcp", service)
        // Inner layer: runs after the token check, before the SDK.
        .layer(middleware::from_fn_with_state(
            jsonrpc::BodyLimit(options.max_body_bytes),
            jsonrpc::check,
        ))
        .layer(middleware::from_fn_with_state(gate.clone(), authenticate))
        .route("/healthz", get(move || healthz(store.clone())))
        .route("/metrics", get(render_metrics).with_state(gate.clone()))
        .layer(middleware::from_fn(request_id));
    let limits = Limits::of(&options);
    let metrics_server = metrics_listener.map(|(listener, at)| {
        tracing::info!("metrics at http://{at}/metrics");
        let app = Router::new()
            .route("/metrics", get(render_metrics).with_state(gate))
            .layer(middleware::from_fn(request_id));
        tokio::spawn(accept_loop(
            listener,
            app,
            limits.clone(),
            metrics.clone(),
            cancel.clone(),
        ))
    });
    ready(addr);
    let stop = cancel.clone();
    tokio::spawn(async move {
        shutdown.await;
        // Stops both accept loops, asks each connection to close once its
        // request is answered, and ends the sessions' open SSE streams,
        // which would otherwise keep their connections (and the shutdown)
        // waiting.
        stop.cancel();
    });
    accept_loop(listener, app, limits, metrics, cancel).await;
    if let Some(metrics_server) = metrics_server {
        let _ = metrics_server.await;
    }
    Ok(())
}

async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), ServeError> {
    let bind_error = |source| ServeError::Bind { addr, source };
    let listener = TcpListener::bind(addr).await.map_err(bind_error)?;
    let bound = listener.local_addr().map_err(bind_error)?;
    Ok((listener, bound))
}

/// Gives each request a fresh id, on its extensions and as the response's
/// `x-request-id` (a client's own is not trusted into the logs).
async fn request_id(mut request: Request, next: Next) -> Response {
    let id = uuid::Uuid::new_v4().simple().to_string();
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// `GET /metrics`: counts only; names no user, no token.
async fn render_metrics(State(gate): State<Arc<Gate>>) -> Response {
    gate.metrics
        .set_sessions(gate.sessions.sessions.read().await.len());
    (
        [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        gate.metrics.render(),
    )
        .into_response()
}

/// The connection limits of [`HttpOptions`].
#[derive(Clone)]
struct Limits {
    header_read_timeout: Duration,
    idle_timeout: Duration,
    per_ip: usize,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Limits {
    fn of(options: &HttpOptions) -> Self {
        Limits {
            header_read_timeout: options.header_read_timeout,
            idle_timeout: options.idle_timeout,
            per_ip: options.max_connections_per_ip.max(1),
            open: Arc::default(),
        }
    }

    /// A place for one more connection from `ip`, if it has one left.
    fn admit(&self, ip: IpAddr) -> Option<Admitted> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(ip).or_insert(0);
        if *count >= self.per_ip {
            return None;
        }
        *count += 1;
        Some(Admitted {
            open: self.open.clone(),
            ip,
        })
    }
}

/// One connection's place among its address's, given back on drop.
struct Admitted {
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
    ip: IpAddr,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// Accepts connections until `cancel`, serving `app` on each with the
/// limits; then waits for the connections to finish (each is asked to
/// close once its request in flight is answered).
async fn accept_loop(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    metrics: Metrics,
    cancel: CancellationToken,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    // Every connection holds a sender; all dropped, the receiver wakes.
    let (open_tx, mut open_rx) = tokio::sync::mpsc::channel::<()>(1);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, say: wait rather than spin.
                    tracing::error!("accepting a connection failed: {error}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = cancel.cancelled() => break,
        };
        let Some(admitted) = limits.admit(peer.ip()) else {
            // Over its address's cap: closed unread.
            drop(stream);
            metrics.connection_refused();
            continue;
        };
        // Each response is a few small writes (an SSE priming event, then
        // the message): with Nagle's algorithm the second waits for the
        // client's delayed ACK, tens of milliseconds per call.
        let _ = stream.set_nodelay(true);
        let started = Instant::now();
        let activity = Arc::new(AtomicU64::new(0));
        let io = TokioIo::new(Watched {
            stream,
            started,
            activity: activity.clone(),
        });
        let service = TowerToHyperService::new(app.clone());
        let connection = http.serve_connection(io, service);
        let idle_timeout = limits.idle_timeout;
        let cancel = cancel.clone();
        let open = open_tx.clone();
        tokio::spawn(async move {
            let _admitted = admitted;
            let _open = open;
            let mut connection = std::pin::pin!(connection);
            let mut closing = false;
            loop {
                let last = Duration::from_millis(activity.load(Ordering::Relaxed));
                let idle = started.elapsed().saturating_sub(last);
                tokio::select! {
                    _ = connection.as_mut() => break,
                    () = tokio::time::sleep(idle_timeout.saturating_sub(idle)) => {
                        let last = Duration::from_millis(activity.load(Ordering::Relaxed));
                        if started.elapsed().saturating_sub(last) >= idle_timeout {
                            // Dropping the connection closes it.
                            break;
                        }
                    }
                    () = cancel.cancelled(), if !closing => {
                        connection.as_mut().graceful_shutdown();
                        closing = true;
                    }
                }
            }
        });
    }
    drop(listener);
    drop(open_tx);
    let _ = open_rx.recv().await;
}

/// A TCP stream that notes when a byte last moved, in milliseconds since
/// `started`: the idle timeout's clock.
struct Watched {
    stream: TcpStream,
    started: Instant,
    activity: Arc<AtomicU64>,
}

impl Watched {
    fn moved(&self) {
        let millis = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.activity.store(millis, Ordering::Relaxed);
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.moved();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.moved();
        }
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write_vectored(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.moved();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// The SDK's own checks, set to this server's address: `Host` must name
/// it (or loopback), and a browser's `Origin` must be this server.
fn sdk_config(
    addr: SocketAddr,
    options: &HttpOptions,
    cancel: CancellationToken,
) -> StreamableHttpServerConfig {
    let port = addr.port();
    let ip = match addr.ip() {
        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        v4 => v4.to_string(),
    };
    let mut hosts = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "[::1]".to_owned(),
    ];
    if !hosts.contains(&ip) {
        hosts.push(ip);
    }
    let mut origins: Vec<String> = hosts
        .iter()
        .map(|host| format!("http://{host}:{port}"))
        .collect();
    let mut hosts: Vec<String> = hosts.iter().map(|host| format!("{host}:{port}")).collect();
    for name in &options.allowed_hosts {
        hosts.push(name.clone());
        // A name without a port is served on any (a proxy's 443, say).
        let authority = if name.contains(':') {
            name.clone()
        } else {
            format!("{name}:*")
        };
        origins.push(format!("https://{authority}"));
        origins.push(format!("http://{authority}"));
    }
    StreamableHttpServerConfig::default()
        .with_allowed_hosts(hosts)
        .with_allowed_origins(origins)
        .with_max_request_body_bytes(options.max_body_bytes)
        .with_cancellation_token(cancel)
}

/// `GET /healthz`: 200 when the store answers a query (the component was
/// compiled before the server listened, so a server that answers has it),
/// 503 with the store's error class when it does not. It names no user and
/// no token.
async fn healthz(store: Arc<Store>) -> Response {
    let (status, body) = match tokio::task::spawn_blocking(move || store.ping()).await {
        Ok(Ok(())) => (
            StatusCode::OK,
            serde_json::json!({"status": "ok", "store": "ok", "component": "loaded"}),
        ),
        Ok(Err(error)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({"status": "unavailable", "reason": error.to_string()}),
        ),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({"status": "unavailable", "reason": "the store check panicked"}),
        ),
    };
    jsonrpc::json_response(status, &body)
}

/// 401 with `WWW-Authenticate: Bearer` and nothing else: whether a token
/// was missing, unknown or revoked is not said.
fn unauthorized() -> Response {
    let mut response = StatusCode::UNAUTHORIZED.into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

fn unavailable(why: &'static str) -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, why).into_response()
}

/// The token of `Authorization: Bearer TOKEN`.
fn bearer(request: &Request) -> Option<&str> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

async fn authenticate(State(gate): State<Arc<Gate>>, mut request: Request, next: Next) -> Response {
    let Some(token) = bearer(&request).map(str::to_owned) else {
        gate.metrics.auth_failure();
        return unauthorized();
    };
    let store = gate.store.clone();
    // The store may block (SQLite lock, PostgreSQL on its own runtime).
    let row = match tokio::task::spawn_blocking(move || tokens::resolve(&store, &token)).await {
        Ok(Ok(Some(row))) => row,
        Ok(Ok(None)) => {
            gate.metrics.auth_failure();
            return unauthorized();
        }
        // The operator needs the cause; it names no token (the store is
        // asked by the token's hash).
        Ok(Err(error)) => {
            gate.metrics.store_error();
            tracing::error!("token lookup failed: {error}");
            return unavailable("token store unavailable");
        }
        Err(_) => {
            gate.metrics.store_error();
            tracing::error!("token lookup failed: the lookup panicked");
            return unavailable("token store unavailable");
        }
    };
    let opens_session =
        request.method() == Method::POST && !request.headers().contains_key("mcp-session-id");
    let _opening = if opens_session {
        let pending = gate.opening.fetch_add(1, Ordering::SeqCst) + 1;
        let opening = Opening(&gate.opening);
        if gate.sessions.sessions.read().await.len() + pending > gate.max_sessions {
            return unavailable("too many open sessions");
        }
        Some(opening)
    } else {
        None
    };
    request.extensions_mut().insert(Binding {
        node: Some(get_totp_code::platform::NodeRef::new(
            row.workflow_id,
            row.node_id,
        )),
        token_id: Some(row.id),
    });
    next.run(request).await
}
