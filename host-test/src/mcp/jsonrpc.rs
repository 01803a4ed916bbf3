//! JSON-RPC's own errors, where the MCP SDK answers a malformed request
//! otherwise: a body that is not JSON gets -32700 (the SDK says HTTP 415),
//! a body that is not a request object -32600, and a `tools/call` whose
//! params are not what the method takes -32602 (the SDK says -32601,
//! "method not found"). The MCP specification's statuses: 400 for a body
//! the server cannot accept, 200 for an error answering a request.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const INVALID_PARAMS: i64 = -32602;

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
            if let Some(why) = invalid_tool_call(&message) {
                let id = message.get("id").cloned().unwrap_or(Value::Null);
                return error(
                    StatusCode::OK,
                    id,
                    INVALID_PARAMS,
                    &format!("Invalid params: {why}"),
                );
            }
        }
        // A batch: the SDK answers it as the protocol version it speaks.
        Ok(Value::Array(_)) => {}
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
