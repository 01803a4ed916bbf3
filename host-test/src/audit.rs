//! The audit trail: one [`AuditEvent`] per tool call, handed to an
//! [`AuditSink`] before the result leaves the host.
//!
//! An event says who asked for whose code, when, and what came of it; it
//! never holds the code or the secret, not even hashed (a hash of a 6-digit
//! code is a lookup table away from the code). When the sink fails, the call
//! fails closed: its result becomes `host_error` "audit log unavailable" and
//! no code is handed out.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::call::Call;
use crate::util::{hex, rfc3339};

/// The `outcome` of a call that handed out a code; any other outcome is the
/// result's `error_code`.
pub const ISSUED: &str = "issued";

/// The message of the `host_error` a call gets when its event cannot be
/// recorded.
pub const AUDIT_UNAVAILABLE: &str = "audit log unavailable";

/// Longest text kept in an event's free-form fields (usernames, host error
/// text): a caller or a hostile host can pass megabytes, and the trail must
/// stay bounded per call.
pub const MAX_FIELD_BYTES: usize = 1024;

/// Where a tool's events go. Part of building a [`crate::TotpTool`], so a
/// tool without an audit trail is a choice made in code ([`Audit::Off`]),
/// never the result of forgetting one.
#[derive(Clone)]
pub enum Audit {
    /// No audit trail: tests, benchmarks, or a platform that audits the
    /// tool's results itself.
    Off,
    /// Every call's event goes to this sink; a call whose event it refuses
    /// hands out no code.
    To(Arc<dyn AuditSink>),
}

impl Audit {
    pub fn to(sink: impl AuditSink + 'static) -> Self {
        Audit::To(Arc::new(sink))
    }
}

/// Records events somewhere durable. Implementations must be safe to call
/// from several threads at once.
pub trait AuditSink: Send + Sync {
    fn record(&self, event: &AuditEvent) -> Result<(), AuditError>;
}

/// Why an event was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The store (or another sink) could not write the event.
    #[error("audit store write failed: {0}")]
    Sink(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("audit write failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("audit event not serializable: {0}")]
    Json(#[from] serde_json::Error),
    /// An embedder's own sink failed.
    #[error("audit sink failed: {0}")]
    Other(String),
}

/// One tool call, as recorded. Field names are the `audit_events` columns
/// of `host-test/schema.sql` and the keys of the JSON-lines form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// 128 random bits in hex, made by the host.
    pub id: String,
    /// When the call started, UTC, RFC 3339 with microseconds (so that the
    /// text sorts as the time does).
    pub time: String,
    /// The same instant in whole Unix seconds.
    pub time_unix: i64,
    /// `get_totp_code` or `invoke`.
    pub operation: String,
    /// The calling node, when the call came from one.
    pub workflow_id: Option<String>,
    pub node_id: Option<String>,
    /// The MCP token the call was made with, when there is one.
    pub token_id: Option<String>,
    /// The username as the caller gave it; empty when the tool resolved it.
    pub username_requested: String,
    /// The username the code was for; on failure the last one the tool
    /// looked up, if any.
    pub username_resolved: Option<String>,
    /// [`ISSUED`] or the result's `error_code`.
    pub outcome: String,
    /// For `host_error`: the host's own failure text.
    pub host_error: Option<String>,
    /// How long the call took, in microseconds.
    pub duration_us: i64,
}

/// Which export a call ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    GetTotpCode,
    Invoke,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::GetTotpCode => "get_totp_code",
            Operation::Invoke => "invoke",
        }
    }
}

/// What a call's result said, read without its `totp_code`.
#[derive(Deserialize)]
struct ResultSummary {
    success: bool,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_code: Option<String>,
}

/// The username `invoke` arguments carry, when they are a JSON object with
/// a string `username`; empty otherwise (the guest reports why).
pub fn requested_by_arguments(arguments: &str) -> String {
    #[derive(Deserialize)]
    struct Arguments {
        username: String,
    }
    serde_json::from_str::<Arguments>(arguments)
        .map(|a| a.username)
        .unwrap_or_default()
}

/// What the host knows about one call once it has run.
pub(crate) struct Finished<'a> {
    pub call: &'a Call,
    pub operation: Operation,
    pub requested: &'a str,
    pub started: SystemTime,
    pub duration: Duration,
    /// The last username the guest passed to `find-user`.
    pub looked_up: Option<String>,
}

