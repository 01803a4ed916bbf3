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

use super::sql::{self, Statement};
use super::{
    Backend, EdgeRow, Found, Rewrite, SCHEMA, SCHEMA_VERSION, StoreError, TokenRow, UserRow,
    VERSION_1_TABLES, upgrade_plan,
};
use crate::audit::{AuditEvent, AuditFilter};

/// Serialises schema creation and upgrades across hosts starting at once
/// (an arbitrary constant: "totp" in ASCII).
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

/// A setting-up step's failure, with the engine's error as its source.
fn setup<E: std::error::Error + Send + Sync + 'static>(
    what: &'static str,
) -> impl FnOnce(E) -> StoreError {
    move |error| StoreError::Setup {
        what,
        source: Box::new(error),
    }
}

impl PostgresBackend {
    /// Connects (checking the server answers), and creates the schema when
    /// missing or upgrades an older one, in one transaction under an
    /// advisory lock; refuses a store of a newer version, changing nothing.
    pub fn connect(connection: &str, options: PostgresOptions) -> Result<Self, StoreError> {
        let mut config = tokio_postgres::Config::from_str(connection)
            .map_err(setup("reading the PostgreSQL connection string"))?;
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
            .map_err(setup("starting the PostgreSQL client's runtime"))?;
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
            .map_err(setup("creating the PostgreSQL connection pool"))?;
        let backend = PostgresBackend {
            runtime,
            pool,
            timeout: options.timeout,
        };
        backend.run(async |pool| {
            let mut client = pool.get().await?;
            let transaction = client.transaction().await?;
            transaction
                .batch_execute(&format!("SELECT pg_advisory_xact_lock({SCHEMA_LOCK});"))
                .await?;
            // Dropped without a commit (a newer store, a failed upgrade):
            // rolled back, the store as it was.
            let Some(upgrades) = upgrade_plan(found(&transaction).await?)? else {
                return Ok(());
            };
            for upgrade in upgrades {
                transaction.batch_execute(upgrade).await?;
            }
            transaction.batch_execute(SCHEMA).await?;
            transaction
                // `INTEGER`: an i32 to the client.
                .execute(
                    sql::SET_SCHEMA_VERSION.postgres,
                    &[&(SCHEMA_VERSION as i32)],
                )
                .await?;
            Ok(transaction.commit().await?)
        })?;
        Ok(backend)
    }

    /// Runs one operation on the pool, within the deadline.
    fn run<T>(
        &self,
        operation: impl AsyncFnOnce(&Pool) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.runtime.block_on(async {
            tokio::time::timeout(self.timeout, operation(&self.pool))
                .await
                .unwrap_or_else(|_| {
                    Err(StoreError::Timeout {
                        millis: self.timeout.as_millis(),
                    })
                })
        })
    }

    /// One statement with its parameters: the rows it returns.
    fn query(
        &self,
        statement: Statement,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<tokio_postgres::Row>, StoreError> {
        self.run(async |pool| {
            let client = pool.get().await?;
            let prepared = client.prepare_cached(statement.postgres).await?;
            Ok(client.query(&prepared, params).await?)
        })
    }

    /// One statement with its parameters: how many rows it changed.
    fn execute(
        &self,
        statement: Statement,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        self.run(async |pool| {
            let client = pool.get().await?;
            let prepared = client.prepare_cached(statement.postgres).await?;
            Ok(client.execute(&prepared, params).await?)
        })
    }
}

/// What the database holds (in the connection's schema search path): no
/// table of the store's, or its schema version.
async fn found(transaction: &deadpool_postgres::Transaction<'_>) -> Result<Found, StoreError> {
    let has_table = async |name: &str| -> Result<bool, StoreError> {
        let row = transaction
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&name])
            .await?;
        Ok(row.try_get(0)?)
    };
    if has_table("schema_version").await? {
        let rows = transaction.query(sql::SCHEMA_VERSION.postgres, &[]).await?;
        return match &rows[..] {
            [row] => Ok(Found::Version(row.try_get::<_, i32>(0)?.into())),
            _ => Err(StoreError::UnreadableSchemaVersion),
        };
    }
    for table in VERSION_1_TABLES {
        if has_table(table).await? {
            return Ok(Found::Version(1));
        }
    }
    Ok(Found::Empty)
}

fn user_row(row: &tokio_postgres::Row) -> Result<UserRow, StoreError> {
    Ok(UserRow {
        username: row.try_get(0)?,
        is_agent: row.try_get::<_, Option<i32>>(1)?.unwrap_or(0) != 0,
        totp_secret: row.try_get(2)?,
    })
}

