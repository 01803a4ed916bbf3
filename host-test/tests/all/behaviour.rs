//! The tool's behaviour, case by case, through the component. Success cases
//! use RFC 6238's SHA-1 secret at T = 59, whose code the RFC publishes.

use serde_json::Value;
use totp_host::{AccessPolicy, AgentUser, Directory, DirectoryError};
use zeroize::Zeroizing;

use crate::util::*;

/// RFC 6238 Appendix B: SHA-1 at T = 59 is 94287082, so 287082 at 6 digits.
const CODE_AT_59: &str = "287082";

fn with_agent(username: &str, secret: Option<&str>) -> totp_host::SqliteDirectory {
    let directory = store();
    directory.put_user(username, true, secret).unwrap();
    directory
}

#[test]
fn code_by_username() {
    let call = call_at(with_agent("agent_wf_n1", Some(RFC_SECRET_B32)), 59);
    let result = get(&call, "agent_wf_n1");
    assert_eq!(assert_code(&result, "agent_wf_n1"), CODE_AT_59);
    assert_eq!(result["expires_in"], 1);
    // The reference platform's success shape, nothing more for SHA-1/6/30.
    let keys: Vec<&str> = result
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(keys, ["expires_in", "success", "totp_code", "username"]);
}

#[test]
fn unknown_user_is_not_found() {
    let call = call_at(with_agent("agent_wf_n1", Some(RFC_SECRET_B32)), 59);
    let message = assert_error(&get(&call, "agent_wf_n2"), "user_not_found");
    assert_eq!(message, "Agent user not found");
}

/// The guest's own check, with a host that passes people's accounts on.
#[test]
fn human_user_is_refused_as_not_found() {
    let directory = store();
    directory
        .put_user("alice", false, Some(RFC_SECRET_B32))
        .unwrap();
    let call = call_at(directory, 59).with_policy(AccessPolicy::Unrestricted);
    let result = get(&call, "alice");
    assert_eq!(
        assert_error(&result, "user_not_found"),
        "Agent user not found"
    );
}

#[test]
fn missing_or_empty_secret_is_reported() {
    for secret in [None, Some(""), Some("   ")] {
        let call = call_at(with_agent("agent_wf_n1", secret), 59);
        let message = assert_error(&get(&call, "agent_wf_n1"), "no_totp_secret");
        assert_eq!(
            message, "No TOTP secret configured for this user",
            "{secret:?}"
        );
    }
}

#[test]
fn calling_agent_is_resolved_through_the_tool_edge() {
    let directory = with_agent("agent_my-workflow_agent_abc123", Some(RFC_SECRET_B32));
    directory
        .link_tool("wf-1", "my-workflow", "tool_totp", "agent_abc123")
        .unwrap();
    // Edges with other labels or from other nodes do not count.
    directory
        .put_edge("wf-1", "tool_totp", "other_node", "data")
        .unwrap();
    directory
        .put_edge("wf-1", "tool_other", "agent_zzz", "tool")
        .unwrap();
    let call = at_node(call_at(directory, 59), "wf-1", "tool_totp");
    let result = get(&call, "");
    assert_eq!(
        assert_code(&result, "agent_my-workflow_agent_abc123"),
        CODE_AT_59
    );
}

#[test]
fn workflow_without_slug_uses_its_id() {
    let directory = with_agent("agent_wf-1_agent_abc123", Some(RFC_SECRET_B32));
    directory.put_workflow("wf-1", None).unwrap();
    directory
        .put_edge("wf-1", "tool_totp", "agent_abc123", "tool")
        .unwrap();
    let call = at_node(call_at(directory, 59), "wf-1", "tool_totp");
    assert_code(&get(&call, ""), "agent_wf-1_agent_abc123");
}

#[test]
fn tool_without_edge_falls_back_to_its_own_node() {
    let directory = with_agent("agent_wf-1_tool_totp", Some(RFC_SECRET_B32));
    directory.put_workflow("wf-1", Some("my-workflow")).unwrap();
    let call = at_node(call_at(directory, 59), "wf-1", "tool_totp");
    assert_eq!(
        assert_code(&get(&call, ""), "agent_wf-1_tool_totp"),
        CODE_AT_59
    );
}

#[test]
fn resolved_agent_without_user_is_not_found() {
    let directory = store();
    directory
        .link_tool("wf-1", "my-workflow", "tool_totp", "agent_abc123")
        .unwrap();
    let call = at_node(call_at(directory, 59), "wf-1", "tool_totp");
    assert_error(&get(&call, ""), "user_not_found");
}

