//! The SQLite backend: one file (or memory), one connection behind a lock.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::sql::{self, Statement};
use super::{
    Backend, EdgeRow, Found, Rewrite, SCHEMA, SCHEMA_VERSION, StoreError, TokenRow, UserRow,
    VERSION_1_TABLES, upgrade_plan,
};
use crate::audit::{AuditEvent, AuditFilter};

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

impl SqliteBackend {
    /// Opens `path`, creating the file and the schema when missing, and
    /// upgrading an older store's schema.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let cannot_open = |source: Box<dyn std::error::Error + Send + Sync>| StoreError::Open {
            path: path.to_owned(),
            source,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| cannot_open(Box::new(e)))?;
        }
        let connection = Connection::open(path).map_err(|e| cannot_open(Box::new(e)))?;
        Self::with_connection(connection).map_err(|error| match error {
            StoreError::Sqlite(e) => cannot_open(Box::new(e)),
            other => other,
        })
    }

    pub fn in_memory() -> Result<Self, StoreError> {
        Self::with_connection(Connection::open_in_memory()?)
    }

    fn with_connection(mut connection: Connection) -> Result<Self, StoreError> {
        // Overwrite what an update or delete frees, so that a secret sealed
        // by `store encrypt` leaves no plain copy in the file's free pages.
        connection.pragma_update(None, "secure_delete", true)?;
        // Several processes (CLI calls, a server) append audit events to one
        // file: wait for each other's write locks rather than fail, and let
        // readers go on during writes (WAL). NORMAL in WAL mode syncs at
        // checkpoints, not at every commit: a committed event survives a
        // crash of the process, and the last ones may be lost only when the
        // machine loses power (host-test/docs/audit.md).
        connection.busy_timeout(std::time::Duration::from_secs(10))?;
        // The schema first: a store this host refuses is left as it was,
        // its journal mode included.
        prepare_schema(&mut connection)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        Ok(SqliteBackend {
            connection: Mutex::new(connection),
            short_lived: AtomicBool::new(false),
        })
    }

    fn connection(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite itself consistent.
        self.connection.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One statement with its parameters: how many rows it changed.
    fn execute(
        &self,
        statement: Statement,
        params: impl rusqlite::Params,
    ) -> Result<usize, StoreError> {
        Ok(self
            .connection()
            .prepare_cached(statement.sqlite)?
            .execute(params)?)
    }
}

/// What the file holds: no table of the store's, or its schema version.
fn found(connection: &Connection) -> Result<Found, StoreError> {
    let has_table = |name: &str| -> rusqlite::Result<bool> {
        connection.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1)",
            [name],
            |row| row.get(0),
        )
    };
    if has_table("schema_version")? {
        let versions = connection
            .prepare(sql::SCHEMA_VERSION.sqlite)?
            .query_map([], |row| row.get::<_, i64>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        return match versions[..] {
            [version] => Ok(Found::Version(version)),
            _ => Err(StoreError::UnreadableSchemaVersion),
        };
    }
    for table in VERSION_1_TABLES {
        if has_table(table)? {
            return Ok(Found::Version(1));
        }
    }
    Ok(Found::Empty)
}

