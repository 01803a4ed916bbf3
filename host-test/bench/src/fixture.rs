//! The one agent every benchmark asks for: shared by `totp-bench bench` and
//! the criterion benchmarks (`benches/tool.rs` includes this file), so both
//! measure the same call.

use std::sync::Arc;

use totp_host::store::{EdgeRow, WorkflowRow};
use totp_host::{Call, Clock, MemoryDirectory, NodeRef};

/// `agent_{slug}_{agent node}` of the workflow below, so that the
/// auto-resolve call finds the same agent.
pub const BENCH_USER: &str = "agent_bench_agent";
const BENCH_WORKFLOW: &str = "1";
const BENCH_TOOL_NODE: &str = "tool";
/// 160-bit secret, as `create-agent-user` makes them.
pub const BENCH_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
pub const BENCH_TIME: u64 = 1_700_000_000;

/// A call against a directory that knows one agent, so that what is
/// measured is the tool and its sandbox, not a database.
pub fn bench_call() -> Call {
    Call::new(Arc::new(MemoryDirectory::one_agent(
        BENCH_USER,
        BENCH_SECRET,
    )))
    .with_clock(Clock::Fixed(BENCH_TIME))
}

/// A call from a tool node whose `tool` edge leads to the agent node: an
/// empty username resolves to [`BENCH_USER`] through all five imports
/// (current node, edge targets, workflow slug, user, clock).
pub fn auto_resolve_call() -> Call {
    let mut directory = MemoryDirectory::one_agent(BENCH_USER, BENCH_SECRET);
    directory.tables.workflows.push(WorkflowRow {
        id: BENCH_WORKFLOW.to_owned(),
        slug: Some("bench".to_owned()),
    });
    directory.tables.workflow_edges.push(EdgeRow {
        workflow_id: BENCH_WORKFLOW.to_owned(),
        source_node_id: BENCH_TOOL_NODE.to_owned(),
        target_node_id: "agent".to_owned(),
        edge_label: "tool".to_owned(),
    });
    Call::new(Arc::new(directory))
        .at_node(NodeRef::new(BENCH_WORKFLOW, BENCH_TOOL_NODE))
        .with_clock(Clock::Fixed(BENCH_TIME))
}

/// The guest's whole path (lookup, base32, HMAC, JSON), compiled natively.
pub fn native_call(call: &Call) -> String {
    get_totp_code::get_totp_code_json(call, BENCH_USER)
}
