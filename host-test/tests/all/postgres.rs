//! The PostgreSQL store against a real server (`totp_test_support::postgres`):
//! the conformance cases, an outage mid-run, and provisioning races (two
//! processes at once under load are `totp-bench`'s tests).

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use totp_host::store::PostgresOptions;
use totp_host::{Call, Clock, Store};

use crate::conformance::cases_answer_like_the_stub;
use crate::util::TotpHost;
use crate::util::{RFC6238, parse, tool};
use totp_test_support::postgres::PgServer;

/// Every case (but those that inject a host failure) answers over
/// PostgreSQL exactly as over the in-memory stub.
#[test]
fn conformance_cases_over_postgres() {
    let server = PgServer::start();
    let store = Arc::new(Store::open(&server.url()).unwrap());
    cases_answer_like_the_stub(|case| {
        server.psql("TRUNCATE users, workflows, workflow_edges");
        store.import(&case.store).unwrap();
        store.clone()
    });
}

/// Calls during an outage are `host_error` results that come back within
/// the store's deadline; after the restart, calls succeed again.
#[test]
fn an_outage_is_a_host_error_and_the_next_calls_reconnect() {
    let server = PgServer::start();
    let options = PostgresOptions {
        timeout: Duration::from_millis(500),
        ..PostgresOptions::default()
    };
    let store = Store::postgres(&server.url(), options).unwrap();
    store
        .put_user("agent_fleet_a1", true, Some(&RFC6238.sha1_secret()))
        .unwrap();
    let call = Call::new(Arc::new(store)).with_clock(Clock::Fixed(59));
    let answer = || {
        let started = Instant::now();
        let result = parse(&tool().get_totp_code(&call, "agent_fleet_a1"));
        // Not a performance figure: nothing may hang on a dead database.
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
        result
    };
    for _ in 0..20 {
        assert_eq!(answer()["totp_code"], RFC6238.sha1_code(59));
    }
    server.stop();
    for _ in 0..5 {
        let result = answer();
        assert_eq!(result["error_code"], "host_error", "{result}");
        assert!(
            result["error"]
                .as_str()
                .unwrap()
                .contains("store query failed"),
            "{result}"
        );
    }
    server.start_again();
    // The pool drops the dead connections and opens new ones.
    let recovered = (0..20).any(|_| {
        let result = answer();
        result["success"] == true || {
            std::thread::sleep(Duration::from_millis(100));
            false
        }
    });
    assert!(recovered, "no call succeeded after the restart");
    for _ in 0..50 {
        assert_eq!(answer()["totp_code"], RFC6238.sha1_code(59));
    }
}

