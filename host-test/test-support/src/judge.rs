//! The conformance cases (`host-test/conformance/cases.json`) and the one
//! checker that judges every host's results, so that each judges alike.

use std::path::PathBuf;
use std::sync::LazyLock;

use get_totp_code::response::SHORT_SECRET_WARNING;
use serde::Deserialize;
use serde_json::{Map, Value};
use totp_host::memory::Failure;
use totp_host::store::Tables;

pub fn cases_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join("host-test/conformance/cases.json"))
        .find(|path| path.exists())
        .expect("host-test/conformance/cases.json above this crate")
}

/// One case of the file; see `generate.py` for the format.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    pub covers: String,
    pub store: Tables,
    pub node: Option<CaseNode>,
    pub time: u64,
    pub call: String,
    #[serde(default)]
    pub username: String,
    pub arguments: Option<String>,
    pub host_failure: Option<Failure>,
    pub expected: Map<String, Value>,
    #[serde(default)]
    pub present: Vec<String>,
    #[serde(default)]
    pub absent: Vec<String>,
    #[serde(default)]
    pub error_contains: Vec<String>,
    #[serde(default)]
    pub error_excludes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseNode {
    pub workflow_id: String,
    pub node_id: String,
}

pub static CASES: LazyLock<Vec<Case>> = LazyLock::new(|| {
    #[derive(Deserialize)]
    struct File {
        cases: Vec<Case>,
    }
    let path = cases_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let file: File = serde_json::from_str(&text).expect("cases.json matches the case format");
    file.cases
});

pub fn case(name: &str) -> &'static Case {
    CASES
        .iter()
        .find(|case| case.name == name)
        .unwrap_or_else(|| panic!("no case {name}"))
}

/// Every expected key (same JSON value and type), every present and absent
/// key, and the error's substrings; the mismatches, empty when the result
/// conforms. The one judge of every host's results.
pub fn check(case: &Case, result_text: &str) -> Vec<String> {
    let result: Value = match serde_json::from_str(result_text) {
        Ok(result) => result,
        Err(e) => return vec![format!("not JSON ({e}): {result_text}")],
    };
    let mut problems = Vec::new();
    for (key, want) in &case.expected {
        match result.get(key) {
            None => problems.push(format!("{key}: missing, expected {want}")),
            Some(got) if got != want => problems.push(format!("{key}: got {got}, expected {want}")),
            Some(_) => {}
        }
    }
    for key in &case.present {
        if result.get(key).is_none() {
            problems.push(format!("{key}: missing"));
        }
    }
    // The warning's text is the guest's; the case says only that it is due.
    if let Some(warning) = result.get("warning")
        && warning != SHORT_SECRET_WARNING
    {
        problems.push(format!("warning: {warning}"));
    }
    for key in &case.absent {
        if let Some(got) = result.get(key) {
            problems.push(format!("{key}: present ({got}), expected absent"));
        }
    }
    let error = result["error"].as_str().unwrap_or_default();
    for piece in &case.error_contains {
        if !error.contains(piece.as_str()) {
            problems.push(format!("error {error:?} does not contain {piece:?}"));
        }
    }
    for piece in &case.error_excludes {
        if result_text.contains(piece.as_str()) {
            problems.push(format!("result contains {piece:?}"));
        }
    }
    problems
}

/// Judges one host's results (case name to result text); panics with every
/// mismatch.
pub fn judge(host: &str, results: &Map<String, Value>) {
    judge_cases(host, CASES.iter(), results);
}

/// Judges one host's results for `cases` only (a host that cannot express
/// every case); panics with every mismatch.
pub fn judge_cases<'a>(
    host: &str,
    cases: impl IntoIterator<Item = &'a Case>,
    results: &Map<String, Value>,
) {
    let mut failures = Vec::new();
    let mut judged = 0;
    for case in cases {
        judged += 1;
        let Some(result) = results.get(&case.name).and_then(Value::as_str) else {
            failures.push(format!("{}: no result", case.name));
            continue;
        };
        let problems = check(case, result);
        if !problems.is_empty() {
            failures.push(format!(
                "{} ({}): {problems:?}\n    {result}",
                case.name, case.covers
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{host}: {} of {judged} conformance cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
