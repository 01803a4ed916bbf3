//! The component as an artifact: its import surface is exactly the WIT
//! world's, and it stays small.

use std::collections::BTreeSet;

use wasmtime::component::Component;

use crate::util::tool;

#[test]
fn component_imports_exactly_the_three_declared_interfaces() {
    let engine = tool().wasmtime_engine();
    let component = Component::new(engine, totp_host::artifact::COMPONENT_BYTES).unwrap();
    let imports: BTreeSet<String> = component
        .component_type()
        .imports(engine)
        .map(|(name, _)| name.to_owned())
        .collect();
    let expected: BTreeSet<String> = [
        "agent-tools:totp/secrets@0.1.0",
        "agent-tools:totp/workflow@0.1.0",
        "wasi:clocks/wall-clock@0.2.0",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(imports, expected);
}

#[test]
fn component_exports_the_tool_functions() {
    let engine = tool().wasmtime_engine();
    let component = Component::new(engine, totp_host::artifact::COMPONENT_BYTES).unwrap();
    let exports: BTreeSet<String> = component
        .component_type()
        .exports(engine)
        .map(|(name, _)| name.to_owned())
        .collect();
    let expected: BTreeSet<String> = ["describe", "get-totp-code", "invoke"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(exports, expected);
}

/// The size goal, with every feature in (size is deterministic for a given
/// toolchain and lock file).
#[test]
fn component_fits_in_64_kib() {
    let size = totp_host::artifact::COMPONENT_BYTES.len();
    assert!(size <= 64 << 10, "component is {size} bytes");
}
