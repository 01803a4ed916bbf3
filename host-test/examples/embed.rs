//! The example in host-test/docs/embedding-rust.md; `cargo test` builds it, so
//! the README cannot drift from the API. Run: `cargo run -p totp-host --example embed`.

use std::sync::Arc;
use totp_host::{Audit, Call, NodeRef, Store, TotpTool};

fn main() -> wasmtime::Result<()> {
    let directory = Arc::new(Store::sqlite("store.sqlite3".as_ref())?);
    // Every call on record in the store's audit_events table (or Audit::Off).
    let tool = TotpTool::new(Audit::To(directory.clone()))?; // compile + link once
    let call = Call::new(directory).at_node(NodeRef::new("wf-1", "tool_totp"));
    let json = tool.get_totp_code(&call, ""); // fresh instance per call
    println!("{json}");
    Ok(())
}
