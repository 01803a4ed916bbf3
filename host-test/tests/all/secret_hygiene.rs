//! A recognisable secret through every path that fails: neither the tool's
//! JSON nor anything the reference host prints may contain any 8-character
//! piece of it.

use serde_json::Value;
use totp_host::AccessPolicy;

use crate::util::*;

/// Valid base32, so that only the damage done to it below makes it invalid.
const SECRET: &str = "KRUGS4ZANFZSAYJAON2XAZLSEBZWKY3SMV2A";

fn stored_forms() -> Vec<(String, &'static str)> {
    let uri = |query: &str| format!("otpauth://totp/ACME:agent?secret={SECRET}&{query}");
    vec![
        (format!("{SECRET}!"), "invalid_secret"),
        (
            format!("{}={}", &SECRET[..16], &SECRET[16..]),
            "invalid_secret",
        ),
        // 35 symbols: not a whole number of bytes.
        (SECRET[..SECRET.len() - 1].to_owned(), "invalid_secret"),
        (format!("{SECRET}1"), "invalid_secret"),
        (uri("digits=9"), "invalid_secret"),
        (uri("period=0"), "invalid_secret"),
        (uri("algorithm=MD5"), "invalid_secret"),
        (uri(&format!("secret={SECRET}")), "invalid_secret"),
        (uri("issuer=Other"), "invalid_secret"),
        (
            format!("otpauth://totp/a?secret={}%FF", &SECRET[..30]),
            "invalid_secret",
        ),
        (
            format!("otpauth://hotp/a?secret={SECRET}&counter=1"),
            "unsupported_secret",
        ),
        (
            format!("otpauth://xotp/a?secret={SECRET}"),
            "invalid_secret",
        ),
        // A secret so large the call hits the memory cap.
        (SECRET.repeat(200_000), "host_error"),
    ]
}

#[track_caller]
fn assert_no_piece_of_secret(text: &str, context: &str) {
    for window in SECRET.as_bytes().windows(8) {
        let piece = std::str::from_utf8(window).unwrap();
        assert!(
            !text.contains(piece),
            "{context}: {piece:?} of the secret in {text:.300}"
        );
    }
}

#[test]
fn no_error_result_contains_the_secret() {
    for (stored, code) in stored_forms() {
        let directory = store();
        directory
            .put_user("agent_wf_n1", true, Some(&stored))
            .unwrap();
        let call = call_at(directory, 59);
        // The JSON an agent gets, sandbox failures included.
        let text = tool().get_totp_code(&call, "agent_wf_n1");
        let result: Value = serde_json::from_str(&text).unwrap();
        assert_error(&result, code);
        assert_no_piece_of_secret(&text, &stored[..stored.len().min(60)]);
        let invoked = tool().invoke(&call, r#"{"username": "agent_wf_n1"}"#);
        assert_no_piece_of_secret(&invoked, "invoke");
    }
    // People's accounts and refusals say nothing of the secret either.
    let directory = store();
    directory.put_user("alice", false, Some(SECRET)).unwrap();
    let call = call_at(directory, 59);
    for policy in [AccessPolicy::OwnWorkflow, AccessPolicy::Unrestricted] {
        let result = get(&call.clone().with_policy(policy), "alice");
        assert_no_piece_of_secret(&result.to_string(), "person");
    }
}

#[test]
fn the_cli_prints_no_secret_on_any_path() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite3");
    let directory = totp_host::Store::sqlite(&db).unwrap();
    let forms = stored_forms();
    for (i, (stored, _)) in forms.iter().enumerate() {
        directory
            .put_user(&format!("agent_wf_{i}"), true, Some(stored))
            .unwrap();
    }
    drop(directory);
    let run = |args: &[&str], input: &str| {
        let output = TotpHost::on(&db).input(input).run(args);
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    };
    for i in 0..forms.len() {
        let printed = run(
            &["get-totp-code", "--username", &format!("agent_wf_{i}")],
            "",
        );
        let result: Value = serde_json::from_str(printed.lines().next().unwrap()).unwrap();
        assert_eq!(result["success"], false, "{printed}");
        assert_no_piece_of_secret(&printed, "get-totp-code");
    }
    for (stored, _) in forms.iter().take(forms.len() - 1) {
        let printed = run(
            &[
                "create-agent-user",
                "--workflow",
                "wf-x",
                "--tool-node",
                "t",
                "--secret",
                "-",
            ],
            stored,
        );
        assert_no_piece_of_secret(&printed, "create-agent-user");
    }
}

#[test]
fn debug_output_of_secret_bearing_types_is_redacted() {
    let directory = totp_host::MemoryDirectory::one_agent("agent_x", SECRET);
    assert_no_piece_of_secret(&format!("{directory:?}"), "MemoryDirectory");
    let user = totp_host::Directory::find_user(&directory, "agent_x").unwrap();
    assert_no_piece_of_secret(&format!("{user:?}"), "User");
    let key = get_totp_code::secret::TotpKey::parse(SECRET).unwrap();
    assert_no_piece_of_secret(&format!("{key:?}"), "TotpKey");
}
