//! The WIT package of `wit/` in binary form, for `totp-host dist`, so that
//! the runtime needs no WIT parser.

use std::path::Path;

/// A WIT package that did not parse or encode.
#[derive(Debug, thiserror::Error)]
#[error("the WIT package in {dir}: {message}")]
pub struct WitError {
    dir: String,
    message: String,
}

/// The encoded package and its world's full name
/// (`namespace:package/world@version`).
pub fn encode_package(wit_dir: &Path) -> Result<(Vec<u8>, String), WitError> {
    let error = |message: String| WitError {
        dir: wit_dir.display().to_string(),
        message,
    };
    let mut resolve = wit_parser::Resolve::default();
    let (package, _) = resolve
        .push_dir(wit_dir)
        .map_err(|e| error(format!("{e:?}")))?;
    let world = resolve
        .select_world(&[package], None)
        .map_err(|e| error(format!("{e:?}")))?;
    let name = &resolve.packages[package].name;
    let world_name = format!(
        "{}:{}/{}{}",
        name.namespace,
        name.name,
        resolve.worlds[world].name,
        name.version
            .as_ref()
            .map(|version| format!("@{version}"))
            .unwrap_or_default()
    );
    let bytes = wit_component::encode(&resolve, package).map_err(|e| error(format!("{e:?}")))?;
    Ok((bytes, world_name))
}

/// A binary WIT package's name (`namespace:package@version`) and its
/// contract as text: the decoded package printed without its doc comments.
/// Two packages with the same text are the same contract whatever
/// wit-component version encoded them (which comparing bytes would not
/// tell), and rewording a comment changes no contract.
pub fn package_text(bytes: &[u8]) -> Result<(String, String), WitError> {
    let error = |message: String| WitError {
        dir: "a binary package".to_string(),
        message,
    };
    let decoded = wit_component::decode(bytes).map_err(|e| error(format!("{e:?}")))?;
    let resolve = decoded.resolve();
    let package = decoded.package();
    let mut printer = wit_component::WitPrinter::default();
    printer.emit_docs(false);
    printer
        .print(resolve, package, &[])
        .map_err(|e| error(format!("{e:?}")))?;
    Ok((
        resolve.packages[package].name.to_string(),
        printer.output.to_string(),
    ))
}
