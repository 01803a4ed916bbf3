//! The standard-WASI build in the real wasmtime CLI: every conformance case
//! a configured agent can meet, run with `wasmtime run --invoke` and the
//! provider's configuration as `--env`, judged by the one judge.

use std::process::Command;

use serde_json::{Map, Value};
use wasm_wave::value::{Type, Value as WaveValue};
use wasm_wave::wasm::WasmValue;

use crate::wasi_env::applicable_cases;
use crate::wasm_hosts::{at_time, scratch, wasmtime};
use totp_test_support::judge::judge_cases;

/// The cases filtered out need a host failure, `invoke`, or a store the
/// contract cannot say; the rest must stay most of the file, so that a
/// change to the filter cannot quietly empty the test.
const MIN_CASES: usize = 120;

/// The build as a file, where a host would find it.
fn component(test: &str) -> std::path::PathBuf {
    let dir = scratch(test);
    let wasm = dir.join(totp_host::artifact::WASI_BUILD.file);
    std::fs::write(&wasm, totp_host::artifact::WASI_BUILD.bytes).unwrap();
    wasm
}

/// `wasmtime run --invoke 'get-totp-code("<username>")'` with `vars` at
/// `time`: the tool's JSON, decoded from the WAVE string the CLI prints.
fn run(
    component: &std::path::Path,
    vars: &[(String, String)],
    username: &str,
    time: u64,
) -> String {
    let argument = wasm_wave::to_string(&WaveValue::make_string(username.into())).unwrap();
    let mut command = Command::new(wasmtime());
    command
        .arg("run")
        .arg("--invoke")
        .arg(format!("get-totp-code({argument})"));
    for (name, value) in vars {
        command.arg("--env").arg(format!("{name}={value}"));
    }
    command.arg(component);
    let output = at_time(&mut command, time).output().unwrap();
    assert!(
        output.status.success(),
        "wasmtime run failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed = String::from_utf8(output.stdout).unwrap();
    let value: WaveValue = wasm_wave::from_str(&Type::STRING, printed.trim_end())
        .unwrap_or_else(|e| panic!("wasmtime printed {printed:?}, not a WAVE string: {e}"));
    value.unwrap_string().into_owned()
}

#[test]
fn the_wasmtime_cli_runs_every_case_of_a_configured_agent() {
    let component = component("wasmtime-cli-cases");
    let cases = applicable_cases();
    assert!(
        cases.len() >= MIN_CASES,
        "only {} cases apply to a standard-WASI host",
        cases.len()
    );
    let results: Map<String, Value> = std::thread::scope(|scope| {
        let threads: Vec<_> = cases
            .chunks(cases.len().div_ceil(4))
            .map(|chunk| {
                let component = &component;
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|(case, vars)| {
                            let result = run(component, vars, &case.username, case.time);
                            (case.name.clone(), Value::String(result))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|thread| thread.join().unwrap())
            .collect()
    });
    judge_cases(
        "wasmtime CLI",
        cases.iter().map(|(case, _)| *case),
        &results,
    );
}

/// A configuration error is the tool's JSON naming the variable, never its
/// value and never a trap.
#[test]
fn the_wasmtime_cli_reports_a_missing_variable_by_name() {
    let component = component("wasmtime-cli-missing-variable");
    let secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    let vars = [
        ("TOTP_USERNAME".to_owned(), "agent_wf_n1".to_owned()),
        ("TOTP_SECRET".to_owned(), secret.to_owned()),
        ("TOTP_SECRET_2".to_owned(), secret.to_owned()),
    ];
    let result: Value = serde_json::from_str(&run(&component, &vars, "agent_wf_n1", 59)).unwrap();
    assert_eq!(result["success"], false, "{result}");
    let error = result["error"].as_str().unwrap();
    assert!(error.contains("TOTP_USERNAME_2"), "{result}");
    assert!(!result.to_string().contains(secret), "{result}");
}
