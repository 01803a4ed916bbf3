//! Link flags for the host binaries that depend on the component build.

use std::env;
use std::process::Command;

/// A CLI that prints one code is mostly process start-up; compact relative
/// relocations (glibc 2.36+, GNU ld 2.38+) make the dynamic loader's share
/// of it several times smaller. Only where the linker takes them.
pub fn pack_relative_relocations() {
    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
        && env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("gnu")
        && linker_supports_relr()
    {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// Whether the system linker takes `-z pack-relative-relocs` (older GNU ld
/// warns and ignores unknown `-z` options, so ask it for its version).
fn linker_supports_relr() -> bool {
    let Ok(output) = Command::new("ld").arg("--version").output() else {
        return false;
    };
    let text = String::from_utf8_lossy(&output.stdout);
    let Some(version) = text
        .lines()
        .next()
        .and_then(|line| line.split_whitespace().last())
    else {
        return false;
    };
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    text.starts_with("GNU ld") && (major, minor) >= (2, 38)
}
