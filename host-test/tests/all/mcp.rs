//! `totp-host mcp` driven by a client no one here wrote: the official MCP
//! Python SDK (host-test/tests/mcp/client.py, in the venv of
//! `other_hosts`), over stdio and streamable HTTP. Codes are compared with
//! pyotp's for the same secret at the same pinned time (`--test-now`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use totp_host::{AuditFilter, NodeRef, Store, StoreKey};

use crate::util::{parse, tool};
use totp_test_support::python::{repo_root, venv_python};

/// The pinned time of every call here.
const NOW: u64 = 1_760_000_000;

const BIN: &str = env!("CARGO_BIN_EXE_totp-host");

/// A store with agents in two workflows and a person: workflow `wf-a`
/// (slug `alpha`) has tool nodes `tool_a` and `tool_a2`, each linked to its
/// own agent; `wf-b` (slug `beta`) has `tool_b`. Secrets are fresh each
/// run and sealed at rest under the fixture's key.
struct Fixture {
    dir: tempfile::TempDir,
    secrets: Value,
}

const AGENT_A: &str = "agent_alpha_agent_a1";
const AGENT_A2: &str = "agent_alpha_agent_a2";
const AGENT_B: &str = "agent_beta_agent_b1";
const PERSON: &str = "alice";

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let fixture = Fixture {
            dir,
            secrets: json!({}),
        };
        let key = StoreKey::locate(Some(&fixture.key()), true)
            .unwrap()
            .unwrap();
        let store = Store::sqlite(&fixture.db()).unwrap().with_key(key);
        let mut secrets = serde_json::Map::new();
        for (workflow, slug, tool_node, agent_node) in [
            ("wf-a", "alpha", "tool_a", "agent_a1"),
            ("wf-a", "alpha", "tool_a2", "agent_a2"),
            ("wf-b", "beta", "tool_b", "agent_b1"),
        ] {
            store
                .link_tool(workflow, slug, tool_node, agent_node)
                .unwrap();
            let secret = totp_host::store::fresh_secret().unwrap();
            let made = store
                .create_agent_user(&NodeRef::new(workflow, tool_node), Some(&secret))
                .unwrap();
            secrets.insert(made.username, secret.as_str().into());
        }
        let person = totp_host::store::fresh_secret().unwrap();
        store.put_user(PERSON, false, Some(&person)).unwrap();
        secrets.insert(PERSON.to_owned(), person.as_str().into());
        Fixture {
            secrets: Value::Object(secrets),
            ..fixture
        }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("store.sqlite3")
    }

    fn key(&self) -> PathBuf {
        self.dir.path().join("store.key")
    }

    /// `totp-host --db ... --key-file ...` followed by `args`.
    fn command(&self, args: &[&str]) -> Vec<String> {
        let mut command = vec![
            BIN.to_owned(),
            "--db".to_owned(),
            self.db().display().to_string(),
            "--key-file".to_owned(),
            self.key().display().to_string(),
        ];
        command.extend(args.iter().map(|arg| (*arg).to_owned()));
        command
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        let command = self.command(args);
        Command::new(&command[0])
            .args(&command[1..])
            .output()
            .unwrap()
    }

    /// pyotp's code for each fixture user at `NOW`.
    fn expected(&self) -> Value {
        client(&json!({"mode": "expected", "secrets": self.secrets, "now": NOW}))
    }

    /// `token create`: (token, id).
    fn token(&self, node: &str) -> (String, String) {
        let workflow = if node == "tool_b" { "wf-b" } else { "wf-a" };
        let output = self.run(&["token", "create", "--workflow", workflow, "--node", node]);
        assert!(output.status.success(), "{output:?}");
        let made = parse(String::from_utf8_lossy(&output.stdout).trim());
        (
            made["token"].as_str().unwrap().to_owned(),
            made["id"].as_str().unwrap().to_owned(),
        )
    }

    fn audit(&self) -> Vec<totp_host::AuditEvent> {
        Store::sqlite(&self.db())
            .unwrap()
            .audit_events(&AuditFilter::default())
            .unwrap()
    }
}