fn audit_event(row: &tokio_postgres::Row) -> Result<AuditEvent, StoreError> {
    Ok(AuditEvent {
        id: row.try_get(0)?,
        time: row.try_get(1)?,
        time_unix: row.try_get(2)?,
        operation: row.try_get(3)?,
        workflow_id: row.try_get(4)?,
        node_id: row.try_get(5)?,
        token_id: row.try_get(6)?,
        username_requested: row.try_get(7)?,
        username_resolved: row.try_get(8)?,
        outcome: row.try_get(9)?,
        host_error: row.try_get(10)?,
        duration_us: row.try_get(11)?,
    })
}

fn token_row(row: &tokio_postgres::Row) -> Result<TokenRow, StoreError> {
    Ok(TokenRow {
        id: row.try_get(0)?,
        sha256: row.try_get(1)?,
        workflow_id: row.try_get(2)?,
        node_id: row.try_get(3)?,
        label: row.try_get(4)?,
        created: row.try_get(5)?,
        revoked: row.try_get(6)?,
    })
}

impl Backend for PostgresBackend {
    fn user(&self, username: &str) -> Result<Option<UserRow>, StoreError> {
        let rows = self.query(sql::USER, &[&username])?;
        rows.first().map(user_row).transpose()
    }

    fn workflow_slug(&self, workflow_id: &str) -> Result<Option<String>, StoreError> {
        let rows = self.query(sql::WORKFLOW_SLUG, &[&workflow_id])?;
        match rows.first() {
            Some(row) => Ok(row.try_get(0)?),
            None => Ok(None),
        }
    }

    fn edge_targets(
        &self,
        workflow_id: &str,
        source_node_id: &str,
        label: &str,
    ) -> Result<Vec<String>, StoreError> {
        self.query(sql::EDGE_TARGETS, &[&workflow_id, &source_node_id, &label])?
            .iter()
            .map(|row| Ok(row.try_get(0)?))
            .collect()
    }

    fn insert_user(&self, row: &UserRow) -> Result<bool, StoreError> {
        let inserted = self.execute(
            sql::INSERT_USER,
            &[&row.username, &i32::from(row.is_agent), &row.totp_secret],
        )?;
        Ok(inserted == 1)
    }

    fn put_user(&self, row: &UserRow) -> Result<(), StoreError> {
        self.execute(
            sql::PUT_USER,
            &[&row.username, &i32::from(row.is_agent), &row.totp_secret],
        )
        .map(drop)
    }

    fn put_workflow(&self, workflow_id: &str, slug: Option<&str>) -> Result<(), StoreError> {
        self.execute(sql::PUT_WORKFLOW, &[&workflow_id, &slug])
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
            &[
                &edge.workflow_id,
                &edge.source_node_id,
                &edge.target_node_id,
                &edge.edge_label,
            ],
        )
        .map(drop)
    }

    fn rewrite_secrets(&self, rewrite: &mut Rewrite<'_>) -> Result<usize, StoreError> {
        self.run(async |pool| {
            let mut client = pool.get().await?;
            let transaction = client.transaction().await?;
            transaction.batch_execute(sql::LOCK_USERS_POSTGRES).await?;
            let rows = transaction.query(sql::SECRETS_FOR_UPDATE, &[]).await?;
            let mut changed = 0;
            for row in rows {
                let username: String = row.try_get(0)?;
                let secret = zeroize::Zeroizing::new(row.try_get::<_, String>(1)?);
                if let Some(replacement) = rewrite(&username, &secret)? {
                    transaction
                        .execute(sql::UPDATE_SECRET.postgres, &[&replacement, &username])
                        .await?;
                    changed += 1;
                }
            }
            transaction.commit().await?;
            Ok(changed)
        })
    }

    fn append_audit(&self, event: &AuditEvent) -> Result<(), StoreError> {
        self.execute(
            sql::APPEND_AUDIT,
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

    fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError> {
        let limit = filter
            .limit
            .map_or(i64::MAX, |n| i64::try_from(n).unwrap_or(i64::MAX));
        self.query(
            sql::AUDIT_EVENTS,
            &[&filter.since, &filter.username, &filter.workflow, &limit],
        )?
        .iter()
        .map(audit_event)
        .collect()
    }

    fn prune_audit(&self, before: i64) -> Result<usize, StoreError> {
        self.execute(sql::PRUNE_AUDIT, &[&before])
            .map(|deleted| deleted as usize)
    }

    fn insert_token(&self, token: &TokenRow) -> Result<(), StoreError> {
        self.execute(
            sql::INSERT_TOKEN,
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

    fn tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        self.query(sql::TOKENS, &[])?
            .iter()
            .map(token_row)
            .collect()
    }

    fn revoke_token(&self, id: &str, revoked: &str) -> Result<bool, StoreError> {
        self.execute(sql::REVOKE_TOKEN, &[&id, &revoked])
            .map(|changed| changed == 1)
    }

    fn token_by_sha256(&self, sha256: &str) -> Result<Option<TokenRow>, StoreError> {
        let rows = self.query(sql::TOKEN_BY_SHA256, &[&sha256])?;
        rows.first().map(token_row).transpose()
    }
}
