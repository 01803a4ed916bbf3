//! Every statement the backends run, written once in PostgreSQL's style
//! (`$1`, `$2`...). SQLite's text is derived at compile time by writing
//! `?N` for `$N`: SQLite reads `$1` as a *named* parameter called "$1",
//! numbered by first appearance, so a statement that names `$2` before
//! `$1` would bind the wrong values; `?N` is SQLite's own positional form.
//!
//! Only the catalogue queries (does a table exist?) differ by engine; they
//! are in the backends.

/// One statement in both engines' spellings.
#[derive(Debug, Clone, Copy)]
pub struct Statement {
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub postgres: &'static str,
    pub sqlite: &'static str,
}

/// `text` with `?` for every `$` that starts a parameter number. The
/// statements hold no string literal with a `$` in it.
const fn sqlite_bytes<const N: usize>(text: &str) -> [u8; N] {
    let bytes = text.as_bytes();
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = bytes[i];
        if bytes[i] == b'$' && i + 1 < N && bytes[i + 1].is_ascii_digit() {
            out[i] = b'?';
        }
        i += 1;
    }
    out
}

/// Declares a [`Statement`] from its PostgreSQL text.
macro_rules! statement {
    ($(#[$doc:meta])* $name:ident = $text:expr) => {
        $(#[$doc])*
        pub const $name: Statement = Statement {
            postgres: $text,
            sqlite: {
                const BYTES: [u8; $text.len()] = sqlite_bytes($text);
                match std::str::from_utf8(&BYTES) {
                    Ok(text) => text,
                    Err(_) => panic!("not UTF-8"),
                }
            },
        };
    };
}

/// The columns of `audit_events`, in the order the backends read them.
macro_rules! audit_columns {
    () => {
        "id, time, time_unix, operation, workflow_id, node_id, token_id, \
         username_requested, username_resolved, outcome, host_error, duration_us"
    };
}

/// The columns of `mcp_tokens`, in the order the backends read them.
macro_rules! token_columns {
    () => {
        "id, sha256, workflow_id, node_id, label, created, revoked"
    };
}

/// The users' secrets, for `store encrypt`.
macro_rules! secrets {
    () => {
        "SELECT username, totp_secret FROM users WHERE totp_secret IS NOT NULL"
    };
}

statement!(USER = "SELECT username, is_agent, totp_secret FROM users WHERE username = $1");

statement!(WORKFLOW_SLUG = "SELECT slug FROM workflows WHERE id = $1");

statement!(
    /// In the order of the target's id: neither engine keeps an insertion
    /// order that both could sort by, and the tool only counts them.
    EDGE_TARGETS = "SELECT target_node_id FROM workflow_edges \
     WHERE workflow_id = $1 AND source_node_id = $2 AND edge_label = $3 \
     ORDER BY target_node_id"
);

statement!(
    INSERT_USER = "INSERT INTO users (username, is_agent, totp_secret) VALUES ($1, $2, $3) \
     ON CONFLICT (username) DO NOTHING"
);

statement!(
    PUT_USER = "INSERT INTO users (username, is_agent, totp_secret) VALUES ($1, $2, $3) \
     ON CONFLICT (username) DO UPDATE \
     SET is_agent = excluded.is_agent, totp_secret = excluded.totp_secret"
);

statement!(
    PUT_WORKFLOW = "INSERT INTO workflows (id, slug) VALUES ($1, $2) \
     ON CONFLICT (id) DO UPDATE SET slug = excluded.slug"
);

statement!(
    PUT_EDGE = "INSERT INTO workflow_edges \
     (workflow_id, source_node_id, target_node_id, edge_label) VALUES ($1, $2, $3, $4)"
);

statement!(
    PUT_EDGE_UNLESS_PRESENT = "INSERT INTO workflow_edges \
     (workflow_id, source_node_id, target_node_id, edge_label) \
     SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM workflow_edges \
     WHERE workflow_id = $1 AND source_node_id = $2 AND target_node_id = $3 \
     AND edge_label = $4)"
);

statement!(SECRETS = secrets!());

/// [`SECRETS`] locking the rows until the rewrite commits, PostgreSQL's
/// way (SQLite has no row locks: its rewrite holds the file's write lock
/// from its first statement on).
#[cfg(feature = "postgres")]
pub const SECRETS_FOR_UPDATE: &str = concat!(secrets!(), " FOR UPDATE");
#[cfg(feature = "postgres")]
/// PostgreSQL: taken before a rewrite of every secret, so that a user
/// inserted meanwhile (under the key being replaced) waits for it rather
/// than landing beside it. SQLite's `BEGIN IMMEDIATE` does the same there.
pub const LOCK_USERS_POSTGRES: &str = "LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE";

statement!(UPDATE_SECRET = "UPDATE users SET totp_secret = $1 WHERE username = $2");

statement!(
    APPEND_AUDIT = concat!(
        "INSERT INTO audit_events (",
        audit_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    )
);

statement!(
    /// `$1` since (Unix seconds), `$2` username, `$3` workflow, each NULL for
    /// any; `$4` the limit (`i64::MAX` for none).
    AUDIT_EVENTS = concat!(
        "SELECT ",
        audit_columns!(),
        " FROM audit_events \
         WHERE (CAST($1 AS BIGINT) IS NULL OR time_unix >= $1) \
         AND (CAST($2 AS TEXT) IS NULL OR username_requested = $2 OR username_resolved = $2) \
         AND (CAST($3 AS TEXT) IS NULL OR workflow_id = $3) \
         ORDER BY time_unix DESC, time DESC LIMIT $4"
    )
);

statement!(PRUNE_AUDIT = "DELETE FROM audit_events WHERE time_unix < $1");

statement!(
    INSERT_TOKEN = concat!(
        "INSERT INTO mcp_tokens (",
        token_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7)"
    )
);

statement!(
    TOKENS = concat!(
        "SELECT ",
        token_columns!(),
        " FROM mcp_tokens ORDER BY created, id"
    )
);

statement!(REVOKE_TOKEN = "UPDATE mcp_tokens SET revoked = $2 WHERE id = $1 AND revoked IS NULL");

statement!(
    TOKEN_BY_SHA256 = concat!(
        "SELECT ",
        token_columns!(),
        " FROM mcp_tokens WHERE sha256 = $1"
    )
);

statement!(
    /// The store's schema version (`schema_version` has one row).
    SCHEMA_VERSION = "SELECT version FROM schema_version"
);

statement!(SET_SCHEMA_VERSION = "UPDATE schema_version SET version = $1");

/// Every statement, for the tests.
#[cfg(test)]
pub const ALL: &[Statement] = &[
    USER,
    WORKFLOW_SLUG,
    EDGE_TARGETS,
    INSERT_USER,
    PUT_USER,
    PUT_WORKFLOW,
    PUT_EDGE,
    PUT_EDGE_UNLESS_PRESENT,
    SECRETS,
    UPDATE_SECRET,
    APPEND_AUDIT,
    AUDIT_EVENTS,
    PRUNE_AUDIT,
    INSERT_TOKEN,
    TOKENS,
    REVOKE_TOKEN,
    TOKEN_BY_SHA256,
    SCHEMA_VERSION,
    SET_SCHEMA_VERSION,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_text_numbers_its_parameters() {
        assert_eq!(
            REVOKE_TOKEN.sqlite,
            "UPDATE mcp_tokens SET revoked = ?2 WHERE id = ?1 AND revoked IS NULL"
        );
        assert!(APPEND_AUDIT.sqlite.ends_with("?10, ?11, ?12)"));
        for statement in ALL {
            assert!(!statement.sqlite.contains('$'), "{}", statement.sqlite);
            assert_eq!(
                statement.sqlite.replace('?', "$"),
                statement.postgres,
                "only the parameters differ"
            );
        }
    }

    /// Each statement is valid SQLite over the schema.
    #[test]
    fn every_statement_prepares_in_sqlite() {
        let connection = rusqlite::Connection::open_in_memory().unwrap();
        connection.execute_batch(super::super::SCHEMA).unwrap();
        for statement in ALL {
            connection
                .prepare(statement.sqlite)
                .unwrap_or_else(|e| panic!("{e}: {}", statement.sqlite));
        }
    }
}
