//! The PostgreSQL backend, for a fleet of hosts on one database: a bounded
//! pool of connections (deadpool-postgres) with prepared statements cached
//! per connection, a statement timeout on the server and a deadline on
//! every operation here. A lost connection fails the operation it was
//! serving (a `host_error` for that call) and is not reused; the next call
//! connects again, so the host never exits or hangs because the database
//! blinked.
//!
//! The host's lookups are synchronous (they answer the component's imports
//! on the calling thread), so the async client runs on a runtime of the
//! backend's own that each operation blocks on.

use std::str::FromStr;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;
use wasmtime::Result;
use wasmtime::error::Context;

use super::{AUDIT_COLUMNS, Backend, BackendError, Rewrite, SCHEMA, TOKEN_COLUMNS, TokenRow};
use crate::audit::{AuditEvent, AuditFilter};
use crate::memory::{EdgeRow, UserRow};

/// Serialises schema creation across hosts starting at once (an arbitrary
/// constant: "totp" in ASCII).
const SCHEMA_LOCK: i64 = 0x746f_7470;

/// Pool and timeout settings.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// Connections kept at most.
    pub max_connections: usize,
    /// The longest any one operation may take, connecting included; also
    /// the server-side statement timeout.
    pub timeout: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            max_connections: 8,
            timeout: Duration::from_secs(2),
        }
    }
}

pub struct PostgresBackend {
    runtime: tokio::runtime::Runtime,
    pool: Pool,
    timeout: Duration,
}

fn failed(error: impl std::fmt::Display) -> BackendError {
    BackendError(error.to_string())
}

impl PostgresBackend {
    /// Connects (checking the server answers) and creates the schema when
    /// missing, in one transaction under an advisory lock.
    pub fn connect(connection: &str, options: PostgresOptions) -> Result<Self> {
        let mut config = tokio_postgres::Config::from_str(connection)
            .context("reading the PostgreSQL connection string")?;
        config.connect_timeout(options.timeout);
        config.options(format!(
            "-c statement_timeout={}",
            options.timeout.as_millis()
        ));
        // Current-thread: the calling thread drives the socket itself, so a
        // query costs one round trip to the server and no hand-off to a
        // worker thread and back. Threads calling at once take turns
        // driving; each still waits only for its own query.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the PostgreSQL client's runtime")?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.max_connections.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(options.timeout))
            .create_timeout(Some(options.timeout))
            .recycle_timeout(Some(options.timeout))
            .build()
            .context("creating the PostgreSQL connection pool")?;
        let backend = PostgresBackend {
            runtime,
            pool,
            timeout: options.timeout,
        };
        backend
            .run(async |pool| {
                let mut client = pool.get().await.map_err(failed)?;
                let transaction = client.transaction().await.map_err(failed)?;
                transaction
                    .batch_execute(&format!("SELECT pg_advisory_xact_lock({SCHEMA_LOCK});"))
                    .await
                    .map_err(failed)?;
                transaction.batch_execute(SCHEMA).await.map_err(failed)?;
                transaction.commit().await.map_err(failed)
            })
            .context("preparing the PostgreSQL store")?;
        Ok(backend)
    }

    /// Runs one operation on the pool, within the deadline.
    fn run<T>(
        &self,
        operation: impl AsyncFnOnce(&Pool) -> Result<T, BackendError>,
    ) -> Result<T, BackendError> {
        self.runtime.block_on(async {
            tokio::time::timeout(self.timeout, operation(&self.pool))
                .await
                .unwrap_or_else(|_| {
                    Err(BackendError(format!(
                        "no answer from PostgreSQL within {} ms",
                        self.timeout.as_millis()
                    )))
                })
        })
    }

    /// One statement with its parameters: the rows it returns.
    fn query(
        &self,
        sql: &'static str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<tokio_postgres::Row>, BackendError> {
        self.run(async |pool| {
            let client = pool.get().await.map_err(failed)?;
            let statement = client.prepare_cached(sql).await.map_err(failed)?;
            client.query(&statement, params).await.map_err(failed)
        })
    }

    /// One statement with its parameters: how many rows it changed.
    fn execute(
        &self,
        sql: &'static str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<u64, BackendError> {
        self.run(async |pool| {
            let client = pool.get().await.map_err(failed)?;
            let statement = client.prepare_cached(sql).await.map_err(failed)?;
            client.execute(&statement, params).await.map_err(failed)
        })
    }
}

