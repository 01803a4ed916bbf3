//! `runtime-floor FILE.cwasm`: what a command-line call costs when the
//! process links wasmtime's runtime only. The file is the floor component
//! (host-test/bench/src/floor.rs) as `cli_floor` precompiles and
//! caches it, under the same engine settings (epoch interruption, no
//! backtraces, on-demand instances). Set against `cli_floor`, the same
//! call from a binary that also links Cranelift, and `oathtool --totp`.

use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, Store};

fn main() -> wasmtime::Result<()> {
    let path = std::env::args_os()
        .nth(1)
        .ok_or_else(|| wasmtime::format_err!("usage: runtime-floor FILE.cwasm"))?;
    let mut config = Config::new();
    config.epoch_interruption(true);
    config.wasm_backtrace_max_frames(None);
    let engine = Engine::new(&config)?;
    let bytes = std::fs::read(&path)?;
    // SAFETY: a benchmark reading cli_floor's own output for this machine;
    // wasmtime checks the header against this engine.
    let component = unsafe { Component::deserialize(&engine, &bytes) }?;
    let pre = Linker::<()>::new(&engine).instantiate_pre(&component)?;
    // As the CLI: an epoch thread, so the deadline can fire.
    let weak = engine.weak();
    std::thread::spawn(move || {
        while let Some(engine) = weak.upgrade() {
            engine.increment_epoch();
            drop(engine);
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    });
    let mut store = Store::new(&engine, ());
    store.set_epoch_deadline(201);
    let instance = pre.instantiate(&mut store)?;
    let export = instance.get_typed_func::<(&str,), (String,)>(&mut store, "get-totp-code")?;
    let (answer,) = export.call(&mut store, ("agent_my-workflow_agent_abc123",))?;
    println!("{answer}");
    Ok(())
}
