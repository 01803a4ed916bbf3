//! The platform's data, as the host sees it: users and the workflow graph.

use zeroize::Zeroizing;

/// A node of a workflow graph.
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

/// A user row. The secret is wiped from memory on drop and never printed.
#[derive(Clone)]
pub struct AgentUser {
    pub username: String,
    pub is_agent: bool,
    pub totp_secret: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for AgentUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentUser")
            .field("username", &self.username)
            .field("is_agent", &self.is_agent)
            .field(
                "totp_secret",
                &self.totp_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Why a directory did not answer.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// The access policy refuses the lookup (reported as `access_denied`).
    #[error("access denied")]
    Denied,
    /// The backing store failed; the message reaches the agent, so it must
    /// not contain secrets.
    #[error("{0}")]
    Unavailable(String),
}

/// The lookups the component's imports are served from. Implement it over
/// your platform's database; [`crate::SqliteDirectory`] is the reference.
pub trait Directory: Send + Sync {
    fn find_user(&self, username: &str) -> Result<Option<AgentUser>, DirectoryError>;
    /// `None` when the workflow has no slug or is unknown.
    fn workflow_slug(&self, workflow_id: &str) -> Result<Option<String>, DirectoryError>;
    /// Targets of the edges labelled `label` leaving `source_node_id`.
    fn edge_targets(
        &self,
        workflow_id: &str,
        source_node_id: &str,
        label: &str,
    ) -> Result<Vec<String>, DirectoryError>;
}
