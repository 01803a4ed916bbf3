//! The rows of the store's tables (`host-test/schema.sql`), with their table
//! and column names: what the backends read and write, the shape of a
//! conformance case's `store`, of the Node host's JSON store and of the
//! in-memory directory's tables (`crate::memory`).

use get_totp_code::platform::User;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// The reference store's three directory tables, row by row.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tables {
    #[serde(default)]
    pub users: Vec<UserRow>,
    #[serde(default)]
    pub workflows: Vec<WorkflowRow>,
    #[serde(default)]
    pub workflow_edges: Vec<EdgeRow>,
}

/// One row of `users`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserRow {
    pub username: String,
    pub is_agent: bool,
    pub totp_secret: Option<String>,
}

impl std::fmt::Debug for UserRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `User`'s Debug, which keeps the secret out.
        self.to_user().fmt(f)
    }
}

impl UserRow {
    /// The row as the component's `User` (the secret as stored).
    pub fn to_user(&self) -> User {
        User {
            username: self.username.clone(),
            is_agent: self.is_agent,
            totp_secret: self.totp_secret.clone().map(Zeroizing::new),
        }
    }
}

/// One row of `workflows`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowRow {
    pub id: String,
    pub slug: Option<String>,
}

/// One row of `workflow_edges`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeRow {
    pub workflow_id: String,
    pub source_node_id: String,
    pub target_node_id: String,
    pub edge_label: String,
}

/// One row of `mcp_tokens`: an MCP bearer token's binding to a tool node.
/// The token itself is never stored, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRow {
    pub id: String,
    /// Lowercase hex SHA-256 of the token's text.
    #[serde(skip)]
    pub sha256: String,
    pub workflow_id: String,
    pub node_id: String,
    pub label: Option<String>,
    /// UTC RFC 3339.
    pub created: String,
    /// UTC RFC 3339; `None` while the token is live.
    pub revoked: Option<String>,
}
