//! The shared conformance suite (`host-test/conformance/cases.json`, codes
//! from pyotp and oathtool): run here through the Rust host over the
//! in-memory stub and over the SQLite store, and the one checker that
//! judges every host's results (`other_hosts` feeds it the Python and Node
//! hosts' output).
//!
//! A case's store is what `find-user` answers: the call runs under
//! `AccessPolicy::Unrestricted`, as the Python and Node hosts have no access
//! policy of their own; a host's refusal is a case's `host_failure`.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock};

use get_totp_code::response::SHORT_SECRET_WARNING;
use get_totp_code::tool::ErrorCode;
use serde::Deserialize;
use serde_json::{Map, Value};
use totp_host::memory::{Failure, Tables};
use totp_host::{AccessPolicy, Call, Clock, Directory, MemoryDirectory, NodeRef, Store};

use crate::util::tool;

pub fn cases_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("conformance/cases.json")
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

/// Runs one case through the component over `directory`.
pub fn run_case(case: &Case, directory: Arc<dyn Directory + Send + Sync>) -> String {
    let mut call = Call::new(directory)
        .with_policy(AccessPolicy::Unrestricted)
        .with_clock(Clock::Fixed(case.time));
    if let Some(node) = &case.node {
        call = call.at_node(NodeRef::new(&node.workflow_id, &node.node_id));
    }
    match case.call.as_str() {
        "invoke" => tool().invoke(&call, case.arguments.as_deref().unwrap_or_default()),
        _ => tool().get_totp_code(&call, &case.username),
    }
}

/// The case's store as the stub directory, with its failure.
fn memory_directory(case: &Case) -> MemoryDirectory {
    let mut directory = MemoryDirectory::new(case.store.clone());
    directory.failures.extend(case.host_failure.clone());
    directory
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
    let mut failures = Vec::new();
    for case in CASES.iter() {
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
        "{host}: {} of {} conformance cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn every_case_passes_through_the_rust_host() {
    assert!(CASES.len() >= 100, "only {} cases", CASES.len());
    let results: Map<String, Value> = CASES
        .iter()
        .map(|case| {
            let result = run_case(case, Arc::new(memory_directory(case)));
            (case.name.clone(), result.into())
        })
        .collect();
    judge("the Rust host over MemoryDirectory", &results);
}

/// Runs every case without an injected failure (those need the stub's
/// failures) over the store `store_for` prepares for it, and asserts each
/// answer equals the stub's and conforms.
pub fn cases_answer_like_the_stub(
    mut store_for: impl FnMut(&Case) -> Arc<dyn Directory + Send + Sync>,
) {
    let mut compared = 0;
    for case in CASES.iter().filter(|case| case.host_failure.is_none()) {
        let over_store = run_case(case, store_for(case));
        let over_memory = run_case(case, Arc::new(memory_directory(case)));
        assert_eq!(over_store, over_memory, "{}", case.name);
        assert_eq!(
            check(case, &over_store),
            Vec::<String>::new(),
            "{}",
            case.name
        );
        compared += 1;
    }
    assert!(compared >= 100, "{compared}");
}

/// The reference store answers like the stub.
#[test]
fn every_case_passes_over_the_sqlite_store() {
    cases_answer_like_the_stub(|case| {
        let store = Store::in_memory().unwrap();
        store.import(&case.store).unwrap();
        Arc::new(store)
    });
}

#[test]
fn the_case_file_covers_every_error_code_and_secret_shape() {
    let codes: BTreeSet<&str> = CASES
        .iter()
        .map(|case| {
            case.expected
                .get("error_code")
                .and_then(Value::as_str)
                .unwrap_or("(code issued)")
        })
        .collect();
    for code in ["(code issued)"]
        .into_iter()
        .chain(ErrorCode::ALL.iter().map(|code| code.as_str()))
    {
        assert!(codes.contains(code), "no case for {code}");
    }
    let secrets = || {
        CASES
            .iter()
            .filter(|case| case.expected.get("success") == Some(&Value::Bool(true)))
            .flat_map(|case| &case.store.users)
            .filter_map(|user| user.totp_secret.as_deref())
    };
    assert!(secrets().any(|s| s.starts_with("otpauth://")));
    assert!(secrets().any(|s| s.contains(' ')));
    assert!(secrets().any(|s| s.ends_with('=')));
    assert!(secrets().any(|s| s.chars().any(|c| c.is_ascii_lowercase())));
    assert!(
        CASES
            .iter()
            .any(|case| case.present.iter().any(|k| k == "warning"))
    );
    for algorithm in ["SHA1", "SHA256", "SHA512"] {
        assert!(
            CASES
                .iter()
                .any(|case| case.expected.get("algorithm") == Some(&Value::from(algorithm)))
        );
    }
}
