//! THROWAWAY: fresh-call cost of several component files, interleaved.
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;
use totp_host::{Audit, Call, SandboxConfig, TotpTool, memory::MemoryDirectory};
use wasmtime::component::Component;

fn main() -> wasmtime::Result<()> {
    let files: Vec<String> = std::env::args().skip(1).collect();
    let config = SandboxConfig::default();
    let tools: Vec<TotpTool> = files
        .iter()
        .map(|f| {
            let engine = TotpTool::engine(&config).unwrap();
            let component = Component::from_file(&engine, f).unwrap();
            TotpTool::from_component(engine, &component, config.clone(), Audit::Off).unwrap()
        })
        .collect();
    let user = "agent_bench_agent_1";
    let call = Call::new(Arc::new(MemoryDirectory::one_agent(
        user,
        "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
    )));
    for t in &tools {
        let out = t.get_totp_code(&call, user);
        assert!(out.contains("\"success\":true"), "{out}");
    }
    let calls = 20_000;
    let mut samples = vec![Vec::new(); tools.len()];
    for _round in 0..15 {
        for (i, t) in tools.iter().enumerate() {
            let start = Instant::now();
            for _ in 0..calls {
                black_box(t.try_get_totp_code(&call, user).ok());
            }
            samples[i].push(start.elapsed().as_nanos() as f64 / calls as f64);
        }
    }
    for (f, mut s) in files.iter().zip(samples) {
        s.sort_by(f64::total_cmp);
        println!(
            "{f}: best {:.0} ns, median {:.0} ns, worst {:.0}",
            s[0],
            s[s.len() / 2],
            s[s.len() - 1]
        );
    }
    Ok(())
}