fn user_row(row: &tokio_postgres::Row) -> Result<UserRow, BackendError> {
    Ok(UserRow {
        username: row.try_get(0).map_err(failed)?,
        is_agent: row
            .try_get::<_, Option<i32>>(1)
            .map_err(failed)?
            .unwrap_or(0)
            != 0,
        totp_secret: row.try_get(2).map_err(failed)?,
    })
}

impl Backend for PostgresBackend {
    fn user(&self, username: &str) -> Result<Option<UserRow>, BackendError> {
        let rows = self.query(
            "SELECT username, is_agent, totp_secret FROM users WHERE username = $1",
            &[&username],
        )?;
        rows.first().map(user_row).transpose()
    }

    fn workflow_slug(&self, workflow_id: &str) -> Result<Option<String>, BackendError> {
        let rows = self.query("SELECT slug FROM workflows WHERE id = $1", &[&workflow_id])?;
        match rows.first() {
            Some(row) => row.try_get(0).map_err(failed),
            None => Ok(None),
        }
    }

    fn edge_targets(
        &self,
        workflow_id: &str,
        source_node_id: &str,
        label: &str,
    ) -> Result<Vec<String>, BackendError> {
        self.query(
            "SELECT target_node_id FROM workflow_edges \
             WHERE workflow_id = $1 AND source_node_id = $2 AND edge_label = $3",
            &[&workflow_id, &source_node_id, &label],
        )?
        .iter()
        .map(|row| row.try_get(0).map_err(failed))
        .collect()
    }

    fn insert_user(&self, row: &UserRow) -> Result<bool, BackendError> {
        let inserted = self.execute(
            "INSERT INTO users (username, is_agent, totp_secret) VALUES ($1, $2, $3) \
             ON CONFLICT (username) DO NOTHING",
            &[&row.username, &i32::from(row.is_agent), &row.totp_secret],
        )?;
        Ok(inserted == 1)
    }

    fn put_user(&self, row: &UserRow) -> Result<(), BackendError> {
        self.execute(
            "INSERT INTO users (username, is_agent, totp_secret) VALUES ($1, $2, $3) \
             ON CONFLICT (username) DO UPDATE \
             SET is_agent = excluded.is_agent, totp_secret = excluded.totp_secret",
            &[&row.username, &i32::from(row.is_agent), &row.totp_secret],
        )
        .map(drop)
    }

    fn put_workflow(&self, workflow_id: &str, slug: Option<&str>) -> Result<(), BackendError> {
        self.execute(
            "INSERT INTO workflows (id, slug) VALUES ($1, $2) \
             ON CONFLICT (id) DO UPDATE SET slug = excluded.slug",
            &[&workflow_id, &slug],
        )
        .map(drop)
    }

    fn put_edge(&self, edge: &EdgeRow, unless_present: bool) -> Result<(), BackendError> {
        let sql = if unless_present {
            "INSERT INTO workflow_edges (workflow_id, source_node_id, target_node_id, edge_label) \
             SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM workflow_edges \
             WHERE workflow_id = $1 AND source_node_id = $2 AND target_node_id = $3 \
             AND edge_label = $4)"
        } else {
            "INSERT INTO workflow_edges (workflow_id, source_node_id, target_node_id, edge_label) \
             VALUES ($1, $2, $3, $4)"
        };
        self.execute(
            sql,
            &[
                &edge.workflow_id,
                &edge.source_node_id,
                &edge.target_node_id,
                &edge.edge_label,
            ],
        )
        .map(drop)
    }

    fn rewrite_secrets(&self, rewrite: &mut Rewrite<'_>) -> Result<usize, BackendError> {
        self.run(async |pool| {
            let mut client = pool.get().await.map_err(failed)?;
            let transaction = client.transaction().await.map_err(failed)?;
            let rows = transaction
                .query(
                    "SELECT username, totp_secret FROM users \
                     WHERE totp_secret IS NOT NULL FOR UPDATE",
                    &[],
                )
                .await
                .map_err(failed)?;
            let mut changed = 0;
            for row in rows {
                let username: String = row.try_get(0).map_err(failed)?;
                let secret = zeroize::Zeroizing::new(row.try_get::<_, String>(1).map_err(failed)?);
                if let Some(replacement) = rewrite(&username, &secret)? {
                    transaction
                        .execute(
                            "UPDATE users SET totp_secret = $1 WHERE username = $2",
                            &[&replacement, &username],
                        )
                        .await
                        .map_err(failed)?;
                    changed += 1;
                }
            }
            transaction.commit().await.map_err(failed)?;
            Ok(changed)
        })
    }

