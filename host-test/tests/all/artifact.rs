//! The component as an artifact: its import surface is exactly the WIT
//! world's, its tool definition is well formed, and it stays small.

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

#[test]
fn describe_is_a_tool_definition_with_optional_username() {
    let definition: serde_json::Value = serde_json::from_str(&tool().describe().unwrap()).unwrap();
    assert_eq!(definition["name"], "get_totp_code");
    assert!(
        definition["description"]
            .as_str()
            .unwrap()
            .contains("expires_in")
    );
    let parameters = &definition["parameters"];
    assert_eq!(parameters["type"], "object");
    assert_eq!(parameters["properties"]["username"]["type"], "string");
    assert_eq!(parameters["properties"]["username"]["default"], "");
    assert_eq!(parameters["required"], serde_json::json!([]));
}
