//! What the tool needs from its host, as a plain Rust trait.
//!
//! The component implements it over the WIT imports (`bindings.rs`); native
//! tests, fuzzers and benchmarks implement it in memory.

use zeroize::Zeroizing;

/// A user as the host returned it.
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

/// The tool's own node in a workflow graph.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// Why the host did not answer a lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostError {
    /// The host's access policy refuses the lookup.
    Denied,
    /// The host failed; its message, meant for the agent.
    Unavailable(String),
}

/// The workflow graph around the tool: the `workflow` WIT interface.
pub trait WorkflowGraph {
    fn current_node(&self) -> Option<NodeRef>;
    fn workflow_slug(&self, workflow_id: &str) -> Result<Option<String>, HostError>;
    fn edge_targets(
        &self,
        workflow_id: &str,
        source_node_id: &str,
        label: &str,
    ) -> Result<Vec<String>, HostError>;
}

/// Every host capability the tool uses; one method per WIT import function.
pub trait Platform: WorkflowGraph {
    fn find_user(&self, username: &str) -> Result<Option<User>, HostError>;
    /// Seconds since the Unix epoch.
    fn now(&self) -> u64;
}
