//! Releases: the WIT contract changes only with its version, and every
//! artifact of a release carries that one version (see
//! host-test/release/CHANGELOG.md).

use std::path::{Path, PathBuf};

use semver::Version;
use totp_component_build::wit::package_text;
use totp_host::artifact::WIT_PACKAGE_BYTES;
use totp_test_support::python::repo_root;

fn release_dir() -> PathBuf {
    repo_root().join("host-test/release")
}

/// `agent-tools:totp@0.2.0` → 0.2.0.
fn version_of(package: &str) -> Version {
    let (_, version) = package
        .rsplit_once('@')
        .unwrap_or_else(|| panic!("{package} has no version"));
    Version::parse(version).unwrap()
}

/// The released binary WIT packages: (version, file, text).
fn released() -> Vec<(Version, PathBuf, String)> {
    let mut releases: Vec<_> = std::fs::read_dir(release_dir().join("wit"))
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let (name, text) = package_text(&std::fs::read(&path).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (version_of(&name), path, text)
        })
        .collect();
    releases.sort_by(|a, b| a.0.cmp(&b.0));
    releases
}

fn current() -> (Version, String) {
    let (name, text) = package_text(WIT_PACKAGE_BYTES).unwrap();
    (version_of(&name), text)
}

#[test]
fn the_wit_contract_changes_only_with_its_version() {
    let (version, text) = current();
    let releases = released();
    let (last, file, released_text) = releases.last().expect("no released WIT package");
    if version == *last {
        assert_eq!(
            &text,
            released_text,
            "wit/ changed since release {last} ({}) but its package version did not: \
             give the change a new version and a CHANGELOG entry",
            file.display()
        );
    } else {
        assert!(
            version > *last,
            "wit/ is version {version}, older than the last release {last}"
        );
    }
    // A released version's contract is frozen: no two releases share one.
    for pair in releases.windows(2) {
        assert!(
            pair[0].0 < pair[1].0,
            "two released packages for {}",
            pair[0].0
        );
    }
}

#[test]
fn every_artifact_carries_the_release_version() {
    let release = Version::parse(env!("CARGO_PKG_VERSION")).unwrap();
    assert_eq!(current().0, release, "wit/totp.wit's package version");
    let package_json: serde_json::Value = serde_json::from_slice(
        &std::fs::read(repo_root().join("host-test/js/package.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        package_json["version"],
        release.to_string(),
        "the npm package's version"
    );
    // The wheel's version is the native crate's (pyproject.toml: dynamic),
    // and that crate takes the workspace's.
    let pyproject = read(&repo_root().join("host-test/python/pyproject.toml"));
    assert!(contains_line(&pyproject, r#"dynamic = ["version"]"#));
    let native = read(&repo_root().join("host-test/python/Cargo.toml"));
    assert!(contains_line(&native, "version.workspace = true"));
}

#[test]
fn the_changelog_has_an_entry_for_every_release() {
    let changelog = read(&release_dir().join("CHANGELOG.md"));
    let versions = released()
        .into_iter()
        .map(|(version, ..)| version)
        .chain([Version::parse(env!("CARGO_PKG_VERSION")).unwrap()]);
    for version in versions {
        assert!(
            contains_line(&changelog, &format!("## {version}")),
            "host-test/release/CHANGELOG.md has no `## {version}` entry"
        );
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn contains_line(text: &str, line: &str) -> bool {
    text.lines().any(|l| l.trim() == line)
}
