//! `totp-host bench --json`: every mode must agree with the native answer
//! before it is timed (the bench refuses to run otherwise), and the JSON
//! keeps the fields scripts read (issue 14). No figure is judged: timings
//! are for the README, not for tests.

use crate::util::cli_report;

#[test]
fn bench_json_agrees_across_modes_and_keeps_its_fields() {
    // No Python here: pyotp's figure is skipped and says why.
    let report = cli_report(&[
        "bench",
        "--calls",
        "200",
        "--json",
        "--python",
        "/nonexistent/python",
    ]);
    let modes: Vec<&str> = report["figures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|figure| {
            assert!(figure["ns_per_call"].as_f64().unwrap() > 0.0, "{figure}");
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
