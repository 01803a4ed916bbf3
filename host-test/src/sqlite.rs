//! The reference store: SQLite with the schema documented in the README.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use get_totp_code::secret::TotpKey;
use get_totp_code::tool::resolve_calling_agent;
use rusqlite::{Connection, OptionalExtension, params};
use wasmtime::error::Context;
use wasmtime::{Result, bail, format_err};
use zeroize::Zeroizing;

use crate::directory::{AgentUser, Directory, DirectoryError, NodeRef};
use crate::policy::GraphView;

/// The schema operators' scripts write to; `CREATE ... IF NOT EXISTS` so that
/// opening an existing store changes nothing.
pub const SCHEMA: &str = "\
CREATE TABLE IF NOT EXISTS users (
    username    TEXT PRIMARY KEY,
    is_agent    INTEGER NOT NULL DEFAULT 0,
    totp_secret TEXT
);
CREATE TABLE IF NOT EXISTS workflows (
    id   TEXT PRIMARY KEY,
    slug TEXT
);
CREATE TABLE IF NOT EXISTS workflow_edges (
    workflow_id    TEXT NOT NULL,
    source_node_id TEXT NOT NULL,
    target_node_id TEXT NOT NULL,
    edge_label     TEXT NOT NULL
);
";

/// A [`Directory`] over one SQLite database.
pub struct SqliteDirectory {
    connection: Mutex<Connection>,
}

/// What `create_agent_user` did.
#[derive(Debug)]
pub struct Provisioned {
    pub username: String,
    pub already_existed: bool,
    /// The secret stored by this call; `None` when the user already existed.
    pub secret: Option<Zeroizing<String>>,
}