/// Two hosts provisioning the same agent at once: one creates it, the
/// other finds it, and there is one row.
#[test]
fn concurrent_provisioning_creates_one_user() {
    let server = PgServer::start();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("store.key");
    let key = key.to_str().unwrap();
    for db in [
        server.url(),
        dir.path()
            .join("store.sqlite3")
            .to_str()
            .unwrap()
            .to_owned(),
    ] {
        let linked = TotpHost::on(&db).run(&[
            "--key-file",
            key,
            "link-tool",
            "--workflow",
            "wf-1",
            "--slug",
            "fleet",
            "--tool-node",
            "t1",
            "--agent-node",
            "a1",
        ]);
        assert!(linked.status.success(), "{linked:?}");
        let create = || {
            Command::new(env!("CARGO_BIN_EXE_totp-host"))
                .args(["--db", &db, "--key-file", key])
                .args([
                    "create-agent-user",
                    "--workflow",
                    "wf-1",
                    "--tool-node",
                    "t1",
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let racers = [create(), create()];
        let mut existed: Vec<bool> = racers
            .into_iter()
            .map(|racer| {
                let output = racer.wait_with_output().unwrap();
                assert!(output.status.success(), "{db}: {output:?}");
                parse(String::from_utf8_lossy(&output.stdout).trim())["already_existed"]
                    .as_bool()
                    .unwrap()
            })
            .collect();
        existed.sort();
        assert_eq!(existed, [false, true], "{db}");
        let got = TotpHost::on(&db).run(&[
            "--key-file",
            key,
            "get-totp-code",
            "--username",
            "agent_fleet_a1",
        ]);
        assert_eq!(got.status.code(), Some(0), "{db}: {got:?}");
    }
}

/// The audit trail lives in the PostgreSQL store as in SQLite: every CLI
/// call from two processes is on record once, and `audit` lists it.
#[test]
fn audit_events_go_to_the_postgres_store() {
    let server = PgServer::start();
    let url = server.url();
    let store = Store::open(&url).unwrap();
    store
        .put_user("agent_fleet_a1", true, Some(&RFC6238.sha1_secret()))
        .unwrap();
    let get = |username: &str| {
        Command::new(env!("CARGO_BIN_EXE_totp-host"))
            .args([
                "--db",
                &url,
                "get-totp-code",
                "--at",
                "59",
                "--username",
                username,
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let calls: Vec<_> = (0..6)
        .map(|i| {
            get(if i % 2 == 0 {
                "agent_fleet_a1"
            } else {
                "agent_fleet_nobody"
            })
        })
        .collect();
    for call in calls {
        call.wait_with_output().unwrap();
    }
    let listed = TotpHost::on(&url).run(&["audit", "--json"]);
    assert!(listed.status.success(), "{listed:?}");
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(parse)
        .collect();
    assert_eq!(events.len(), 6, "{events:?}");
    let issued = events.iter().filter(|e| e["outcome"] == "issued").count();
    assert_eq!(issued, 3);
    let ids: std::collections::BTreeSet<_> = events.iter().map(|e| e["id"].to_string()).collect();
    assert_eq!(ids.len(), 6);
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(!text.contains(&RFC6238.sha1_code(59)), "{text}");
    let pruned = TotpHost::on(&url).run(&["audit", "prune", "--before", "4102444800"]);
    assert_eq!(
        parse(String::from_utf8_lossy(&pruned.stdout).trim())["deleted"],
        6
    );
}

/// MCP bearer tokens live in the PostgreSQL store as in SQLite: only the
/// hash kept, resolved to their node until revoked.
#[test]
fn mcp_tokens_in_the_postgres_store() {
    use totp_host::NodeRef;
    use totp_host::mcp::tokens;

    let server = PgServer::start();
    let store = Store::open(&server.url()).unwrap();
    let made = tokens::create(&store, &NodeRef::new("wf", "tool"), Some("ci")).unwrap();
    let other = tokens::create(&store, &NodeRef::new("wf", "tool2"), None).unwrap();
    let listed = store.tokens().unwrap();
    assert_eq!(listed.len(), 2);
    assert!(!format!("{listed:?}").contains(made.token.as_str()));
    assert_eq!(listed[0].sha256, tokens::sha256_hex(&made.token));
    let found = tokens::resolve(&store, &made.token).unwrap().unwrap();
    assert_eq!(
        (found.node_id.as_str(), found.label.as_deref()),
        ("tool", Some("ci"))
    );
    assert!(tokens::revoke(&store, &made.row.id).unwrap());
    assert!(!tokens::revoke(&store, &made.row.id).unwrap());
    assert!(tokens::resolve(&store, &made.token).unwrap().is_none());
    assert!(tokens::resolve(&store, &other.token).unwrap().is_some());
    assert!(store.tokens().unwrap()[0].revoked.is_some());
}

/// `store rekey` on PostgreSQL: codes unchanged under the new key, the old
/// one opens no row.
#[test]
fn store_rekey_over_postgres() {
    let server = PgServer::start();
    let url = server.url();
    let dir = tempfile::tempdir().unwrap();
    let (key, new_key) = (dir.path().join("old.key"), dir.path().join("new.key"));
    let host = TotpHost::on(&url);
    let secret = RFC6238.sha1_secret();
    host.sealed(&key)
        .provision("wf-1", "fleet", "t1", "a1", &secret);
    let rekeyed = host.sealed(&key).rekey(&new_key);
    assert!(rekeyed.status.success(), "{rekeyed:?}");
    assert_eq!(
        parse(String::from_utf8_lossy(&rekeyed.stdout).trim())["resealed"],
        1
    );
    let get = [
        "get-totp-code",
        "--username",
        "agent_fleet_a1",
        "--at",
        "59",
    ];
    let with = |key: &std::path::Path| {
        parse(String::from_utf8_lossy(&host.sealed(key).run(&get).stdout).trim())
    };
    assert_eq!(with(&new_key)["totp_code"], RFC6238.sha1_code(59));
    assert_eq!(with(&key)["error_code"], "host_error");
}
