//! `--min-validity`: a code that would expire within N seconds is not handed
//! out; the next period's is. Every test pins the clock one second before a
//! period boundary of RFC 6238's table (1111111109; the next period starts
//! at 1111111110, as 1111111111's does), so nothing here sleeps, and the
//! expected codes are the RFC's published ones.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use totp_host::{AuditFilter, Call, Clock, MemoryDirectory, Store};

use crate::mcp::client;
use crate::util::{RFC6238, TotpHost, parse, tool};

/// One second before the period boundary at 1111111110.
const LAST_SECOND: u64 = 1_111_111_109;
/// A time in the period that starts at that boundary.
const NEXT_PERIOD: u64 = 1_111_111_111;

fn rfc_call(min_validity: u64) -> Call {
    Call::new(Arc::new(MemoryDirectory::one_agent(
        "agent_wf_n1",
        &RFC6238.sha1_secret(),
    )))
    .with_clock(Clock::Fixed(LAST_SECOND))
    .with_min_validity(Duration::from_secs(min_validity))
}

#[track_caller]
fn assert_issued(result: &Value, time: u64, expires_in: u64) {
    assert_eq!(result["success"], true, "{result}");
    assert_eq!(result["totp_code"], RFC6238.sha1_code(time), "{result}");
    assert_eq!(result["expires_in"], expires_in, "{result}");
}

#[test]
fn a_code_about_to_expire_is_replaced_by_the_next_periods() {
    // Without a minimum: the current code, one second left.
    let now = parse(&tool().get_totp_code(&rfc_call(0), "agent_wf_n1"));
    assert_issued(&now, LAST_SECOND, 1);
    // One second left meets a minimum of one.
    let enough = parse(&tool().get_totp_code(&rfc_call(1), "agent_wf_n1"));
    assert_issued(&enough, LAST_SECOND, 1);
    // It does not meet two: the next period's code, valid for all of it.
    for min_validity in [2, 5, 29, 30] {
        let next = parse(&tool().get_totp_code(&rfc_call(min_validity), "agent_wf_n1"));
        assert_issued(&next, NEXT_PERIOD, 30);
    }
    // The same through invoke (the LLM's arguments).
    let invoked = parse(&tool().invoke(&rfc_call(5), r#"{"username": "agent_wf_n1"}"#));
    assert_issued(&invoked, NEXT_PERIOD, 30);
}

#[test]
fn a_minimum_changes_no_failure() {
    let missing = parse(&tool().get_totp_code(&rfc_call(5), "agent_nobody"));
    assert_eq!(missing["error_code"], "user_not_found", "{missing}");
}

#[test]
fn cli_min_validity_hands_out_the_next_periods_code_and_audits_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite3");
    let key = dir.path().join("store.key");
    let host = TotpHost::on(&db).sealed(&key);
    host.provision("wf", "wf", "tool", "n1", &RFC6238.sha1_secret());
    let at = LAST_SECOND.to_string();
    let call = |extra: &[&str]| {
        let mut args = vec!["get-totp-code", "--username", "agent_wf_n1", "--at", &at];
        args.extend_from_slice(extra);
        let output = host.run(&args);
        assert!(output.status.success(), "{output:?}");
        parse(String::from_utf8_lossy(&output.stdout).trim())
    };
    assert_issued(&call(&[]), LAST_SECOND, 1);
    assert_issued(&call(&["--min-validity", "5"]), NEXT_PERIOD, 30);
    // Two calls, two events: the code not handed out is not on record.
    let events = Store::sqlite(&db)
        .unwrap()
        .audit_events(&AuditFilter::default())
        .unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events.iter().all(|e| e.outcome == "issued"), "{events:?}");
}

#[test]
fn mcp_min_validity_hands_out_the_next_periods_code() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite3");
    let key = dir.path().join("store.key");
    TotpHost::on(&db)
        .sealed(&key)
        .provision("wf", "wf", "tool", "n1", &RFC6238.sha1_secret());
    let command: Vec<String> = [
        env!("CARGO_BIN_EXE_totp-host"),
        "--db",
        db.to_str().unwrap(),
        "--key-file",
        key.to_str().unwrap(),
        "mcp",
        "--workflow",
        "wf",
        "--node",
        "tool",
        "--min-validity",
        "5",
        "--test-now",
        &LAST_SECOND.to_string(),
    ]
    .map(str::to_owned)
    .into();
    let plan = json!({"mode": "session", "transport": "stdio", "command": command,
        "calls": [{"arguments": {}}]});
    let report = client(&plan);
    let result = &report["results"][0];
    assert_eq!(result["is_error"], false, "{result}");
    assert_issued(&result["structured"], NEXT_PERIOD, 30);
}
