//! The store's schema version: a store of the first release (version 1, no
//! `schema_version` table) is upgraded in place when opened, keeping every
//! row; a store of a newer version is refused and left as it was; an
//! upgrade that fails leaves the store as it was. SQLite from a fixture
//! made by the first release (`tests/fixtures`), PostgreSQL from its schema
//! (`schema-v1.sql`).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use totp_host::mcp::tokens;
use totp_host::store::{SCHEMA_VERSION, StoreError};
use totp_host::{AuditFilter, Store, StoreKey};

use crate::util::TotpHost;
use crate::util::{RFC6238, parse};
use totp_test_support::postgres::PgServer;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

const NEWER: &str = "the store's schema is version 3, newer than version 2 that this \
     totp-host understands; upgrade totp-host";

/// A copy of the version 1 fixture store and its key (made 0600, as the
/// key file must be), in a directory of their own.
struct V1Copy {
    _dir: tempfile::TempDir,
    db: PathBuf,
    key: PathBuf,
}

fn v1_copy() -> V1Copy {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite3");
    let key = dir.path().join("store.key");
    std::fs::copy(Path::new(FIXTURES).join("store-v1.sqlite3"), &db).unwrap();
    std::fs::copy(Path::new(FIXTURES).join("store-v1.key"), &key).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    V1Copy { _dir: dir, db, key }
}

fn fixture_token() -> String {
    std::fs::read_to_string(Path::new(FIXTURES).join("store-v1.token"))
        .unwrap()
        .trim()
        .to_owned()
}

/// Every row of the version 1 tables, as text, in a fixed order.
fn sqlite_rows(db: &Path) -> Vec<String> {
    let connection = rusqlite::Connection::open(db).unwrap();
    let mut rows = Vec::new();
    for (table, order) in [
        ("users", "username"),
        ("workflows", "id"),
        (
            "workflow_edges",
            "workflow_id, source_node_id, target_node_id",
        ),
        ("mcp_tokens", "id"),
        ("audit_events", "id"),
    ] {
        let mut statement = connection
            .prepare(&format!("SELECT * FROM {table} ORDER BY {order}"))
            .unwrap();
        let columns = statement.column_count();
        let found = statement
            .query_map([], |row| {
                let values: Vec<String> = (0..columns)
                    .map(|i| format!("{:?}", row.get_ref(i).unwrap()))
                    .collect();
                Ok(format!("{table}: {}", values.join(", ")))
            })
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        rows.extend(found);
    }
    rows
}

fn sqlite_version(db: &Path) -> Option<i64> {
    let connection = rusqlite::Connection::open(db).unwrap();
    connection
        .query_row("SELECT version FROM schema_version", [], |row| row.get(0))
        .ok()
}

/// The codes of both agents, from the CLI, against RFC 6238's table.
fn assert_codes(db: &str, key: &Path) {
    let get = |args: &[&str]| {
        let output = TotpHost::on(db).sealed(key).run(args);
        assert!(output.status.success(), "{output:?}");
        parse(&String::from_utf8_lossy(&output.stdout))
    };
    let alpha = get(&[
        "get-totp-code",
        "--username",
        "agent_alpha_a1",
        "--at",
        "59",
    ]);
    assert_eq!(alpha["totp_code"], RFC6238.sha1_code(59), "{alpha}");
    let beta = get(&[
        "get-totp-code",
        "--workflow",
        "wf-2",
        "--node",
        "t2",
        "--username",
        "agent_beta_a2",
        "--at",
        "1111111109",
    ]);
    assert_eq!(
        beta["totp_code"],
        RFC6238.sha1_code_8_digits(1111111109),
        "{beta}"
    );
}

#[test]
fn the_fixture_is_a_version_1_store() {
    let copy = v1_copy();
    assert_eq!(sqlite_version(&copy.db), None);
    assert_eq!(sqlite_rows(&copy.db).len(), 2 + 2 + 2 + 2 + 3);
}

#[test]
fn a_new_store_records_the_current_version() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("new.sqlite3");
    drop(Store::sqlite(&db).unwrap());
    assert_eq!(sqlite_version(&db), Some(SCHEMA_VERSION));
    assert_eq!(SCHEMA_VERSION, 2);
    // Opened again: unchanged.
    drop(Store::sqlite(&db).unwrap());
    assert_eq!(sqlite_version(&db), Some(SCHEMA_VERSION));
}

