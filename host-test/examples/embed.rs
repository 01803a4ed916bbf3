//! The README's *Embedding from Rust* example; `cargo test` builds it, so
//! the README cannot drift from the API. Run: `cargo run -p totp-host --example embed`.

use std::sync::Arc;
use totp_host::{Call, NodeRef, Store, TotpTool};

fn main() -> wasmtime::Result<()> {
    let tool = TotpTool::new()?; // compile + link once
    let directory = Arc::new(Store::sqlite("store.sqlite3".as_ref())?);
    let call = Call::new(directory).at_node(NodeRef::new("wf-1", "tool_totp"));
    let json = tool.get_totp_code(&call, ""); // fresh instance per call
    println!("{json}");
    Ok(())
}
