//! `totp-host bench --json`: every mode must agree with the native answer
//! before it is timed (the bench refuses to run otherwise), and the JSON
//! keeps the fields scripts read (issue 14). No figure is judged: timings
//! are for the README, not for tests.

use serde_json::Value;

use crate::python_venv::venv_python;
use crate::util::cli_report;

/// `totp-host bench --calls 200 --json` with pyotp from `python`.
fn bench_json(python: &str) -> Value {
    cli_report(&["bench", "--calls", "200", "--json", "--python", python])
}

/// A figure's median and best round: positive, the best no slower.
fn assert_timed(figure: &Value) {
    let median = figure["ns_per_call"].as_f64().unwrap();
    let best = figure["ns_best"].as_f64().unwrap();
    assert!(best > 0.0 && best <= median, "{figure}");
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
            assert_timed(figure);
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
    assert_timed(&report["pyotp"]);
}
