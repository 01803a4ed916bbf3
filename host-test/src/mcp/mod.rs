//! `totp-host mcp`: the tool as a Model Context Protocol server (the
//! official Rust SDK, `rmcp`), over stdio for one client and over
//! streamable HTTP for many, each client bound to one tool node.
//!
//! - [`server`]: the MCP handler: `tools/list` from the component's own
//!   `describe()`, `tools/call` as `invoke(arguments)` in a fresh instance.
//! - [`http`]: the HTTP front: bearer tokens, `Origin` and `Host` checks,
//!   body and session caps, graceful shutdown.
//! - [`tokens`]: making, listing, revoking and resolving bearer tokens
//!   (only their SHA-256 is stored).
//! - [`rate`]: the per-token call rate.
//! - [`metrics`]: the counts `GET /metrics` serves.
//! - [`jsonrpc`]: JSON-RPC's own errors for malformed requests, where the
//!   SDK answers otherwise.
//!
//! What a model sees through it is the tool's result: a code, its username
//! and expiry, or an error. Secrets stay in the store and the sandbox.

pub mod http;
pub mod jsonrpc;
pub mod metrics;
pub mod rate;
pub mod server;
pub mod tokens;

pub use http::{HttpOptions, RequestId, ServeError, serve_http};
pub use server::{Binding, SetupError, TotpMcp, output_schema, serve_stdio};
pub use tokens::{NewToken, TokenError};
