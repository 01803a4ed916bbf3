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
