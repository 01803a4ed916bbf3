//! The `totp-host` binary, as an operator runs it.

use std::process::Output;

use serde_json::Value;

use crate::util::RFC6238;
use crate::util::TotpHost;

fn json(output: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {stdout:?}, stderr {:?}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

#[test]
fn provisioning_then_code_through_the_tool_node() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nested").join("store.sqlite3");
    let linked = TotpHost::on(&db).run(&[
        "link-tool",
        "--workflow",
        "wf-1",
        "--slug",
        "my-workflow",
        "--tool-node",
        "tool_totp",
        "--agent-node",
        "agent_abc123",
    ]);
    assert!(linked.status.success(), "{linked:?}");

    let created = TotpHost::on(&db).input(&RFC6238.sha1_secret()).run(&[
        "create-agent-user",
        "--workflow",
        "wf-1",
        "--tool-node",
        "tool_totp",
        "--secret",
        "-",
    ]);
    assert!(created.status.success(), "{created:?}");
    let created = json(&created);
    assert_eq!(created["username"], "agent_my-workflow_agent_abc123");
    assert_eq!(created["already_existed"], false);
    assert!(
        created.get("totp_secret").is_none(),
        "secret printed without --show-secret"
    );

    let again = json(&TotpHost::on(&db).run(&[
        "create-agent-user",
        "--workflow",
        "wf-1",
        "--tool-node",
        "tool_totp",
    ]));
    assert_eq!(again["already_existed"], true);

    let output = TotpHost::on(&db).run(&[
        "get-totp-code",
        "--workflow",
        "wf-1",
        "--node",
        "tool_totp",
        "--at",
        "59",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let result = json(&output);
    assert_eq!(result["username"], "agent_my-workflow_agent_abc123");
    assert_eq!(result["totp_code"], RFC6238.sha1_code(59));
}

#[test]
fn fresh_secrets_are_160_bits_and_shown_only_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite3");
    let created = json(&TotpHost::on(&db).run(&[
        "create-agent-user",
        "--workflow",
        "wf-1",
        "--tool-node",
        "tool_x",
        "--show-secret",
    ]));
    // No tool edge: the reference fallback name.
    assert_eq!(created["username"], "agent_wf-1_tool_x");
    let secret = created["totp_secret"].as_str().unwrap();
    assert_eq!(secret.len(), 32, "20 bytes in unpadded base32");
    let output = TotpHost::on(&db).run(&["get-totp-code", "--username", "agent_wf-1_tool_x"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
}

#[test]
fn exit_status_follows_success() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite3");
    let output = TotpHost::on(&db).run(&["get-totp-code", "--username", "agent_nobody"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(json(&output)["error_code"], "user_not_found");

    let output = TotpHost::on(&db).run(&["get-totp-code"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(json(&output)["error_code"], "no_context");

    let output = TotpHost::on(&db).run(&["get-totp-code", "--workflow", "wf-1"]);
    assert_eq!(output.status.code(), Some(2), "--workflow needs --node");
    let output = TotpHost::on(&db).run(&["get-totp-code", "--at", "yesterday"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn invalid_secret_is_refused_before_storing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite3");
    let output = TotpHost::on(&db).input("NOT*BASE32").run(&[
        "create-agent-user",
        "--workflow",
        "wf-1",
        "--tool-node",
        "tool_x",
        "--secret",
        "-",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&output.stderr).contains("NOT*BASE32"));
    let output = TotpHost::on(&db).run(&["get-totp-code", "--username", "agent_wf-1_tool_x"]);
    assert_eq!(json(&output)["error_code"], "user_not_found");
}

#[test]
fn describe_prints_the_tool_definition() {
    let dir = tempfile::tempdir().unwrap();
    let output = TotpHost::on(&dir.path().join("s.sqlite3")).run(&["describe"]);
    assert!(output.status.success());
    assert_eq!(json(&output)["name"], "get_totp_code");
}

#[test]
fn create_agent_user_accepts_and_validates_key_uris() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite3");
    let secret = RFC6238.sha1_secret();
    let uri = format!("otpauth://totp/ACME:agent?secret={secret}&digits=8&issuer=ACME");
    let created = TotpHost::on(&db).input(&uri).run(&[
        "create-agent-user",
        "--workflow",
        "wf-1",
        "--tool-node",
        "t1",
        "--secret",
        "-",
    ]);
    assert!(created.status.success(), "{created:?}");
    let result = json(&TotpHost::on(&db).run(&[
        "get-totp-code",
        "--username",
        "agent_wf-1_t1",
        "--at",
        "59",
    ]));
    assert_eq!(result["totp_code"], RFC6238.sha1_code_8_digits(59));
    assert_eq!(result["digits"], 8);

    let bad = format!("otpauth://totp/a?secret={secret}&period=0");
    let refused = TotpHost::on(&db).input(&bad).run(&[
        "create-agent-user",
        "--workflow",
        "wf-1",
        "--tool-node",
        "t2",
        "--secret",
        "-",
    ]);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("period") && !stderr.contains(&secret),
        "{stderr}"
    );
    let result = json(&TotpHost::on(&db).run(&["get-totp-code", "--username", "agent_wf-1_t2"]));
    assert_eq!(result["error_code"], "user_not_found", "nothing stored");
}

#[test]
fn policy_flag_widens_to_any_agent() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite3");
    for (workflow, slug, tool, agent) in
        [("wf-1", "alpha", "t1", "a1"), ("wf-2", "beta", "t2", "a2")]
    {
        TotpHost::on(&db).run(&[
            "link-tool",
            "--workflow",
            workflow,
            "--slug",
            slug,
            "--tool-node",
            tool,
            "--agent-node",
            agent,
        ]);
        TotpHost::on(&db).run(&[
            "create-agent-user",
            "--workflow",
            workflow,
            "--tool-node",
            tool,
        ]);
    }
    let cross = [
        "get-totp-code",
        "--workflow",
        "wf-1",
        "--node",
        "t1",
        "--username",
        "agent_beta_a2",
    ];
    assert_eq!(
        json(&TotpHost::on(&db).run(&cross))["error_code"],
        "access_denied"
    );
    let mut widened = vec!["--policy", "any-agent"];
    widened.extend(cross);
    let output = TotpHost::on(&db).run(&widened);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
}
/// A secret written on the command line is refused, without being
/// repeated, and nothing is stored; `--secret-file` and `--secret -` are
/// what the refusal names, and a file is read like standard input.
#[test]
fn a_secret_on_the_command_line_is_refused_and_a_file_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite3");
    let secret = RFC6238.sha1_secret();
    let create = |extra: &[&str]| {
        let mut args = vec![
            "create-agent-user",
            "--workflow",
            "wf-1",
            "--tool-node",
            "t1",
        ];
        args.extend_from_slice(extra);
        TotpHost::on(&db).run(&args)
    };
    let refused = create(&["--secret", &secret]);
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("--secret -") && stderr.contains("--secret-file"),
        "{stderr}"
    );
    let printed = format!("{stderr}{}", String::from_utf8_lossy(&refused.stdout));
    assert!(!printed.contains(&secret), "{printed}");
    let output = TotpHost::on(&db).run(&["get-totp-code", "--username", "agent_wf-1_t1"]);
    assert_eq!(json(&output)["error_code"], "user_not_found");

    let file = dir.path().join("secret.txt");
    std::fs::write(&file, format!("{secret}\n")).unwrap();
    let created = create(&["--secret-file", file.to_str().unwrap()]);
    assert!(created.status.success(), "{created:?}");
    let result = json(&TotpHost::on(&db).run(&[
        "get-totp-code",
        "--username",
        "agent_wf-1_t1",
        "--at",
        "59",
    ]));
    assert_eq!(result["totp_code"], RFC6238.sha1_code(59), "{result}");

    let missing = create(&["--secret-file", "/nonexistent/secret"]);
    assert_eq!(missing.status.code(), Some(2), "{missing:?}");
    let empty = TotpHost::on(&db).input("\n").run(&[
        "create-agent-user",
        "--workflow",
        "wf-1",
        "--tool-node",
        "t2",
        "--secret",
        "-",
    ]);
    assert_eq!(empty.status.code(), Some(2), "{empty:?}");
}
