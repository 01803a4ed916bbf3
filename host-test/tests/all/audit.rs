//! The audit trail: one event per call and outcome, never a code or a
//! secret, fail closed when it cannot be written, safe under concurrent
//! writers (threads and processes), and the `audit` command.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use totp_host::memory::{FailureKind, Import};
use totp_host::{
    Audit, AuditEvent, AuditFilter, Call, CallError, Clock, JsonLinesSink, MemoryDirectory, Store,
    TotpTool,
};

use crate::util::TotpHost;
use crate::util::*;
use totp_test_support::process::contains;

const AGENT: &str = "agent_wf_n1";

/// A store file with workflow `wf` whose tool node `tool_n` leads to agent
/// `n1` (user `agent_wf_n1`, the RFC 6238 secret), a person `alice` and
/// another workflow's agent.
fn seeded_store(path: &Path) -> Arc<Store> {
    let store = Store::sqlite(path).unwrap();
    store.link_tool("wf", "wf", "tool_n", "n1").unwrap();
    let secret = RFC6238.sha1_secret();
    store.put_user(AGENT, true, Some(&secret)).unwrap();
    store.put_user("alice", false, Some(&secret)).unwrap();
    store
        .put_user("agent_other_x", true, Some(&secret))
        .unwrap();
    Arc::new(store)
}

/// A call against `store` at the RFC's time 59, outside any workflow.
fn store_call(store: &Arc<Store>) -> Call {
    Call::new(store.clone()).with_clock(Clock::Fixed(59))
}

fn all_events(store: &Store) -> Vec<AuditEvent> {
    store.audit_events(&AuditFilter::default()).unwrap()
}

/// Every file of a SQLite store (main file and WAL), as raw bytes.
fn raw_bytes(path: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for suffix in ["", "-wal"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        if let Ok(content) = std::fs::read(&file) {
            bytes.extend(content);
        }
    }
    bytes
}

#[track_caller]
fn assert_no_code_or_secret(bytes: &[u8], codes: &[String], context: &str) {
    let secret = RFC6238.sha1_secret();
    for piece in secret.as_bytes().windows(8) {
        assert!(
            !contains(bytes, piece),
            "{context}: a piece of the secret {:?}",
            String::from_utf8_lossy(piece)
        );
    }
    for code in codes {
        assert!(!contains(bytes, code.as_bytes()), "{context}: code {code}");
    }
}

/// (operation, requested, resolved, outcome, workflow) of an event.
fn summary(event: &AuditEvent) -> (String, String, Option<String>, String, Option<String>) {
    (
        event.operation.clone(),
        event.username_requested.clone(),
        event.username_resolved.clone(),
        event.outcome.clone(),
        event.workflow_id.clone(),
    )
}

