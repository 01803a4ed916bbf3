//! `totp-host mcp` (the MCP server over stdio or streamable HTTP) and
//! `totp-host token` (its bearer tokens).

use crate::logs::LogFormat;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};
use totp_host::mcp::{self, HttpOptions, TotpMcp};
use totp_host::{Audit, Clock, NodeRef, SandboxConfig};
use wasmtime::Result;
use wasmtime::error::Context;

use crate::{Access, MinValidity, Policy, StoreArgs, access_policy, load_tool_with};

#[derive(Args)]
pub struct McpArgs {
    /// Workflow of the tool node the stdio session is (with --node).
    #[arg(long, value_name = "ID", requires = "node", conflicts_with = "http")]
    workflow: Option<String>,
    /// The tool node the stdio session is (with --workflow).
    #[arg(long, value_name = "NODE_ID", requires = "workflow")]
    node: Option<String>,
    /// Serve streamable HTTP at this address (path /mcp) instead of stdio;
    /// a bare PORT is on loopback (127.0.0.1). Each request's bearer token
    /// names its tool node (`token create`).
    #[arg(long, value_name = "[ADDR:]PORT", value_parser = http_address)]
    http: Option<SocketAddr>,
    /// HTTP: sessions open at once.
    #[arg(long, default_value_t = 256, requires = "http")]
    max_sessions: usize,
    /// HTTP: largest request body in bytes.
    #[arg(long, default_value_t = 64 << 10, requires = "http")]
    max_body_bytes: usize,
    /// HTTP: a further Host name the server answers to (repeatable), as
    /// `NAME` or `NAME:PORT`: behind a reverse proxy, or with --http on
    /// 0.0.0.0, the names clients connect by. Loopback and the listening
    /// address are always allowed.
    #[arg(long = "allowed-host", value_name = "NAME[:PORT]", requires = "http")]
    allowed_hosts: Vec<String>,
    /// HTTP: tool calls per minute per token (bursts up to a minute's).
    #[arg(long, default_value_t = 60, requires = "http")]
    calls_per_minute: u32,
    /// HTTP: also serve GET /metrics (only) at this address, as --http
    /// (a bare PORT is on loopback). /metrics is on the --http address
    /// too, without a token.
    #[arg(long, value_name = "[ADDR:]PORT", value_parser = http_address, requires = "http")]
    metrics: Option<SocketAddr>,
    /// HTTP: seconds a client has to send a request's head (the request
    /// line and headers), and a kept-alive connection to start its next
    /// request; then the connection closes.
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..), requires = "http")]
    header_read_timeout: u64,
    /// HTTP: a connection that moves no byte either way for this many
    /// seconds closes, mid-request or not.
    #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..), requires = "http")]
    idle_timeout: u64,
    /// HTTP: connections open at once from one client address; another
    /// is closed as soon as it is accepted.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..), requires = "http")]
    max_connections_per_ip: u64,
    /// How the server logs on stderr: `text` (one readable line per
    /// event) or `json` (one JSON object per line, for a log pipeline).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(flatten)]
    validity: MinValidity,
    /// TEST ONLY: every code is computed for this Unix time instead of now.
    #[arg(long, value_name = "UNIX_SECONDS", hide = true)]
    test_now: Option<u64>,
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Make a bearer token bound to a tool node; printed once, only its
    /// SHA-256 is stored.
    Create {
        /// Workflow of the tool node.
        #[arg(long, value_name = "ID")]
        workflow: String,
        /// The tool node the token's calls run as.
        #[arg(long, value_name = "NODE_ID")]
        node: String,
        /// A note on who holds it.
        #[arg(long)]
        label: Option<String>,
    },
    /// List the tokens (ids, nodes, labels, dates; never a token).
    List,
    /// Refuse a token from the next request on.
    Revoke {
        /// The token's id (from `token list`).
        id: String,
    },
}

/// `--http`: `ADDR:PORT`, or a bare `PORT` on loopback.
fn http_address(text: &str) -> Result<SocketAddr, String> {
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    text.parse()
        .map_err(|_| format!("{text:?} is neither ADDR:PORT nor PORT"))
}

pub fn mcp(store: &StoreArgs, policy: Policy, args: McpArgs) -> Result<ExitCode> {
    crate::logs::init(args.log_format);
    let (directory, default_node) = store.open_serving(Access::Read)?;
    let directory = Arc::new(directory);
    // Every code handed out is on record in the store it was read from, as
    // with the CLI; a server keeps a pool of instance slots for its calls.
    let tool = load_tool_with(
        store,
        SandboxConfig::default(),
        Audit::To(directory.clone()),
    )?;
    let clock = args.test_now.map_or(Clock::System, Clock::Fixed);
    let server = TotpMcp::new(
        Arc::new(tool),
        directory.clone(),
        access_policy(policy),
        clock,
    )?
    .with_min_validity(args.validity.duration());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    match args.http {
        None => {
            let node = args
                .workflow
                .zip(args.node)
                .map(|(workflow, node)| NodeRef::new(workflow, node))
                .or(default_node);
            runtime.block_on(mcp::serve_stdio(server.bound_to(node)))?;
        }
        Some(addr) => {
            let options = HttpOptions {
                max_sessions: args.max_sessions,
                max_body_bytes: args.max_body_bytes,
                allowed_hosts: args.allowed_hosts,
                metrics_addr: args.metrics,
                header_read_timeout: Duration::from_secs(args.header_read_timeout),
                idle_timeout: Duration::from_secs(args.idle_timeout),
                max_connections_per_ip: usize::try_from(args.max_connections_per_ip)
                    .unwrap_or(usize::MAX),
                ..HttpOptions::new(addr)
            };
            let server = server.with_rate(args.calls_per_minute);
            runtime.block_on(mcp::serve_http(
                server,
                directory,
                options,
                |addr| tracing::info!("MCP over streamable HTTP at http://{addr}/mcp"),
                shutdown_signal(),
            ))?;
            tracing::info!("MCP server stopped");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

pub fn token(store: &StoreArgs, command: TokenCommand) -> Result<ExitCode> {
    let (directory, _) = store.open(Access::Read)?;
    match command {
        TokenCommand::Create {
            workflow,
            node,
            label,
        } => {
            let made =
                mcp::tokens::create(&directory, &NodeRef::new(workflow, node), label.as_deref())?;
            let mut out = serde_json::to_value(&made.row)?;
            out["token"] = made.token.as_str().into();
            println!("{out}");
        }
        TokenCommand::List => {
            for row in directory.tokens()? {
                println!("{}", serde_json::to_value(&row)?);
            }
        }
        TokenCommand::Revoke { id } => {
            let revoked = mcp::tokens::revoke(&directory, &id)?;
            println!("{}", serde_json::json!({"id": id, "revoked": revoked}));
            if !revoked {
                return Ok(ExitCode::from(1));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
