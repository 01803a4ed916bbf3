//! The HTTP server's metrics, as `GET /metrics` serves them: the official
//! Prometheus client (`prometheus-client`) keeps and writes them, in the
//! OpenMetrics text format Prometheus scrapes.
//!
//! No label carries a username, a token, a code or a secret: the one label,
//! `outcome`, is `issued` or an `error_code` from the guest's own list.

use std::sync::Arc;
use std::time::Duration;

use get_totp_code::tool::ErrorCode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use crate::audit::{AUDIT_UNAVAILABLE, ISSUED};

/// The content type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    /// `issued`, or the result's `error_code`.
    outcome: &'static str,
}

/// What a server counts; clones share the counts.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    calls: Family<Outcome, Counter>,
    latency: Histogram,
    sessions: Gauge,
    rate_limited: Counter,
    auth_failures: Counter,
    store_errors: Counter,
    connections_refused: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let calls = Family::<Outcome, Counter>::default();
        // Every outcome from the start, at 0: a rate over a series that
        // appears at its first increment misses that increment.
        for outcome in std::iter::once(ISSUED).chain(ErrorCode::ALL.iter().map(|c| c.as_str())) {
            let _ = calls.get_or_create(&Outcome { outcome });
        }
        // 0.5 ms to about 8 s: a call is a few milliseconds, a store that
        // hangs is the tail.
        let latency = Histogram::new(exponential_buckets(0.0005, 2.0, 15));
        let sessions = Gauge::default();
        let rate_limited = Counter::default();
        let auth_failures = Counter::default();
        let store_errors = Counter::default();
        let connections_refused = Counter::default();
        let mut registry = Registry::with_prefix("totp_mcp");
        registry.register(
            "tool_calls",
            "tools/call requests answered, by outcome (issued or the result's error_code)",
            calls.clone(),
        );
        registry.register_with_unit(
            "tool_call_duration",
            "Time from a tools/call reaching the tool to its result",
            Unit::Seconds,
            latency.clone(),
        );
        registry.register("sessions_open", "MCP sessions open", sessions.clone());
        registry.register(
            "rate_limited",
            "tools/call requests refused over their token's call rate",
            rate_limited.clone(),
        );
        registry.register(
            "auth_failures",
            "Requests refused with 401: no bearer token, or an unknown or revoked one",
            auth_failures.clone(),
        );
        registry.register(
            "store_errors",
            "Calls and token lookups that failed because the store did not answer or record",
            store_errors.clone(),
        );
        registry.register(
            "connections_refused",
            "Connections closed unread because their client address had --max-connections-per-ip open",
            connections_refused.clone(),
        );
        Metrics {
            registry: Arc::new(registry),
            calls,
            latency,
            sessions,
            rate_limited,
            auth_failures,
            store_errors,
            connections_refused,
        }
    }

    /// A call's result JSON, as the tool returned it, and how long it took.
    pub fn call(&self, outcome: &CallOutcome, took: Duration) {
        self.calls
            .get_or_create(&Outcome {
                outcome: outcome.label(),
            })
            .inc();
        self.latency.observe(took.as_secs_f64());
        if outcome.store_error {
            self.store_errors.inc();
        }
    }

    pub fn rate_limited(&self) {
        self.rate_limited.inc();
    }

    pub fn auth_failure(&self) {
        self.auth_failures.inc();
    }

    /// The store failed outside a call (a token lookup).
    pub fn store_error(&self) {
        self.store_errors.inc();
    }

    /// A connection over its address's cap.
    pub fn connection_refused(&self) {
        self.connections_refused.inc();
    }

    pub fn set_sessions(&self, open: usize) {
        self.sessions.set(i64::try_from(open).unwrap_or(i64::MAX));
    }

    /// The text of `GET /metrics`.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// What became of a call, read from its result: the audit trail's
/// `outcome` and whether the store was what failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallOutcome {
    /// `None` when issued, else the `error_code` (one of the guest's).
    error_code: Option<ErrorCode>,
    store_error: bool,
}

impl CallOutcome {
    /// From the tool's result JSON. A `host_error` whose text is the
    /// store's (a failed query) or the audit trail's (which is the store
    /// here) counts as a store error.
    pub fn of(result: &serde_json::Value) -> Self {
        if result.get("success").and_then(serde_json::Value::as_bool) == Some(true) {
            return CallOutcome {
                error_code: None,
                store_error: false,
            };
        }
        let code = result
            .get("error_code")
            .and_then(serde_json::Value::as_str)
            .and_then(|text| ErrorCode::ALL.iter().find(|c| c.as_str() == text))
            .copied()
            .unwrap_or(ErrorCode::HostError);
        let text = result
            .get("error")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default();
        CallOutcome {
            error_code: Some(code),
            store_error: code == ErrorCode::HostError
                && (text.contains("store query failed") || text.contains(AUDIT_UNAVAILABLE)),
        }
    }

    /// `issued`, or the `error_code`: never anything a caller chose.
    pub fn label(&self) -> &'static str {
        self.error_code.map_or(ISSUED, |code| code.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn outcomes_are_the_guests_codes_and_nothing_else() {
        let issued = CallOutcome::of(&json!({"success": true, "totp_code": "123456"}));
        assert_eq!(issued.label(), "issued");
        let denied = CallOutcome::of(&json!({"success": false, "error_code": "access_denied"}));
        assert_eq!(denied.label(), "access_denied");
        let odd = CallOutcome::of(&json!({"success": false, "error_code": "alice"}));
        assert_eq!(odd.label(), "host_error");
        let store = CallOutcome::of(&json!({"success": false, "error_code": "host_error",
            "error": "host error: store query failed (SQLite: locked)"}));
        assert!(store.store_error);
        let metrics = Metrics::new();
        metrics.call(&issued, Duration::from_millis(3));
        metrics.call(&store, Duration::from_millis(3));
        metrics.set_sessions(2);
        let text = metrics.render();
        assert!(
            text.contains("totp_mcp_tool_calls_total{outcome=\"issued\"} 1"),
            "{text}"
        );
        assert!(text.contains("totp_mcp_store_errors_total 1"), "{text}");
        assert!(text.contains("totp_mcp_sessions_open 2"), "{text}");
        assert!(
            text.contains("totp_mcp_tool_call_duration_seconds_count 2"),
            "{text}"
        );
    }
}
