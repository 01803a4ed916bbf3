-- The reference store's schema: the one definition, read by the Rust host
-- (include_str!), the Python hosts and the documentation. Operators' scripts
-- may write these tables directly. `IF NOT EXISTS`, so opening an existing
-- store changes nothing.

-- The schema's version: one row. Version 1 (the first release) had no such
-- table; version 2 is version 1's tables with this one. totp-host upgrades
-- an older store in place, in one transaction, when it opens it, and
-- refuses one of a newer version. The row is written at the end of this
-- file, so that running the file makes a store of this version.
CREATE TABLE IF NOT EXISTS schema_version (
    one     INTEGER PRIMARY KEY CHECK (one = 1),
    version INTEGER NOT NULL
);

-- Users: agent users (is_agent = 1) and people (is_agent = 0). totp_secret
-- is bare base32 or an otpauth://totp/ URI, in plain text or sealed by
-- totp-host under its store key ('enc:v1:' + base64, README *Secrets at
-- rest*); NULL or blank when none.
CREATE TABLE IF NOT EXISTS users (
    username    TEXT PRIMARY KEY,
    is_agent    INTEGER NOT NULL DEFAULT 0,
    totp_secret TEXT
);

-- Workflows; the slug names agent users (agent_{slug}_{agent_node_id}).
CREATE TABLE IF NOT EXISTS workflows (
    id   TEXT PRIMARY KEY,
    slug TEXT
);

-- The workflow graph; a tool node's edge labelled 'tool' leads to its agent.
CREATE TABLE IF NOT EXISTS workflow_edges (
    workflow_id    TEXT NOT NULL,
    source_node_id TEXT NOT NULL,
    target_node_id TEXT NOT NULL,
    edge_label     TEXT NOT NULL
);

-- The audit trail: one row per tool call (get_totp_code or invoke), written
-- by the host, never updated; `totp-host audit prune` deletes old rows. It
-- never holds a code or a secret. `time` is UTC RFC 3339 with microseconds
-- (fixed width, so it sorts as the time does); `outcome` is 'issued' or the
-- result's error_code; `host_error` the host's failure text for host_error.
-- `id` is 128 random bits in hex, unique by construction: it has no index,
-- since every index is one more page written by every call (measured: an
-- index on `id` doubled the cost of recording an event).
CREATE TABLE IF NOT EXISTS audit_events (
    id                 TEXT NOT NULL,
    time               TEXT NOT NULL,
    time_unix          BIGINT NOT NULL,
    operation          TEXT NOT NULL,
    workflow_id        TEXT,
    node_id            TEXT,
    token_id           TEXT,
    username_requested TEXT NOT NULL,
    username_resolved  TEXT,
    outcome            TEXT NOT NULL,
    host_error         TEXT,
    duration_us        BIGINT NOT NULL
);

CREATE INDEX IF NOT EXISTS audit_events_time ON audit_events (time_unix);

-- Bearer tokens of `totp-host mcp --http`: each binds an MCP client to one
-- tool node (workflow_id, node_id), whose agent it gets codes of. Made by
-- `totp-host token create`, which prints the token once; only its SHA-256
-- (lowercase hex of the token's text) is kept, so a copy of the store lets
-- no one call as a node. `id` (64 random bits in hex) names the token in
-- `token list`, `token revoke` and the audit trail's token_id. `created`
-- and `revoked` are UTC RFC 3339; a revoked token is refused from the next
-- request on and its row kept, so audit events still name a known token.
CREATE TABLE IF NOT EXISTS mcp_tokens (
    id          TEXT PRIMARY KEY,
    sha256      TEXT NOT NULL UNIQUE,
    workflow_id TEXT NOT NULL,
    node_id     TEXT NOT NULL,
    label       TEXT,
    created     TEXT NOT NULL,
    revoked     TEXT
);

-- The version of this file's schema (SCHEMA_VERSION in host-test/src/store);
-- a store that already records one keeps it.
INSERT INTO schema_version (one, version) VALUES (1, 2) ON CONFLICT (one) DO NOTHING;
