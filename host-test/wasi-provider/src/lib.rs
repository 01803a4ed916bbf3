//! `totp-wasi-provider`: the `get_totp_code` tool's `secrets` and `workflow`
//! imports, provided over standard WASI for hosts that give a guest nothing
//! else (wasmtime CLI, Obelisk, Wassette).
//!
//! Composed in front of the tool, the component exports
//! `agent-tools:totp/secrets@0.2.0` and `agent-tools:totp/workflow@0.2.0`
//! and imports only `wasi:cli/environment@0.2.0` (world
//! `environment-provider`, the default) or, with the `wasi-config`
//! feature, `wasi:config/store@0.2.0-draft` (world `config-provider`).
//!
//! The configuration contract ([`config`]): `TOTP_USERNAME` and
//! `TOTP_SECRET` (required), `TOTP_USERNAME_n`/`TOTP_SECRET_n` for n = 2 to
//! 16 (optional), `TOTP_WORKFLOW_ID`, `TOTP_NODE_ID` and
//! `TOTP_AGENT_NODE_ID` (all or none) and `TOTP_WORKFLOW_SLUG` (optional,
//! with them). An invalid configuration never traps: lookups answer
//! `unavailable` with a message that names the variable and never a value
//! ([`provider`]).
//!
//! `config` and `provider` are plain Rust, tested natively; `bindings` binds
//! them to the WIT world for `wasm32-unknown-unknown`.

pub mod config;
pub mod provider;

#[cfg(target_arch = "wasm32")]
mod bindings;