impl Finished<'_> {
    /// The event for a call that answered `result` (the tool's JSON) or
    /// failed with `failure` (the host's text).
    pub fn event(self, result: Result<&str, &str>) -> AuditEvent {
        let (outcome, resolved, host_error) = match result {
            Ok(json) => match serde_json::from_str::<ResultSummary>(json) {
                Ok(summary) if summary.success => (ISSUED.to_owned(), summary.username, None),
                Ok(summary) => {
                    let code = summary.error_code.unwrap_or_default();
                    let host_error = summary.error.filter(|_| code == "host_error");
                    (code, self.looked_up, host_error)
                }
                Err(_) => (
                    "host_error".to_owned(),
                    self.looked_up,
                    Some("the tool's result is not JSON".to_owned()),
                ),
            },
            Err(failure) => (
                "host_error".to_owned(),
                self.looked_up,
                Some(failure.to_owned()),
            ),
        };
        let since_epoch = self.started.duration_since(UNIX_EPOCH).unwrap_or_default();
        AuditEvent {
            id: event_id(),
            time: rfc3339(since_epoch),
            time_unix: i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX),
            operation: self.operation.as_str().to_owned(),
            workflow_id: self.call.node.as_ref().map(|n| bounded(&n.workflow_id)),
            node_id: self.call.node.as_ref().map(|n| bounded(&n.node_id)),
            token_id: self.call.token_id.as_deref().map(bounded),
            username_requested: bounded(self.requested),
            username_resolved: resolved.as_deref().map(bounded),
            outcome,
            host_error: host_error.as_deref().map(bounded),
            duration_us: i64::try_from(self.duration.as_micros()).unwrap_or(i64::MAX),
        }
    }
}

/// `text` cut to [`MAX_FIELD_BYTES`] at a character boundary.
fn bounded(text: &str) -> String {
    let mut end = text.len().min(MAX_FIELD_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// 128 random bits as 32 hex digits. Without randomness the id falls back
/// to the time and a counter: an event is never lost for want of an id.
fn event_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos() as u64;
        bytes[..8].copy_from_slice(&nanos.to_be_bytes());
        bytes[8..].copy_from_slice(&COUNTER.fetch_add(1, Ordering::Relaxed).to_be_bytes());
    }
    hex(&bytes)
}

/// A point in time given as Unix seconds or RFC 3339 (`--since`,
/// `--before`), as Unix seconds.
pub fn parse_time(text: &str) -> Result<i64, String> {
    if let Ok(seconds) = text.trim().parse::<i64>() {
        return Ok(seconds);
    }
    OffsetDateTime::parse(text.trim(), &Rfc3339)
        .map(OffsetDateTime::unix_timestamp)
        .map_err(|e| format!("not Unix seconds nor RFC 3339 ({e}): {text:?}"))
}

/// Events as JSON lines on any writer: stdout, stderr, a file, a pipe to a
/// log shipper. Each event is written and flushed whole under a lock, so
/// lines from concurrent calls never interleave.
pub struct JsonLinesSink<W: Write + Send> {
    out: Mutex<W>,
}

impl<W: Write + Send> JsonLinesSink<W> {
    pub fn new(out: W) -> Self {
        JsonLinesSink {
            out: Mutex::new(out),
        }
    }
}

impl<W: Write + Send> AuditSink for JsonLinesSink<W> {
    fn record(&self, event: &AuditEvent) -> Result<(), AuditError> {
        let mut line = serde_json::to_vec(event)?;
        line.push(b'\n');
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        out.write_all(&line)?;
        out.flush()?;
        Ok(())
    }
}

/// Which events `audit` lists.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only events at or after this Unix time.
    pub since: Option<i64>,
    /// Only events whose requested or resolved username is this one.
    pub username: Option<String>,
    /// Only events of calls from this workflow.
    pub workflow: Option<String>,
    /// At most this many (the newest).
    pub limit: Option<u64>,
}

/// Records the event of a finished call and passes its outcome on; when
/// the sink fails, the outcome is withheld and the call fails closed.
pub(crate) fn record(
    sink: &dyn AuditSink,
    finished: Finished<'_>,
    outcome: Result<String, crate::CallError>,
) -> Result<String, crate::CallError> {
    let event = match &outcome {
        Ok(json) => finished.event(Ok(json)),
        Err(error) => finished.event(Err(&error.to_string())),
    };
    sink.record(&event)
        .map_err(crate::CallError::AuditUnavailable)?;
    outcome
}
