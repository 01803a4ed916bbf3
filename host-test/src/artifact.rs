//! The component as a file: the copy built by `build.rs`, and what can be
//! read from any component's bytes without compiling it (its SHA-256, its
//! import and export names, its metadata sections).

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};
use wasmparser::{KnownCustom, Parser, Payload};

/// A build of the tool for a family of third-party hosts that give a guest
/// standard WASI only: the tool composed with the WASI provider
/// (host-test/wasi-provider), and for Obelisk with an adapter.
#[derive(Debug, Clone, Copy)]
pub struct StandardBuild {
    /// Its file name in `totp-host dist`.
    pub file: &'static str,
    /// The hosts it serves.
    pub serves: &'static str,
    pub bytes: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/component.rs"));

/// The metadata sections `wasm-metadata` writes (as `build.rs` does) whose
/// content is plain text, in the order `inspect` shows them.
const TEXT_SECTIONS: [&str; 7] = [
    "version",
    "description",
    "authors",
    "licenses",
    "source",
    "homepage",
    "revision",
];

/// Lowercase hex SHA-256 of `bytes`, as `sha256sum` prints it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    crate::util::hex(&Sha256::digest(bytes))
}

/// What a component's bytes say about it, read without compiling it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Surface {
    /// Names of the outermost component's imports.
    pub imports: Vec<String>,
    /// Names of the outermost component's exports.
    pub exports: Vec<String>,
    /// The outermost component's name and text metadata sections.
    pub metadata: BTreeMap<String, String>,
}

/// The bytes are not a WebAssembly component (a core module, WAT text, or
/// not WebAssembly at all), or one too malformed to read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a WebAssembly component: {0}")]
pub struct NotAComponent(pub String);

impl Surface {
    /// Reads the top level of a component; nested modules and components
    /// (the guest's core module, adapters) are skipped.
    pub fn read(bytes: &[u8]) -> Result<Self, NotAComponent> {
        let mut surface = Surface {
            imports: Vec::new(),
            exports: Vec::new(),
            metadata: BTreeMap::new(),
        };
        // The header first, so that a wrong file gets a short answer.
        if Parser::is_core_wasm(bytes) {
            return Err(NotAComponent("a core WebAssembly module".into()));
        }
        if !Parser::is_component(bytes) {
            return Err(NotAComponent("no WebAssembly component header".into()));
        }
        let malformed = |error: wasmparser::BinaryReaderError| NotAComponent(error.to_string());
        let mut depth = 0_usize;
        for payload in Parser::new(0).parse_all(bytes) {
            match payload.map_err(malformed)? {
                Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
                Payload::End(_) => depth = depth.saturating_sub(1),
                Payload::ComponentImportSection(reader) if depth == 0 => {
                    for import in reader {
                        surface
                            .imports
                            .push(import.map_err(malformed)?.name.name.into());
                    }
                }
                Payload::ComponentExportSection(reader) if depth == 0 => {
                    for export in reader {
                        surface
                            .exports
                            .push(export.map_err(malformed)?.name.name.into());
                    }
                }
                Payload::CustomSection(section) if depth == 0 => {
                    surface.read_custom_section(&section);
                }
                _ => {}
            }
        }
        Ok(surface)
    }

    /// Metadata is informative: a section that does not decode is left out
    /// rather than making the component unreadable.
    fn read_custom_section(&mut self, section: &wasmparser::CustomSectionReader<'_>) {
        if let KnownCustom::ComponentName(names) = section.as_known() {
            for name in names.into_iter().flatten() {
                if let wasmparser::ComponentName::Component { name, .. } = name {
                    self.metadata.insert("name".into(), name.into());
                }
            }
        } else if TEXT_SECTIONS.contains(&section.name())
            && let Ok(text) = std::str::from_utf8(section.data())
        {
            self.metadata.insert(section.name().into(), text.into());
        }
    }

    /// Imports outside `world`'s (the embedded component's): what a linker
    /// offering only the world's imports would refuse.
    pub fn imports_beyond(&self, world: &Surface) -> Vec<String> {
        self.imports
            .iter()
            .filter(|name| !world.imports.contains(name))
            .cloned()
            .collect()
    }
}

/// The surface of the embedded component: the WIT world's imports and exports.
pub fn world_surface() -> Surface {
    Surface::read(COMPONENT_BYTES).expect("build.rs embeds a component")
}
