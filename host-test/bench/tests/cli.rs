//! `totp-bench` as scripts run it: every mode must agree with the native
//! answer before it is timed (the bench refuses to run otherwise), and the
//! JSON keeps the fields scripts read. No figure is judged: timings are for
//! the README, not for tests.

use std::process::{Command, Stdio};

use serde_json::Value;
use totp_test_support::postgres::PgServer;
use totp_test_support::process::json_report;
use totp_test_support::python::venv_python;

fn totp_bench(args: &[&str]) -> Value {
    json_report(env!("CARGO_BIN_EXE_totp-bench"), args)
}

/// `totp-bench bench --calls 200 --json` with pyotp from `python`.
fn bench_json(python: &str) -> Value {
    totp_bench(&["bench", "--calls", "200", "--json", "--python", python])
}

/// A figure as scripts read it: a median and a best round, both positive,
/// and a rate that is the median's.
#[track_caller]
fn assert_figure(figure: &Value) {
    let median = figure["ns_per_call"].as_f64().unwrap();
    let best = figure["ns_best"].as_f64().unwrap();
    assert!(median > 0.0 && best > 0.0, "{figure}");
    if let Some(rate) = figure["calls_per_second"].as_f64() {
        assert!((rate * median / 1e9 - 1.0).abs() < 1e-9, "{figure}");
    }
}

#[test]
fn bench_json_agrees_across_modes_and_keeps_its_fields() {
    // No Python here: pyotp's figure is skipped and says why.
    let report = bench_json("/nonexistent/python");
    let modes: Vec<&str> = report["figures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|figure| {
            assert_figure(figure);
            figure["mode"].as_str().unwrap()
        })
        .collect();
    for mode in [
        "native",
        "warm instance",
        "fresh instance (pooling)",
        "fresh instance (pooling), auto-resolve",
        "floor: warm instance, empty component",
        "floor: fresh instance, empty component",
        "instantiate and drop, no call",
    ] {
        assert!(modes.contains(&mode), "{mode} missing from {modes:?}");
    }
    for scaling in ["threads", "native_threads"] {
        let rows = report[scaling].as_array().unwrap();
        assert!(rows.len() >= 2, "{scaling}: {rows:?}");
        assert!(
            rows.iter()
                .all(|r| r["calls_per_second"].as_f64().unwrap() > 0.0)
        );
    }
    assert!(
        report["pyotp"]["skipped"].is_string(),
        "{}",
        report["pyotp"]
    );
}

#[test]
fn bench_times_pyotp_in_the_same_rounds() {
    // The conformance venv has pyotp: its worker answers every round.
    let report = bench_json(venv_python().to_str().unwrap());
    assert!(report["rounds"].as_u64().unwrap() >= 3, "{report}");
    assert_figure(&report["pyotp"]);
}

/// Load: fresh-instance calls across threads on one engine, in a child
/// process so that its resident memory is its own. CI runs 20 000 calls;
/// the full run is `totp-bench load --calls 1000000`.
#[test]
fn load_has_no_failures_and_flat_memory() {
    let report = totp_bench(&["load", "--calls", "20000", "--threads", "4"]);
    println!("load: {report}");
    assert_eq!(report["failures"], 0);
    let before = report["rss_after_warm_up_kib"].as_u64().unwrap();
    let after = report["rss_at_end_kib"].as_u64().unwrap();
    assert!(before > 0, "no RSS reading: {report}");
    assert!(after <= before + 4096, "resident memory grew: {report}");
}

/// `bench-stores` on an SQLite file: its queries per call are counted
/// outside the store, and the figures say so.
#[test]
fn bench_stores_counts_queries_per_call() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bench.db");
    let report = totp_bench(&[
        "bench-stores",
        "--calls",
        "200",
        "--json",
        db.to_str().unwrap(),
    ]);
    let first = &report[0];
    // By username: the user. Auto-resolved: the slug, the tool edge, the user.
    assert_eq!(first["queries_by_username"], 1.0, "{report}");
    assert_eq!(first["queries_auto_resolve"], 3.0, "{report}");
}

/// Two `totp-bench load` processes, four threads each, 20,000 calls
/// against one PostgreSQL server: every answer matches the native one.
#[test]
fn two_processes_share_one_postgres_server_without_a_failure() {
    let server = PgServer::start();
    let url = server.url();
    let store = totp_host::Store::open(&url).unwrap();
    // RFC 6238's SHA-1 key, in base32.
    store
        .put_user(
            "agent_fleet_a1",
            true,
            Some("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
        )
        .unwrap();
    let load = || {
        Command::new(env!("CARGO_BIN_EXE_totp-bench"))
            .args(["load", "--db", &url, "--calls", "10000", "--threads", "4"])
            .args(["--username", "agent_fleet_a1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("totp-bench runs")
    };
    let processes = [load(), load()];
    let mut calls = 0;
    for process in processes {
        let output = process.wait_with_output().unwrap();
        assert!(output.status.success(), "{output:?}");
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["failures"], 0, "{report}");
        calls += report["calls"].as_u64().unwrap();
    }
    assert_eq!(calls, 20_000);
}
