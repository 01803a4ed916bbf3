//! The reference store: the tables of `host-test/schema.sql` in SQLite (one
//! machine) or PostgreSQL (a fleet of hosts on one database), behind one
//! [`Store`] that holds everything the two share: opening and sealing
//! secrets with the store key, provisioning agent users, and answering the
//! component's lookups as a [`Directory`].
//!
//! The rows are in `rows.rs`, the statements in `sql.rs` (written once for
//! both engines), the one error is [`StoreError`]. Every store records its
//! schema's version ([`SCHEMA_VERSION`]); opening an older store upgrades
//! it in one transaction, and a newer one is refused unchanged.

mod error;
#[cfg(feature = "postgres")]
mod postgres;
mod rows;
pub(crate) mod sql;
mod sqlite;

use std::path::Path;

use get_totp_code::platform::{Directory, HostError, NodeRef, User};
use get_totp_code::secret::TotpKey;
use get_totp_code::tool::{TOOL_EDGE_LABEL, resolve_agent};
use zeroize::Zeroizing;

use crate::audit::{AuditError, AuditEvent, AuditFilter, AuditSink};
use crate::store_key::{CannotDecrypt, StoreKey, is_sealed};

pub use self::error::StoreError;
#[cfg(feature = "postgres")]
pub use self::postgres::PostgresOptions;
pub use self::rows::{EdgeRow, Tables, TokenRow, UserRow, WorkflowRow};

/// The schema every backend creates (`host-test/schema.sql`), portable SQL,
/// at [`SCHEMA_VERSION`].
pub const SCHEMA: &str = include_str!("../../schema.sql");

/// The version of [`SCHEMA`], recorded in the store's `schema_version`
/// table. Version 1 (no `schema_version` table) is the first release's.
pub const SCHEMA_VERSION: i64 = 2;

/// How to bring a store of an older version up to [`SCHEMA_VERSION`]: for
/// each version, the statements that make the next one out of it. Run in
/// one transaction with [`SCHEMA`] after them (which creates what is new
/// and records the version), then the version set to [`SCHEMA_VERSION`].
pub(crate) const UPGRADES: &[(i64, &str)] = &[
    // 1 to 2: the `schema_version` table, which SCHEMA creates; the data
    // is unchanged.
    (1, ""),
];

/// What the backend found when it opened the store, before any change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Found {
    /// No table of the store's: a new store.
    Empty,
    /// The store's tables and this version (1 when there is no
    /// `schema_version` table).
    Version(i64),
}

/// What to do to a store found as `found`: `Ok(None)` when it is current,
/// `Ok(Some(statements))` to upgrade it (then [`SCHEMA`], then the
/// version), an error when it is newer than this host.
pub(crate) fn upgrade_plan(found: Found) -> Result<Option<Vec<&'static str>>, StoreError> {
    match found {
        Found::Empty => Ok(Some(Vec::new())),
        Found::Version(SCHEMA_VERSION) => Ok(None),
        Found::Version(version) if version > SCHEMA_VERSION => Err(StoreError::NewerSchema {
            found: version,
            supported: SCHEMA_VERSION,
        }),
        Found::Version(version) if version < 1 => Err(StoreError::UnreadableSchemaVersion),
        Found::Version(version) => Ok(Some(
            UPGRADES
                .iter()
                .filter(|(from, sql)| *from >= version && !sql.is_empty())
                .map(|(_, sql)| *sql)
                .collect(),
        )),
    }
}

/// The tables of version 1, any of which makes a store without
/// `schema_version` a version 1 store rather than a new one.
pub(crate) const VERSION_1_TABLES: [&str; 5] = [
    "users",
    "workflows",
    "workflow_edges",
    "audit_events",
    "mcp_tokens",
];

/// What `rewrite_secrets` asks of each user's stored secret: its
/// replacement, or `None` to leave it.
pub type Rewrite<'a> = dyn FnMut(&str, &str) -> Result<Option<String>, StoreError> + 'a;