#[test]
fn several_agents_on_one_tool_node_are_ambiguous() {
    let directory = with_agent("agent_my-workflow_agent_a", Some(RFC_SECRET_B32));
    directory
        .link_tool("wf-1", "my-workflow", "tool_totp", "agent_a")
        .unwrap();
    directory
        .link_tool("wf-1", "my-workflow", "tool_totp", "agent_b")
        .unwrap();
    let call = at_node(call_at(directory, 59), "wf-1", "tool_totp");
    let message = assert_error(&get(&call, ""), "ambiguous_agent");
    assert!(
        message.contains('2') && message.contains("username"),
        "{message}"
    );
}

#[test]
fn parallel_edges_to_one_agent_are_not_ambiguous() {
    let directory = with_agent("agent_my-workflow_agent_a", Some(RFC_SECRET_B32));
    directory
        .link_tool("wf-1", "my-workflow", "tool_totp", "agent_a")
        .unwrap();
    directory
        .put_edge("wf-1", "tool_totp", "agent_a", "tool")
        .unwrap();
    let call = at_node(call_at(directory, 59), "wf-1", "tool_totp");
    assert_code(&get(&call, ""), "agent_my-workflow_agent_a");
}

#[test]
fn explicit_username_wins_over_the_node_context() {
    let directory = with_agent("agent_my-workflow_n9", Some(RFC_SECRET_B32));
    directory
        .link_tool("wf-1", "my-workflow", "tool_totp", "agent_abc123")
        .unwrap();
    let call = at_node(call_at(directory, 59), "wf-1", "tool_totp");
    assert_code(&get(&call, "agent_my-workflow_n9"), "agent_my-workflow_n9");
}

#[test]
fn empty_username_without_context_asks_for_one() {
    let call = call_at(with_agent("agent_wf_n1", Some(RFC_SECRET_B32)), 59);
    let message = assert_error(&get(&call, ""), "no_context");
    assert!(message.contains("username"), "{message}");
}

/// A directory whose every answer is scripted, for host behaviour a real
/// store would not produce.
struct Scripted {
    user: fn(&str) -> Result<Option<AgentUser>, DirectoryError>,
}

impl Directory for Scripted {
    fn find_user(&self, username: &str) -> Result<Option<AgentUser>, DirectoryError> {
        (self.user)(username)
    }
    fn workflow_slug(&self, _: &str) -> Result<Option<String>, DirectoryError> {
        Err(DirectoryError::Unavailable("graph store offline".into()))
    }
    fn edge_targets(&self, _: &str, _: &str, _: &str) -> Result<Vec<String>, DirectoryError> {
        Err(DirectoryError::Unavailable("graph store offline".into()))
    }
}

#[test]
fn host_failure_is_a_host_error_with_its_message() {
    let failing = Scripted {
        user: |_| Err(DirectoryError::Unavailable("database is locked".into())),
    };
    let message = assert_error(&get(&call_at(failing, 59), "agent_wf_n1"), "host_error");
    assert!(message.contains("database is locked"), "{message}");

    let failing = Scripted { user: |_| Ok(None) };
    let call = at_node(call_at(failing, 59), "wf-1", "tool_totp");
    let message = assert_error(&get(&call, ""), "host_error");
    assert!(message.contains("graph store offline"), "{message}");
}

#[test]
fn host_denial_is_access_denied() {
    let denying = Scripted {
        user: |_| Err(DirectoryError::Denied),
    };
    assert_error(&get(&call_at(denying, 59), "agent_wf_n1"), "access_denied");
}

#[test]
fn host_answering_with_another_user_gets_no_code() {
    let lying = Scripted {
        user: |_| {
            Ok(Some(AgentUser {
                username: "agent_someone_else".into(),
                is_agent: true,
                totp_secret: Some(Zeroizing::new(RFC_SECRET_B32.into())),
            }))
        },
    };
    assert_error(&get(&call_at(lying, 59), "agent_wf_n1"), "host_error");
}

#[test]
fn invalid_secret_is_reported_without_any_of_it() {
    for secret in [
        "SECRETSECRET1SECRET",
        "MFRGGZDFMZTWQ2LK!",
        "MFRGG=ZDFMZTWQ2LK",
        "MFRGGZDFM",
    ] {
        let call = call_at(with_agent("agent_wf_n1", Some(secret)), 59);
        let result = get(&call, "agent_wf_n1");
        let message = assert_error(&result, "invalid_secret");
        let text = result.to_string();
        for window in secret.as_bytes().windows(4) {
            let piece = std::str::from_utf8(window).unwrap();
            assert!(
                !text.contains(piece),
                "{piece:?} of the secret leaked: {message}"
            );
        }
    }
}

