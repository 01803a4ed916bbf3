//! The platform's data, as the host sees it: users and the workflow graph.

/// A node of a workflow graph, and a user row (its secret wiped from memory
/// on drop and never printed): the guest crate's own types, so that what
/// the host hands over and what the tool reads cannot drift apart.
pub use get_totp_code::platform::{NodeRef, User as AgentUser};

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