    fn append_audit(&self, event: &AuditEvent) -> Result<(), BackendError> {
        self.execute(
            "INSERT INTO audit_events (id, time, time_unix, operation, workflow_id, node_id, \
             token_id, username_requested, username_resolved, outcome, host_error, \
             duration_us) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            &[
                &event.id,
                &event.time,
                &event.time_unix,
                &event.operation,
                &event.workflow_id,
                &event.node_id,
                &event.token_id,
                &event.username_requested,
                &event.username_resolved,
                &event.outcome,
                &event.host_error,
                &event.duration_us,
            ],
        )
        .map(drop)
    }

    fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, BackendError> {
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_events \
             WHERE ($1::BIGINT IS NULL OR time_unix >= $1) \
             AND ($2::TEXT IS NULL OR username_requested = $2 OR username_resolved = $2) \
             AND ($3::TEXT IS NULL OR workflow_id = $3) \
             ORDER BY time_unix DESC, time DESC LIMIT $4"
        );
        let limit = filter.limit.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
        self.run(async |pool| {
            let client = pool.get().await.map_err(failed)?;
            let rows = client
                .query(
                    &sql,
                    &[&filter.since, &filter.username, &filter.workflow, &limit],
                )
                .await
                .map_err(failed)?;
            rows.iter()
                .map(|row| {
                    Ok(AuditEvent {
                        id: row.try_get(0).map_err(failed)?,
                        time: row.try_get(1).map_err(failed)?,
                        time_unix: row.try_get(2).map_err(failed)?,
                        operation: row.try_get(3).map_err(failed)?,
                        workflow_id: row.try_get(4).map_err(failed)?,
                        node_id: row.try_get(5).map_err(failed)?,
                        token_id: row.try_get(6).map_err(failed)?,
                        username_requested: row.try_get(7).map_err(failed)?,
                        username_resolved: row.try_get(8).map_err(failed)?,
                        outcome: row.try_get(9).map_err(failed)?,
                        host_error: row.try_get(10).map_err(failed)?,
                        duration_us: row.try_get(11).map_err(failed)?,
                    })
                })
                .collect()
        })
    }

    fn prune_audit(&self, before: i64) -> Result<usize, BackendError> {
        self.execute("DELETE FROM audit_events WHERE time_unix < $1", &[&before])
            .map(|deleted| deleted as usize)
    }

    fn insert_token(&self, token: &TokenRow) -> Result<(), BackendError> {
        self.execute(
            "INSERT INTO mcp_tokens (id, sha256, workflow_id, node_id, label, created, revoked) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &token.id,
                &token.sha256,
                &token.workflow_id,
                &token.node_id,
                &token.label,
                &token.created,
                &token.revoked,
            ],
        )
        .map(drop)
    }

    fn tokens(&self) -> Result<Vec<TokenRow>, BackendError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM mcp_tokens ORDER BY created, id");
        self.run(async |pool| {
            let client = pool.get().await.map_err(failed)?;
            let rows = client.query(&sql, &[]).await.map_err(failed)?;
            rows.iter().map(token_row).collect()
        })
    }

    fn revoke_token(&self, id: &str, revoked: &str) -> Result<bool, BackendError> {
        self.execute(
            "UPDATE mcp_tokens SET revoked = $2 WHERE id = $1 AND revoked IS NULL",
            &[&id, &revoked],
        )
        .map(|changed| changed == 1)
    }

    fn token_by_sha256(&self, sha256: &str) -> Result<Option<TokenRow>, BackendError> {
        // Spelled out rather than formatted from TOKEN_COLUMNS: `query`
        // caches prepared statements by their &'static text.
        let rows = self.query(
            "SELECT id, sha256, workflow_id, node_id, label, created, revoked \
             FROM mcp_tokens WHERE sha256 = $1",
            &[&sha256],
        )?;
        rows.first().map(token_row).transpose()
    }
}

fn token_row(row: &tokio_postgres::Row) -> Result<TokenRow, BackendError> {
    Ok(TokenRow {
        id: row.try_get(0).map_err(failed)?,
        sha256: row.try_get(1).map_err(failed)?,
        workflow_id: row.try_get(2).map_err(failed)?,
        node_id: row.try_get(3).map_err(failed)?,
        label: row.try_get(4).map_err(failed)?,
        created: row.try_get(5).map_err(failed)?,
        revoked: row.try_get(6).map_err(failed)?,
    })
}