/// Runs client.py with `plan` and returns its report.
pub(crate) fn client(plan: &Value) -> Value {
    let script = repo_root().join("host-test/tests/mcp/client.py");
    let mut child = Command::new(venv_python())
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(plan.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "client.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    parse(String::from_utf8_lossy(&output.stdout).trim())
}

/// A `totp-host mcp --http 127.0.0.1:0` of the fixture; SIGTERM on drop.
struct HttpServer {
    child: Child,
    url: String,
    /// `--metrics`: where its own listener's /metrics is.
    metrics_url: Option<String>,
    /// Everything it wrote on stderr so far.
    stderr: Arc<Mutex<String>>,
}

/// The first `http://...` URL in a log line, text or JSON.
fn url_in(line: &str) -> Option<String> {
    let at = line.find("http://")?;
    let url = &line[at..];
    let end = url
        .find(|c: char| c == '"' || c.is_whitespace())
        .unwrap_or(url.len());
    Some(url[..end].to_owned())
}

impl HttpServer {
    fn start(fixture: &Fixture, extra: &[&str]) -> Self {
        let now = NOW.to_string();
        let mut args = vec!["mcp", "--http", "127.0.0.1:0", "--test-now", &now];
        args.extend_from_slice(extra);
        let command = fixture.command(&args);
        let mut child = Command::new(&command[0])
            .args(&command[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let log = Arc::new(Mutex::new(String::new()));
        let mut line = String::new();
        let mut metrics_url = None;
        let url = loop {
            line.clear();
            if stderr.read_line(&mut line).unwrap() == 0 {
                panic!("the server exited: {:?}", child.wait());
            }
            log.lock().unwrap().push_str(&line);
            match url_in(&line) {
                Some(url) if url.ends_with("/mcp") => break url,
                Some(url) if url.ends_with("/metrics") => metrics_url = Some(url),
                _ => {}
            }
        };
        // Keep reading its log so that it never blocks on a full pipe.
        let sink = log.clone();
        std::thread::spawn(move || {
            let mut line = String::new();
            while matches!(stderr.read_line(&mut line), Ok(n) if n > 0) {
                sink.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
        HttpServer {
            child,
            url,
            metrics_url,
            stderr: log,
        }
    }

    /// `host:port` of its --http listener.
    fn addr(&self) -> SocketAddr {
        self.url
            .trim_start_matches("http://")
            .trim_end_matches("/mcp")
            .parse()
            .unwrap()
    }

    /// Its stderr once it has stopped (SIGTERM, then the reader's end).
    fn stop_and_log(mut self) -> String {
        self.signal_term();
        assert!(self.child.wait().unwrap().success());
        // The reader thread sees the pipe close right after.
        std::thread::sleep(std::time::Duration::from_millis(200));
        self.stderr.lock().unwrap().clone()
    }

    /// SIGTERM, then the exit status (graceful shutdown).
    fn terminate(mut self) -> std::process::ExitStatus {
        self.signal_term();
        self.child.wait().unwrap()
    }

    fn signal_term(&self) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: signalling our own child process by its pid.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[track_caller]
fn assert_code(result: &Value, username: &str, expected: &Value) {
    assert_eq!(result["is_error"], false, "{result}");
    let structured = &result["structured"];
    assert_eq!(structured["success"], true, "{result}");
    assert_eq!(structured["username"], username, "{result}");
    assert_eq!(structured["totp_code"], expected[username], "{result}");
    // The text content is the same object.
    assert_eq!(parse(result["text"][0].as_str().unwrap()), *structured);
}

#[track_caller]
fn assert_error(result: &Value, code: &str) {
    assert_eq!(result["is_error"], true, "{result}");
    assert_eq!(result["structured"]["success"], false, "{result}");
    assert_eq!(result["structured"]["error_code"], code, "{result}");
    assert!(result["structured"].get("totp_code").is_none(), "{result}");
}

/// No secret of the fixture anywhere in a report.
#[track_caller]
fn assert_no_secret(fixture: &Fixture, report: &Value) {
    let text = report.to_string();
    for secret in fixture.secrets.as_object().unwrap().values() {
        assert!(!text.contains(secret.as_str().unwrap()), "secret in {text}");
    }
}

/// The calls every transport is tried with, in this order.
fn calls() -> Value {
    json!([
        {"arguments": {}},
        {"arguments": {"username": AGENT_B}},
        {"arguments": {"username": PERSON}},
        {"arguments": {"username": 42}},
        {"arguments": {"user": AGENT_A}},
        {"arguments": {"username": AGENT_A}},
        {"name": "no_such_tool", "arguments": {}},
    ])
}

/// What every transport must answer to `calls()` from tool node `tool_a`.
fn check_session(fixture: &Fixture, report: &Value) {
    let expected = fixture.expected();
    assert_eq!(report["initialize"]["serverInfo"]["name"], "totp-host");
    assert_eq!(
        report["initialize"]["serverInfo"]["version"],
        env!("CARGO_PKG_VERSION")
    );
    // tools/list is the component's describe(), restated nowhere.
    let described = parse(&tool().describe().unwrap());
    let tools = report["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 1, "{tools:?}");
    assert_eq!(tools[0]["name"], described["name"]);
    assert_eq!(tools[0]["description"], described["description"]);
    assert_eq!(tools[0]["inputSchema"], described["parameters"]);
    assert_eq!(tools[0]["outputSchema"], totp_host::mcp::output_schema());
    // As the official client reads them: a title, read-only, closed world,
    // and no idempotency claimed (the code changes every period).
    assert_eq!(tools[0]["title"], totp_host::mcp::server::TITLE);
    let hints = &tools[0]["annotations"];
    assert_eq!(hints["readOnlyHint"], true, "{hints}");
    assert_eq!(hints["openWorldHint"], false, "{hints}");
    assert!(hints.get("idempotentHint").is_none(), "{hints}");

    let results = report["results"].as_array().unwrap();
    assert_code(&results[0], AGENT_A, &expected);
    assert_error(&results[1], "access_denied");
    // A person's account never has a code, whoever asks.
    assert_error(&results[2], "access_denied");
    assert_error(&results[3], "invalid_arguments");
    assert_error(&results[4], "invalid_arguments");
    assert_code(&results[5], AGENT_A, &expected);
    // An unknown tool is a protocol error, not a crash: invalid params, as
    // the MCP specification's tools section has it.
    assert_eq!(results[6]["code"], -32602, "unknown tool: {}", results[6]);
    assert_eq!(report["alive"], true);
    assert_no_secret(fixture, report);
}

#[test]
fn stdio_session_is_its_tool_node() {
    let fixture = Fixture::new();
    let now = NOW.to_string();
    let command = fixture.command(&[
        "mcp",
        "--workflow",
        "wf-a",
        "--node",
        "tool_a",
        "--test-now",
        &now,
    ]);
    let report = client(&json!({"mode": "session", "transport": "stdio",
        "command": command, "calls": calls()}));
    check_session(&fixture, &report);
    // Every call that reached the tool is on record, as the CLI's are.
    let events = fixture.audit();
    assert_eq!(events.len(), 6, "{events:?}");
    assert!(
        events
            .iter()
            .all(|e| e.workflow_id.as_deref() == Some("wf-a")
                && e.node_id.as_deref() == Some("tool_a")
                && e.token_id.is_none())
    );
    assert_eq!(
        events.iter().filter(|e| e.outcome == "issued").count(),
        2,
        "{events:?}"
    );
}

#[test]
fn http_each_token_is_its_tool_node() {
    let fixture = Fixture::new();
    let (token_a, id_a) = fixture.token("tool_a");
    let (token_a2, id_a2) = fixture.token("tool_a2");
    let server = HttpServer::start(&fixture, &[]);
    let plan = |token: &str, calls: Value| {
        json!({"mode": "session", "transport": "http", "url": server.url,
            "token": token, "calls": calls})
    };
    let report = client(&plan(&token_a, calls()));
    check_session(&fixture, &report);
    let other = client(&plan(&token_a2, json!([{"arguments": {}}])));
    assert_code(&other["results"][0], AGENT_A2, &fixture.expected());

    let events = fixture.audit();
    assert_eq!(events.len(), 7, "{events:?}");
    let by_token = |id: &str| {
        events
            .iter()
            .filter(|e| e.token_id.as_deref() == Some(id))
            .collect::<Vec<_>>()
    };
    assert_eq!(by_token(&id_a).len(), 6);
    let a2 = by_token(&id_a2);
    assert_eq!(a2.len(), 1);
    assert_eq!(a2[0].node_id.as_deref(), Some("tool_a2"));
    assert_eq!(a2[0].username_resolved.as_deref(), Some(AGENT_A2));

    assert!(server.terminate().success(), "SIGTERM is a clean stop");
}

/// An `initialize` request as a client's first POST.
fn initialize_request(headers: Value) -> Value {
    json!({
        "method": "POST",
        "headers": merge(json!({
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
        }), headers),
        "body": {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "raw", "version": "0"}}},
    })
}

/// The HTTP status of each request of a raw report, in order.
fn statuses(report: &Value) -> Vec<u64> {
    report
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect()
}

fn merge(mut a: Value, b: Value) -> Value {
    if let (Some(a), Value::Object(b)) = (a.as_object_mut(), b) {
        a.extend(b);
    }
    a
}

#[test]
fn http_refuses_missing_wrong_and_revoked_tokens_and_foreign_origins() {
    let fixture = Fixture::new();
    let (token, _) = fixture.token("tool_a");
    let (revoked, revoked_id) = fixture.token("tool_a");
    let server = HttpServer::start(&fixture, &["--max-body-bytes", "4096"]);
    let port = server
        .url
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches("/mcp");
    // The soon-revoked token works until it is revoked, on the running server.
    let before = client(
        &json!({"mode": "session", "transport": "http", "url": server.url,
        "token": revoked, "calls": [{"arguments": {}}]}),
    );
    assert_code(&before["results"][0], AGENT_A, &fixture.expected());
    let output = fixture.run(&["token", "revoke", &revoked_id]);
    assert!(output.status.success(), "{output:?}");

    let bearer = |token: &str| json!({"Authorization": format!("Bearer {token}")});
    let report = client(&json!({"mode": "raw", "url": server.url, "requests": [
        initialize_request(json!({})),
        initialize_request(bearer("totpmcp_not-a-token")),
        initialize_request(bearer(&revoked)),
        initialize_request(json!({"Authorization": format!("Basic {token}")})),
        initialize_request(merge(bearer(&token), json!({"Origin": "http://evil.example"}))),
        initialize_request(merge(bearer(&token), json!({"Origin": format!("http://127.0.0.1:{port}")}))),
        initialize_request(merge(bearer(&token), json!({"Host": "evil.example"}))),
        merge(initialize_request(bearer(&token)), json!({"body": "x".repeat(10_000)})),
    ]}));
    let statuses = statuses(&report);
    for refused in &report.as_array().unwrap()[..4] {
        assert_eq!(refused["status"], 401, "{report}");
        assert_eq!(refused["www_authenticate"], "Bearer", "{report}");
        assert_eq!(refused["body"], "", "nothing else said: {report}");
    }
    assert_eq!(statuses[4], 403, "foreign Origin: {report}");
    assert_eq!(statuses[5], 200, "its own Origin: {report}");
    assert!((400..500).contains(&statuses[6]), "foreign Host: {report}");
    assert_eq!(statuses[7], 413, "body over the cap: {report}");
    assert_no_secret(&fixture, &report);
}

#[test]
fn http_over_the_call_rate_is_a_tool_error_and_the_server_goes_on() {
    let fixture = Fixture::new();
    let (token, _) = fixture.token("tool_a");
    let server = HttpServer::start(&fixture, &["--calls-per-minute", "2"]);
    let report = client(
        &json!({"mode": "session", "transport": "http", "url": server.url,
        "token": token, "calls": [{"arguments": {}}, {"arguments": {}}, {"arguments": {}}]}),
    );
    let results = report["results"].as_array().unwrap();
    let expected = fixture.expected();
    assert_code(&results[0], AGENT_A, &expected);
    assert_code(&results[1], AGENT_A, &expected);
    assert_error(&results[2], "host_error");
    assert!(
        results[2]["structured"]["error"]
            .as_str()
            .unwrap()
            .contains("rate limit"),
        "{report}"
    );
    assert_eq!(report["alive"], true);
    // The refused call is on the record too, as the host_error it got.
    let events = fixture.audit();
    let mut outcomes: Vec<&str> = events.iter().map(|e| e.outcome.as_str()).collect();
    outcomes.sort_unstable();
    assert_eq!(outcomes, ["host_error", "issued", "issued"], "{events:?}");
    let refused = events.iter().find(|e| e.outcome == "host_error").unwrap();
    assert!(
        refused
            .host_error
            .as_deref()
            .unwrap()
            .contains("rate limit"),
        "{refused:?}"
    );
    assert!(refused.token_id.is_some(), "{refused:?}");
    assert_eq!(refused.node_id.as_deref(), Some("tool_a"), "{refused:?}");
    // And on /metrics, as a host_error and as a rate-limited call.
    let metrics = client(
        &json!({"mode": "raw", "url": server.url.replace("/mcp", "/metrics"),
        "requests": [{"method": "GET"}]}),
    );
    let text = metrics[0]["body"].as_str().unwrap();
    for line in [
        "totp_mcp_tool_calls_total{outcome=\"issued\"} 2",
        "totp_mcp_tool_calls_total{outcome=\"host_error\"} 1",
        "totp_mcp_rate_limited_total 1",
        "totp_mcp_store_errors_total 0",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} not in {text}");
    }
}

#[test]
fn http_caps_open_sessions() {
    let fixture = Fixture::new();
    let (token, _) = fixture.token("tool_a");
    let server = HttpServer::start(&fixture, &["--max-sessions", "1"]);
    let bearer = json!({"Authorization": format!("Bearer {token}")});
    let report = client(&json!({"mode": "raw", "url": server.url, "requests": [
        initialize_request(bearer.clone()),
        initialize_request(bearer),
    ]}));
    assert_eq!(report[0]["status"], 200, "{report}");
    assert_eq!(report[1]["status"], 503, "{report}");
}

/// The cap holds when many `initialize` requests arrive at once: sessions
/// are counted where they are made, not only once they are open.
#[test]
fn http_session_cap_holds_under_simultaneous_initialize() {
    let fixture = Fixture::new();
    let (token, _) = fixture.token("tool_a");
    let server = HttpServer::start(&fixture, &["--max-sessions", "2"]);
    let bearer = json!({"Authorization": format!("Bearer {token}")});
    let requests: Vec<Value> = (0..12)
        .map(|_| initialize_request(bearer.clone()))
        .collect();
    let report = client(
        &json!({"mode": "raw", "url": server.url, "concurrent": true,
        "requests": requests}),
    );
    let statuses = statuses(&report);
    assert_eq!(
        statuses.iter().filter(|&&s| s == 200).count(),
        2,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|&&s| s == 503).count(),
        10,
        "{statuses:?}"
    );
}

/// `GET /healthz` needs no token and names no user: 200 while the store
/// answers, 503 with the store's reason once it does not.
#[test]
fn http_healthz_needs_no_token_and_says_when_the_store_fails() {
    let fixture = Fixture::new();
    let (token, _) = fixture.token("tool_a");
    let server = HttpServer::start(&fixture, &[]);
    let health = server.url.replace("/mcp", "/healthz");
    let get = || client(&json!({"mode": "raw", "url": health, "requests": [{"method": "GET"}]}));
    let report = get();
    assert_eq!(report[0]["status"], 200, "{report}");
    let body: Value = serde_json::from_str(report[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["status"], "ok", "{body}");

    // The store loses a table under the running server.
    rusqlite::Connection::open(fixture.db())
        .unwrap()
        .execute_batch("DROP TABLE workflow_edges; DROP TABLE workflows;")
        .unwrap();
    let report = get();
    assert_eq!(report[0]["status"], 503, "{report}");
    let body: Value = serde_json::from_str(report[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["status"], "unavailable", "{body}");
    assert!(body["reason"].as_str().unwrap().contains("store"), "{body}");
    let text = report.to_string();
    for name in [AGENT_A, AGENT_A2, AGENT_B, PERSON] {
        assert!(!text.contains(name), "{text}");
    }
    assert_no_secret(&fixture, &report);

    // A call that needs the lost tables is a host_error of the store's,
    // and /metrics counts it as one.
    let session = client(
        &json!({"mode": "session", "transport": "http", "url": server.url,
        "token": token, "calls": [{"arguments": {}}]}),
    );
    assert_error(&session["results"][0], "host_error");
    let metrics = client(
        &json!({"mode": "raw", "url": server.url.replace("/mcp", "/metrics"),
        "requests": [{"method": "GET"}]}),
    );
    let text = metrics[0]["body"].as_str().unwrap();
    for line in [
        "totp_mcp_tool_calls_total{outcome=\"host_error\"} 1",
        "totp_mcp_store_errors_total 1",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} not in {text}");
    }
}

/// `--allowed-host NAME`: a client that connects by that name (behind a
/// proxy, or to 0.0.0.0) is served; any other name is still refused.
#[test]
fn http_allowed_host_names_are_served_and_others_refused() {
    let fixture = Fixture::new();
    let (token, _) = fixture.token("tool_a");
    let server = HttpServer::start(&fixture, &["--allowed-host", "totp.example.com"]);
    let bearer = json!({"Authorization": format!("Bearer {token}")});
    let report = client(&json!({"mode": "raw", "url": server.url, "requests": [
        initialize_request(merge(bearer.clone(), json!({"Host": "totp.example.com"}))),
        initialize_request(merge(bearer.clone(), json!({"Host": "totp.example.com",
            "Origin": "https://totp.example.com"}))),
        initialize_request(merge(bearer, json!({"Host": "evil.example"}))),
    ]}));
    assert_eq!(report[0]["status"], 200, "{report}");
    assert_eq!(report[1]["status"], 200, "{report}");
    let refused = report[2]["status"].as_u64().unwrap();
    assert!((400..500).contains(&refused), "{report}");
}

#[test]
fn token_commands_print_a_token_once_and_list_none() {
    let fixture = Fixture::new();
    let (token, id) = fixture.token("tool_b");
    let listed = fixture.run(&["token", "list"]);
    assert!(listed.status.success());
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(
        listed.contains(&id) && listed.contains("tool_b"),
        "{listed}"
    );
    assert!(!listed.contains(&token), "{listed}");
    let store = std::fs::read(fixture.db()).unwrap();
    assert!(
        !store.windows(token.len()).any(|w| w == token.as_bytes()),
        "the token is in the store file"
    );
    assert_eq!(
        fixture.run(&["token", "revoke", &id]).status.code(),
        Some(0)
    );
    assert_eq!(
        fixture.run(&["token", "revoke", &id]).status.code(),
        Some(1)
    );
}

/// Calls per load client in `cargo test` (8 clients). The figure
/// is 2,000: `MCP_LOAD_CALLS=2000 cargo test --release --test all
/// mcp::http_load`, or host-test/bench/mcp/run.sh.
fn load_calls() -> u64 {
    std::env::var("MCP_LOAD_CALLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(250)
}

#[test]
fn http_load_many_clients_no_failures_flat_memory() {
    let fixture = Fixture::new();
    let clients: Vec<Value> = (0..8)
        .map(|i| {
            let node = if i % 2 == 0 { "tool_a" } else { "tool_a2" };
            let agent = if i % 2 == 0 { AGENT_A } else { AGENT_A2 };
            json!({"token": fixture.token(node).0, "agent": agent})
        })
        .collect();
    let (walk_away, _) = fixture.token("tool_b");
    let server = HttpServer::start(&fixture, &["--calls-per-minute", "100000000"]);
    let calls = load_calls();
    let report = client(
        &json!({"mode": "load", "transport": "http", "url": server.url, "clients": clients,
        "walk_away_token": walk_away, "warmup": 50, "calls": calls,
        "secrets": fixture.secrets, "now": NOW, "server_pid": server.child.id()}),
    );
    eprintln!("mcp load: {report}");
    assert_eq!(report["failures"], 0, "{report}");
    assert_eq!(report["calls"], calls * 8);
    let warm = report["rss_kib_warm"].as_u64().unwrap();
    let end = report["rss_kib_end"].as_u64().unwrap();
    // Flat: a leak of a few hundred bytes per call would pass the warm-up
    // figure by far more than this over 2,000+ calls.
    assert!(end <= warm + warm / 2 + 8192, "RSS {warm} KiB -> {end} KiB");
    assert!(server.terminate().success());
}

/// JSON-RPC's own errors, with the statuses the MCP specification gives:
/// a body that is not JSON (-32700, 400), not a JSON-RPC 2.0 message
/// object (-32600, 400), and a method with params of the wrong type
/// (-32602, 200).
#[test]
fn http_malformed_requests_get_the_protocols_own_errors() {
    let fixture = Fixture::new();
    let (token, _) = fixture.token("tool_a");
    let server = HttpServer::start(&fixture, &[]);
    let headers = json!({
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "Authorization": format!("Bearer {token}"),
    });
    let post = |body: Value| json!({"method": "POST", "headers": headers, "body": body});
    let call = |params: Value| {
        post(json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": params}))
    };
    let report = client(&json!({"mode": "raw", "url": server.url, "requests": [
        post(json!("{\"jsonrpc\": \"2.0\", \"id\": 1, ")),
        post(json!("42")),
        call(json!("get_totp_code")),
        call(json!({"name": 5})),
        call(json!({"name": "get_totp_code", "arguments": ["agent"]})),
        post(json!({"id": 1, "method": "ping"})),
        post(json!({"jsonrpc": "2.0", "id": true, "method": "ping"})),
        post(json!({"jsonrpc": "2.0", "id": 1, "method": 5})),
        post(json!({"jsonrpc": "2.0", "id": 8, "method": "tools/list", "params": "x"})),
        post(json!({"jsonrpc": "2.0", "id": 9, "method": "initialize", "params": {"x": 1}})),
        post(json!([])),
        post(json!([{"jsonrpc": "2.0", "id": 10, "method": "ping"}])),
        post(json!({"jsonrpc": "2.0", "id": 11, "method": "tools/list", "params": {"cursor": "x"}})),
    ]}));
    let expect = |i: usize, status: u64, code: i64| {
        let got = &report[i];
        assert_eq!(got["status"], status, "request {i}: {report}");
        let body: Value = serde_json::from_str(got["body"].as_str().unwrap())
            .unwrap_or_else(|e| panic!("request {i}: not JSON ({e}): {report}"));
        assert_eq!(body["jsonrpc"], "2.0", "{body}");
        assert_eq!(body["error"]["code"], code, "request {i}: {body}");
        body
    };
    // A string body is sent as it is: broken JSON, then a bare number.
    assert_eq!(expect(0, 400, -32700)["id"], Value::Null);
    expect(1, 400, -32600);
    for i in 2..5 {
        assert_eq!(expect(i, 200, -32602)["id"], 7);
    }
    // Not JSON-RPC 2.0: no "jsonrpc", an id of the wrong type, a method
    // that is not a string.
    for i in 5..8 {
        expect(i, 400, -32600);
    }
    // An MCP method with params it does not take (the SDK would say 415,
    // or -32601 for an initialize its catch-all takes).
    assert_eq!(expect(8, 200, -32602)["id"], 8);
    assert_eq!(expect(9, 200, -32602)["id"], 9);
    // A batch, empty or not: MCP has none (the SDK would say 415).
    expect(10, 400, -32600);
    expect(11, 400, -32600);
    // A cursor the server never gave out (the SDK would answer the list).
    assert_eq!(expect(12, 200, -32602)["id"], 11);
}

/// The protocol's errors as the official client meets them: an unknown
/// method (-32601), params of the wrong shape for a method (-32602) and an
/// unknown tool (-32602), each answered on HTTP 200 in a session that goes
/// on. (Malformed bodies, which the client cannot send, are the raw
/// requests of `http_malformed_requests_get_the_protocols_own_errors`.)
#[test]
fn http_protocol_errors_through_the_official_client() {
    let fixture = Fixture::new();
    let (token, _) = fixture.token("tool_a");
    let server = HttpServer::start(&fixture, &[]);
    let report = client(
        &json!({"mode": "session", "transport": "http", "url": server.url,
        "token": token,
        "calls": [{"name": "no_such_tool", "arguments": {}}, {"arguments": {}}],
        "requests": [
            {"method": "no/such/method", "params": {}},
            {"method": "logging/setLevel", "params": {"level": "loudest"}},
            {"method": "tools/call", "params": {"name": ["get_totp_code"]}},
            {"method": "tools/call", "params": {"name": "get_totp_code", "arguments": "agent"}},
            {"method": "ping"},
        ]}),
    );
    assert_eq!(report["results"][0]["code"], -32602, "{report}");
    assert_code(&report["results"][1], AGENT_A, &fixture.expected());
    let codes: Vec<&Value> = report["requests"].as_array().unwrap()[..4]
        .iter()
        .map(|r| &r["code"])
        .collect();
    assert_eq!(codes, [-32601, -32602, -32602, -32602], "{report}");
    assert!(report["requests"][4].get("result").is_some(), "{report}");
    assert_eq!(report["alive"], true);
}

/// `GET /metrics` (on the --http listener without a token, and on the
/// --metrics one) counts calls by outcome, their latency, sessions, 401s;
/// `--log-format json` writes one JSON object per line, the call's with
/// its request id (the response's `x-request-id`), token id, outcome and
/// latency. Neither holds a username, a token, a code or a secret.
#[test]
fn http_metrics_and_json_logs_name_no_one() {
    let fixture = Fixture::new();
    let (token, token_id) = fixture.token("tool_a");
    let server = HttpServer::start(
        &fixture,
        &["--log-format", "json", "--metrics", "127.0.0.1:0"],
    );
    let report = client(
        &json!({"mode": "session", "transport": "http", "url": server.url,
        "token": token, "calls": [{"arguments": {}}, {"arguments": {"username": AGENT_B}}]}),
    );
    let expected = fixture.expected();
    assert_code(&report["results"][0], AGENT_A, &expected);
    assert_error(&report["results"][1], "access_denied");
    let refused = client(&json!({"mode": "raw", "url": server.url, "requests": [
        initialize_request(json!({"Authorization": "Bearer totpmcp_nope"})),
    ]}));
    assert_eq!(refused[0]["status"], 401);
    let request_id = refused[0]["request_id"].as_str().unwrap();
    assert!(
        request_id.len() == 32 && request_id.chars().all(|c| c.is_ascii_hexdigit()),
        "{refused}"
    );

    let own = server.metrics_url.clone().expect("the --metrics listener");
    let main = server.url.replace("/mcp", "/metrics");
    for url in [&main, &own] {
        let scraped = client(&json!({"mode": "raw", "url": url, "requests": [{"method": "GET"}]}));
        assert_eq!(scraped[0]["status"], 200, "{scraped}");
        assert!(
            scraped[0]["content_type"]
                .as_str()
                .unwrap()
                .starts_with("application/openmetrics-text"),
            "{scraped}"
        );
        let text = scraped[0]["body"].as_str().unwrap();
        for line in [
            "totp_mcp_tool_calls_total{outcome=\"issued\"} 1",
            "totp_mcp_tool_calls_total{outcome=\"access_denied\"} 1",
            "totp_mcp_tool_calls_total{outcome=\"host_error\"} 0",
            "totp_mcp_tool_call_duration_seconds_count 2",
            "totp_mcp_auth_failures_total 1",
            "totp_mcp_rate_limited_total 0",
            "totp_mcp_store_errors_total 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} not in {text}");
        }
        assert!(text.contains("totp_mcp_sessions_open "), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
        assert_names_no_one(&fixture, text, &token, &expected);
    }
    // The metrics listener serves nothing else.
    let other = client(
        &json!({"mode": "raw", "url": own.replace("/metrics", "/mcp"),
        "requests": [initialize_request(json!({"Authorization": format!("Bearer {token}")}))]}),
    );
    assert_eq!(other[0]["status"], 404, "{other}");

    let log = server.stop_and_log();
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    let calls: Vec<&Value> = lines
        .iter()
        .filter(|line| line["message"] == "tool call")
        .collect();
    assert_eq!(calls.len(), 2, "{log}");
    let outcomes: Vec<&Value> = calls.iter().map(|line| &line["outcome"]).collect();
    assert_eq!(outcomes, ["issued", "access_denied"], "{log}");
    for call in &calls {
        assert_eq!(call["token_id"], token_id.as_str(), "{call}");
        let id = call["request_id"].as_str().unwrap();
        assert!(id.len() == 32 && id != request_id, "{call}");
        assert!(call["latency_ms"].as_f64().unwrap() > 0.0, "{call}");
    }
    // Timestamps are digits that a code could be found in by chance.
    let without_times: Vec<Value> = lines
        .into_iter()
        .map(|mut line| {
            line.as_object_mut().unwrap().remove("timestamp");
            line
        })
        .collect();
    assert_names_no_one(
        &fixture,
        &serde_json::to_string(&without_times).unwrap(),
        &token,
        &expected,
    );
}

/// No username, token, secret or code of the fixture in `text`.
#[track_caller]
fn assert_names_no_one(fixture: &Fixture, text: &str, token: &str, expected: &Value) {
    assert!(!text.contains(token), "token in {text}");
    for (name, secret) in fixture.secrets.as_object().unwrap() {
        assert!(!text.contains(name.as_str()), "{name} in {text}");
        assert!(!text.contains(secret.as_str().unwrap()), "secret in {text}");
        let code = expected[name].as_str().unwrap();
        assert!(!text.contains(code), "{name}'s code in {text}");
    }
}

/// A TCP connection that sends half a request head and no more.
fn half_open(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .write_all(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty")
        .unwrap();
    stream
}

/// Whether the server has closed `stream` (EOF or reset) within `wait`.
fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut buffer = [0u8; 1024];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return true,
            // An answer (a 408, say) before the close is fine.
            Ok(_) => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false;
            }
            Err(_) => return true,
        }
    }
}

/// `GET /healthz` from `from` (a loopback address of its own, so that it
/// counts against that address's connections): the status.
fn healthz_status(addr: SocketAddr, from: [u8; 4]) -> u16 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::from((from, 0))).unwrap();
        let mut stream = socket.connect(addr).await.unwrap();
        // A connection closed unread may refuse the write: no answer.
        let request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        if stream.write_all(request).await.is_err() {
            return 0;
        }
        let mut answer = String::new();
        let read =
            tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut answer));
        match read.await {
            Ok(Ok(_)) => answer
                .split(' ')
                .nth(1)
                .and_then(|status| status.parse().ok())
                .unwrap_or(0),
            _ => 0,
        }
    })
}

