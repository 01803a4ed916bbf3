//! The MCP handler: one tool, `get_totp_code`, whose description and input
//! schema are the component's `describe()`, and whose calls are the
//! component's `invoke(arguments)` in a fresh sandboxed instance, run as
//! the tool node the session (stdio) or the bearer token (HTTP) is bound
//! to, and audited like the CLI's.

use std::sync::Arc;
use std::time::{Duration, Instant};

use get_totp_code::host_error_json;
use get_totp_code::platform::NodeRef;
use get_totp_code::tool::ErrorCode;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    JsonObject, ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::mcp::http::RequestId;
use crate::mcp::metrics::{CallOutcome, Metrics};
use crate::mcp::rate::CallRate;
use crate::{AccessPolicy, Call, Clock, Directory, TotpTool};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("the component's describe() failed: {0}")]
    Describe(#[from] crate::CallError),
    #[error("the component's tool definition is not what MCP needs: {0}")]
    Definition(String),
    #[error("MCP over stdio failed: {0}")]
    Stdio(String),
}

/// Who a call runs as: the tool node (none for an operator's own session)
/// and the token it came with (HTTP), for the audit trail and the rate.
#[derive(Debug, Clone)]
pub struct Binding {
    pub node: Option<NodeRef>,
    pub token_id: Option<String>,
}

/// What every session shares: the compiled component, the store it reads
/// and audits to, the policy and clock of its calls, and the limits.
struct Shared {
    tool: Arc<TotpTool>,
    directory: Arc<dyn Directory + Send + Sync>,
    policy: AccessPolicy,
    clock: Clock,
    definition: Tool,
    /// Calls in flight at once: at most the sandbox's instance slots, so a
    /// burst waits its turn instead of failing for want of a slot.
    in_flight: Semaphore,
    /// What `GET /metrics` reports (HTTP; counted over stdio too).
    metrics: Metrics,
}

/// The MCP server (one value per session; clones share everything).
#[derive(Clone)]
pub struct TotpMcp {
    shared: Arc<Shared>,
    /// Calls per token and minute, shared by every clone (HTTP sessions).
    rate: Option<Arc<CallRate>>,
    /// Stdio: the session's binding. HTTP: `None`, each request carries
    /// its token's binding in its extensions (see `http`).
    session: Option<Binding>,
    /// How long a code handed out must stay valid ([`Call::min_validity`]).
    min_validity: Duration,
}

impl TotpMcp {
    /// `tool` should audit to the store (`Audit::To`), as the CLI's does.
    pub fn new(
        tool: Arc<TotpTool>,
        directory: Arc<dyn Directory + Send + Sync>,
        policy: AccessPolicy,
        clock: Clock,
    ) -> Result<Self, SetupError> {
        let definition = tool_definition(&tool.describe()?)?;
        let slots = usize::try_from(tool.config().max_concurrent_calls.max(1)).unwrap_or(1);
        Ok(TotpMcp {
            shared: Arc::new(Shared {
                tool,
                directory,
                policy,
                clock,
                definition,
                in_flight: Semaphore::new(slots),
                metrics: Metrics::new(),
            }),
            rate: None,
            session: None,
            min_validity: Duration::ZERO,
        })
    }

    /// Hands out only codes valid for at least `min_validity`: a call whose
    /// code expires sooner waits for the next period's (on the blocking
    /// pool, holding its call slot).
    pub fn with_min_validity(mut self, min_validity: Duration) -> Self {
        self.min_validity = min_validity;
        self
    }

    /// Limits each token to `per_minute` calls (HTTP only: a stdio session
    /// has no token and one client).
    pub fn with_rate(mut self, per_minute: u32) -> Self {
        self.rate = Some(Arc::new(CallRate::per_minute(per_minute)));
        self
    }

    /// This server for a session bound to `node` (stdio).
    pub fn bound_to(mut self, node: Option<NodeRef>) -> Self {
        self.session = Some(Binding {
            node,
            token_id: None,
        });
        self
    }

