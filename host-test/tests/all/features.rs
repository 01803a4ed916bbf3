//! Embedders link only what they use: the Python module depends on the
//! library without its default features, so neither the MCP server, the
//! HTTP stack, the PostgreSQL client nor the CLI parser is in it.

use std::process::Command;

#[test]
fn the_python_module_links_no_server_stack() {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["tree", "--offline", "--locked", "-p", "get-totp-code-py"])
        .args(["-e", "normal", "--prefix", "none"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(output.status.success(), "{output:?}");
    let tree = String::from_utf8_lossy(&output.stdout);
    let crates: Vec<&str> = tree.lines().filter_map(|l| l.split(' ').next()).collect();
    assert!(crates.contains(&"totp-host"), "{tree}");
    for server_side in [
        "axum",
        "hyper",
        "rmcp",
        "tokio-postgres",
        "deadpool-postgres",
        "clap",
    ] {
        assert!(
            !crates.contains(&server_side),
            "the Python module links {server_side}"
        );
    }
}
