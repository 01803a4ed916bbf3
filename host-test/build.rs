//! Builds the component (see host-test/component-build), so that `cargo
//! run`/`cargo test` at the root need nothing else.

fn main() {
    totp_component_build::build_script();
}
