//! The one agent every benchmark asks for: shared by `totp-host bench` and
//! the criterion benchmarks (`benches/tool.rs` includes this file), so both
//! measure the same call.

use std::sync::Arc;

use totp_host::{Call, Clock, MemoryDirectory};

pub const BENCH_USER: &str = "agent_bench_agent";
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

/// The guest's whole path (lookup, base32, HMAC, JSON), compiled natively.
pub fn native_call(call: &Call) -> String {
    get_totp_code::get_totp_code_json(call, BENCH_USER)
}
