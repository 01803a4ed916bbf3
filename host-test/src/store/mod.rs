//! The reference store: the tables of `host-test/schema.sql` in SQLite (one
//! machine) or PostgreSQL (a fleet of hosts on one database), behind one
//! [`Store`] that holds everything the two share: opening and sealing
//! secrets with the store key, provisioning agent users, and answering the
//! component's lookups as a [`Directory`].

#[cfg(feature = "postgres")]
mod postgres;
mod sqlite;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use get_totp_code::platform::{Directory, HostError, NodeRef, User};
use get_totp_code::secret::TotpKey;
use get_totp_code::tool::{TOOL_EDGE_LABEL, resolve_agent};
use wasmtime::{Result, bail, format_err};
use zeroize::Zeroizing;

use crate::audit::{AuditError, AuditEvent, AuditFilter, AuditSink};
use crate::memory::{EdgeRow, Tables, UserRow};
use crate::store_key::{CannotDecrypt, StoreKey, is_sealed};

#[cfg(feature = "postgres")]
pub use self::postgres::PostgresOptions;

/// The schema every backend creates (`host-test/schema.sql`), portable SQL.
pub const SCHEMA: &str = include_str!("../../schema.sql");

/// A failed query, in words safe to show an agent (no row values).
#[derive(Debug, thiserror::Error)]
#[error("store query failed: {0}")]
pub struct BackendError(pub String);

/// What `rewrite_secrets` asks of each user's stored secret: its
/// replacement, or `None` to leave it.
pub type Rewrite<'a> = dyn FnMut(&str, &str) -> Result<Option<String>, BackendError> + 'a;

/// A storage engine holding the schema's tables, row by row. Each method is
/// one query (or one transaction) with no policy of its own.
pub trait Backend: Send + Sync {
    fn user(&self, username: &str) -> Result<Option<UserRow>, BackendError>;
    fn workflow_slug(&self, workflow_id: &str) -> Result<Option<String>, BackendError>;
    fn edge_targets(
        &self,
        workflow_id: &str,
        source_node_id: &str,
        label: &str,
    ) -> Result<Vec<String>, BackendError>;
    /// Inserts the user unless one of that name exists; whether it did.
    fn insert_user(&self, row: &UserRow) -> Result<bool, BackendError>;
    /// Inserts or replaces the user row as is.
    fn put_user(&self, row: &UserRow) -> Result<(), BackendError>;
    /// Creates the workflow row or sets its slug.
    fn put_workflow(&self, workflow_id: &str, slug: Option<&str>) -> Result<(), BackendError>;
    /// Adds the edge; with `unless_present`, only when no equal edge exists.
    fn put_edge(&self, edge: &EdgeRow, unless_present: bool) -> Result<(), BackendError>;
    /// In one transaction, replaces each user's secret by what `rewrite`
    /// returns for it (`None`: unchanged); how many rows changed.
    fn rewrite_secrets(&self, rewrite: &mut Rewrite<'_>) -> Result<usize, BackendError>;
    /// Appends one audit event (the host never updates or deletes one).
    fn append_audit(&self, event: &AuditEvent) -> Result<(), BackendError>;
    /// The events that pass `filter`, newest first.
    fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, BackendError>;
    /// Deletes the events from before the Unix time `before`; how many.
    fn prune_audit(&self, before: i64) -> Result<usize, BackendError>;
    /// Adds an MCP token row (its id and hash are fresh, so never a conflict
    /// in practice; a conflict fails).
    fn insert_token(&self, token: &TokenRow) -> Result<(), BackendError>;
    /// Every MCP token row, oldest first.
    fn tokens(&self) -> Result<Vec<TokenRow>, BackendError>;
    /// Sets `revoked` on the token `id` unless already set; whether it did.
    fn revoke_token(&self, id: &str, revoked: &str) -> Result<bool, BackendError>;
    /// The token row whose `sha256` is this (revoked or not).
    fn token_by_sha256(&self, sha256: &str) -> Result<Option<TokenRow>, BackendError>;
    /// Makes every commit durable against power loss, not only against a
    /// crash of the process (see the README's *Audit trail*).
    fn sync_every_commit(&self) -> Result<(), BackendError> {
        Ok(())
    }
    /// Tunes the store for a process that makes one call and exits.
    fn short_lived(&self) -> Result<(), BackendError> {
        Ok(())
    }
}

/// The columns of `audit_events`, in the order the backends read them.
pub(crate) const AUDIT_COLUMNS: &str = "id, time, time_unix, operation, workflow_id, node_id, \
     token_id, username_requested, username_resolved, outcome, host_error, duration_us";

/// The columns of `mcp_tokens`, in the order the backends read them.
pub(crate) const TOKEN_COLUMNS: &str = "id, sha256, workflow_id, node_id, label, created, revoked";

/// One row of `mcp_tokens` (schema.sql): an MCP bearer token's binding to a
/// tool node. The token itself is never stored, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
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
    /// Queries made, for the benchmarks' queries-per-call figure.
    queries: Arc<AtomicU64>,
}

