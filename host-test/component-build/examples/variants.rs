//! THROWAWAY: writes layout variants of a core module.
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let module = std::fs::read(&args[0]).unwrap();
    let plain = totp_component_build::tool_component(&module, totp_component_build::Layout::WitComponent).unwrap();
    std::fs::write(format!("{}.plain.wasm", args[1]), &plain).unwrap();
    if args.len() < 3 {
        let two = totp_component_build::tool_component(&module, totp_component_build::Layout::TwoInstance).unwrap();
        std::fs::write(format!("{}.two.wasm", args[1]), &two).unwrap();
    }
}
