//! Shared fixtures: one compiled component per test binary, calls against
//! in-memory directories, result parsing, and the RFC 6238 table.

use std::ffi::OsStr;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, LazyLock, OnceLock};

use serde_json::Value;
use totp_host::{Audit, Call, Clock, Directory, MemoryDirectory, NodeRef, Store, TotpTool};

/// Compiling the component takes tens of milliseconds; do it once.
pub fn tool() -> &'static TotpTool {
    static TOOL: OnceLock<TotpTool> = OnceLock::new();
    TOOL.get_or_init(|| TotpTool::new(Audit::Off).expect("the component loads"))
}

pub fn store() -> Store {
    Store::in_memory().expect("in-memory store")
}

/// A call against `directory` at a fixed time, outside any workflow.
pub fn call_at(directory: impl Directory + Send + Sync + 'static, time: u64) -> Call {
    Call::new(Arc::new(directory)).with_clock(Clock::Fixed(time))
}

pub fn at_node(call: Call, workflow: &str, node: &str) -> Call {
    call.at_node(NodeRef::new(workflow, node))
}

/// Calls `get-totp-code` and parses the JSON it returns.
pub fn get(call: &Call, username: &str) -> Value {
    parse(
        &tool()
            .try_get_totp_code(call, username)
            .expect("the call does not trap"),
    )
}

pub fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Asserts a failure result with `code`, and returns its message.
#[track_caller]
pub fn assert_error(result: &Value, code: &str) -> String {
    assert_eq!(result["success"], false, "{result}");
    assert_eq!(result["error_code"], code, "{result}");
    assert!(result.get("totp_code").is_none(), "{result}");
    result["error"].as_str().expect("error text").to_owned()
}

/// Asserts a success result for `username` and returns its code.
#[track_caller]
pub fn assert_code(result: &Value, username: &str) -> String {
    assert_eq!(result["success"], true, "{result}");
    assert_eq!(result["username"], username, "{result}");
    result["totp_code"].as_str().expect("code text").to_owned()
}

/// RFC 6238 Appendix B, from `host-test/conformance/rfc6238_appendix_b.json`.
pub struct Rfc6238 {
    table: Value,
}

pub static RFC6238: LazyLock<Rfc6238> = LazyLock::new(|| Rfc6238 {
    table: serde_json::from_str(include_str!("../../conformance/rfc6238_appendix_b.json"))
        .expect("the RFC 6238 table is JSON"),
});

impl Rfc6238 {
    /// The SHA-1 key (`12345678901234567890`) as a stored base32 secret.
    pub fn sha1_secret(&self) -> String {
        let key = self.table["keys"]["SHA1"].as_str().unwrap();
        base32::encode(base32::Alphabet::Rfc4648 { padding: false }, key.as_bytes())
    }

    /// The published 8-digit SHA-1 code at `time`.
    pub fn sha1_code_8_digits(&self, time: u64) -> String {
        let vector = self.table["vectors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["time"] == time)
            .unwrap_or_else(|| panic!("RFC 6238 has no vector at {time}"));
        vector["SHA1"].as_str().unwrap().to_owned()
    }

    /// The same at 6 digits, as RFC 4226 §5.3 reduces it.
    pub fn sha1_code(&self, time: u64) -> String {
        self.sha1_code_8_digits(time)[2..].to_owned()
    }
}

/// One agent user `agent_wf_n1` with the RFC 6238 SHA-1 secret.
pub fn rfc_agent() -> MemoryDirectory {
    MemoryDirectory::one_agent("agent_wf_n1", &RFC6238.sha1_secret())
}

/// The `totp-host` binary this build made, with the store options every
/// command of a test shares.
#[derive(Clone, Copy, Default)]
pub struct TotpHost<'a> {
    db: Option<&'a OsStr>,
    key_file: Option<&'a Path>,
    input: Option<&'a str>,
    released: Option<Released<'a>>,
}

/// A `totp-host` binary from a release directory, run the way a machine
/// without Rust runs it: a clean environment whose `PATH` holds only the
/// system's directories, and `HOME` (where the demo store goes) of its own.
#[derive(Clone, Copy)]
struct Released<'a> {
    binary: &'a Path,
    home: &'a Path,
}

impl<'a> TotpHost<'a> {
    /// Commands of the released `binary` in a clean environment with `home`.
    pub fn released(binary: &'a Path, home: &'a Path) -> Self {
        TotpHost {
            released: Some(Released { binary, home }),
            ..TotpHost::default()
        }
    }

    /// Commands on the store `db` (an SQLite path or a PostgreSQL URL).
    pub fn on(db: &'a (impl AsRef<OsStr> + ?Sized)) -> Self {
        TotpHost::default().with_db(db)
    }

    /// The same commands on the store `db`.
    pub fn with_db(self, db: &'a (impl AsRef<OsStr> + ?Sized)) -> Self {
        TotpHost {
            db: Some(db.as_ref()),
            ..self
        }
    }

    /// Commands that open sealed secrets with `key_file`.
    pub fn sealed(self, key_file: &'a Path) -> Self {
        TotpHost {
            key_file: Some(key_file),
            ..self
        }
    }

    /// Commands that read `text` on standard input (`--secret -`).
    pub fn input(self, text: &'a str) -> Self {
        TotpHost {
            input: Some(text),
            ..self
        }
    }

    /// `link-tool` of `tool_node` to `agent_node` in `workflow` (`slug`),
    /// then `create-agent-user` of that agent with `secret` on standard
    /// input; both must succeed.
    pub fn provision(
        self,
        workflow: &str,
        slug: &str,
        tool_node: &str,
        agent_node: &str,
        secret: &str,
    ) {
        let linked = self.run(&[
            "link-tool",
            "--workflow",
            workflow,
            "--slug",
            slug,
            "--tool-node",
            tool_node,
            "--agent-node",
            agent_node,
        ]);
        assert!(linked.status.success(), "{linked:?}");
        let created = self.input(secret).run(&[
            "create-agent-user",
            "--workflow",
            workflow,
            "--tool-node",
            tool_node,
            "--secret",
            "-",
        ]);
        assert!(created.status.success(), "{created:?}");
    }

    /// `store rekey --new-key-file NEW_KEY`.
    pub fn rekey(self, new_key: &Path) -> Output {
        self.run(&[
            "store",
            "rekey",
            "--new-key-file",
            new_key.to_str().expect("temporary paths are UTF-8"),
        ])
    }

    /// Runs `totp-host [--db DB] [--key-file KEY] ARGS...`.
    pub fn run(self, args: &[&str]) -> Output {
        let mut command = match self.released {
            None => Command::new(env!("CARGO_BIN_EXE_totp-host")),
            Some(Released { binary, home }) => {
                let mut command = Command::new(binary);
                command
                    .env_clear()
                    .env("PATH", "/usr/bin:/bin")
                    .env("HOME", home);
                command
            }
        };
        if let Some(db) = self.db {
            command.arg("--db").arg(db);
        }
        if let Some(key_file) = self.key_file {
            command.arg("--key-file").arg(key_file);
        }
        command.args(args).stdin(Stdio::piped());
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn().expect("totp-host runs");
        let mut stdin = child.stdin.take().unwrap();
        // A command that does not read its input may exit first: a broken
        // pipe here is not the test's concern.
        let _ = stdin.write_all(self.input.unwrap_or_default().as_bytes());
        drop(stdin);
        child.wait_with_output().expect("totp-host runs")
    }
}

/// Runs `totp-host ARGS...` with its default store.
pub fn totp_host(args: &[&str]) -> Output {
    TotpHost::default().run(args)
}