impl Store {
    /// `--db`: a PostgreSQL URL (`postgres://...`, `postgresql://...`) or
    /// key-value connection string (`host=/path/to/socket dbname=...`),
    /// else the path of an SQLite file.
    pub fn open(db: &str) -> Result<Self> {
        if is_postgres(db) {
            Self::open_postgres(db)
        } else {
            Self::sqlite(Path::new(db))
        }
    }

    #[cfg(feature = "postgres")]
    fn open_postgres(db: &str) -> Result<Self> {
        Self::postgres(db, PostgresOptions::default())
    }

    /// Without the `postgres` feature, a PostgreSQL URL is refused in words
    /// (not quoted: it may hold a password).
    #[cfg(not(feature = "postgres"))]
    fn open_postgres(_db: &str) -> Result<Self> {
        bail!(
            "a PostgreSQL database was named, but this build of totp-host has no \
             PostgreSQL store (its `postgres` feature)"
        )
    }

    /// An SQLite file, created with the schema when missing.
    pub fn sqlite(path: &Path) -> Result<Self> {
        Ok(Self::over(Box::new(sqlite::SqliteBackend::open(path)?)))
    }

    /// A private in-memory SQLite store (tests, examples).
    pub fn in_memory() -> Result<Self> {
        Ok(Self::over(Box::new(sqlite::SqliteBackend::in_memory()?)))
    }

    /// A PostgreSQL database; the schema is created when missing.
    #[cfg(feature = "postgres")]
    pub fn postgres(connection: &str, options: PostgresOptions) -> Result<Self> {
        Ok(Self::over(Box::new(postgres::PostgresBackend::connect(
            connection, options,
        )?)))
    }

    fn over(backend: Box<dyn Backend>) -> Self {
        Store {
            backend,
            key: None,
            queries: Arc::default(),
        }
    }

    /// The store key that opens and seals secrets.
    pub fn with_key(mut self, key: StoreKey) -> Self {
        self.key = Some(key);
        self
    }

    /// Lookups answered so far (one query each).
    pub fn queries(&self) -> u64 {
        self.queries.load(Ordering::Relaxed)
    }

    fn counted<T>(&self, result: Result<T, BackendError>) -> Result<T, HostError> {
        self.queries.fetch_add(1, Ordering::Relaxed);
        result.map_err(|error| HostError::Unavailable(error.to_string()))
    }

    /// Inserts or replaces a user row as is (tests, operators' tooling).
    pub fn put_user(
        &self,
        username: &str,
        is_agent: bool,
        totp_secret: Option<&str>,
    ) -> Result<()> {
        Ok(self.backend.put_user(&UserRow {
            username: username.to_owned(),
            is_agent,
            totp_secret: totp_secret.map(str::to_owned),
        })?)
    }

    /// Creates the workflow row when missing, setting its slug.
    pub fn put_workflow(&self, workflow_id: &str, slug: Option<&str>) -> Result<()> {
        Ok(self.backend.put_workflow(workflow_id, slug)?)
    }

    /// Adds an edge (duplicates are kept, as a graph editor may create them).
    pub fn put_edge(
        &self,
        workflow_id: &str,
        source: &str,
        target: &str,
        label: &str,
    ) -> Result<()> {
        Ok(self
            .backend
            .put_edge(&edge(workflow_id, source, target, label), false)?)
    }

