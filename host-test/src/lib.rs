//! Reference wasmtime host for the `get_totp_code` component.
//!
//! - [`TotpTool`]: compile the component once, then run every tool call in a
//!   fresh, isolated store and instance ([`SandboxConfig`] sets its limits;
//!   a failed call is a [`CallError`]).
//! - [`Directory`]: what a platform plugs in (users, workflow graph), the
//!   guest's own trait; [`Store`] is the reference store (SQLite or
//!   PostgreSQL) and [`MemoryDirectory`] an in-memory one.
//! - [`Call`]: the per-call context (directory, tool node, clock, the
//!   [`AccessPolicy`], and how long a code handed out must stay valid).
//! - [`Audit`]: where every call's [`AuditEvent`] goes (an [`AuditSink`]:
//!   the store, JSON lines, or the embedder's own), or explicitly
//!   nowhere.
//! - [`artifact`]: the embedded component and what its bytes say (digest,
//!   imports, exports, metadata); [`TotpTool::from_file`] loads a
//!   third-party build instead ([`LoadError`]); [`dist`] writes the files
//!   a deployment pins.

pub mod artifact;
pub mod audit;
mod bindings;
pub mod cache;
mod call;
mod component;
pub mod dist;
mod load;
#[cfg(feature = "mcp")]
pub mod mcp;
pub mod memory;
mod policy;
mod sandbox;
pub mod store;
pub mod store_key;
pub mod util;
mod validity;

pub use audit::{Audit, AuditError, AuditEvent, AuditFilter, AuditSink, JsonLinesSink};
pub use call::{Call, Clock};
pub use component::{TotpTool, WarmInstance};
pub use get_totp_code::platform::{Directory, HostError, NodeRef, User};
pub use load::LoadError;
pub use memory::MemoryDirectory;
pub use policy::AccessPolicy;
pub use sandbox::{CallError, CallLimiter, SandboxConfig};
pub use store::{Provisioned, Store, TokenRow};
pub use store_key::StoreKey;
