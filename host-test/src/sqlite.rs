//! The reference store: SQLite with the schema of `host-test/schema.sql`.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use get_totp_code::platform::{Directory, HostError, NodeRef, User};
use get_totp_code::secret::TotpKey;
use get_totp_code::tool::{TOOL_EDGE_LABEL, resolve_agent};
use rusqlite::{Connection, OptionalExtension, params};
use wasmtime::error::Context;
use wasmtime::{Result, bail, format_err};
use zeroize::Zeroizing;

use crate::memory::Tables;
use crate::store_key::{CannotDecrypt, StoreKey, is_sealed};

/// The schema operators' scripts write to (`host-test/schema.sql`).
pub const SCHEMA: &str = include_str!("../schema.sql");

/// A [`Directory`] over one SQLite database. With a [`StoreKey`] it opens
/// sealed secrets and seals the ones it writes (see `store_key`).
pub struct SqliteDirectory {
    connection: Mutex<Connection>,
    key: Option<StoreKey>,
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
        // Overwrite what an update or delete frees, so that a secret sealed
        // by `store encrypt` leaves no plain copy in the file's free pages.
        connection.pragma_update(None, "secure_delete", true)?;
        connection.execute_batch(SCHEMA)?;
        Ok(SqliteDirectory {
            connection: Mutex::new(connection),
            key: None,
        })
    }

    /// The store key that opens and seals secrets.
    pub fn with_key(mut self, key: StoreKey) -> Self {
        self.key = Some(key);
        self
    }

    /// The secret as stored, sealed when there is a key.
    fn stored_form(&self, username: &str, secret: &str) -> Result<Zeroizing<String>> {
        match &self.key {
            Some(key) => Ok(Zeroizing::new(key.seal(username, secret)?)),
            None => Ok(Zeroizing::new(secret.to_owned())),
        }
    }

    /// `store encrypt`: seals every plain-text secret, in one transaction;
    /// returns how many rows it rewrote.
    pub fn seal_plain_secrets(&self) -> Result<usize> {
        let Some(key) = &self.key else {
            bail!("sealing secrets needs the store key");
        };
        let mut connection = self.connection();
        let transaction = connection.transaction()?;
        let rows: Vec<(String, Zeroizing<String>)> = {
            let mut statement = transaction
                .prepare("SELECT username, totp_secret FROM users WHERE totp_secret IS NOT NULL")?;
            statement
                .query_map([], |row| Ok((row.get(0)?, Zeroizing::new(row.get(1)?))))?
                .collect::<rusqlite::Result<_>>()?
        };
        let mut sealed = 0;
        for (username, secret) in rows {
            if is_sealed(&secret) || secret.trim().is_empty() {
                continue;
            }
            let stored = Zeroizing::new(key.seal(&username, &secret)?);
            transaction.execute(
                "UPDATE users SET totp_secret = ?1 WHERE username = ?2",
                params![stored.as_str(), username],
            )?;
            sealed += 1;
        }
        transaction.commit()?;
        Ok(sealed)
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
        if self.key.is_none() {
            bail!("creating agent users needs the store key: their secrets are stored sealed");
        }
        let secret = match secret {
            Some(given) => {
                TotpKey::parse(given).map_err(|e| format_err!("invalid secret: {e}"))?;
                Zeroizing::new(given.to_owned())
            }
            None => fresh_secret()?,
        };
        let stored = self.stored_form(&username, &secret)?;
        self.put_user(&username, true, Some(&stored))?;
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
        let found = self
            .connection()
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
            .map_err(unavailable)?;
        let Some(mut user) = found else {
            return Ok(None);
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