/// Creates the schema in a new store, upgrades an older one, refuses a
/// newer one. A current store is only read (no write lock); anything else
/// is decided again and done under the write lock, in one transaction, so
/// that a failure leaves the file as it was and two processes opening one
/// old store upgrade it once.
fn prepare_schema(connection: &mut Connection) -> Result<(), StoreError> {
    {
        let transaction = connection.transaction()?;
        if upgrade_plan(found(&transaction)?)?.is_none() {
            return Ok(());
        }
    }
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let Some(upgrades) = upgrade_plan(found(&transaction)?)? else {
        return Ok(());
    };
    for upgrade in upgrades {
        transaction.execute_batch(upgrade)?;
    }
    transaction.execute_batch(SCHEMA)?;
    transaction.execute(sql::SET_SCHEMA_VERSION.sqlite, [SCHEMA_VERSION])?;
    transaction.commit()?;
    Ok(())
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
    fn user(&self, username: &str) -> Result<Option<UserRow>, StoreError> {
        Ok(self
            .connection()
            .prepare_cached(sql::USER.sqlite)?
            .query_row([username], |row| {
                Ok(UserRow {
                    username: row.get(0)?,
                    is_agent: row.get::<_, Option<i64>>(1)?.unwrap_or(0) != 0,
                    totp_secret: row.get(2)?,
                })
            })
            .optional()?)
    }

    fn workflow_slug(&self, workflow_id: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .connection()
            .prepare_cached(sql::WORKFLOW_SLUG.sqlite)?
            .query_row([workflow_id], |row| row.get::<_, Option<String>>(0))
            .optional()?
            .flatten())
    }

    fn edge_targets(
        &self,
        workflow_id: &str,
        source_node_id: &str,
        label: &str,
    ) -> Result<Vec<String>, StoreError> {
        Ok(self
            .connection()
            .prepare_cached(sql::EDGE_TARGETS.sqlite)?
            .query_map(params![workflow_id, source_node_id, label], |row| {
                row.get(0)
            })?
            .collect::<rusqlite::Result<_>>()?)
    }

    fn insert_user(&self, row: &UserRow) -> Result<bool, StoreError> {
        let inserted = self.execute(
            sql::INSERT_USER,
            params![row.username, row.is_agent, row.totp_secret],
        )?;
        Ok(inserted == 1)
    }

    fn put_user(&self, row: &UserRow) -> Result<(), StoreError> {
        self.execute(
            sql::PUT_USER,
            params![row.username, row.is_agent, row.totp_secret],
        )
        .map(drop)
    }

    fn put_workflow(&self, workflow_id: &str, slug: Option<&str>) -> Result<(), StoreError> {
        self.execute(sql::PUT_WORKFLOW, params![workflow_id, slug])
            .map(drop)
    }

    fn put_edge(&self, edge: &EdgeRow, unless_present: bool) -> Result<(), StoreError> {
        let statement = if unless_present {
            sql::PUT_EDGE_UNLESS_PRESENT
        } else {
            sql::PUT_EDGE
        };
        self.execute(
            statement,
            params![
                edge.workflow_id,
                edge.source_node_id,
                edge.target_node_id,
                edge.edge_label
            ],
        )
        .map(drop)
    }

    fn rewrite_secrets(&self, rewrite: &mut Rewrite<'_>) -> Result<usize, StoreError> {
        let mut connection = self.connection();
        // The write lock from the start: no other writer changes a secret
        // between this read and the update.
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let rows: Vec<(String, zeroize::Zeroizing<String>)> = transaction
            .prepare(sql::SECRETS.sqlite)?
            .query_map([], |row| {
                Ok((row.get(0)?, zeroize::Zeroizing::new(row.get(1)?)))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut changed = 0;
        for (username, secret) in rows {
            if let Some(replacement) = rewrite(&username, &secret)? {
                transaction.execute(sql::UPDATE_SECRET.sqlite, params![replacement, username])?;
                changed += 1;
            }
        }
        transaction.commit()?;
        // The replaced rows' pages still hold the old secrets in the main
        // file until a checkpoint copies the new pages over them (and
        // `secure_delete` zeroes what they freed); do it now rather than
        // whenever the WAL next fills up.
        connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(changed)
    }

    fn append_audit(&self, event: &AuditEvent) -> Result<(), StoreError> {
        self.execute(
            sql::APPEND_AUDIT,
            params![
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
            ],
        )
        .map(drop)
    }

    fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError> {
        let limit = filter
            .limit
            .map_or(i64::MAX, |n| i64::try_from(n).unwrap_or(i64::MAX));
        Ok(self
            .connection()
            .prepare_cached(sql::AUDIT_EVENTS.sqlite)?
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
            )?
            .collect::<rusqlite::Result<_>>()?)
    }

    fn prune_audit(&self, before: i64) -> Result<usize, StoreError> {
        self.execute(sql::PRUNE_AUDIT, [before])
    }

    fn short_lived(&self) -> Result<(), StoreError> {
        // A CLI call is a process. SQLite's checkpoint when the last
        // connection closes would cost every call two to four fsyncs and a
        // new WAL file; its automatic checkpoint would run in every process
        // once the WAL is past the limit, since a connection that rebuilt
        // the WAL index does not know what earlier ones copied back. Both
        // off: `Drop` checkpoints and truncates past a size instead.
        let connection = self.connection();
        connection.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
        connection.pragma_update(None, "wal_autocheckpoint", 0)?;
        self.short_lived.store(true, Ordering::Relaxed);
        Ok(())
    }

    fn insert_token(&self, token: &TokenRow) -> Result<(), StoreError> {
        self.execute(
            sql::INSERT_TOKEN,
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
    }

    fn tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        Ok(self
            .connection()
            .prepare_cached(sql::TOKENS.sqlite)?
            .query_map([], token_row)?
            .collect::<rusqlite::Result<_>>()?)
    }

    fn revoke_token(&self, id: &str, revoked: &str) -> Result<bool, StoreError> {
        let changed = self.execute(sql::REVOKE_TOKEN, params![id, revoked])?;
        Ok(changed == 1)
    }

    fn token_by_sha256(&self, sha256: &str) -> Result<Option<TokenRow>, StoreError> {
        Ok(self
            .connection()
            .prepare_cached(sql::TOKEN_BY_SHA256.sqlite)?
            .query_row([sha256], token_row)
            .optional()?)
    }

    fn sync_every_commit(&self) -> Result<(), StoreError> {
        Ok(self
            .connection()
            .pragma_update(None, "synchronous", "FULL")?)
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
