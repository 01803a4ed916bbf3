//! The reference host's access policy, through the component.

use totp_host::{AccessPolicy, Store};

use crate::util::*;

/// Two workflows with one agent each, and a person.
fn two_workflows() -> Store {
    let directory = store();
    directory
        .link_tool("wf-1", "alpha", "tool_1", "agent_a")
        .unwrap();
    directory
        .link_tool("wf-2", "beta", "tool_2", "agent_b")
        .unwrap();
    let secret = RFC6238.sha1_secret();
    for name in [
        "agent_alpha_agent_a",
        "agent_alpha_other",
        "agent_beta_agent_b",
        "agent_wf-3_tool_3",
    ] {
        directory.put_user(name, true, Some(&secret)).unwrap();
    }
    directory.put_user("alice", false, Some(&secret)).unwrap();
    directory
}

#[test]
fn own_workflow_agents_are_allowed() {
    let call = at_node(call_at(two_workflows(), 59), "wf-1", "tool_1");
    assert_code(&get(&call, ""), "agent_alpha_agent_a");
    assert_code(&get(&call, "agent_alpha_other"), "agent_alpha_other");
    // A name under the workflow's prefix that does not exist is not found.
    assert_error(&get(&call, "agent_alpha_nobody"), "user_not_found");
}

#[test]
fn other_workflows_and_people_are_denied_without_a_hint() {
    let call = at_node(call_at(two_workflows(), 59), "wf-1", "tool_1");
    let existing = get(&call, "agent_beta_agent_b");
    let missing = get(&call, "agent_beta_nobody");
    let person = get(&call, "alice");
    assert_error(&existing, "access_denied");
    assert_eq!(
        existing, missing,
        "the answer must not tell whether the user exists"
    );
    assert_eq!(existing, person);
    // A prefix that merely starts like the slug is another workflow.
    assert_error(&get(&call, "agent_alphabet_x"), "access_denied");
}

#[test]
fn unlinked_tool_may_get_its_fallback_agent() {
    let call = at_node(call_at(two_workflows(), 59), "wf-3", "tool_3");
    assert_code(&get(&call, ""), "agent_wf-3_tool_3");
}

#[test]
fn without_a_node_only_the_agent_rule_applies() {
    let call = call_at(two_workflows(), 59);
    assert_code(&get(&call, "agent_beta_agent_b"), "agent_beta_agent_b");
    assert_error(&get(&call, "alice"), "access_denied");
}

#[test]
fn any_agent_policy_crosses_workflows_but_not_to_people() {
    let call =
        at_node(call_at(two_workflows(), 59), "wf-1", "tool_1").with_policy(AccessPolicy::AnyAgent);
    assert_code(&get(&call, "agent_beta_agent_b"), "agent_beta_agent_b");
    assert_error(&get(&call, "alice"), "access_denied");
}
