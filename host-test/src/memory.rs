//! An in-memory directory: the store's tables ([`Tables`]) as data, and
//! failures to inject. The one stub behind the tests, the conformance runner
//! and the benchmarks, and a quick directory for embedders' own tests.

use get_totp_code::platform::{Directory, HostError, User};
use serde::{Deserialize, Serialize};

// The rows are the store's; named here too for the directory's users.
pub use crate::store::{EdgeRow, Tables, UserRow, WorkflowRow};

/// A lookup the directory fails instead of answering from its tables: a
/// conformance case's `host_failure`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Failure {
    pub import: Import,
    #[serde(flatten)]
    pub kind: FailureKind,
}

/// The WIT import functions a directory serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Import {
    FindUser,
    WorkflowSlug,
    EdgeTargets,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum FailureKind {
    /// The lookup is refused.
    Denied,
    /// The lookup fails with this message.
    Unavailable { message: String },
    /// `find-user` answers with the requested user's row under another
    /// name (a broken host).
    OtherUser { username: String },
}

/// A [`Directory`] over [`Tables`] held in memory.
#[derive(Debug, Clone, Default)]
pub struct MemoryDirectory {
    pub tables: Tables,
    pub failures: Vec<Failure>,
}

impl MemoryDirectory {
    pub fn new(tables: Tables) -> Self {
        MemoryDirectory {
            tables,
            failures: Vec::new(),
        }
    }

    /// One agent user with `secret` and nothing else.
    pub fn one_agent(username: &str, secret: &str) -> Self {
        Self::new(Tables {
            users: vec![UserRow {
                username: username.to_owned(),
                is_agent: true,
                totp_secret: Some(secret.to_owned()),
            }],
            ..Tables::default()
        })
    }

    /// Fails `import` as `kind` from now on.
    pub fn failing(mut self, import: Import, kind: FailureKind) -> Self {
        self.failures.push(Failure { import, kind });
        self
    }

    fn failure(&self, import: Import) -> Option<&FailureKind> {
        self.failures
            .iter()
            .find(|failure| failure.import == import)
            .map(|failure| &failure.kind)
    }

    fn fail(&self, import: Import) -> Result<(), HostError> {
        match self.failure(import) {
            Some(FailureKind::Denied) => Err(HostError::Denied),
            Some(FailureKind::Unavailable { message }) => {
                Err(HostError::Unavailable(message.clone()))
            }
            _ => Ok(()),
        }
    }
}

impl Directory for MemoryDirectory {
    fn find_user(&self, username: &str) -> Result<Option<User>, HostError> {
        self.fail(Import::FindUser)?;
        let found = self.tables.users.iter().find(|u| u.username == username);
        let renamed = match self.failure(Import::FindUser) {
            Some(FailureKind::OtherUser { username }) => Some(username),
            _ => None,
        };
        Ok(found.map(|row| {
            let mut user = row.to_user();
            if let Some(other) = renamed {
                user.username.clone_from(other);
            }
            user
        }))
    }

    fn workflow_slug(&self, workflow_id: &str) -> Result<Option<String>, HostError> {
        self.fail(Import::WorkflowSlug)?;
        Ok(self
            .tables
            .workflows
            .iter()
            .find(|w| w.id == workflow_id)
            .and_then(|w| w.slug.clone()))
    }

    fn edge_targets(
        &self,
        workflow_id: &str,
        source_node_id: &str,
        label: &str,
    ) -> Result<Vec<String>, HostError> {
        self.fail(Import::EdgeTargets)?;
        Ok(self
            .tables
            .workflow_edges
            .iter()
            .filter(|e| {
                e.workflow_id == workflow_id
                    && e.source_node_id == source_node_id
                    && e.edge_label == label
            })
            .map(|e| e.target_node_id.clone())
            .collect())
    }
}
