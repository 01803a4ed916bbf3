//! JSON-RPC's own errors, where the MCP SDK answers a malformed request
//! otherwise: a body that is not JSON gets -32700 (the SDK says HTTP 415),
//! a batch or a body that is not a JSON-RPC 2.0 message object -32600 (no `"jsonrpc":
//! "2.0"`, a `method` that is not a string, an `id` that is neither string
//! nor number: the SDK says 415), and a request of an MCP method whose
//! params are not what the method takes -32602 (the SDK says 415, or
//! -32601 "method not found" when its catch-all for unknown methods takes
//! the request; for a `tools/list` cursor it never gave out, the first
//! page). The MCP specification's statuses: 400 for a body the
//! server cannot accept, 200 for an error answering a request. Unknown
//! methods (-32601) and unknown tools (-32602) are the SDK's and the
//! handler's own answers.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::model::{ClientJsonRpcMessage, ClientRequest, JsonRpcMessage};
use serde_json::{Map, Value, json};

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const INVALID_PARAMS: i64 = -32602;

/// The MCP methods a client sends a server (2025-06-18), whose params the
/// SDK parses; a request of one that the SDK's catch-all takes instead had
/// params that do not fit.
const MCP_METHODS: &[&str] = &[
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "prompts/list",
    "prompts/get",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "completion/complete",
    "logging/setLevel",
];

/// The largest body read, as the SDK's own cap.
#[derive(Clone, Copy)]
pub struct BodyLimit(pub usize);

pub async fn check(
    State(BodyLimit(limit)): State<BodyLimit>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    match serde_json::from_slice::<Value>(&bytes) {
        Err(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                Value::Null,
                PARSE_ERROR,
                "Parse error",
            );
        }
        Ok(Value::Object(message)) => {
            if let Some(refusal) = refuse(message) {
                return refusal;
            }
        }
        // A batch: MCP has none since 2025-06-18, and the SDK answers one
        // with HTTP 415 whatever the version.
        Ok(Value::Array(_)) => {
            return error(
                StatusCode::BAD_REQUEST,
                Value::Null,
                INVALID_REQUEST,
                "Invalid Request: batches are not supported",
            );
        }
        Ok(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                Value::Null,
                INVALID_REQUEST,
                "Invalid Request: not a JSON-RPC message object",
            );
        }
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// The error answering `message`, when it is not a JSON-RPC 2.0 message
/// or its params do not fit its MCP method; `None` lets it through.
fn refuse(message: Map<String, Value>) -> Option<Response> {
    let invalid = |why: &str| {
        error(
            StatusCode::BAD_REQUEST,
            Value::Null,
            INVALID_REQUEST,
            &format!("Invalid Request: {why}"),
        )
    };
    if message.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Some(invalid("\"jsonrpc\" must be \"2.0\""));
    }
    let id = match message.get("id") {
        None => None,
        Some(id @ (Value::String(_) | Value::Number(_))) => Some(id.clone()),
        Some(_) => return Some(invalid("the id must be a string or a number")),
    };
    let method = match message.get("method") {
        Some(Value::String(method)) => Some(method.clone()),
        Some(_) => return Some(invalid("the method must be a string")),
        None if message.contains_key("result") || message.contains_key("error") => None,
        None => return Some(invalid("neither a request, a notification nor a response")),
    };
    // A request answers with 200 and its id; a notification has no answer
    // to carry the error, so it gets 400.
    let params = |why: &str| {
        let (status, id) = match &id {
            Some(id) => (StatusCode::OK, id.clone()),
            None => (StatusCode::BAD_REQUEST, Value::Null),
        };
        error(
            status,
            id,
            INVALID_PARAMS,
            &format!("Invalid params: {why}"),
        )
    };
    if let Some(why) = invalid_tool_call(&message) {
        return Some(params(why));
    }
    // Its lists are one page, so no cursor is one it gave out (the SDK
    // would answer the first page).
    if method.as_deref() == Some("tools/list")
        && message
            .get("params")
            .and_then(|params| params.get("cursor"))
            .is_some_and(|cursor| !cursor.is_null())
    {
        return Some(params("no such cursor: the list is one page"));
    }
    let method = method?;
    match serde_json::from_value::<ClientJsonRpcMessage>(Value::Object(message)) {
        Err(_) => Some(params(&format!("the params do not fit {method}"))),
        Ok(JsonRpcMessage::Request(request))
            if matches!(request.request, ClientRequest::CustomRequest(_))
                && MCP_METHODS.contains(&method.as_str()) =>
        {
            Some(params(&format!("the params do not fit {method}")))
        }
        Ok(_) => None,
    }
}

/// Why a `tools/call` request's params do not fit the method: an object
/// with a string `name` and, if any, object `arguments`.
fn invalid_tool_call(message: &serde_json::Map<String, Value>) -> Option<&'static str> {
    if message.get("method").and_then(Value::as_str) != Some("tools/call") {
        return None;
    }
    let Some(Value::Object(params)) = message.get("params") else {
        return Some("tools/call takes an object of params");
    };
    if !params.get("name").is_some_and(Value::is_string) {
        return Some("tools/call needs the tool's name as a string");
    }
    match params.get("arguments") {
        None | Some(Value::Null | Value::Object(_)) => None,
        Some(_) => Some("tools/call takes its arguments as an object"),
    }
}

fn error(status: StatusCode, id: Value, code: i64, message: &str) -> Response {
    json_response(
        status,
        &json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}}),
    )
}

/// `body` as an `application/json` response with `status`.
pub fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}