#[test]
fn a_version_1_sqlite_store_is_upgraded_keeping_every_row() {
    let copy = v1_copy();
    let before = sqlite_rows(&copy.db);
    let store = Store::sqlite(&copy.db)
        .unwrap()
        .with_key(StoreKey::read_file(&copy.key).unwrap());
    assert_eq!(sqlite_version(&copy.db), Some(2));
    assert_eq!(sqlite_rows(&copy.db), before, "every row as it was");

    // The token still verifies, the revoked one is still revoked.
    let live = tokens::resolve(&store, &fixture_token())
        .unwrap()
        .expect("the fixture's token verifies");
    assert_eq!(
        (live.workflow_id.as_str(), live.node_id.as_str()),
        ("wf-1", "t1")
    );
    let listed = store.tokens().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(
        listed.iter().filter(|t| t.revoked.is_some()).count(),
        1,
        "{listed:?}"
    );
    assert_eq!(
        store.audit_events(&AuditFilter::default()).unwrap().len(),
        3
    );
    drop(store);

    // Codes from the sealed secrets, as the first release gave them.
    assert_codes(copy.db.to_str().unwrap(), &copy.key);
    let after = sqlite_rows(&copy.db);
    assert_eq!(after.len(), before.len() + 2, "two more audit events");
    assert!(before.iter().all(|row| after.contains(row)));
}

/// The fixture upgraded, then marked as version 3.
fn newer_copy() -> V1Copy {
    let copy = v1_copy();
    drop(Store::sqlite(&copy.db).unwrap());
    let connection = rusqlite::Connection::open(&copy.db).unwrap();
    connection
        .execute("UPDATE schema_version SET version = 3", [])
        .unwrap();
    drop(connection);
    assert!(!copy.db.with_extension("sqlite3-wal").exists());
    copy
}

#[test]
fn a_newer_sqlite_store_is_refused_and_left_as_it_was() {
    let copy = newer_copy();
    let bytes = std::fs::read(&copy.db).unwrap();

    let error = Store::sqlite(&copy.db).err().expect("refused");
    assert!(
        matches!(
            error,
            StoreError::NewerSchema {
                found: 3,
                supported: 2
            }
        ),
        "{error:?}"
    );
    assert_eq!(error.to_string(), NEWER);

    let output = TotpHost::on(copy.db.to_str().unwrap())
        .sealed(&copy.key)
        .run(&[
            "get-totp-code",
            "--username",
            "agent_alpha_a1",
            "--at",
            "59",
        ]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(NEWER), "{stderr}");
    assert!(output.stdout.is_empty(), "{output:?}");

    assert!(
        std::fs::read(&copy.db).unwrap() == bytes,
        "the file changed"
    );
    assert_eq!(sqlite_version(&copy.db), Some(3));
}

#[test]
fn a_failed_sqlite_upgrade_leaves_the_store_as_it_was() {
    let copy = v1_copy();
    // A table where the schema has an index: the upgrade creates
    // `schema_version`, then fails on the index, past its first write.
    let connection = rusqlite::Connection::open(&copy.db).unwrap();
    connection
        .execute_batch(
            "DROP INDEX audit_events_time; \
             CREATE TABLE audit_events_time (x INTEGER);",
        )
        .unwrap();
    drop(connection);
    let bytes = std::fs::read(&copy.db).unwrap();
    let rows = sqlite_rows(&copy.db);

    let error = Store::sqlite(&copy.db).err().expect("the upgrade fails");
    assert!(
        error.to_string().contains("cannot open the store"),
        "{error}"
    );
    assert!(
        std::fs::read(&copy.db).unwrap() == bytes,
        "the file changed"
    );
    assert_eq!(sqlite_version(&copy.db), None, "no schema_version left");
    assert_eq!(sqlite_rows(&copy.db), rows);

    // The obstacle gone, the same store upgrades.
    let connection = rusqlite::Connection::open(&copy.db).unwrap();
    connection
        .execute_batch("DROP TABLE audit_events_time;")
        .unwrap();
    drop(connection);
    drop(Store::sqlite(&copy.db).unwrap());
    assert_eq!(sqlite_version(&copy.db), Some(2));
    assert_codes(copy.db.to_str().unwrap(), &copy.key);
}