/// Half-open connections close after the header-read timeout, a stalled
/// body after the idle timeout, and a client over its address's cap is
/// closed while other addresses are served; /healthz answers throughout.
#[test]
fn http_half_open_connections_close_and_the_per_ip_cap_holds() {
    let fixture = Fixture::new();
    let (token, _) = fixture.token("tool_a");
    let server = HttpServer::start(
        &fixture,
        &[
            "--header-read-timeout",
            "2",
            "--idle-timeout",
            "2",
            "--max-connections-per-ip",
            "1000",
        ],
    );
    let addr = server.addr();
    let opened = Instant::now();
    let mut halves: Vec<TcpStream> = (0..300).map(|_| half_open(addr)).collect();
    // A request head complete, its body not: the idle timeout's case.
    let mut stalled: Vec<TcpStream> = (0..5)
        .map(|_| {
            let mut stream = TcpStream::connect(addr).unwrap();
            write!(
                stream,
                "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
                 Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n\
                 Content-Length: 100\r\n\r\n{{\"jsonrpc\""
            )
            .unwrap();
            stream
        })
        .collect();
    assert_eq!(
        healthz_status(addr, [127, 0, 0, 1]),
        200,
        "served meanwhile"
    );
    for (i, stream) in halves.iter_mut().chain(stalled.iter_mut()).enumerate() {
        assert!(
            closed_within(stream, Duration::from_secs(10)),
            "connection {i} still open"
        );
    }
    let took = opened.elapsed();
    assert!(took >= Duration::from_secs(1), "closed too soon: {took:?}");
    assert_eq!(healthz_status(addr, [127, 0, 0, 1]), 200, "served after");
    drop(server);

    // Three connections per address: the fourth from 127.0.0.1 is closed
    // at once; 127.0.0.2 is served; a place freed is taken again.
    let server = HttpServer::start(
        &fixture,
        &[
            "--max-connections-per-ip",
            "3",
            "--header-read-timeout",
            "60",
        ],
    );
    let addr = server.addr();
    let held: Vec<TcpStream> = (0..3).map(|_| half_open(addr)).collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut over = TcpStream::connect(addr).unwrap();
    // Closed unread, it may refuse even this.
    let _ = over.write_all(b"GET /healthz HTTP/1.1\r\n");
    assert!(
        closed_within(&mut over, Duration::from_secs(5)),
        "a fourth connection from one address is closed"
    );
    assert_eq!(healthz_status(addr, [127, 0, 0, 2]), 200, "another address");
    assert_eq!(healthz_status(addr, [127, 0, 0, 1]), 0, "over the cap");
    drop(held);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(healthz_status(addr, [127, 0, 0, 1]), 200, "room again");
    let metrics = client(
        &json!({"mode": "raw", "url": server.url.replace("/mcp", "/metrics"),
        "requests": [{"method": "GET"}]}),
    );
    let text = metrics[0]["body"].as_str().unwrap();
    assert!(
        text.lines()
            .any(|l| l == "totp_mcp_connections_refused_total 2"),
        "{text}"
    );
    assert!(server.terminate().success());
}
