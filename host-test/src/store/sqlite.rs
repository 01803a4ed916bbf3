//! The SQLite backend: one file (or memory), one connection behind a lock.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OptionalExtension, params};
use wasmtime::Result;
use wasmtime::error::Context;

use super::{AUDIT_COLUMNS, Backend, BackendError, Rewrite, SCHEMA, TOKEN_COLUMNS, TokenRow};
use crate::audit::{AuditEvent, AuditFilter};
use crate::memory::{EdgeRow, UserRow};

pub struct SqliteBackend {
    connection: Mutex<Connection>,
    /// Set by [`Backend::short_lived`]: the WAL is checkpointed when the
    /// store is dropped and the WAL has grown past [`SHORT_LIVED_WAL_BYTES`].
    short_lived: AtomicBool,
}

/// How large a short-lived process lets the WAL grow before it checkpoints
/// and truncates it on its way out. Each such process, as the file's only
/// connection, reads the whole WAL back when it opens the store (SQLite
/// rebuilds the WAL index), so the WAL stays small; and a checkpoint (two
/// fsyncs) every few dozen processes replaces one on every close.
const SHORT_LIVED_WAL_BYTES: u64 = 256 << 10;

fn failed(error: rusqlite::Error) -> BackendError {
    BackendError(error.to_string())
}

impl SqliteBackend {
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

    pub fn in_memory() -> Result<Self> {
        Self::with_connection(Connection::open_in_memory()?)
    }

    fn with_connection(connection: Connection) -> Result<Self> {
        // Overwrite what an update or delete frees, so that a secret sealed
        // by `store encrypt` leaves no plain copy in the file's free pages.
        connection.pragma_update(None, "secure_delete", true)?;
        // Several processes (CLI calls, a server) append audit events to one
        // file: wait for each other's write locks rather than fail, and let
        // readers go on during writes (WAL). NORMAL in WAL mode syncs at
        // checkpoints, not at every commit: a committed event survives a
        // crash of the process, and the last ones may be lost only when the
        // machine loses power (README, *Audit trail*).
        connection.busy_timeout(std::time::Duration::from_secs(10))?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        connection.execute_batch(SCHEMA)?;
        Ok(SqliteBackend {
            connection: Mutex::new(connection),
            short_lived: AtomicBool::new(false),
        })
    }

