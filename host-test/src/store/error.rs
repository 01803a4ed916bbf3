//! The store's one error type. Its text is safe to show an agent (a lookup's
//! failure becomes the call's `host_error`): it names what failed and the
//! engine's error class, never a row's values or a secret. The engine's own
//! error, with whatever detail it carries, is its [`source`]
//! (std::error::Error::source) for the operator's log.

use std::path::PathBuf;

use crate::store_key::KeyError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An SQLite statement, transaction or setting failed.
    #[error("store query failed (SQLite: {})", sqlite_class(.0))]
    Sqlite(#[source] rusqlite::Error),
    /// A PostgreSQL statement or transaction failed, or the connection did.
    #[cfg(feature = "postgres")]
    #[error("store query failed (PostgreSQL: {})", postgres_class(.0))]
    Postgres(#[source] tokio_postgres::Error),
    /// No PostgreSQL connection to be had from the pool.
    #[cfg(feature = "postgres")]
    #[error("store query failed (PostgreSQL: no connection)")]
    Pool(#[source] deadpool_postgres::PoolError),
    /// The operation took longer than the store's deadline.
    #[error("store query failed (no answer from PostgreSQL within {millis} ms)")]
    Timeout { millis: u128 },
    /// `--db` or the PostgreSQL settings cannot be used as given.
    #[error("cannot set up the store: {what}")]
    Setup {
        what: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Opening (or creating) the SQLite file failed.
    #[error("cannot open the store {}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The store's schema is from a later release.
    #[error(
        "the store's schema is version {found}, newer than version {supported} that this \
         totp-host understands; upgrade totp-host"
    )]
    NewerSchema { found: i64, supported: i64 },
    /// The `schema_version` table holds something other than one version.
    #[cfg(not(feature = "postgres"))]
    #[error(
        "a PostgreSQL database was named, but this build of totp-host has no \
         PostgreSQL store (its `postgres` feature)"
    )]
    NoPostgres,
    #[error("the store's schema_version table is not one row with a version")]
    UnreadableSchemaVersion,
    /// Sealing a secret failed, or the key is missing for a sealed write.
    #[error("store key: {0}")]
    Key(#[from] KeyError),
    /// A sealed secret that the store key does not open.
    #[error("the sealed secret of {0} does not open with the store key")]
    NotOpened(String),
    /// The operation writes sealed secrets and no store key was given.
    #[error("{0} needs the store key: secrets are stored sealed")]
    NeedsKey(&'static str),
    /// A secret given to store is not a TOTP secret.
    #[error("invalid secret: {0}")]
    InvalidSecret(String),
    /// The tool node leads to no agent (the component's own reason).
    #[error("{0}")]
    NoAgent(String),
    /// Provisioning would change a person's row.
    #[error("user {0} exists and is not an agent user; refusing to change it")]
    NotAnAgent(String),
    /// No randomness for a fresh secret.
    #[error("no randomness: {0}")]
    NoRandomness(String),
}

/// SQLite's error class (`SQLITE_BUSY`...), or the kind of rusqlite's own
/// error; never the statement's values.
fn sqlite_class(error: &rusqlite::Error) -> String {
    match error {
        rusqlite::Error::SqliteFailure(failure, _) => format!("{:?}", failure.code),
        rusqlite::Error::QueryReturnedNoRows => "no rows".to_owned(),
        rusqlite::Error::InvalidColumnType(index, _, kind) => {
            format!("column {index} is {kind}, not the type expected")
        }
        _ => "client error".to_owned(),
    }
}

/// The server's SQLSTATE (its message and detail can quote values), or
/// what happened to the connection.
#[cfg(feature = "postgres")]
fn postgres_class(error: &tokio_postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return format!("SQLSTATE {}", db.code().code());
    }
    if error.is_closed() {
        return "connection closed".to_owned();
    }
    // Connection and protocol errors quote no row.
    let text = error.to_string();
    if text.contains("error connecting") || text.contains("timed out") {
        text
    } else {
        "client error".to_owned()
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        StoreError::Sqlite(error)
    }
}

#[cfg(feature = "postgres")]
impl From<tokio_postgres::Error> for StoreError {
    fn from(error: tokio_postgres::Error) -> Self {
        StoreError::Postgres(error)
    }
}

#[cfg(feature = "postgres")]
impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        StoreError::Pool(error)
    }
}
