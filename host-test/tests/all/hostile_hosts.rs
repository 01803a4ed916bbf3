//! Hostile or broken host answers: oversized, empty, odd or failing. Each
//! gives a clear error result; none panics the host or traps the guest
//! unchecked. (The ordinary failures are conformance cases.)

use totp_host::memory::{FailureKind, Import};
use totp_host::store::{EdgeRow, Tables, UserRow, WorkflowRow};
use totp_host::{AccessPolicy, MemoryDirectory, NodeRef};

use crate::util::*;

const MIB: usize = 1 << 20;

fn agent(name: &str, secret: &str) -> UserRow {
    UserRow {
        username: name.to_owned(),
        is_agent: true,
        totp_secret: Some(secret.to_owned()),
    }
}

/// `count` tool edges from `node` to distinct agents, and the slug.
fn graph(node: &NodeRef, targets: Vec<String>, slug: Option<String>) -> Tables {
    Tables {
        workflows: vec![WorkflowRow {
            id: node.workflow_id.clone(),
            slug,
        }],
        workflow_edges: targets
            .into_iter()
            .map(|target| EdgeRow {
                workflow_id: node.workflow_id.clone(),
                source_node_id: node.node_id.clone(),
                target_node_id: target,
                edge_label: "tool".into(),
            })
            .collect(),
        ..Tables::default()
    }
}

fn users(rows: Vec<UserRow>) -> Tables {
    Tables {
        users: rows,
        ..Tables::default()
    }
}

fn unavailable(message: String) -> FailureKind {
    FailureKind::Unavailable { message }
}

/// The answers go to the guest as they are: it is the guest's checks under
/// test here.
fn run(directory: MemoryDirectory, node: Option<NodeRef>, username: &str) -> serde_json::Value {
    let mut call = call_at(directory, 59).with_policy(AccessPolicy::Unrestricted);
    call.node = node;
    parse(&tool().get_totp_code(&call, username))
}

#[test]
fn hostile_host_answers_give_clear_errors() {
    let node = NodeRef::new("wf-1", "tool_totp");
    let every_import_fails = || {
        MemoryDirectory::default()
            .failing(Import::FindUser, unavailable("store down".into()))
            .failing(Import::WorkflowSlug, unavailable("graph down".into()))
            .failing(Import::EdgeTargets, unavailable("graph down".into()))
    };
    let five_thousand = || (0..5000).map(|i| format!("agent_{i}")).collect();
    let table: Vec<(&str, MemoryDirectory, Option<NodeRef>, String, &str)> = vec![
        (
            "10 MiB username",
            MemoryDirectory::default(),
            None,
            "a".repeat(10 * MIB),
            "host_error",
        ),
        (
            "1 MiB username",
            MemoryDirectory::default(),
            None,
            "a".repeat(MIB),
            "invalid_arguments",
        ),
        (
            "10 MiB secret",
            MemoryDirectory::new(users(vec![agent("agent_x", &"A".repeat(10 * MIB))])),
            None,
            "agent_x".into(),
            "host_error",
        ),
        (
            "1 MiB secret of junk",
            MemoryDirectory::new(users(vec![agent("agent_x", &"!".repeat(MIB))])),
            None,
            "agent_x".into(),
            "invalid_secret",
        ),
        (
            "5000 tool edges",
            MemoryDirectory::new(graph(&node, five_thousand(), None)),
            Some(node.clone()),
            String::new(),
            "ambiguous_agent",
        ),
        (
            "empty edge target, slug and user",
            MemoryDirectory::new(graph(
                &NodeRef::new("", ""),
                vec![String::new()],
                Some(String::new()),
            )),
            Some(NodeRef::new("", "")),
            String::new(),
            "user_not_found",
        ),
        (
            "host answers with an empty username",
            MemoryDirectory::new(users(vec![agent("agent_x", &RFC6238.sha1_secret())])).failing(
                Import::FindUser,
                FailureKind::OtherUser {
                    username: String::new(),
                },
            ),
            None,
            "agent_x".into(),
            "host_error",
        ),
        (
            "slug with control characters",
            MemoryDirectory::new(graph(
                &node,
                vec!["agent\u{0}1".into()],
                Some("wf\n\r\t\u{1b}[31m\u{7f}".into()),
            )),
            Some(node.clone()),
            String::new(),
            "user_not_found",
        ),
        (
            "100 KiB slug",
            MemoryDirectory::new(graph(&node, vec!["a".into()], Some("s".repeat(100 << 10)))),
            Some(node.clone()),
            String::new(),
            "host_error",
        ),
        (
            "every import fails, by name",
            every_import_fails(),
            Some(node.clone()),
            "agent_x".into(),
            "host_error",
        ),
        (
            "every import fails, resolving",
            every_import_fails(),
            Some(node.clone()),
            String::new(),
            "host_error",
        ),
        (
            "100 KiB host error message",
            MemoryDirectory::default()
                .failing(Import::FindUser, unavailable("e".repeat(100 << 10))),
            None,
            "agent_x".into(),
            "host_error",
        ),
        (
            "10 MiB host error message",
            MemoryDirectory::default().failing(Import::FindUser, unavailable("e".repeat(10 * MIB))),
            None,
            "agent_x".into(),
            "host_error",
        ),
        (
            "secret of whitespace and padding only",
            MemoryDirectory::new(users(vec![agent("agent_x", " \t===\n")])),
            None,
            "agent_x".into(),
            "invalid_secret",
        ),
    ];
    for (name, directory, node, username, code) in table {
        let result = run(directory, node, &username);
        let message = assert_error(&result, code);
        assert!(
            message.len() < 1000,
            "{name}: {} byte message",
            message.len()
        );
    }
    let many = MemoryDirectory::new(graph(&node, five_thousand(), None));
    let message = assert_error(&run(many, Some(node.clone()), ""), "ambiguous_agent");
    assert!(message.starts_with("More than 50 agents"), "{message}");
    // And the host is still fine.
    let fine = run(rfc_agent(), None, "agent_wf_n1");
    assert_eq!(assert_code(&fine, "agent_wf_n1"), RFC6238.sha1_code(59));
}

/// A directory whose code panics fails that lookup with a `host_error`;
/// the host goes on serving.
#[test]
fn a_panicking_directory_is_a_host_error() {
    struct Panicking;
    impl totp_host::Directory for Panicking {
        fn find_user(&self, _: &str) -> Result<Option<totp_host::User>, totp_host::HostError> {
            panic!("a bug in the platform's directory")
        }
        fn workflow_slug(&self, _: &str) -> Result<Option<String>, totp_host::HostError> {
            panic!("a bug in the platform's directory")
        }
        fn edge_targets(
            &self,
            _: &str,
            _: &str,
            _: &str,
        ) -> Result<Vec<String>, totp_host::HostError> {
            panic!("a bug in the platform's directory")
        }
    }
    let by_name = call_at(Panicking, 59).with_policy(AccessPolicy::Unrestricted);
    let message = assert_error(
        &parse(&tool().get_totp_code(&by_name, "agent_x")),
        "host_error",
    );
    assert_eq!(message, "Host error: the directory failed");
    let resolving = at_node(call_at(Panicking, 59), "wf-1", "tool_totp");
    assert_error(&parse(&tool().get_totp_code(&resolving, "")), "host_error");
    let fine = run(rfc_agent(), None, "agent_wf_n1");
    assert_eq!(assert_code(&fine, "agent_wf_n1"), RFC6238.sha1_code(59));
}
