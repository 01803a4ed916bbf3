//! MCP over streamable HTTP for many agents at once. In front of the SDK's
//! service, one middleware authenticates every request by its bearer token
//! (the binding the call then runs as) and caps the sessions open; the
//! SDK checks `Host` and `Origin` (DNS rebinding) and the body size.
//! `GET /healthz` answers without a token, for load balancers.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use rmcp::transport::streamable_http_server::session::local::{LocalSessionManager, SessionConfig};
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use crate::Store;
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
}

impl HttpOptions {
    pub fn new(addr: SocketAddr) -> Self {
        HttpOptions {
            addr,
            max_sessions: 256,
            max_body_bytes: 64 << 10,
            session_idle: Duration::from_secs(300),
            allowed_hosts: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the HTTP server failed: {0}")]
    Serve(std::io::Error),
}

/// What the middleware needs: the token table and the sessions to count.
struct Gate {
    store: Arc<Store>,
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
    let listener = tokio::net::TcpListener::bind(options.addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr: options.addr,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Bind {
        addr: options.addr,
        source,
    })?;
    let cancel = CancellationToken::new();
    let mut session_config = SessionConfig::default();
    session_config.keep_alive = Some(options.session_idle);
    let mut sessions = LocalSessionManager::default();
    sessions.session_config = session_config;
    let sessions = Arc::new(sessions);
    let service = StreamableHttpService::new(
        move || Ok(server.clone()),
        sessions.clone(),
        sdk_config(addr, &options, cancel.clone()),
    );
    let gate = Arc::new(Gate {
        store: store.clone(),
        sessions,
        max_sessions: options.max_sessions,
        opening: AtomicUsize::new(0),
    });
    // The health check is routed after the token layer, so it needs none.
    let app = Router::new()
        .route_service("/mcp", service)
        // Inner layer: runs after the token check, before the SDK.
        .layer(middleware::from_fn_with_state(
            jsonrpc::BodyLimit(options.max_body_bytes),
            jsonrpc::check,
        ))
        .layer(middleware::from_fn_with_state(gate, authenticate))
        .route("/healthz", get(move || healthz(store.clone())));
    // Each response is a few small writes (an SSE priming event, then the
    // message): with Nagle's algorithm the second waits for the client's
    // delayed ACK, tens of milliseconds per call.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    ready(addr);
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            // Ends the sessions' open SSE streams, which would otherwise
            // keep their connections (and the shutdown) waiting.
            cancel.cancel();
        })
        .await
        .map_err(ServeError::Serve)
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
        return unauthorized();
    };
    let store = gate.store.clone();
    // The store may block (SQLite lock, PostgreSQL on its own runtime).
    let row = match tokio::task::spawn_blocking(move || tokens::resolve(&store, &token)).await {
        Ok(Ok(Some(row))) => row,
        Ok(Ok(None)) => return unauthorized(),
        // The operator needs the cause; it names no token (the store is
        // asked by the token's hash).
        Ok(Err(error)) => {
            tracing::error!("token lookup failed: {error}");
            return unavailable("token store unavailable");
        }
        Err(_) => {
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