    /// A call refused before it ran (over its token's rate) goes on the
    /// audit record too, as the `host_error` it got: an operator sees who
    /// was throttled. Its recording cannot withhold a code (there is none);
    /// a failure to record it is logged.
    async fn record_refused(&self, binding: Binding, arguments: Option<&JsonObject>, json: &str) {
        let crate::Audit::To(sink) = self.shared.tool.audit().clone() else {
            return;
        };
        let mut call = Call::new(self.shared.directory.clone());
        call.node = binding.node;
        call.token_id = binding.token_id;
        let requested = arguments
            .and_then(|arguments| arguments.get("username"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let event = crate::audit::Finished {
            call: &call,
            operation: crate::audit::Operation::Invoke,
            requested,
            started: std::time::SystemTime::now(),
            duration: std::time::Duration::ZERO,
            looked_up: None,
        }
        .event(Ok(json));
        // The store's write may block (SQLite locks, PostgreSQL).
        let recorded = tokio::task::spawn_blocking(move || sink.record(&event)).await;
        if !matches!(recorded, Ok(Ok(()))) {
            tracing::error!("a rate-limited call could not be put on the audit record");
        }
    }

    /// The tool as `tools/list` shows it.
    pub fn definition(&self) -> &Tool {
        &self.shared.definition
    }

    /// The server's counts, shared by every clone.
    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }

    /// Counts a call and writes its log line: the request's id, the
    /// token's id (never the token), the outcome and the latency; never
    /// the arguments or the result.
    fn account(
        &self,
        request_id: Option<&str>,
        binding: &Binding,
        result: &CallToolResult,
        took: Duration,
    ) {
        let outcome = CallOutcome::of(result.structured_content.as_ref().unwrap_or(&Value::Null));
        self.shared.metrics.call(&outcome, took);
        // Microseconds, as milliseconds (1.372, not 1.3719999999999999).
        let latency_ms = u32::try_from(took.as_micros()).map_or(f64::MAX, f64::from) / 1000.0;
        tracing::info!(
            request_id,
            token_id = binding.token_id.as_deref(),
            outcome = outcome.label(),
            latency_ms,
            "tool call"
        );
    }

    /// Runs one `tools/call` as `binding`; always a result, never an error:
    /// whatever goes wrong is the tool's own JSON error shape.
    async fn call(&self, binding: Binding, arguments: Option<JsonObject>) -> CallToolResult {
        let shared = &self.shared;
        if let (Some(rate), Some(token_id)) = (&self.rate, &binding.token_id)
            && let Err(wait) = rate.take(token_id)
        {
            let json = host_error_json(&format!(
                "call rate limit reached for this token; retry in {} s",
                wait.as_secs().max(1)
            ));
            self.shared.metrics.rate_limited();
            self.record_refused(binding, arguments.as_ref(), &json)
                .await;
            return result(json);
        }
        // The guest reads and validates the arguments itself (one place
        // for what `username` may be); the host only passes them on.
        let arguments = Value::Object(arguments.unwrap_or_default()).to_string();
        let mut call = Call::new(shared.directory.clone())
            .with_policy(shared.policy)
            .with_clock(shared.clock)
            .with_min_validity(self.min_validity);
        call.node = binding.node;
        call.token_id = binding.token_id;
        let Ok(_permit) = shared.in_flight.acquire().await else {
            return result(host_error_json("the server is shutting down"));
        };
        // The store may block (SQLite locks, PostgreSQL round trips on its
        // own runtime), so the call runs on the blocking pool.
        let tool = shared.tool.clone();
        let json = tokio::task::spawn_blocking(move || tool.invoke(&call, &arguments))
            .await
            .unwrap_or_else(|_| host_error_json("the call was interrupted"));
        result(json)
    }
}

/// The tool's JSON as MCP's result: the text as is, the same object as
/// structured content, `isError` when it says `success: false`.
fn result(json: String) -> CallToolResult {
    // The tool's results are JSON; should one not be, the agent still gets
    // the promised shape, rendered by the guest's code like every other
    // host error, and the same as text and as structure.
    let (json, value) = match serde_json::from_str::<Value>(&json) {
        Ok(value) => (json, value),
        Err(_) => {
            let json = host_error_json("the tool returned a malformed result");
            let value = serde_json::from_str(&json).unwrap_or_default();
            (json, value)
        }
    };
    let success = value.get("success").and_then(Value::as_bool) == Some(true);
    // The tool's own text, not the SDK's re-serialisation of the value.
    let content = vec![ContentBlock::text(json)];
    let mut result = if success {
        CallToolResult::success(content)
    } else {
        CallToolResult::error(content)
    };
    result.structured_content = Some(value);
    result
}

/// `describe()`'s `{name, description, parameters}` as an MCP tool.
fn tool_definition(described: &str) -> Result<Tool, SetupError> {
    let bad = |what: &str| SetupError::Definition(what.to_owned());
    let definition: Value = serde_json::from_str(described).map_err(|e| bad(&e.to_string()))?;
    let name = definition["name"].as_str().ok_or_else(|| bad("no name"))?;
    let description = definition["description"]
        .as_str()
        .ok_or_else(|| bad("no description"))?;
    let Some(parameters) = definition["parameters"].as_object() else {
        return Err(bad("no parameters object"));
    };
    let mut output = JsonObject::new();
    if let Value::Object(schema) = output_schema() {
        output = schema;
    }
    let mut tool = Tool::new(
        name.to_owned(),
        description.to_owned(),
        Arc::new(parameters.clone()),
    )
    .with_raw_output_schema(Arc::new(output));
    tool.title = Some(TITLE.to_owned());
    tool.annotations = Some(annotations());
    Ok(tool)
}

/// The name an MCP client shows a person.
pub const TITLE: &str = "TOTP code of an agent user";

/// What a client may assume: the tool changes nothing (`readOnlyHint`) and
/// talks to no outside system (`openWorldHint: false`). `idempotentHint` is
/// left out: the answer changes every period.
pub fn annotations() -> ToolAnnotations {
    let mut annotations = ToolAnnotations::default();
    annotations.title = Some(TITLE.to_owned());
    annotations.read_only_hint = Some(true);
    annotations.open_world_hint = Some(false);
    annotations
}

/// The JSON Schema of the tool's result object (`outputSchema`): a code
/// with its username and expiry, or an error with its `error_code` (the
/// guest's own list of codes).
pub fn output_schema() -> Value {
    let codes: Vec<&str> = ErrorCode::ALL.iter().map(|code| code.as_str()).collect();
    json!({
        "type": "object",
        "properties": {
            "success": {"type": "boolean"},
            "username": {"type": "string"},
            "totp_code": {"type": "string", "pattern": "^[0-9]+$"},
            "expires_in": {"type": "integer", "minimum": 0},
            "digits": {"type": "integer"},
            "period": {"type": "integer"},
            "algorithm": {"type": "string"},
            "warning": {"type": "string"},
            "error": {"type": "string"},
            "error_code": {"type": "string", "enum": codes},
        },
        "required": ["success"],
        "if": {"properties": {"success": {"const": true}}},
        "then": {"required": ["username", "totp_code", "expires_in"]},
        "else": {"required": ["error", "error_code"]},
    })
}

impl ServerHandler for TotpMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build()).with_server_info(
            Implementation::new(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION")),
        )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(vec![
            self.shared.definition.clone(),
        ]))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if request.name != self.shared.definition.name {
            return Err(ErrorData::invalid_params(
                format!("unknown tool: {}", request.name),
                None,
            ));
        }
        let parts = context.extensions.get::<axum::http::request::Parts>();
        let binding = match &self.session {
            Some(binding) => binding.clone(),
            // HTTP: the auth layer put the token's binding on the request.
            None => match parts.and_then(|parts| parts.extensions.get::<Binding>()) {
                Some(binding) => binding.clone(),
                None => return Ok(result(host_error_json("request not authenticated")).into()),
            },
        };
        let request_id = parts
            .and_then(|parts| parts.extensions.get::<RequestId>())
            .map(|id| id.0.as_str());
        let started = Instant::now();
        let answer = self.call(binding.clone(), request.arguments).await;
        self.account(request_id, &binding, &answer, started.elapsed());
        Ok(answer.into())
    }
}

/// Serves one MCP client on stdin/stdout until it closes the session.
pub async fn serve_stdio(server: TotpMcp) -> Result<(), SetupError> {
    let running = server
        .serve(rmcp::transport::stdio_pipes())
        .await
        .map_err(|e| SetupError::Stdio(e.to_string()))?;
    running
        .waiting()
        .await
        .map_err(|e| SetupError::Stdio(e.to_string()))?;
    Ok(())
}