#[test]
fn every_outcome_is_one_event_without_the_code_or_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded_store(&dir.path().join("store.sqlite3"));
    // The trail in a store of its own, so that its raw bytes can be
    // searched for the secret that the users table rightly holds.
    let trail_path = dir.path().join("trail.sqlite3");
    let trail = Arc::new(Store::sqlite(&trail_path).unwrap());
    let tool = TotpTool::new(Audit::To(trail.clone())).unwrap();

    let outside = store_call(&store);
    let at_tool_node = at_node(outside.clone(), "wf", "tool_n").with_token_id("tok-1");
    let failing_host = call_at(
        MemoryDirectory::one_agent(AGENT, &RFC6238.sha1_secret()).failing(
            Import::FindUser,
            FailureKind::Unavailable {
                message: "directory offline".into(),
            },
        ),
        59,
    );
    let over_memory = call_at(
        MemoryDirectory::one_agent(AGENT, &RFC6238.sha1_secret().repeat(200_000)),
        59,
    );

    let some = |s: &str| Some(s.to_owned());
    let mut codes = Vec::new();
    let mut expected = Vec::new();
    let mut expect = |op: &str, requested: &str, resolved, outcome: &str, workflow| {
        expected.push((
            op.to_owned(),
            requested.to_owned(),
            resolved,
            outcome.to_owned(),
            workflow,
        ));
    };
    for _ in 0..2 {
        let result = parse(&tool.get_totp_code(&at_tool_node, ""));
        codes.push(assert_code(&result, AGENT));
        expect("get_totp_code", "", some(AGENT), "issued", some("wf"));

        let result = parse(&tool.get_totp_code(&outside, AGENT));
        codes.push(assert_code(&result, AGENT));
        expect("get_totp_code", AGENT, some(AGENT), "issued", None);

        let result = parse(&tool.invoke(&outside, r#"{"username": "agent_wf_n1"}"#));
        codes.push(assert_code(&result, AGENT));
        expect("invoke", AGENT, some(AGENT), "issued", None);

        assert_error(
            &parse(&tool.get_totp_code(&outside, "agent_nobody")),
            "user_not_found",
        );
        expect(
            "get_totp_code",
            "agent_nobody",
            some("agent_nobody"),
            "user_not_found",
            None,
        );

        for denied in ["alice", "agent_other_x"] {
            assert_error(
                &parse(&tool.get_totp_code(&at_tool_node, denied)),
                "access_denied",
            );
            expect(
                "get_totp_code",
                denied,
                some(denied),
                "access_denied",
                some("wf"),
            );
        }

        assert_error(
            &parse(&tool.invoke(&outside, r#"{"user": "agent_wf_n1"}"#)),
            "invalid_arguments",
        );
        expect("invoke", "", None, "invalid_arguments", None);

        assert_error(&parse(&tool.get_totp_code(&outside, "")), "no_context");
        expect("get_totp_code", "", None, "no_context", None);

        assert_error(
            &parse(&tool.get_totp_code(&failing_host, AGENT)),
            "host_error",
        );
        expect("get_totp_code", AGENT, some(AGENT), "host_error", None);

        assert_error(
            &parse(&tool.get_totp_code(&over_memory, AGENT)),
            "host_error",
        );
        expect("get_totp_code", AGENT, some(AGENT), "host_error", None);
    }
    assert_eq!(codes[0], RFC6238.sha1_code(59));

    let mut events = all_events(&trail);
    events.reverse(); // oldest first, as the calls were made
    assert_eq!(events.len(), expected.len(), "{events:#?}");
    let got: Vec<_> = events.iter().map(summary).collect();
    assert_eq!(got, expected);
    let ids: HashSet<_> = events.iter().map(|e| e.id.clone()).collect();
    assert_eq!(ids.len(), events.len(), "ids are unique");
    for event in &events {
        assert_eq!(event.id.len(), 32, "{event:?}");
        assert!(
            event.time.ends_with('Z') && event.time.len() == 27,
            "{event:?}"
        );
        assert!(event.duration_us > 0, "{event:?}");
        let expected_token = event.workflow_id.as_ref().map(|_| "tok-1".to_owned());
        assert_eq!(event.token_id, expected_token, "{event:?}");
        assert_eq!(event.node_id.is_some(), event.workflow_id.is_some());
        match event.outcome.as_str() {
            "host_error" => assert!(event.host_error.is_some(), "{event:?}"),
            _ => assert_eq!(event.host_error, None, "{event:?}"),
        }
    }
    let host_errors: Vec<_> = events
        .iter()
        .filter_map(|e| e.host_error.as_deref())
        .collect();
    assert!(
        host_errors[0].contains("directory offline"),
        "{host_errors:?}"
    );
    assert!(host_errors[1].contains("memory limit"), "{host_errors:?}");
    // The events are in the file (so the scan below reads them), and
    // neither they nor the file hold a code or any of the secret.
    let raw = raw_bytes(&trail_path);
    assert!(contains(&raw, b"agent_nobody"), "events not in the file");
    assert_no_code_or_secret(&raw, &codes, "the trail's SQLite file");
    let as_json = serde_json::to_string(&events).unwrap();
    assert_no_code_or_secret(as_json.as_bytes(), &codes, "the events");
}

/// A writer that always fails, like a full disk or a closed pipe.
struct BrokenWriter;

impl Write for BrokenWriter {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        Err(std::io::Error::other("disk full"))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_sink_that_fails_means_no_code() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.sqlite3");
    let store = seeded_store(&path);
    let rows_before = store.audit_events(&AuditFilter::default()).unwrap();
    // The store's own table refuses inserts, as a full disk would.
    let sqlite_refusing = {
        let connection = rusqlite::Connection::open(&path).unwrap();
        connection
            .execute_batch(
                "CREATE TRIGGER refuse BEFORE INSERT ON audit_events \
                 BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
            )
            .unwrap();
        Audit::To(store.clone())
    };
    let users_before = raw_users(&path);
    for audit in [sqlite_refusing, Audit::to(JsonLinesSink::new(BrokenWriter))] {
        let tool = TotpTool::new(audit).unwrap();
        let call = store_call(&store);
        let message = assert_error(&parse(&tool.get_totp_code(&call, AGENT)), "host_error");
        assert_eq!(message, "Host error: audit log unavailable");
        let message = assert_error(
            &parse(&tool.invoke(&call, r#"{"username": "agent_wf_n1"}"#)),
            "host_error",
        );
        assert_eq!(message, "Host error: audit log unavailable");
        assert!(matches!(
            tool.try_get_totp_code(&call, AGENT),
            Err(CallError::AuditUnavailable(_))
        ));
        let mut warm = tool.warm_instance(&call).unwrap();
        assert!(matches!(
            warm.try_get_totp_code(AGENT),
            Err(CallError::AuditUnavailable(_))
        ));
    }
    assert_eq!(
        store.audit_events(&AuditFilter::default()).unwrap(),
        rows_before
    );
    assert_eq!(raw_users(&path), users_before, "the store is unchanged");
}

/// The users table, as rows of text.
fn raw_users(path: &Path) -> Vec<String> {
    let connection = rusqlite::Connection::open(path).unwrap();
    let mut statement = connection
        .prepare("SELECT username || ':' || is_agent || ':' || totp_secret FROM users ORDER BY 1")
        .unwrap();
    statement
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// A shared buffer the JSON-lines sink writes to.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn json_lines_sink_writes_one_event_per_line() {
    let buffer = Buffer::default();
    let tool = TotpTool::new(Audit::to(JsonLinesSink::new(buffer.clone()))).unwrap();
    let call = call_at(rfc_agent(), 59);
    let code = assert_code(&parse(&tool.get_totp_code(&call, AGENT)), AGENT);
    assert_error(
        &parse(&tool.get_totp_code(&call, "agent_x")),
        "user_not_found",
    );
    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    let events: Vec<AuditEvent> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let outcomes: Vec<_> = events.iter().map(|e| e.outcome.as_str()).collect();
    assert_eq!(outcomes, ["issued", "user_not_found"]);
    assert!(!text.contains(&code) && !text.contains(&RFC6238.sha1_secret()[..8]));
}

#[test]
fn concurrent_calls_lose_and_duplicate_no_event() {
    const THREADS: usize = 4;
    const CALLS: usize = 50;
    let dir = tempfile::tempdir().unwrap();
    let store = seeded_store(&dir.path().join("store.sqlite3"));
    let tool = TotpTool::new(Audit::To(store.clone())).unwrap();
    let call = store_call(&store);
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let (tool, call) = (&tool, &call);
            scope.spawn(move || {
                for i in 0..CALLS {
                    // Alternate outcomes so both kinds of event interleave.
                    let username = if (thread + i) % 2 == 0 {
                        AGENT
                    } else {
                        "agent_nobody"
                    };
                    tool.get_totp_code(call, username);
                }
            });
        }
    });
    let events = all_events(&store);
    assert_eq!(events.len(), THREADS * CALLS);
    let ids: HashSet<_> = events.iter().map(|e| &e.id).collect();
    assert_eq!(ids.len(), THREADS * CALLS);
    let issued = events.iter().filter(|e| e.outcome == "issued").count();
    assert_eq!(issued, THREADS * CALLS / 2);
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.code().is_some_and(|c| c < 2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn json_lines(output: &Output) -> Vec<Value> {
    stdout(output).lines().map(parse).collect()
}

#[test]
fn concurrent_cli_processes_record_every_call() {
    const PROCESSES: usize = 12;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite3");
    drop(seeded_store(&db));
    let children: Vec<_> = (0..PROCESSES)
        .map(|i| {
            let username = if i % 2 == 0 { AGENT } else { "agent_nobody" };
            Command::new(env!("CARGO_BIN_EXE_totp-host"))
                .arg("--db")
                .arg(&db)
                .args(["get-totp-code", "--at", "59", "--username", username])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.code().is_some_and(|c| c < 2), "{output:?}");
    }
    let events = json_lines(&TotpHost::on(&db).run(&["audit", "--json"]));
    assert_eq!(events.len(), PROCESSES);
    let ids: HashSet<_> = events.iter().map(|e| e["id"].to_string()).collect();
    assert_eq!(ids.len(), PROCESSES);
}

/// Every CLI call is a process and the store's only connection, which
/// SQLite makes read the whole WAL back when it opens the file: however many
/// calls go by, the WAL must stay small, and no event may be lost on the way.
#[test]
fn many_cli_calls_keep_the_wal_small() {
    const CALLS: usize = 100;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite3");
    drop(seeded_store(&db));
    let wal = dir.path().join("store.sqlite3-wal");
    let mut largest = 0;
    for _ in 0..CALLS {
        stdout(&TotpHost::on(&db).run(&["get-totp-code", "--at", "59", "--username", AGENT]));
        largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
    }
    // The limit (256 KiB) plus one call's pages.
    assert!(largest <= 320 << 10, "the WAL grew to {largest} bytes");
    let events = json_lines(&TotpHost::on(&db).run(&["audit", "--json"]));
    assert_eq!(events.len(), CALLS);
}

#[test]
fn audit_command_lists_filters_and_prunes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite3");
    drop(seeded_store(&db));
    let code = |args: &[&str]| TotpHost::on(&db).run(args);
    stdout(&code(&[
        "get-totp-code",
        "--workflow",
        "wf",
        "--node",
        "tool_n",
        "--at",
        "59",
    ]));
    stdout(&code(&["get-totp-code", "--username", "agent_nobody"]));
    stdout(&code(&[
        "get-totp-code",
        "--workflow",
        "wf",
        "--node",
        "tool_n",
        "--username",
        "alice",
    ]));

    let all = json_lines(&code(&["audit", "--json"]));
    let outcomes: Vec<_> = all.iter().map(|e| e["outcome"].as_str().unwrap()).collect();
    assert_eq!(
        outcomes,
        ["access_denied", "user_not_found", "issued"],
        "newest first"
    );
    assert_eq!(all[2]["username_resolved"], AGENT);
    assert_eq!(all[2]["username_requested"], "");
    assert_eq!(all[2]["node_id"], "tool_n");
    assert!(all.iter().all(|e| e.get("totp_code").is_none()));
    let listed = stdout(&code(&["audit", "--json"]));
    assert!(!listed.contains(&RFC6238.sha1_code(59)), "{listed}");

    // The table: a header, then one row per event, columns aligned.
    let table = stdout(&code(&["audit"]));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    for column in ["OUTCOME", "REQUESTED", "RESOLVED", "WORKFLOW", "MS"] {
        let at = lines[0].find(column).unwrap();
        for row in &lines[1..] {
            assert_ne!(&row[at..at + 1], " ", "{column} misaligned:\n{table}");
            assert_eq!(&row[at - 2..at], "  ", "{column} misaligned:\n{table}");
        }
    }
    assert!(
        lines[1].contains("access_denied") && lines[1].contains("alice"),
        "{table}"
    );
    assert!(
        lines[3].contains("issued") && lines[3].contains(AGENT),
        "{table}"
    );

    let count = |args: &[&str]| {
        let mut all = vec!["audit", "--json"];
        all.extend(args);
        json_lines(&code(&all)).len()
    };
    assert_eq!(count(&["--username", AGENT]), 1);
    assert_eq!(count(&["--username", "alice"]), 1);
    assert_eq!(count(&["--workflow", "wf"]), 2);
    assert_eq!(count(&["--workflow", "other"]), 0);
    assert_eq!(count(&["--since", "2000-01-01T00:00:00Z"]), 3);
    assert_eq!(count(&["--since", "4000000000"]), 0);
    assert_eq!(count(&["--since", "2999-01-01T00:00:00+02:00"]), 0);
    let newest = json_lines(&code(&["audit", "--json", "--limit", "1"]));
    assert_eq!(newest.len(), 1);
    assert_eq!(newest[0]["outcome"], "access_denied");
    assert_eq!(
        code(&["audit", "--since", "last tuesday"]).status.code(),
        Some(2)
    );

    let pruned = parse(
        stdout(&code(&[
            "audit",
            "prune",
            "--before",
            "2000-01-01T00:00:00Z",
        ]))
        .trim(),
    );
    assert_eq!(pruned["deleted"], 0);
    let pruned = parse(stdout(&code(&["audit", "prune", "--before", "4000000000"])).trim());
    assert_eq!(pruned["deleted"], 3);
    assert_eq!(count(&[]), 0);
    assert_eq!(
        code(&["audit", "prune"]).status.code(),
        Some(2),
        "--before is required"
    );
}

#[test]
fn the_demo_store_records_its_calls_too() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_totp-host"))
            .env("XDG_DATA_HOME", dir.path())
            .args(args)
            .output()
            .unwrap()
    };
    let result = parse(stdout(&run(&["get-totp-code"])).trim());
    assert_eq!(result["success"], true, "{result}");
    stdout(&run(&["describe"]));
    let events = json_lines(&run(&["audit", "--json"]));
    assert_eq!(events.len(), 1, "describe is not audited: {events:?}");
    assert_eq!(events[0]["outcome"], "issued");
    assert_eq!(events[0]["workflow_id"], "demo-workflow");
}