/// A version 1 PostgreSQL store: the first release's schema and a row in
/// each table (a plain secret: the key is not what is tested here).
fn pg_v1(server: &PgServer) {
    server.psql(include_str!("../../schema-v1.sql"));
    server.psql(&format!(
        "INSERT INTO users VALUES ('agent_alpha_a1', 1, '{secret}'); \
         INSERT INTO workflows VALUES ('wf-1', 'alpha'); \
         INSERT INTO workflow_edges VALUES ('wf-1', 't1', 'a1', 'tool'); \
         INSERT INTO mcp_tokens VALUES ('0011223344556677', '{sha256}', 'wf-1', 't1', \
           'fixture', '2026-01-01T00:00:00.000000Z', NULL); \
         INSERT INTO audit_events VALUES ('00112233445566778899aabbccddeeff', \
           '2026-01-01T00:00:00.000000Z', 1767225600, 'get_totp_code', 'wf-1', 't1', \
           NULL, 'agent_alpha_a1', 'agent_alpha_a1', 'issued', NULL, 42);",
        secret = RFC6238.sha1_secret(),
        sha256 = tokens::sha256_hex("totpmcp_fixture"),
    ));
}

/// Fails the statement (psql exits non-zero) unless `condition` holds.
fn pg_assert(server: &PgServer, condition: &str) {
    let quoted = condition.replace('\'', "''");
    server.psql(&format!(
        "DO $$ BEGIN IF NOT ({condition}) THEN \
         RAISE EXCEPTION 'not so: {quoted}'; END IF; END $$;"
    ));
}

#[test]
fn a_version_1_postgres_store_is_upgraded_and_a_newer_one_refused() {
    let server = PgServer::start();
    pg_v1(&server);
    pg_assert(&server, "to_regclass('schema_version') IS NULL");

    let store = Store::open(&server.url()).unwrap();
    pg_assert(&server, "(SELECT version FROM schema_version) = 2");
    pg_assert(&server, "(SELECT count(*) FROM schema_version) = 1");
    let token = tokens::resolve(&store, "totpmcp_fixture")
        .unwrap()
        .expect("the token verifies");
    assert_eq!(token.id, "0011223344556677");
    let events = store.audit_events(&AuditFilter::default()).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].duration_us, 42);
    drop(store);
    let output = TotpHost::on(&server.url()).run(&[
        "get-totp-code",
        "--username",
        "agent_alpha_a1",
        "--at",
        "59",
    ]);
    assert!(output.status.success(), "{output:?}");
    let result = parse(&String::from_utf8_lossy(&output.stdout));
    assert_eq!(result["totp_code"], RFC6238.sha1_code(59));
    // Opened again: still version 2, nothing added.
    drop(Store::open(&server.url()).unwrap());
    pg_assert(&server, "(SELECT version FROM schema_version) = 2");
    pg_assert(&server, "(SELECT count(*) FROM users) = 1");
    pg_assert(&server, "(SELECT count(*) FROM audit_events) = 2");

    server.psql("UPDATE schema_version SET version = 3");
    let error = Store::open(&server.url()).err().expect("refused");
    assert_eq!(error.to_string(), NEWER);
    let output = TotpHost::on(&server.url()).run(&[
        "get-totp-code",
        "--username",
        "agent_alpha_a1",
        "--at",
        "59",
    ]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains(NEWER));
    pg_assert(&server, "(SELECT version FROM schema_version) = 3");
    pg_assert(&server, "(SELECT count(*) FROM audit_events) = 2");
}

#[test]
fn a_failed_postgres_upgrade_leaves_the_store_as_it_was() {
    let server = PgServer::start();
    pg_v1(&server);
    // Fails the upgrade right after it created `schema_version`.
    server.psql(
        "CREATE FUNCTION refuse_ddl() RETURNS event_trigger LANGUAGE plpgsql \
         AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$; \
         CREATE EVENT TRIGGER refuse_ddl ON ddl_command_end \
         WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION refuse_ddl();",
    );
    let error = Store::open(&server.url()).err().expect("the upgrade fails");
    assert!(error.to_string().contains("store query failed"), "{error}");
    pg_assert(&server, "to_regclass('schema_version') IS NULL");
    pg_assert(&server, "(SELECT count(*) FROM users) = 1");
    pg_assert(&server, "(SELECT count(*) FROM audit_events) = 1");

    server.psql("DROP EVENT TRIGGER refuse_ddl");
    drop(Store::open(&server.url()).unwrap());
    pg_assert(&server, "(SELECT version FROM schema_version) = 2");
}
