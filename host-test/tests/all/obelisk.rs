//! The Obelisk activity build in a real Obelisk server: `server verify`
//! accepts the deployment, and executions submitted with `obelisk execution
//! submit --follow` finish with the tool's JSON. A tool failure is an
//! answer (`ok`), so Obelisk neither fails nor retries the execution.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use totp_host::artifact::OBELISK_BUILD;

use crate::wasm_hosts::{obelisk, scratch};
use totp_test_support::python::venv_python;

/// The function the adapter exports, as Obelisk names it.
const FFQN: &str = "agent-tools:totp-activity/tool@0.2.0.get-totp-code";

/// A fresh 160-bit base32 secret, so that no code here is hard-coded.
fn fresh_secret() -> String {
    totp_host::store::fresh_secret().unwrap().to_string()
}

/// A running Obelisk server with the activity deployed with `env_vars`;
/// stopped when dropped.
struct Server {
    child: Child,
    address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The deployment TOML the README shows, with these variables.
fn deployment(component: &Path, vars: &[(&str, &str)]) -> String {
    let env_vars: Vec<String> = vars
        .iter()
        .map(|(key, value)| format!("{{ key = {key:?}, value = {value:?} }}"))
        .collect();
    format!(
        "[[activity_wasm]]\n\
         name = \"get_totp_code\"\n\
         location = {component:?}\n\
         env_vars = [{}]\n",
        env_vars.join(", ")
    )
}

/// The server configuration: the API on a loopback port, no web UI (its
/// image comes from a registry CI cannot reach), state under `dir`.
fn server_config(dir: &Path, port: u16) -> String {
    format!(
        "api.listening_addr = \"127.0.0.1:{port}\"\n\
         [webui]\nenabled = false\n\
         [external]\nenabled = false\n\
         [database.sqlite]\ndirectory = {db:?}\n\
         [wasm]\ncache_directory = {cache:?}\n\
         [wasm.codegen_cache]\ndirectory = {codegen:?}\n",
        db = dir.join("db"),
        cache = dir.join("wasm-cache"),
        codegen = dir.join("codegen-cache"),
    )
}

/// Writes the configuration files for `vars` into `dir`; their paths.
fn configure(dir: &Path, port: u16, vars: &[(&str, &str)]) -> (PathBuf, PathBuf) {
    let component = dir.join(OBELISK_BUILD.file);
    std::fs::write(&component, OBELISK_BUILD.bytes).unwrap();
    let server = dir.join("server.toml");
    std::fs::write(&server, server_config(dir, port)).unwrap();
    let deployment_path = dir.join("deployment.toml");
    std::fs::write(&deployment_path, deployment(&component, vars)).unwrap();
    (server, deployment_path)
}

fn start(name: &str, vars: &[(&str, &str)]) -> Server {
    let dir = scratch(name);
    let port = free_port();
    let (server_toml, deployment_toml) = configure(&dir, port, vars);
    let verified = Command::new(obelisk())
        .args(["server", "verify", "--server-config"])
        .arg(&server_toml)
        .arg("--deployment")
        .arg(&deployment_toml)
        .output()
        .unwrap();
    assert!(
        verified.status.success(),
        "obelisk server verify refused the deployment: {}{}",
        String::from_utf8_lossy(&verified.stdout),
        String::from_utf8_lossy(&verified.stderr)
    );
    let mut child = Command::new(obelisk())
        .args(["server", "run", "--server-config"])
        .arg(&server_toml)
        .arg("--deployment")
        .arg(&deployment_toml)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The server says when it is ready, on either stream.
    let (ready_tx, ready_rx) = mpsc::channel();
    for stream in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let ready_tx = ready_tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if line.contains("Obelisk is ready") {
                    let _ = ready_tx.send(());
                }
            }
        });
    }
    let server = Server {
        child,
        address: format!("http://127.0.0.1:{port}"),
    };
    ready_rx
        .recv_timeout(Duration::from_secs(180))
        .expect("the Obelisk server became ready");
    server
}

impl Server {
    /// Submits `get-totp-code(username)` and follows it to its end; the
    /// tool's JSON. The execution must finish `ok`.
    fn get_totp_code(&self, username: &str) -> Value {
        let params = serde_json::to_string(&[username]).unwrap();
        let output = Command::new(obelisk())
            .args([
                "execution",
                "submit",
                "--api-url",
                &self.address,
                FFQN,
                &params,
            ])
            .args(["--follow", "--no-reconnect"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "obelisk execution submit: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let finished = stdout
            .lines()
            .find_map(|line| line.split_once("Execution finished: OK: ").map(|(_, v)| v))
            .unwrap_or_else(|| panic!("the execution did not finish OK: {stdout}"));
        let text: String = serde_json::from_str(finished.trim())
            .unwrap_or_else(|e| panic!("{finished:?} is not a JSON string: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text:?} is not JSON: {e}"))
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// pyotp's code and seconds left at each second of `from..=to`.
fn pyotp_codes(secret: &str, from: u64, to: u64) -> Vec<(String, u64)> {
    let script = "import pyotp, sys\n\
                  totp = pyotp.TOTP(sys.argv[1])\n\
                  for t in range(int(sys.argv[2]), int(sys.argv[3]) + 1):\n\
                  \x20   print(totp.at(t), 30 - t % 30)\n";
    let output = Command::new(venv_python())
        .args(["-c", script, secret, &from.to_string(), &to.to_string()])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let (code, left) = line.split_once(' ').unwrap();
            (code.to_owned(), left.parse().unwrap())
        })
        .collect()
}

#[test]
fn obelisk_runs_the_activity_to_the_tools_json() {
    let secret = fresh_secret();
    let server = start(
        "obelisk-configured",
        &[
            ("TOTP_USERNAME", "agent_release_n1"),
            ("TOTP_SECRET", &secret),
            ("TOTP_USERNAME_2", "agent_release_bad"),
            ("TOTP_SECRET_2", "not base32!"),
            ("TOTP_WORKFLOW_ID", "wf-1"),
            ("TOTP_NODE_ID", "tool_totp"),
            ("TOTP_AGENT_NODE_ID", "n1"),
            ("TOTP_WORKFLOW_SLUG", "release"),
        ],
    );

    // The calling agent, resolved through the configured tool node; the
    // code is pyotp's at some second of the call.
    let before = now();
    let result = server.get_totp_code("");
    let after = now();
    assert_eq!(result["success"], true, "{result}");
    assert_eq!(result["username"], "agent_release_n1", "{result}");
    let issued = (
        result["totp_code"].as_str().unwrap().to_owned(),
        result["expires_in"].as_u64().unwrap(),
    );
    assert!(
        pyotp_codes(&secret, before, after).contains(&issued),
        "{result} is not pyotp's code at any second of {before}..={after}"
    );

    let missing = server.get_totp_code("agent_release_nobody");
    assert_eq!(missing["error_code"], "user_not_found", "{missing}");

    let bad = server.get_totp_code("agent_release_bad");
    assert_eq!(bad["error_code"], "invalid_secret", "{bad}");
    assert!(!bad.to_string().contains("not base32!"), "{bad}");
}

#[test]
fn obelisk_reports_a_missing_variable_by_name() {
    let server = start(
        "obelisk-misconfigured",
        &[("TOTP_USERNAME", "agent_release_n1")],
    );
    let result = server.get_totp_code("agent_release_n1");
    assert_eq!(result["success"], false, "{result}");
    assert_eq!(result["error_code"], "host_error", "{result}");
    assert!(
        result["error"].as_str().unwrap().contains("TOTP_SECRET"),
        "{result}"
    );
}
