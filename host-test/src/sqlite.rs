//! The reference store: SQLite with the schema of `host-test/schema.sql`.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use get_totp_code::platform::{Directory, HostError, NodeRef, User};
use get_totp_code::secret::TotpKey;
use get_totp_code::tool::{TOOL_EDGE_LABEL, resolve_agent};
use rusqlite::{Connection, OptionalExtension, params};
use wasmtime::error::Context;
use wasmtime::{Result, bail, format_err};
use zeroize::Zeroizing;

use crate::audit::{AuditError, AuditEvent, AuditFilter, AuditSink};
use crate::memory::Tables;

/// The schema operators' scripts write to (`host-test/schema.sql`).
pub const SCHEMA: &str = include_str!("../schema.sql");

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
        // Several processes (CLI calls, a server) append audit events to one
        // file: wait for each other's write locks rather than fail, and let
        // readers go on during writes (WAL). NORMAL in WAL mode syncs at
        // checkpoints, not at every commit: a committed event survives a
        // crash of the process, and the last ones may be lost only when the
        // machine loses power (README, *Audit trail*).
        connection.busy_timeout(Duration::from_secs(10))?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        connection.execute_batch(SCHEMA)?;
        Ok(SqliteDirectory {
            connection: Mutex::new(connection),
        })
    }

    /// `synchronous=FULL`: every commit, so every audit event, reaches the
    /// disk before the call returns, surviving a power loss too, at the cost
    /// of a sync per call (the README's *Performance* has both figures).
    pub fn sync_every_commit(&self) -> Result<()> {
        self.connection()
            .pragma_update(None, "synchronous", "FULL")?;
        Ok(())
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
             AND source_node_id = ?2 AND target_node_id = ?3 AND edge_label = ?4)",
            params![workflow_id, tool_node, agent_node, TOOL_EDGE_LABEL],
            |row| row.get(0),
        )?;
        if !exists {
            self.put_edge(workflow_id, tool_node, agent_node, TOOL_EDGE_LABEL)?;
        }
        Ok(())
    }

    /// Writes every row of `tables` (tests, fixtures).
    pub fn import(&self, tables: &Tables) -> Result<()> {
        for user in &tables.users {
            self.put_user(&user.username, user.is_agent, user.totp_secret.as_deref())?;
        }
        for workflow in &tables.workflows {
            self.put_workflow(&workflow.id, workflow.slug.as_deref())?;
        }
        for edge in &tables.workflow_edges {
            self.put_edge(
                &edge.workflow_id,
                &edge.source_node_id,
                &edge.target_node_id,
                &edge.edge_label,
            )?;
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
        let username = resolve_agent(self, tool_node).map_err(|e| format_err!("{e}"))?;
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

fn unavailable(error: rusqlite::Error) -> HostError {
    HostError::Unavailable(format!("store query failed: {error}"))
}

impl Directory for SqliteDirectory {
    fn find_user(&self, username: &str) -> Result<Option<User>, HostError> {
        self.connection()
            .query_row(
                "SELECT username, is_agent, totp_secret FROM users WHERE username = ?1",
                [username],
                |row| {
                    Ok(User {
                        username: row.get(0)?,
                        is_agent: row.get::<_, Option<i64>>(1)?.unwrap_or(0) != 0,
                        totp_secret: row.get::<_, Option<String>>(2)?.map(Zeroizing::new),
                    })
                },
            )
            .optional()
            .map_err(unavailable)
    }

    fn workflow_slug(&self, workflow_id: &str) -> Result<Option<String>, HostError> {
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
    ) -> Result<Vec<String>, HostError> {
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

/// Every call's event goes into the store's `audit_events` table. The host
/// only ever inserts; deleting old events is the operator's `prune`.
impl AuditSink for SqliteDirectory {
    fn record(&self, event: &AuditEvent) -> Result<(), AuditError> {
        self.connection()
            .prepare_cached(
                "INSERT INTO audit_events (id, time, time_unix, operation, workflow_id, \
                 node_id, token_id, username_requested, username_resolved, outcome, \
                 host_error, duration_us) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(params![
                event.id,
                event.time,
                event.time_unix,
                event.operation,
                event.workflow_id,
                event.node_id,
                event.token_id,
                event.username_requested,
                event.username_resolved,
                event.outcome,
                event.host_error,
                event.duration_us,
            ])?;
        Ok(())
    }
}

impl SqliteDirectory {
    /// The recorded events that pass `filter`, newest first.
    pub fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, AuditError> {
        let connection = self.connection();
        let mut statement = connection.prepare(
            "SELECT id, time, time_unix, operation, workflow_id, node_id, token_id, \
             username_requested, username_resolved, outcome, host_error, duration_us \
             FROM audit_events \
             WHERE (?1 IS NULL OR time_unix >= ?1) \
             AND (?2 IS NULL OR username_requested = ?2 OR username_resolved = ?2) \
             AND (?3 IS NULL OR workflow_id = ?3) \
             ORDER BY time_unix DESC, time DESC \
             LIMIT ?4",
        )?;
        // SQLite reads a negative LIMIT as none.
        let limit = filter
            .limit
            .map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
        let rows = statement.query_map(
            params![filter.since, filter.username, filter.workflow, limit],
            |row| {
                Ok(AuditEvent {
                    id: row.get(0)?,
                    time: row.get(1)?,
                    time_unix: row.get(2)?,
                    operation: row.get(3)?,
                    workflow_id: row.get(4)?,
                    node_id: row.get(5)?,
                    token_id: row.get(6)?,
                    username_requested: row.get(7)?,
                    username_resolved: row.get(8)?,
                    outcome: row.get(9)?,
                    host_error: row.get(10)?,
                    duration_us: row.get(11)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Deletes the events from before the Unix time `before`; returns how
    /// many.
    pub fn prune_audit_events(&self, before: i64) -> Result<usize, AuditError> {
        Ok(self
            .connection()
            .execute("DELETE FROM audit_events WHERE time_unix < ?1", [before])?)
    }
}