    /// Writes every row of `tables` as is (tests, fixtures).
    pub fn import(&self, tables: &Tables) -> Result<()> {
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
    ) -> Result<()> {
        self.backend.put_workflow(workflow_id, Some(slug))?;
        let tool_edge = edge(workflow_id, tool_node, agent_node, TOOL_EDGE_LABEL);
        Ok(self.backend.put_edge(&tool_edge, true)?)
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
    ) -> Result<Provisioned> {
        let Some(key) = &self.key else {
            bail!("creating agent users needs the store key: their secrets are stored sealed");
        };
        let username = resolve_agent(self, tool_node).map_err(|e| format_err!("{e}"))?;
        let secret = match secret {
            Some(given) => {
                TotpKey::parse(given).map_err(|e| format_err!("invalid secret: {e}"))?;
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
            Some(existing) if !existing.is_agent => {
                bail!("user {username} exists and is not an agent user; refusing to change it")
            }
            _ => Ok(Provisioned {
                username,
                already_existed: true,
                secret: None,
            }),
        }
    }

    /// The recorded audit events that pass `filter`, newest first.
    pub fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, AuditError> {
        Ok(self.backend.audit_events(filter)?)
    }

    /// Deletes the audit events from before the Unix time `before`;
    /// returns how many.
    pub fn prune_audit_events(&self, before: i64) -> Result<usize, AuditError> {
        Ok(self.backend.prune_audit(before)?)
    }

    /// Records a new MCP token row (see `crate::mcp::tokens`).
    pub fn insert_token(&self, token: &TokenRow) -> Result<(), BackendError> {
        self.backend.insert_token(token)
    }

    /// Every MCP token row, oldest first (hashes included; never the tokens).
    pub fn tokens(&self) -> Result<Vec<TokenRow>, BackendError> {
        self.backend.tokens()
    }

    /// Marks the token `id` revoked at `revoked` (RFC 3339); false when there
    /// is no such token or it was revoked already.
    pub fn revoke_token(&self, id: &str, revoked: &str) -> Result<bool, BackendError> {
        self.backend.revoke_token(id, revoked)
    }

    /// The token row with this SHA-256 (hex), revoked or not.
    pub fn token_by_sha256(&self, sha256: &str) -> Result<Option<TokenRow>, BackendError> {
        self.backend.token_by_sha256(sha256)
    }

    /// Every commit synced to disk (SQLite `synchronous=FULL`); PostgreSQL
    /// commits are durable as the server is configured.
    pub fn sync_every_commit(&self) -> Result<()> {
        Ok(self.backend.sync_every_commit()?)
    }

    /// For a process that opens the store, makes one call and exits (the
    /// CLI): with SQLite, no checkpoint on every close, and a small WAL
    /// (see `store/sqlite.rs`).
    pub fn short_lived(self) -> Result<Self> {
        self.backend.short_lived()?;
        Ok(self)
    }

    /// `store encrypt`: seals every plain-text secret, in one transaction;
    /// returns how many rows it rewrote.
    pub fn seal_plain_secrets(&self) -> Result<usize> {
        let Some(key) = &self.key else {
            bail!("sealing secrets needs the store key");
        };
        Ok(self.backend.rewrite_secrets(&mut |username, secret| {
            if is_sealed(secret) || secret.trim().is_empty() {
                return Ok(None);
            }
            key.seal(username, secret)
                .map(Some)
                .map_err(|e| BackendError(e.to_string()))
        })?)
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
pub fn fresh_secret() -> Result<Zeroizing<String>> {
    let mut bytes = Zeroizing::new([0u8; 20]);
    getrandom::fill(&mut bytes[..]).map_err(|e| format_err!("no randomness: {e}"))?;
    Ok(Zeroizing::new(base32::encode(
        base32::Alphabet::Rfc4648 { padding: false },
        &bytes[..],
    )))
}

impl Directory for Store {
    fn find_user(&self, username: &str) -> Result<Option<User>, HostError> {
        let Some(row) = self.counted(self.backend.user(username))? else {
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
        self.counted(self.backend.workflow_slug(workflow_id))
    }

    fn edge_targets(
        &self,
        workflow_id: &str,
        source_node_id: &str,
        label: &str,
    ) -> Result<Vec<String>, HostError> {
        self.counted(
            self.backend
                .edge_targets(workflow_id, source_node_id, label),
        )
    }
}

/// Every call's event goes into the store's `audit_events` table, in the
/// call's own transaction discipline (one commit per event).
impl AuditSink for Store {
    fn record(&self, event: &AuditEvent) -> Result<(), AuditError> {
        Ok(self.backend.append_audit(event)?)
    }
}
