//! Runaway and malicious guests, written in WAT: each call ends as a clear
//! `host_error` result, and the host goes on serving the next call.

use std::time::Duration;

use totp_host::{Audit, SandboxConfig, TotpTool};
use wasmtime::component::Component;

use crate::util::*;

/// A component with the tool's exports, whose every export runs `body`
/// (a core function returning the address of a `(ptr, len)` string).
fn hostile_component(body: &str) -> String {
    format!(
        r#"(component
  (core module $m
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (global.get $next))
      (global.set $next (i32.add (global.get $next) (local.get 3)))
      (local.get $p))
    (func $recurse (param i32) (result i32)
      (call $recurse (i32.add (local.get 0) (i32.const 1))))
    (func $body (result i32) {body})
    (func (export "get") (param i32 i32) (result i32) (call $body))
    (func (export "describe") (result i32) (call $body))
    (func (export "invoke") (param i32 i32) (result i32) (call $body)))
  (core instance $i (instantiate $m))
  (func (export "get-totp-code") (param "username" string) (result string)
    (canon lift (core func $i "get") (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
  (func (export "describe") (result string)
    (canon lift (core func $i "describe") (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
  (func (export "invoke") (param "arguments" string) (result string)
    (canon lift (core func $i "invoke") (memory (core memory $i "memory")) (realloc (core func $i "realloc")))))"#
    )
}

fn hostile_tool(body: &str, config: SandboxConfig) -> TotpTool {
    let engine = TotpTool::engine(&config).unwrap();
    let component = Component::new(&engine, hostile_component(body)).unwrap();
    TotpTool::from_component(engine, &component, config, Audit::Off).unwrap()
}

fn quick_config() -> SandboxConfig {
    SandboxConfig {
        deadline: Duration::from_millis(100),
        ..SandboxConfig::default()
    }
}

/// After a hostile call, the real tool on the same thread still works.
fn assert_host_still_serves() {
    let result = get(&call_at(rfc_agent(), 59), "agent_wf_n1");
    assert_eq!(assert_code(&result, "agent_wf_n1"), RFC6238.sha1_code(59));
}

#[test]
fn hostile_guests_end_as_host_errors() {
    let table = [
        (
            "infinite loop",
            "(loop $l (br $l)) (unreachable)",
            "deadline",
        ),
        ("unreachable", "(unreachable)", "trapped"),
        ("stack overflow", "(call $recurse (i32.const 0))", "trapped"),
        (
            "unbounded memory growth",
            "(loop $l (drop (memory.grow (i32.const 16))) (br $l)) (unreachable)",
            "memory limit",
        ),
        (
            "string out of bounds",
            "(i32.store (i32.const 0) (i32.const -16)) (i32.store (i32.const 4) (i32.const 10)) (i32.const 0)",
            "failed",
        ),
        (
            "invalid UTF-8",
            "(i32.store8 (i32.const 100) (i32.const 255)) (i32.store (i32.const 0) (i32.const 100)) (i32.store (i32.const 4) (i32.const 1)) (i32.const 0)",
            "failed",
        ),
        ("misaligned result", "(i32.const 3)", "failed"),
    ];
    for (name, body, expected) in table {
        let tool = hostile_tool(body, quick_config());
        let call = call_at(store(), 59);
        for _ in 0..3 {
            let message = assert_error(
                &parse(&tool.get_totp_code(&call, "agent_wf_n1")),
                "host_error",
            );
            assert!(message.contains(expected), "{name}: {message}");
            assert_error(&parse(&tool.invoke(&call, "{}")), "host_error");
        }
        assert_host_still_serves();
    }
}

#[test]
fn deadline_is_enforced_in_time() {
    let tool = hostile_tool("(loop $l (br $l)) (unreachable)", quick_config());
    let started = std::time::Instant::now();
    let _ = tool.get_totp_code(&call_at(store(), 59), "");
    // Not a performance assertion: a runaway must not run for long.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn component_asking_for_more_imports_is_refused_at_load() {
    let wat = r#"(component
      (import "wasi:filesystem/preopens@0.2.0" (instance
        (export "get-directories" (func (result u32)))))
    )"#;
    let config = SandboxConfig::default();
    let engine = TotpTool::engine(&config).unwrap();
    let component = Component::new(&engine, wat).unwrap();
    let error = TotpTool::from_component(engine, &component, config, Audit::Off)
        .err()
        .expect("linking must fail");
    assert!(
        format!("{error:#}").contains("wasi:filesystem"),
        "{error:#}"
    );
}