    fn connection(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite itself consistent.
        self.connection.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for SqliteBackend {
    fn drop(&mut self) {
        if !*self.short_lived.get_mut() {
            return;
        }
        let connection = self.connection.get_mut().unwrap_or_else(|e| e.into_inner());
        let wal_bytes = connection
            .path()
            .and_then(|path| std::fs::metadata(format!("{path}-wal")).ok())
            .map_or(0, |wal| wal.len());
        if wal_bytes > SHORT_LIVED_WAL_BYTES {
            // Best effort: a busy database is checkpointed by a later process.
            let _ = connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        }
    }
}

impl Backend for SqliteBackend {
    fn user(&self, username: &str) -> Result<Option<UserRow>, BackendError> {
        self.connection()
            .prepare_cached("SELECT username, is_agent, totp_secret FROM users WHERE username = ?1")
            .and_then(|mut statement| {
                statement
                    .query_row([username], |row| {
                        Ok(UserRow {
                            username: row.get(0)?,
                            is_agent: row.get::<_, Option<i64>>(1)?.unwrap_or(0) != 0,
                            totp_secret: row.get(2)?,
                        })
                    })
                    .optional()
            })
            .map_err(failed)
    }

    fn workflow_slug(&self, workflow_id: &str) -> Result<Option<String>, BackendError> {
        self.connection()
            .prepare_cached("SELECT slug FROM workflows WHERE id = ?1")
            .and_then(|mut statement| {
                statement
                    .query_row([workflow_id], |row| row.get::<_, Option<String>>(0))
                    .optional()
            })
            .map(Option::flatten)
            .map_err(failed)
    }

    fn edge_targets(
        &self,
        workflow_id: &str,
        source_node_id: &str,
        label: &str,
    ) -> Result<Vec<String>, BackendError> {
        self.connection()
            .prepare_cached(
                "SELECT target_node_id FROM workflow_edges \
                 WHERE workflow_id = ?1 AND source_node_id = ?2 AND edge_label = ?3 \
                 ORDER BY rowid",
            )
            .and_then(|mut statement| {
                statement
                    .query_map(params![workflow_id, source_node_id, label], |row| {
                        row.get(0)
                    })?
                    .collect()
            })
            .map_err(failed)
    }

    fn insert_user(&self, row: &UserRow) -> Result<bool, BackendError> {
        self.connection()
            .execute(
                "INSERT INTO users (username, is_agent, totp_secret) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (username) DO NOTHING",
                params![row.username, row.is_agent, row.totp_secret],
            )
            .map(|inserted| inserted == 1)
            .map_err(failed)
    }

    fn put_user(&self, row: &UserRow) -> Result<(), BackendError> {
        self.connection()
            .execute(
                "INSERT OR REPLACE INTO users (username, is_agent, totp_secret) VALUES (?1, ?2, ?3)",
                params![row.username, row.is_agent, row.totp_secret],
            )
            .map(drop)
            .map_err(failed)
    }

    fn put_workflow(&self, workflow_id: &str, slug: Option<&str>) -> Result<(), BackendError> {
        self.connection()
            .execute(
                "INSERT INTO workflows (id, slug) VALUES (?1, ?2) \
                 ON CONFLICT (id) DO UPDATE SET slug = excluded.slug",
                params![workflow_id, slug],
            )
            .map(drop)
            .map_err(failed)
    }

    fn put_edge(&self, edge: &EdgeRow, unless_present: bool) -> Result<(), BackendError> {
        let sql = if unless_present {
            "INSERT INTO workflow_edges (workflow_id, source_node_id, target_node_id, edge_label) \
             SELECT ?1, ?2, ?3, ?4 WHERE NOT EXISTS (SELECT 1 FROM workflow_edges \
             WHERE workflow_id = ?1 AND source_node_id = ?2 AND target_node_id = ?3 \
             AND edge_label = ?4)"
        } else {
            "INSERT INTO workflow_edges (workflow_id, source_node_id, target_node_id, edge_label) \
             VALUES (?1, ?2, ?3, ?4)"
        };
        self.connection()
            .execute(
                sql,
                params![
                    edge.workflow_id,
                    edge.source_node_id,
                    edge.target_node_id,
                    edge.edge_label
                ],
            )
            .map(drop)
            .map_err(failed)
    }

    fn rewrite_secrets(&self, rewrite: &mut Rewrite<'_>) -> Result<usize, BackendError> {
        let mut connection = self.connection();
        let transaction = connection.transaction().map_err(failed)?;
        let rows: Vec<(String, zeroize::Zeroizing<String>)> = {
            let mut statement = transaction
                .prepare("SELECT username, totp_secret FROM users WHERE totp_secret IS NOT NULL")
                .map_err(failed)?;
            statement
                .query_map([], |row| {
                    Ok((row.get(0)?, zeroize::Zeroizing::new(row.get(1)?)))
                })
                .and_then(|rows| rows.collect())
                .map_err(failed)?
        };
        let mut changed = 0;
        for (username, secret) in rows {
            if let Some(replacement) = rewrite(&username, &secret)? {
                transaction
                    .execute(
                        "UPDATE users SET totp_secret = ?1 WHERE username = ?2",
                        params![replacement, username],
                    )
                    .map_err(failed)?;
                changed += 1;
            }
        }
        transaction.commit().map_err(failed)?;
        // The replaced rows' pages still hold the old secrets in the main
        // file until a checkpoint copies the new pages over them (and
        // `secure_delete` zeroes what they freed); do it now rather than
        // whenever the WAL next fills up.
        connection
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(failed)?;
        Ok(changed)
    }

    fn append_audit(&self, event: &AuditEvent) -> Result<(), BackendError> {
        self.connection()
            .prepare_cached(
                "INSERT INTO audit_events (id, time, time_unix, operation, workflow_id, \
                 node_id, token_id, username_requested, username_resolved, outcome, \
                 host_error, duration_us) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )
            .and_then(|mut statement| {
                statement.execute(params![
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
                ])
            })
            .map(drop)
            .map_err(failed)
    }

    fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, BackendError> {
        let connection = self.connection();
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_events \
             WHERE (?1 IS NULL OR time_unix >= ?1) \
             AND (?2 IS NULL OR username_requested = ?2 OR username_resolved = ?2) \
             AND (?3 IS NULL OR workflow_id = ?3) \
             ORDER BY time_unix DESC, time DESC LIMIT ?4"
        );
        // SQLite reads a negative LIMIT as none.
        let limit = filter
            .limit
            .map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
        let mut statement = connection.prepare(&sql).map_err(failed)?;
        statement
            .query_map(
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
            )
            .and_then(|rows| rows.collect())
            .map_err(failed)
    }

    fn prune_audit(&self, before: i64) -> Result<usize, BackendError> {
        self.connection()
            .execute("DELETE FROM audit_events WHERE time_unix < ?1", [before])
            .map_err(failed)
    }

    fn short_lived(&self) -> Result<(), BackendError> {
        // A CLI call is a process. SQLite's checkpoint when the last
        // connection closes would cost every call two to four fsyncs and a
        // new WAL file; its automatic checkpoint would run in every process
        // once the WAL is past the limit, since a connection that rebuilt
        // the WAL index does not know what earlier ones copied back. Both
        // off: `Drop` checkpoints and truncates past a size instead.
        let connection = self.connection();
        connection
            .set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
            .map_err(failed)?;
        connection
            .pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(failed)?;
        self.short_lived.store(true, Ordering::Relaxed);
        Ok(())
    }

    fn insert_token(&self, token: &TokenRow) -> Result<(), BackendError> {
        self.connection()
            .execute(
                "INSERT INTO mcp_tokens (id, sha256, workflow_id, node_id, label, created, revoked) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    token.id,
                    token.sha256,
                    token.workflow_id,
                    token.node_id,
                    token.label,
                    token.created,
                    token.revoked
                ],
            )
            .map(drop)
            .map_err(failed)
    }

    fn tokens(&self) -> Result<Vec<TokenRow>, BackendError> {
        let connection = self.connection();
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM mcp_tokens ORDER BY created, id");
        let mut statement = connection.prepare(&sql).map_err(failed)?;
        statement
            .query_map([], token_row)
            .and_then(|rows| rows.collect())
            .map_err(failed)
    }

    fn revoke_token(&self, id: &str, revoked: &str) -> Result<bool, BackendError> {
        self.connection()
            .execute(
                "UPDATE mcp_tokens SET revoked = ?2 WHERE id = ?1 AND revoked IS NULL",
                params![id, revoked],
            )
            .map(|changed| changed == 1)
            .map_err(failed)
    }

    fn token_by_sha256(&self, sha256: &str) -> Result<Option<TokenRow>, BackendError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM mcp_tokens WHERE sha256 = ?1");
        self.connection()
            .prepare_cached(&sql)
            .and_then(|mut statement| statement.query_row([sha256], token_row).optional())
            .map_err(failed)
    }

    fn sync_every_commit(&self) -> Result<(), BackendError> {
        self.connection()
            .pragma_update(None, "synchronous", "FULL")
            .map_err(failed)
    }
}

fn token_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<TokenRow> {
    Ok(TokenRow {
        id: row.get(0)?,
        sha256: row.get(1)?,
        workflow_id: row.get(2)?,
        node_id: row.get(3)?,
        label: row.get(4)?,
        created: row.get(5)?,
        revoked: row.get(6)?,
    })
}
