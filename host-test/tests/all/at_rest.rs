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
    TotpHost::on(db)
        .sealed(key)
        .provision("wf-1", "alpha", "t1", "a1", secret);
}

/// A user row written as is, as another tool (or an attacker) would.
fn insert_user_row(db: &Path, username: &str, stored: &str) {
    rusqlite::Connection::open(db)
        .unwrap()
        .execute(
            "INSERT INTO users (username, is_agent, totp_secret) VALUES (?1, 1, ?2)",
            [username, stored],
        )
        .unwrap();
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
    insert_user_row(&db, "agent_alpha_a2", &sealed);
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

/// Every secret of `db`, in username order, as stored.
fn stored_secrets(db: &Path) -> Vec<(String, String)> {
    let connection = rusqlite::Connection::open(db).unwrap();
    let mut statement = connection
        .prepare("SELECT username, totp_secret FROM users ORDER BY username")
        .unwrap();
    statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn code_at_59(db: &Path, key: &Path, username: &str) -> serde_json::Value {
    parse(&stdout(&TotpHost::on(db).sealed(key).run(&[
        "get-totp-code",
        "--username",
        username,
        "--at",
        "59",
    ])))
}

/// `store rekey`: every secret, sealed or plain, is sealed under the new
/// key; codes are unchanged; the old key opens no row.
#[test]
fn store_rekey_reseals_every_secret_and_the_old_key_opens_none() {
    let dir = tempfile::tempdir().unwrap();
    let (db, key) = (
        dir.path().join("store.sqlite3"),
        dir.path().join("store.key"),
    );
    let secret = RFC6238.sha1_secret();
    provision(&db, &key, &secret);
    // A plain row, as another tool would write it.
    insert_user_row(&db, "agent_plain", &secret);
    let before = stored_secrets(&db);

    let new_key = dir.path().join("new.key");
    let output = TotpHost::on(&db).sealed(&key).rekey(&new_key);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(parse(&stdout(&output))["resealed"], 2, "{output:?}");
    assert_eq!(
        std::fs::metadata(&new_key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let after = stored_secrets(&db);
    for ((user, old), (_, new)) in before.iter().zip(&after) {
        assert_ne!(old, new, "{user} was not re-sealed");
        assert!(new.starts_with("enc:v1:"), "{user}: {new}");
    }
    for user in ["agent_alpha_a1", "agent_plain"] {
        assert_eq!(
            code_at_59(&db, &new_key, user)["totp_code"],
            RFC6238.sha1_code(59),
            "{user}"
        );
        assert_eq!(code_at_59(&db, &key, user)["error_code"], "host_error");
    }

    // Run again: rows already under the new key stay; a straggler written
    // under the old key meanwhile (a host not yet switched) is re-sealed.
    let rekey = || TotpHost::on(&db).sealed(&key).rekey(&new_key);
    assert_eq!(parse(&stdout(&rekey()))["resealed"], 0);
    let old = StoreKey::read_file(&key).unwrap();
    let straggler = old.seal("agent_late", &RFC6238.sha1_secret()).unwrap();
    insert_user_row(&db, "agent_late", &straggler);
    assert_eq!(parse(&stdout(&rekey()))["resealed"], 1);
    assert_eq!(
        code_at_59(&db, &new_key, "agent_late")["totp_code"],
        RFC6238.sha1_code(59)
    );
}

/// A row the current key cannot open stops the re-keying: nothing changes,
/// the message says every secret is still under the current key, and the
/// current key still opens every row it did.
#[test]
fn a_failed_rekey_changes_nothing_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (db, key) = (
        dir.path().join("store.sqlite3"),
        dir.path().join("store.key"),
    );
    provision(&db, &key, &RFC6238.sha1_secret());
    // Sealed under another key, and last in the rewrite's order.
    let stranger = StoreKey::generate().unwrap();
    let foreign = stranger.seal("agent_zz", &RFC6238.sha1_secret()).unwrap();
    insert_user_row(&db, "agent_zz", &foreign);
    let before = stored_secrets(&db);

    let new_key = dir.path().join("new.key");
    let output = TotpHost::on(&db).sealed(&key).rekey(&new_key);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("changed nothing")
            && stderr.contains("still sealed under the current key")
            && stderr.contains("agent_zz"),
        "{stderr}"
    );
    assert_eq!(stored_secrets(&db), before);
    assert_eq!(
        code_at_59(&db, &key, "agent_alpha_a1")["totp_code"],
        RFC6238.sha1_code(59)
    );
}

/// After a re-keying the precompiled cache verifies under the new key
/// only, without a compile.
#[test]
fn rekeying_signs_the_cache_again() {
    let dir = tempfile::tempdir().unwrap();
    let cache_dir = dir.path().join("cache");
    let (old, new) = (StoreKey::generate().unwrap(), StoreKey::generate().unwrap());
    let tool = cached_tool(&cache_dir, &old);
    let path = cache::cache_path(tool.wasmtime_engine(), &cache_dir);
    let compiled = cache::verify(&path, &old).unwrap();
    assert_eq!(cache::resign(&cache_dir, &old, &new), 1);
    assert_eq!(cache::verify(&path, &new).unwrap(), compiled);
    assert_eq!(
        cache::verify(&path, &old),
        Err(Rejection::DigestMismatch(path.clone()))
    );
    // A copy the old key does not vouch for is left for a recompile.
    assert_eq!(cache::resign(&cache_dir, &old, &new), 0);
}

/// A key file made in an existing directory leaves that directory's mode
/// alone (a shared one must not become private); directories it has to
/// make are private.
#[test]
fn a_new_key_file_changes_no_existing_directorys_mode() {
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o755)).unwrap();
    StoreKey::create_file(&shared.join("store.key")).unwrap();
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&shared), 0o755);
    let made = shared.join("made/for/the/key");
    StoreKey::create_file(&made.join("store.key")).unwrap();
    assert_eq!(mode(&made), 0o700);
    assert_eq!(mode(&shared.join("made")), 0o700);
}
