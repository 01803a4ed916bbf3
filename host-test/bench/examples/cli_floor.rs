//! The floor of a command-line call: the least a process can do that runs
//! one sandboxed component call the way `totp-host get-totp-code` does.
//! A small binary (wasmtime with Cranelift, nothing else of totp-host's),
//! the same engine settings and epoch thread, the component deserialized
//! from a precompiled copy, one fresh instance, one call, the answer
//! printed. No store, no key, no audit. `hyperfine -N` it against
//! `totp-host get-totp-code` and `oathtool --totp` (host-test/bench/README.md):
//!
//!   cargo build --release -p totp-host --example cli_floor
//!   target/release/examples/cli_floor

use wasmtime::component::Component;
use wasmtime::error::Context;

use totp_bench::floor;
use totp_host::{SandboxConfig, TotpTool};

fn main() -> wasmtime::Result<()> {
    // As the CLI: one call per process, so no pool to reserve.
    let config = SandboxConfig {
        pooling: false,
        ..SandboxConfig::default()
    };
    let engine = TotpTool::engine(&config)?;
    let cache = std::env::temp_dir().join(format!("totp-host-cli-floor-{:016x}.cwasm", {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::hash::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        floor::FLOOR_WAT.hash(&mut hasher);
        hasher.finish()
    }));
    let component = match std::fs::read(&cache) {
        // SAFETY: the file is this example's own precompiled output for this
        // engine (the name carries the engine's compatibility hash); a
        // benchmark, not a place that takes files from anyone else.
        Ok(bytes) => unsafe { Component::deserialize(&engine, &bytes) }?,
        Err(_) => {
            let component = Component::new(&engine, floor::FLOOR_WAT)?;
            std::fs::write(&cache, component.serialize()?)
                .with_context(|| format!("writing {}", cache.display()))?;
            component
        }
    };
    let floor = floor::Floor::with_component(&engine, &component, &config)?;
    println!("{}", floor.fresh_call("agent_my-workflow_agent_abc123")?);
    Ok(())
}
