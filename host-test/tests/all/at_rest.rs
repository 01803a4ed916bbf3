//! Secrets at rest (sealed in the store under the store key) and the
//! precompiled cache (nothing deserialized that does not verify).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use totp_host::cache::{self, Rejection};
use totp_host::{Audit, SandboxConfig, StoreKey, TotpTool};

use crate::util::TotpHost;
use crate::util::{RFC6238, parse};

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Any 8-byte piece of `secret` in `haystack`.
fn leaked(haystack: &[u8], secret: &str) -> Option<String> {
    let haystack = String::from_utf8_lossy(haystack).to_uppercase();
    secret
        .as_bytes()
        .windows(8)
        .map(|w| std::str::from_utf8(w).unwrap())
        .find(|piece| haystack.contains(piece))
        .map(str::to_owned)
}

fn provision(db: &Path, key: &Path, secret: &str) {
    let linked = TotpHost::on(db).sealed(key).run(&[
        "link-tool",
        "--workflow",
        "wf-1",
        "--slug",
        "alpha",
        "--tool-node",
        "t1",
        "--agent-node",
        "a1",
    ]);
    assert!(linked.status.success(), "{linked:?}");
    let created = TotpHost::on(db).sealed(key).run(&[
        "create-agent-user",
        "--workflow",
        "wf-1",
        "--tool-node",
        "t1",
        "--secret",
        secret,
    ]);
    assert!(created.status.success(), "{created:?}");
}

#[test]
fn created_users_are_sealed_and_codes_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let (db, key) = (
        dir.path().join("store.sqlite3"),
        dir.path().join("store.key"),
    );
    let secret = RFC6238.sha1_secret();
    provision(&db, &key, &secret);
    // The key file was made on first use, for this user only.
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(std::fs::metadata(&key).unwrap().len(), 32);
    // No piece of the secret anywhere in the store's bytes.
    let bytes = std::fs::read(&db).unwrap();
    assert_eq!(leaked(&bytes, &secret), None);
    let get = [
        "get-totp-code",
        "--username",
        "agent_alpha_a1",
        "--at",
        "59",
    ];
    let result = parse(&stdout(&TotpHost::on(&db).sealed(&key).run(&get)));
    assert_eq!(result["totp_code"], RFC6238.sha1_code(59));
}

#[test]
fn a_wrong_key_or_another_row_cannot_open_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let (db, key) = (
        dir.path().join("store.sqlite3"),
        dir.path().join("store.key"),
    );
    provision(&db, &key, &RFC6238.sha1_secret());
    let get = [
        "get-totp-code",
        "--username",
        "agent_alpha_a1",
        "--at",
        "59",
    ];

    let other_key = dir.path().join("other.key");
    StoreKey::create_file(&other_key).unwrap();
    let output = TotpHost::on(&db).sealed(&other_key).run(&get);
    assert_eq!(output.status.code(), Some(1));
    let result = parse(&stdout(&output));
    assert_eq!(result["error_code"], "host_error");
    assert_eq!(
        result["error"],
        "Host error: cannot decrypt the stored secret"
    );

    // The sealed value copied onto another agent's row does not open there.
    let connection = rusqlite::Connection::open(&db).unwrap();
    let sealed: String = connection
        .query_row(
            "SELECT totp_secret FROM users WHERE username = 'agent_alpha_a1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(sealed.starts_with("enc:v1:"), "{sealed}");
    connection
        .execute(
            "INSERT INTO users (username, is_agent, totp_secret) VALUES ('agent_alpha_a2', 1, ?1)",
            [&sealed],
        )
        .unwrap();
    let output =
        TotpHost::on(&db)
            .sealed(&key)
            .run(&["get-totp-code", "--username", "agent_alpha_a2"]);
    let text = stdout(&output);
    assert_eq!(
        parse(&text)["error"],
        "Host error: cannot decrypt the stored secret"
    );
    assert!(!text.contains(&sealed[7..20]), "{text}");

    // A key file others can read is refused.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let output = TotpHost::on(&db).sealed(&key).run(&get);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("chmod 600"),
        "{output:?}"
    );
}

#[test]
fn plain_rows_keep_working_until_store_encrypt_seals_them() {
    let dir = tempfile::tempdir().unwrap();
    let (db, key) = (
        dir.path().join("store.sqlite3"),
        dir.path().join("store.key"),
    );
    let secret = RFC6238.sha1_secret();
    let store = totp_host::Store::sqlite(&db).unwrap();
    store.put_user("agent_x_1", true, Some(&secret)).unwrap();
    store
        .put_user("agent_x_2", true, Some(&secret.to_lowercase()))
        .unwrap();
    store.put_user("agent_x_3", true, None).unwrap();
    drop(store);
    let get = ["get-totp-code", "--username", "agent_x_1", "--at", "59"];
    let before = stdout(&TotpHost::on(&db).sealed(&key).run(&get));
    assert_eq!(parse(&before)["totp_code"], RFC6238.sha1_code(59));

    let sealed = TotpHost::on(&db).sealed(&key).run(&["store", "encrypt"]);
    assert!(sealed.status.success(), "{sealed:?}");
    assert_eq!(parse(&stdout(&sealed))["sealed"], 2);
    assert_eq!(leaked(&std::fs::read(&db).unwrap(), &secret), None);
    assert_eq!(stdout(&TotpHost::on(&db).sealed(&key).run(&get)), before);
    let again = TotpHost::on(&db).sealed(&key).run(&["store", "encrypt"]);
    assert_eq!(parse(&stdout(&again))["sealed"], 0, "idempotent");
}

fn cached_tool(dir: &Path, key: &StoreKey) -> TotpTool {
    TotpTool::cached(dir, key, SandboxConfig::default(), Audit::Off).expect("the component loads")
}

#[test]
fn a_tampered_cache_is_never_deserialized() {
    let dir = tempfile::tempdir().unwrap();
    let cache_dir = dir.path().join("cache");
    let key = StoreKey::generate().unwrap();
    let tool = cached_tool(&cache_dir, &key);
    let path = cache::cache_path(tool.wasmtime_engine(), &cache_dir);
    let good = cache::verify(&path, &key).expect("the cache verifies after a compile");
    drop(tool);

    // Another user's key cannot vouch for it.
    let stranger = StoreKey::generate().unwrap();
    assert_eq!(
        cache::verify(&path, &stranger),
        Err(Rejection::DigestMismatch(path.clone()))
    );

    // A flipped byte, or another file swapped in under the same name.
    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    for tampered in [flipped, b"\x7fELF not the component".to_vec()] {
        std::fs::write(&path, &tampered).unwrap();
        assert_eq!(
            cache::verify(&path, &key),
            Err(Rejection::DigestMismatch(path.clone()))
        );
        // Loading recompiles and replaces it.
        drop(cached_tool(&cache_dir, &key));
        assert_eq!(cache::verify(&path, &key).unwrap(), good);
    }

    // Writable by others: the file, then the directory.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
    assert_eq!(
        cache::verify(&path, &key),
        Err(Rejection::Writable(path.clone()))
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(&cache_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    assert_eq!(
        cache::verify(&path, &key),
        Err(Rejection::Writable(cache_dir.clone()))
    );
    std::fs::set_permissions(&cache_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    assert!(cache::verify(&path, &key).is_ok());

    // Owned by someone else (the suite runs as root on CI, which may chown).
    let chowned = Command::new("chown").arg("65534").arg(&path).status();
    if chowned.is_ok_and(|status| status.success()) {
        assert_eq!(
            cache::verify(&path, &key),
            Err(Rejection::NotOwned(path.clone()))
        );
    }
}