#[test]
fn base32_secrets_are_read_leniently() {
    let forms = [
        RFC_SECRET_B32.to_lowercase(),
        "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ".into(),
        "gezd gnbv gy3t qojq gezd gnbv gy3t qojq".into(),
        // 10-byte key: 16 symbols; with padding it is the same key.
        "GEZDGNBVGY3TQOJQ".into(),
        "GEZDGNBVGY3TQOJQ======".into(),
    ];
    let canonical = |secret: &str| {
        let result = get(
            &call_at(with_agent("agent_wf_n1", Some(secret)), 59),
            "agent_wf_n1",
        );
        assert_code(&result, "agent_wf_n1")
    };
    assert_eq!(canonical(&forms[0]), CODE_AT_59);
    assert_eq!(canonical(&forms[1]), CODE_AT_59);
    assert_eq!(canonical(&forms[2]), CODE_AT_59);
    assert_eq!(canonical(&forms[3]), canonical(&forms[4]));
}

#[test]
fn expires_in_counts_the_seconds_left_in_the_period() {
    for (time, expires_in) in [
        (0, 30),
        (1, 29),
        (29, 1),
        (30, 30),
        (59, 1),
        (60, 30),
        (1111111109, 1),
    ] {
        let call = call_at(with_agent("agent_wf_n1", Some(RFC_SECRET_B32)), time);
        let result = get(&call, "agent_wf_n1");
        assert_eq!(result["expires_in"], expires_in, "at {time}");
    }
}

#[test]
fn codes_change_exactly_at_period_boundaries() {
    let code_at = |time| {
        let call = call_at(with_agent("agent_wf_n1", Some(RFC_SECRET_B32)), time);
        get(&call, "agent_wf_n1")["totp_code"].clone()
    };
    assert_eq!(code_at(30), code_at(59));
    assert_ne!(code_at(59), code_at(60));
}

#[test]
fn describe_is_a_tool_definition_with_optional_username() {
    let call = call_at(store(), 0);
    let definition: Value = serde_json::from_str(&tool().describe(&call).unwrap()).unwrap();
    assert_eq!(definition["name"], "get_totp_code");
    assert!(
        definition["description"]
            .as_str()
            .unwrap()
            .contains("expires_in")
    );
    let parameters = &definition["parameters"];
    assert_eq!(parameters["type"], "object");
    assert_eq!(parameters["properties"]["username"]["type"], "string");
    assert_eq!(parameters["properties"]["username"]["default"], "");
    let required = parameters["required"].as_array().unwrap();
    assert!(!required.iter().any(|r| r == "username"));
}

#[test]
fn invoke_takes_llm_arguments() {
    let directory = with_agent("agent_my-workflow_agent_abc123", Some(RFC_SECRET_B32));
    directory
        .put_user("agent_my-workflow_n1", true, Some(RFC_SECRET_B32))
        .unwrap();
    directory
        .link_tool("wf-1", "my-workflow", "tool_totp", "agent_abc123")
        .unwrap();
    let call = at_node(call_at(directory, 59), "wf-1", "tool_totp");
    assert_code(
        &invoke(&call, r#"{"username": "agent_my-workflow_n1"}"#),
        "agent_my-workflow_n1",
    );
    for no_arguments in ["{}", "", r#"{"username": null}"#, r#"{"username": ""}"#] {
        assert_code(
            &invoke(&call, no_arguments),
            "agent_my-workflow_agent_abc123",
        );
    }
}

#[test]
fn invoke_refuses_malformed_arguments() {
    let call = call_at(with_agent("agent_wf_n1", Some(RFC_SECRET_B32)), 59);
    for arguments in [
        "{",
        "not json",
        "[\"agent_wf_n1\"]",
        "\"agent_wf_n1\"",
        r#"{"username": 42}"#,
        r#"{"username": {"name": "agent_wf_n1"}}"#,
        r#"{"user": "agent_wf_n1"}"#,
        &"[".repeat(50_000),
    ] {
        let result = invoke(&call, arguments);
        let message = assert_error(&result, "invalid_arguments");
        assert!(message.starts_with("Invalid arguments:"), "{message}");
    }
}
