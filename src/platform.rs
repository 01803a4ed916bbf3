//! What the tool needs from its host, as plain Rust traits.
//!
//! The component implements them over the WIT imports (`bindings.rs`); the
//! reference host implements [`Directory`] over its stores and hands it to
//! the component; native tests, fuzzers and benchmarks implement them in
//! memory.

use zeroize::Zeroizing;

/// A user as the host returned it: the WIT record `user`.
#[derive(Clone)]
pub struct User {
    pub username: String,
    pub is_agent: bool,
    /// The stored secret text, wiped from memory when dropped.
    pub totp_secret: Option<Zeroizing<String>>,
}

impl core::fmt::Debug for User {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("User")
            .field("username", &self.username)
            .field("is_agent", &self.is_agent)
            .field(
                "totp_secret",
                &self.totp_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// A node of a workflow graph: the WIT record `node-ref`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NodeRef {
    pub workflow_id: String,
    pub node_id: String,
}

impl NodeRef {
    pub fn new(workflow_id: impl Into<String>, node_id: impl Into<String>) -> Self {
        NodeRef {
            workflow_id: workflow_id.into(),
            node_id: node_id.into(),
        }
    }
}

/// Why the host did not answer a lookup: the WIT variants `lookup-error`
/// and `graph-error` (the same two cases).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    /// The host's access policy refuses the lookup.
    #[error("access denied")]
    Denied,
    /// The host failed; its message, meant for the agent, so it must not
    /// contain secrets.
    #[error("{0}")]
    Unavailable(String),
}

/// The platform's data: users and the workflow graph. One method per WIT
/// lookup function.
pub trait Directory {
    /// The user named exactly `username`; `None` when there is none.
    fn find_user(&self, username: &str) -> Result<Option<User>, HostError>;
    /// The workflow's slug; `None` when it has none or is unknown.
    fn workflow_slug(&self, workflow_id: &str) -> Result<Option<String>, HostError>;
    /// Targets of the edges labelled `label` that leave `source_node_id`.
    fn edge_targets(
        &self,
        workflow_id: &str,
        source_node_id: &str,
        label: &str,
    ) -> Result<Vec<String>, HostError>;
}

/// Everything the tool uses in one call: the directory, the calling node
/// and the clock.
pub trait Platform: Directory {
    /// The tool's own node; `None` outside any workflow.
    fn current_node(&self) -> Option<NodeRef>;
    /// Seconds since the Unix epoch.
    fn now(&self) -> u64;
}
