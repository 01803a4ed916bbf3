-- The reference store's schema: the one definition, read by the Rust host
-- (include_str!), the Python hosts and the documentation. Operators' scripts
-- may write these tables directly. `IF NOT EXISTS`, so opening an existing
-- store changes nothing.

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
