//! `cargo bench -p totp-bench`: every way of running the tool, with native
//! Rust (our code and totp-rs) as baselines. `totp-bench bench` prints the
//! same modes as one ratio table with pyotp timed in the same run.

use std::hint::black_box;

use criterion::Criterion;
use totp_host::{Audit, SandboxConfig, TotpTool};
use wasmtime::component::Component;

use fixture::{BENCH_SECRET, BENCH_TIME, BENCH_USER, auto_resolve_call, bench_call, native_call};
use totp_bench::{fixture, floor};

fn native(c: &mut Criterion) {
    let key = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, BENCH_SECRET).unwrap();
    let totp = totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_secret(key.clone())
        .build_noncompliant();
    // Both peers must agree before they are compared.
    let call = bench_call();
    let ours = native_call(&call);
    assert!(
        ours.contains(&format!("\"{}\"", totp.generate(BENCH_TIME))),
        "{ours}"
    );

    let mut group = c.benchmark_group("native");
    group.bench_function("get_totp_code (lookup, base32, HMAC, JSON)", |b| {
        b.iter(|| black_box(native_call(&call)))
    });
    group.bench_function("otp::totp (HMAC only)", |b| {
        let params = get_totp_code::otp::TotpParams::default();
        b.iter(|| {
            black_box(get_totp_code::otp::totp(
                black_box(&key),
                params,
                BENCH_TIME,
            ))
        })
    });
    group.bench_function("totp-rs generate", |b| {
        b.iter(|| black_box(totp.generate(black_box(BENCH_TIME))))
    });
    group.finish();
}

fn component_calls(c: &mut Criterion) {
    let call = bench_call();
    let pooled = TotpTool::new(Audit::Off).unwrap();
    let on_demand = TotpTool::with_config(
        SandboxConfig {
            pooling: false,
            ..SandboxConfig::default()
        },
        Audit::Off,
    )
    .unwrap();
    let mut warm = pooled.warm_instance(&call).unwrap();

    let mut group = c.benchmark_group("component");
    group.bench_function("warm instance", |b| {
        b.iter(|| black_box(warm.try_get_totp_code(BENCH_USER)))
    });
    group.bench_function("fresh instance, pooling", |b| {
        b.iter(|| black_box(pooled.get_totp_code(&call, BENCH_USER)))
    });
    let resolving = auto_resolve_call();
    assert_eq!(
        pooled.get_totp_code(&resolving, ""),
        pooled.get_totp_code(&call, BENCH_USER)
    );
    group.bench_function("fresh instance, pooling, auto-resolve", |b| {
        b.iter(|| black_box(pooled.get_totp_code(&resolving, "")))
    });
    group.bench_function("fresh instance, on demand", |b| {
        b.iter(|| black_box(on_demand.get_totp_code(&call, BENCH_USER)))
    });
    group.bench_function("instantiate and drop, no call", |b| {
        b.iter(|| black_box(pooled.warm_instance(&call).is_ok()))
    });
    group.finish();

    // wasmtime's floor: the same sandbox around a component that does
    // nothing (see floor.rs).
    let floor = floor::Floor::new(pooled.wasmtime_engine(), pooled.config()).unwrap();
    let mut warm_floor = floor.warm().unwrap();
    assert_eq!(floor.fresh_call(BENCH_USER).unwrap(), floor::ANSWER);
    let mut group = c.benchmark_group("floor");
    group.bench_function("warm instance, empty component", |b| {
        b.iter(|| black_box(warm_floor.call(BENCH_USER).unwrap()))
    });
    group.bench_function("fresh instance, empty component", |b| {
        b.iter(|| black_box(floor.fresh_call(BENCH_USER).unwrap()))
    });
    group.finish();
}

fn loading(c: &mut Criterion) {
    let config = SandboxConfig::default();
    let engine = TotpTool::engine(&config).unwrap();
    let precompiled = engine
        .precompile_component(totp_host::artifact::COMPONENT_BYTES)
        .unwrap();
    let mut group = c.benchmark_group("load");
    group.sample_size(10);
    group.bench_function("compile (Cranelift)", |b| {
        b.iter(|| Component::new(&engine, totp_host::artifact::COMPONENT_BYTES).unwrap())
    });
    group.bench_function("deserialize precompiled", |b| {
        // SAFETY: bytes produced by precompile_component on this engine.
        b.iter(|| unsafe { Component::deserialize(&engine, &precompiled) }.unwrap())
    });
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    native(&mut criterion);
    component_calls(&mut criterion);
    loading(&mut criterion);
    criterion.final_summary();
}