/// A storage engine holding the schema's tables, row by row. Each method is
/// one query (or one transaction) with no policy of its own.
pub trait Backend: Send + Sync {
    fn user(&self, username: &str) -> Result<Option<UserRow>, StoreError>;
    fn workflow_slug(&self, workflow_id: &str) -> Result<Option<String>, StoreError>;
    fn edge_targets(
        &self,
        workflow_id: &str,
        source_node_id: &str,
        label: &str,
    ) -> Result<Vec<String>, StoreError>;
    /// Inserts the user unless one of that name exists; whether it did.
    fn insert_user(&self, row: &UserRow) -> Result<bool, StoreError>;
    /// Inserts or replaces the user row as is.
    fn put_user(&self, row: &UserRow) -> Result<(), StoreError>;
    /// Creates the workflow row or sets its slug.
    fn put_workflow(&self, workflow_id: &str, slug: Option<&str>) -> Result<(), StoreError>;
    /// Adds the edge; with `unless_present`, only when no equal edge exists.
    fn put_edge(&self, edge: &EdgeRow, unless_present: bool) -> Result<(), StoreError>;
    /// In one transaction, replaces each user's secret by what `rewrite`
    /// returns for it (`None`: unchanged); how many rows changed.
    fn rewrite_secrets(&self, rewrite: &mut Rewrite<'_>) -> Result<usize, StoreError>;
    /// Appends one audit event (the host never updates or deletes one).
    fn append_audit(&self, event: &AuditEvent) -> Result<(), StoreError>;
    /// The events that pass `filter`, newest first.
    fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError>;
    /// Deletes the events from before the Unix time `before`; how many.
    fn prune_audit(&self, before: i64) -> Result<usize, StoreError>;
    /// Adds an MCP token row (its id and hash are fresh, so never a conflict
    /// in practice; a conflict fails).
    fn insert_token(&self, token: &TokenRow) -> Result<(), StoreError>;
    /// Every MCP token row, oldest first.
    fn tokens(&self) -> Result<Vec<TokenRow>, StoreError>;
    /// Sets `revoked` on the token `id` unless already set; whether it did.
    fn revoke_token(&self, id: &str, revoked: &str) -> Result<bool, StoreError>;
    /// The token row whose `sha256` is this (revoked or not).
    fn token_by_sha256(&self, sha256: &str) -> Result<Option<TokenRow>, StoreError>;
    /// Makes every commit durable against power loss, not only against a
    /// crash of the process (see host-test/docs/audit.md).
    fn sync_every_commit(&self) -> Result<(), StoreError> {
        Ok(())
    }
    /// Tunes the store for a process that makes one call and exits.
    fn short_lived(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// What `create_agent_user` did.
#[derive(Debug)]
pub struct Provisioned {
    pub username: String,
    pub already_existed: bool,
    /// The secret stored by this call; `None` when the user already existed.
    pub secret: Option<Zeroizing<String>>,
}

/// The reference store over one backend. With a [`StoreKey`] it opens
/// sealed secrets and seals the ones it writes (see `store_key`).
pub struct Store {
    backend: Box<dyn Backend>,
    key: Option<StoreKey>,
}

impl Store {
    /// `--db`: a PostgreSQL URL (`postgres://...`, `postgresql://...`) or
    /// key-value connection string (`host=/path/to/socket dbname=...`),
    /// else the path of an SQLite file.
    pub fn open(db: &str) -> Result<Self, StoreError> {
        if is_postgres(db) {
            Self::open_postgres(db)
        } else {
            Self::sqlite(Path::new(db))
        }
    }

    #[cfg(feature = "postgres")]
    fn open_postgres(db: &str) -> Result<Self, StoreError> {
        Self::postgres(db, PostgresOptions::default())
    }

    /// Without the `postgres` feature, a PostgreSQL URL is refused in words
    /// (not quoted: it may hold a password).
    #[cfg(not(feature = "postgres"))]
    fn open_postgres(_db: &str) -> Result<Self, StoreError> {
        Err(StoreError::NoPostgres)
    }

    /// An SQLite file, created with the schema when missing, upgraded when
    /// older; refused when newer ([`StoreError::NewerSchema`]).
    pub fn sqlite(path: &Path) -> Result<Self, StoreError> {
        Ok(Self::over(Box::new(sqlite::SqliteBackend::open(path)?)))
    }

    /// A private in-memory SQLite store (tests, examples).
    pub fn in_memory() -> Result<Self, StoreError> {
        Ok(Self::over(Box::new(sqlite::SqliteBackend::in_memory()?)))
    }

    /// A PostgreSQL database; the schema is created when missing, upgraded
    /// when older; refused when newer ([`StoreError::NewerSchema`]).
    #[cfg(feature = "postgres")]
    pub fn postgres(connection: &str, options: PostgresOptions) -> Result<Self, StoreError> {
        Ok(Self::over(Box::new(postgres::PostgresBackend::connect(
            connection, options,
        )?)))
    }

    fn over(backend: Box<dyn Backend>) -> Self {
        Store { backend, key: None }
    }

    /// The store key that opens and seals secrets.
    pub fn with_key(mut self, key: StoreKey) -> Self {
        self.key = Some(key);
        self
    }

    fn unavailable<T>(result: Result<T, StoreError>) -> Result<T, HostError> {
        result.map_err(|error| HostError::Unavailable(error.to_string()))
    }

    /// Inserts or replaces a user row as is (tests, operators' tooling).
    pub fn put_user(
        &self,
        username: &str,
        is_agent: bool,
        totp_secret: Option<&str>,
    ) -> Result<(), StoreError> {
        self.backend.put_user(&UserRow {
            username: username.to_owned(),
            is_agent,
            totp_secret: totp_secret.map(str::to_owned),
        })
    }

    /// Creates the workflow row when missing, setting its slug.
    pub fn put_workflow(&self, workflow_id: &str, slug: Option<&str>) -> Result<(), StoreError> {
        self.backend.put_workflow(workflow_id, slug)
    }

    /// Adds an edge (duplicates are kept, as a graph editor may create them).
    pub fn put_edge(
        &self,
        workflow_id: &str,
        source: &str,
        target: &str,
        label: &str,
    ) -> Result<(), StoreError> {
        self.backend
            .put_edge(&edge(workflow_id, source, target, label), false)
    }

    /// Writes every row of `tables` as is (tests, fixtures).
    pub fn import(&self, tables: &Tables) -> Result<(), StoreError> {
        for user in &tables.users {
            self.backend.put_user(user)?;
        }
        for workflow in &tables.workflows {
            self.backend
                .put_workflow(&workflow.id, workflow.slug.as_deref())?;
        }
        for row in &tables.workflow_edges {
            self.backend.put_edge(row, false)?;
        }
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
    ) -> Result<(), StoreError> {
        self.backend.put_workflow(workflow_id, Some(slug))?;
        let tool_edge = edge(workflow_id, tool_node, agent_node, TOOL_EDGE_LABEL);
        self.backend.put_edge(&tool_edge, true)
    }

    /// The reference platform's `create_agent_user`: the agent behind the
    /// tool node gets a user named as the component will resolve it, with
    /// `secret` (validated first) or a fresh 160-bit one, stored sealed.
    /// Idempotent, also when two hosts race: one creates, the others find
    /// it (`already_existed`).
    pub fn create_agent_user(
        &self,
        tool_node: &NodeRef,
        secret: Option<&str>,
    ) -> Result<Provisioned, StoreError> {
        let Some(key) = &self.key else {
            return Err(StoreError::NeedsKey("creating agent users"));
        };
        let username =
            resolve_agent(self, tool_node).map_err(|e| StoreError::NoAgent(e.to_string()))?;
        let secret = match secret {
            Some(given) => {
                TotpKey::parse(given).map_err(|e| StoreError::InvalidSecret(e.to_string()))?;
                Zeroizing::new(given.to_owned())
            }
            None => fresh_secret()?,
        };
        let row = UserRow {
            username: username.clone(),
            is_agent: true,
            totp_secret: Some(key.seal(&username, &secret)?),
        };
        if self.backend.insert_user(&row)? {
            return Ok(Provisioned {
                username,
                already_existed: false,
                secret: Some(secret),
            });
        }
        match self.backend.user(&username)? {
            Some(existing) if !existing.is_agent => Err(StoreError::NotAnAgent(username)),
            _ => Ok(Provisioned {
                username,
                already_existed: true,
                secret: None,
            }),
        }
    }

    /// The recorded audit events that pass `filter`, newest first.
    pub fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError> {
        self.backend.audit_events(filter)
    }

    /// Deletes the audit events from before the Unix time `before`;
    /// returns how many.
    pub fn prune_audit_events(&self, before: i64) -> Result<usize, StoreError> {
        self.backend.prune_audit(before)
    }

    /// Records a new MCP token row (see `crate::mcp::tokens`).
    pub fn insert_token(&self, token: &TokenRow) -> Result<(), StoreError> {
        self.backend.insert_token(token)
    }

    /// Every MCP token row, oldest first (hashes included; never the tokens).
    pub fn tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        self.backend.tokens()
    }

    /// Marks the token `id` revoked at `revoked` (RFC 3339); false when there
    /// is no such token or it was revoked already.
    pub fn revoke_token(&self, id: &str, revoked: &str) -> Result<bool, StoreError> {
        self.backend.revoke_token(id, revoked)
    }

    /// The token row with this SHA-256 (hex), revoked or not.
    pub fn token_by_sha256(&self, sha256: &str) -> Result<Option<TokenRow>, StoreError> {
        self.backend.token_by_sha256(sha256)
    }

    /// Every commit synced to disk (SQLite `synchronous=FULL`); PostgreSQL
    /// commits are durable as the server is configured.
    pub fn sync_every_commit(&self) -> Result<(), StoreError> {
        self.backend.sync_every_commit()
    }

    /// For a process that opens the store, makes one call and exits (the
    /// CLI): with SQLite, no checkpoint on every close, and a small WAL
    /// (see `store/sqlite.rs`).
    pub fn short_lived(self) -> Result<Self, StoreError> {
        self.backend.short_lived()?;
        Ok(self)
    }

    /// `store encrypt`: seals every plain-text secret, in one transaction;
    /// returns how many rows it rewrote.
    pub fn seal_plain_secrets(&self) -> Result<usize, StoreError> {
        let Some(key) = &self.key else {
            return Err(StoreError::NeedsKey("sealing secrets"));
        };
        self.backend.rewrite_secrets(&mut |username, secret| {
            if is_sealed(secret) || secret.trim().is_empty() {
                return Ok(None);
            }
            Ok(Some(key.seal(username, secret)?))
        })
    }
}

impl Store {
    /// One cheap query on the store's own tables (an indexed lookup of a
    /// workflow no one has): whether the store answers, for a health check.
    pub fn ping(&self) -> Result<(), StoreError> {
        self.backend.workflow_slug("").map(|_| ())
    }

    /// Re-seals every secret under `new_key`, in one transaction: codes are
    /// unchanged, and the store's current key opens no row afterwards.
    /// Plain-text rows are sealed under `new_key` too, and rows it already
    /// opens are left as they are, so a second run picks up only the rows
    /// written under the current key since the first (a fleet's hosts
    /// switching keys one by one). A row neither key opens, or any other
    /// failure, rolls the whole transaction back: every secret stays as it
    /// was.
    pub fn rekey(&self, new_key: &StoreKey) -> Result<usize, StoreError> {
        let Some(old_key) = &self.key else {
            return Err(StoreError::NeedsKey("re-keying the store"));
        };
        self.backend.rewrite_secrets(&mut |username, stored| {
            if stored.trim().is_empty() {
                return Ok(None);
            }
            let plain = if is_sealed(stored) {
                match old_key.open(username, stored) {
                    Ok(plain) => plain,
                    Err(CannotDecrypt) if new_key.open(username, stored).is_ok() => {
                        return Ok(None);
                    }
                    Err(CannotDecrypt) => {
                        return Err(StoreError::NotOpened(username.to_owned()));
                    }
                }
            } else {
                Zeroizing::new(stored.to_owned())
            };
            Ok(Some(new_key.seal(username, &plain)?))
        })
    }
}

fn edge(workflow_id: &str, source: &str, target: &str, label: &str) -> EdgeRow {
    EdgeRow {
        workflow_id: workflow_id.to_owned(),
        source_node_id: source.to_owned(),
        target_node_id: target.to_owned(),
        edge_label: label.to_owned(),
    }
}

/// Whether `--db` names a PostgreSQL database rather than an SQLite file.
pub fn is_postgres(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://") || db.starts_with("host=")
}

/// 20 random bytes (RFC 4226 §4 recommends 160 bits), base32 without padding.
pub fn fresh_secret() -> Result<Zeroizing<String>, StoreError> {
    let mut bytes = Zeroizing::new([0u8; 20]);
    getrandom::fill(&mut bytes[..]).map_err(|e| StoreError::NoRandomness(e.to_string()))?;
    Ok(Zeroizing::new(base32::encode(
        base32::Alphabet::Rfc4648 { padding: false },
        &bytes[..],
    )))
}

impl Directory for Store {
    fn find_user(&self, username: &str) -> Result<Option<User>, HostError> {
        let Some(row) = Self::unavailable(self.backend.user(username))? else {
            return Ok(None);
        };
        let mut user = User {
            username: row.username,
            is_agent: row.is_agent,
            totp_secret: row.totp_secret.map(Zeroizing::new),
        };
        // Opened here, once per call; the plain text lives only in this
        // call's `User` (zeroized on drop) and the guest's copy.
        if let Some(stored) = user.totp_secret.take_if(|stored| is_sealed(stored)) {
            let opened = match &self.key {
                Some(key) => key.open(&user.username, &stored),
                None => Err(CannotDecrypt),
            };
            user.totp_secret =
                Some(opened.map_err(|error| HostError::Unavailable(error.to_string()))?);
        }
        Ok(Some(user))
    }

    fn workflow_slug(&self, workflow_id: &str) -> Result<Option<String>, HostError> {
        Self::unavailable(self.backend.workflow_slug(workflow_id))
    }

    fn edge_targets(
        &self,
        workflow_id: &str,
        source_node_id: &str,
        label: &str,
    ) -> Result<Vec<String>, HostError> {
        Self::unavailable(
            self.backend
                .edge_targets(workflow_id, source_node_id, label),
        )
    }
}

/// Every call's event goes into the store's `audit_events` table, in the
/// call's own transaction discipline (one commit per event).
impl AuditSink for Store {
    fn record(&self, event: &AuditEvent) -> Result<(), AuditError> {
        self.backend
            .append_audit(event)
            .map_err(|error| AuditError::Sink(Box::new(error)))
    }
}
