//! The shared conformance suite (`host-test/conformance/cases.json`, codes
//! from pyotp and oathtool) through the Rust wasmtime host. The Python and
//! Node hosts run the same file (see `other_hosts`).
//!
//! A case's store is what `find-user` answers: the call runs under
//! `AccessPolicy::Unrestricted`, as the Python and Node hosts have no access
//! policy of their own; a host's refusal is a case's `host_failure`.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;
use totp_host::{
    AccessPolicy, AgentUser, Call, Clock, Directory, DirectoryError, NodeRef, SqliteDirectory,
};

use crate::util::tool;

pub fn cases_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("conformance/cases.json")
}

pub fn load_cases() -> Vec<Value> {
    let path = cases_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let file: Value = serde_json::from_str(&text).expect("cases.json is JSON");
    file["cases"].as_array().expect("a `cases` array").clone()
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("`{key}` is not text in {value}"))
}

/// The case's store in an in-memory SQLite store with the README's schema.
fn sqlite_store(store: &Value) -> SqliteDirectory {
    let directory = SqliteDirectory::in_memory().expect("in-memory store");
    for user in store["users"].as_array().unwrap() {
        directory
            .put_user(
                text(user, "username"),
                user["is_agent"].as_bool().unwrap(),
                user["totp_secret"].as_str(),
            )
            .unwrap();
    }
    for workflow in store["workflows"].as_array().unwrap() {
        directory
            .put_workflow(text(workflow, "id"), workflow["slug"].as_str())
            .unwrap();
    }
    for edge in store["edges"].as_array().unwrap() {
        directory
            .put_edge(
                text(edge, "workflow_id"),
                text(edge, "source"),
                text(edge, "target"),
                text(edge, "label"),
            )
            .unwrap();
    }
    directory
}

/// Serves the store, except for the import the case's `host_failure` names.
struct Failing {
    inner: SqliteDirectory,
    import: String,
    kind: String,
    message: String,
    username: String,
}

impl Failing {
    fn fail(&self, import: &str) -> Result<(), DirectoryError> {
        if self.import != import {
            return Ok(());
        }
        match self.kind.as_str() {
            "denied" => Err(DirectoryError::Denied),
            "unavailable" => Err(DirectoryError::Unavailable(self.message.clone())),
            _ => Ok(()),
        }
    }
}

impl Directory for Failing {
    fn find_user(&self, username: &str) -> Result<Option<AgentUser>, DirectoryError> {
        self.fail("find-user")?;
        let user = self.inner.find_user(username)?;
        if self.import == "find-user" && self.kind == "other-user" {
            return Ok(user.map(|user| AgentUser {
                username: self.username.clone(),
                ..user
            }));
        }
        Ok(user)
    }

    fn workflow_slug(&self, workflow_id: &str) -> Result<Option<String>, DirectoryError> {
        self.fail("workflow-slug")?;
        self.inner.workflow_slug(workflow_id)
    }

    fn edge_targets(
        &self,
        workflow_id: &str,
        source_node_id: &str,
        label: &str,
    ) -> Result<Vec<String>, DirectoryError> {
        self.fail("edge-targets")?;
        self.inner.edge_targets(workflow_id, source_node_id, label)
    }
}

/// Runs one case through the component; returns the result text.
pub fn run_case(case: &Value) -> String {
    let store = sqlite_store(&case["store"]);
    let directory: Arc<dyn Directory> = match case.get("host_failure") {
        Some(failure) => Arc::new(Failing {
            inner: store,
            import: text(failure, "import").to_owned(),
            kind: text(failure, "kind").to_owned(),
            message: failure["message"].as_str().unwrap_or_default().to_owned(),
            username: failure["username"].as_str().unwrap_or_default().to_owned(),
        }),
        None => Arc::new(store),
    };
    let mut call = Call::new(directory)
        .with_policy(AccessPolicy::Unrestricted)
        .with_clock(Clock::Fixed(case["time"].as_u64().unwrap()));
    if let Some(node) = case["node"].as_object() {
        call = call.at_node(NodeRef::new(
            node["workflow_id"].as_str().unwrap(),
            node["node_id"].as_str().unwrap(),
        ));
    }
    match text(case, "call") {
        "invoke" => tool().invoke(&call, text(case, "arguments")),
        _ => tool().get_totp_code(&call, text(case, "username")),
    }
}

/// Every expected key (same JSON value and type), every absent key, and the
/// error substrings of a case; the mismatches, empty when it conforms.
pub fn check(case: &Value, result_text: &str) -> Vec<String> {
    let result: Value = match serde_json::from_str(result_text) {
        Ok(result) => result,
        Err(e) => return vec![format!("not JSON ({e}): {result_text}")],
    };
    let mut problems = Vec::new();
    for (key, want) in case["expected"].as_object().unwrap() {
        match result.get(key) {
            None => problems.push(format!("{key}: missing, expected {want}")),
            Some(got) if got != want => problems.push(format!("{key}: got {got}, expected {want}")),
            Some(_) => {}
        }
    }
    for key in case["absent"].as_array().into_iter().flatten() {
        let key = key.as_str().unwrap();
        if let Some(got) = result.get(key) {
            problems.push(format!("{key}: present ({got}), expected absent"));
        }
    }
    let error = result["error"].as_str().unwrap_or_default();
    for piece in case["error_contains"].as_array().into_iter().flatten() {
        let piece = piece.as_str().unwrap();
        if !error.contains(piece) {
            problems.push(format!("error {error:?} does not contain {piece:?}"));
        }
    }
    for piece in case["error_excludes"].as_array().into_iter().flatten() {
        let piece = piece.as_str().unwrap();
        if result_text.contains(piece) {
            problems.push(format!("result contains {piece:?}"));
        }
    }
    problems
}

#[test]
fn every_case_passes_through_the_rust_host() {
    let cases = load_cases();
    assert!(cases.len() >= 100, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let result = run_case(case);
        let problems = check(case, &result);
        if !problems.is_empty() {
            failures.push(format!(
                "{}: {problems:?}\n    {result}",
                text(case, "name")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} conformance cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn the_case_file_covers_every_error_code_and_secret_shape() {
    let cases = load_cases();
    let codes: std::collections::BTreeSet<&str> = cases
        .iter()
        .map(|case| {
            case["expected"]["error_code"]
                .as_str()
                .unwrap_or("(code issued)")
        })
        .collect();
    for code in ["(code issued)"]
        .into_iter()
        .chain(get_totp_code::tool::ERROR_CODES)
    {
        assert!(codes.contains(code), "no case for {code}");
    }
    let secrets = || {
        cases
            .iter()
            .filter(|case| case["expected"]["success"] == true)
            .flat_map(|case| case["store"]["users"].as_array().unwrap())
            .filter_map(|user| user["totp_secret"].as_str())
    };
    assert!(secrets().any(|s| s.starts_with("otpauth://")));
    assert!(secrets().any(|s| s.contains(' ')));
    assert!(secrets().any(|s| s.ends_with('=')));
    assert!(secrets().any(|s| s.chars().any(|c| c.is_ascii_lowercase())));
    for algorithm in ["SHA1", "SHA256", "SHA512"] {
        assert!(
            cases
                .iter()
                .any(|case| case["expected"]["algorithm"] == algorithm)
        );
    }
}
