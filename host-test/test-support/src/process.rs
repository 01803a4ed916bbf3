//! Processes the suites start, and what they look for in the output.

use std::process::Command;

use serde_json::Value;

/// Whether the tests run as root (and so may install a missing tool).
pub fn is_root() -> bool {
    // SAFETY: getuid has no preconditions.
    unsafe { libc::getuid() == 0 }
}

/// Whether `needle` occurs in `haystack` (a component's bytes, a log).
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// Runs `program` with `args`, which must succeed and print one JSON value
/// (a report) on stdout.
pub fn json_report(program: &str, args: &[&str]) -> Value {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{program} {args:?}: {stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("{program} {args:?} printed no JSON ({e}): {stdout}"))
}