impl SqliteDirectory {
    /// Opens `path`, creating the file and the schema when missing.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        let connection =
            Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
        Self::with_connection(connection)
            .with_context(|| format!("preparing the store {}", path.display()))
    }

    /// A private in-memory store (tests, examples).
    pub fn in_memory() -> Result<Self> {
        Self::with_connection(Connection::open_in_memory()?)
    }

    fn with_connection(connection: Connection) -> Result<Self> {
        connection.execute_batch(SCHEMA)?;
        Ok(SqliteDirectory {
            connection: Mutex::new(connection),
        })
    }

    fn connection(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite itself consistent.
        self.connection.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Inserts or replaces a user row as is (tests, operators' tooling).
    pub fn put_user(
        &self,
        username: &str,
        is_agent: bool,
        totp_secret: Option<&str>,
    ) -> Result<()> {
        self.connection().execute(
            "INSERT OR REPLACE INTO users (username, is_agent, totp_secret) VALUES (?1, ?2, ?3)",
            params![username, is_agent, totp_secret],
        )?;
        Ok(())
    }

    /// Creates the workflow row when missing, setting its slug.
    pub fn put_workflow(&self, workflow_id: &str, slug: Option<&str>) -> Result<()> {
        self.connection().execute(
            "INSERT INTO workflows (id, slug) VALUES (?1, ?2) \
             ON CONFLICT (id) DO UPDATE SET slug = excluded.slug",
            params![workflow_id, slug],
        )?;
        Ok(())
    }

    /// Adds an edge (duplicates are kept, as a graph editor may create them).
    pub fn put_edge(
        &self,
        workflow_id: &str,
        source: &str,
        target: &str,
        label: &str,
    ) -> Result<()> {
        self.connection().execute(
            "INSERT INTO workflow_edges (workflow_id, source_node_id, target_node_id, edge_label) \
             VALUES (?1, ?2, ?3, ?4)",
            params![workflow_id, source, target, label],
        )?;
        Ok(())
    }

    /// `link-tool`: the workflow row (with its slug) and the `tool` edge from
    /// the tool node to the agent node, each only when missing.
    pub fn link_tool(
        &self,
        workflow_id: &str,
        slug: &str,
        tool_node: &str,
        agent_node: &str,
    ) -> Result<()> {
        self.put_workflow(workflow_id, Some(slug))?;
        let exists: bool = self.connection().query_row(
            "SELECT EXISTS (SELECT 1 FROM workflow_edges WHERE workflow_id = ?1 \
             AND source_node_id = ?2 AND target_node_id = ?3 AND edge_label = 'tool')",
            params![workflow_id, tool_node, agent_node],
            |row| row.get(0),
        )?;
        if !exists {
            self.put_edge(workflow_id, tool_node, agent_node, "tool")?;
        }
        Ok(())
    }

    /// The reference platform's `create_agent_user`: the agent behind the
    /// tool node gets a user named as the component will resolve it, with
    /// `secret` (validated first) or a fresh 160-bit one. Idempotent: an
    /// existing agent user is left as it is.
    pub fn create_agent_user(
        &self,
        tool_node: &NodeRef,
        secret: Option<&str>,
    ) -> Result<Provisioned> {
        let username = resolve_calling_agent(&GraphView {
            directory: self,
            node: tool_node,
        })
        .map_err(|e| format_err!("{e}"))?;
        if let Some(existing) = self.find_user(&username)? {
            if !existing.is_agent {
                bail!("user {username} exists and is not an agent user; refusing to change it");
            }
            return Ok(Provisioned {
                username,
                already_existed: true,
                secret: None,
            });
        }
        let secret = match secret {
            Some(given) => {
                TotpKey::parse(given).map_err(|e| format_err!("invalid secret: {e}"))?;
                Zeroizing::new(given.to_owned())
            }
            None => fresh_secret()?,
        };
        self.put_user(&username, true, Some(&secret))?;
        Ok(Provisioned {
            username,
            already_existed: false,
            secret: Some(secret),
        })
    }
}

/// 20 random bytes (RFC 4226 §4 recommends 160 bits), base32 without padding.
pub fn fresh_secret() -> Result<Zeroizing<String>> {
    let mut bytes = Zeroizing::new([0u8; 20]);
    getrandom::fill(&mut bytes[..]).map_err(|e| format_err!("no randomness: {e}"))?;
    Ok(Zeroizing::new(base32::encode(
        base32::Alphabet::Rfc4648 { padding: false },
        &bytes[..],
    )))
}

fn unavailable(error: rusqlite::Error) -> DirectoryError {
    DirectoryError::Unavailable(format!("store query failed: {error}"))
}

impl Directory for SqliteDirectory {
    fn find_user(&self, username: &str) -> Result<Option<AgentUser>, DirectoryError> {
        self.connection()
            .query_row(
                "SELECT username, is_agent, totp_secret FROM users WHERE username = ?1",
                [username],
                |row| {
                    Ok(AgentUser {
                        username: row.get(0)?,
                        is_agent: row.get::<_, Option<i64>>(1)?.unwrap_or(0) != 0,
                        totp_secret: row.get::<_, Option<String>>(2)?.map(Zeroizing::new),
                    })
                },
            )
            .optional()
            .map_err(unavailable)
    }

    fn workflow_slug(&self, workflow_id: &str) -> Result<Option<String>, DirectoryError> {
        self.connection()
            .query_row(
                "SELECT slug FROM workflows WHERE id = ?1",
                [workflow_id],
                |row| row.get::<_, Option<String>>(0),
            )
            .optional()
            .map(Option::flatten)
            .map_err(unavailable)
    }

    fn edge_targets(
        &self,
        workflow_id: &str,
        source_node_id: &str,
        label: &str,
    ) -> Result<Vec<String>, DirectoryError> {
        let connection = self.connection();
        let mut statement = connection
            .prepare_cached(
                "SELECT target_node_id FROM workflow_edges \
                 WHERE workflow_id = ?1 AND source_node_id = ?2 AND edge_label = ?3 \
                 ORDER BY rowid",
            )
            .map_err(unavailable)?;
        statement
            .query_map(params![workflow_id, source_node_id, label], |row| {
                row.get(0)
            })
            .and_then(|rows| rows.collect())
            .map_err(unavailable)
    }
}
