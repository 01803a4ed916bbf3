//! Reference wasmtime host for the `get_totp_code` component.
//!
//! - [`TotpTool`]: compile the component once, then run every tool call in a
//!   fresh, isolated store and instance.
//! - [`Directory`]: what a platform plugs in (users, workflow graph);
//!   [`SqliteDirectory`] is the reference implementation.
//! - [`Call`]: the per-call context (directory, tool node, clock).

pub mod bench;
mod bindings;
pub mod cache;
pub mod call;
pub mod component;
pub mod directory;
pub mod policy;
pub mod sandbox;
pub mod sqlite;

pub use call::{Call, Clock};
pub use component::{TotpTool, WarmInstance};
pub use directory::{AgentUser, Directory, DirectoryError, NodeRef};
pub use policy::AccessPolicy;
pub use sandbox::SandboxConfig;
pub use sqlite::SqliteDirectory;

/// The component, as built by `build.rs`.
pub mod artifact {
    include!(concat!(env!("OUT_DIR"), "/component.rs"));
}
