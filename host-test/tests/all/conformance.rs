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
use std::sync::Arc;

use get_totp_code::tool::ErrorCode;
use serde_json::{Map, Value};
use totp_host::{AccessPolicy, Call, Clock, Directory, MemoryDirectory, NodeRef, Store};

pub use totp_test_support::judge::{CASES, Case, case, check, judge};

use crate::util::tool;

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
