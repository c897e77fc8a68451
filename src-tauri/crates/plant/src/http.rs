//! The HTTP side of the plant: the WebSocket upgrade at `/ws`, `/health`, the level-0
//! `POST /api/os/command`, and the admin API when enabled.

use crate::admin;
use crate::caps;
use crate::client;
use crate::operators::Identity;
use crate::problem::{bearer, problem, unauthorized};
use crate::shared::{Full, Shared};
use crate::state::Submitted;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use brewdeck_protocol::{Command, CommandId, CommandRequest, ErrorCode, Timestamp};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;

/// How long a level-0 command stays valid when its request names no expiry.
const DEFAULT_COMMAND_LIFETIME: chrono::Duration = chrono::Duration::seconds(30);
/// What a client is told to wait when the server is full.
const FULL_RETRY_AFTER_SECS: u64 = 5;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let mut router = Router::new()
        .route("/ws", get(upgrade))
        .route("/health", get(health))
        .route("/api/os/command", post(command));
    if shared.config.admin {
        router = router.merge(admin::router(&shared));
    }
    router.with_state(shared)
}

/// The operator the request's bearer token names, if any.
fn identify(shared: &Shared, headers: &HeaderMap) -> Option<Identity> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer)
        .and_then(|presented| shared.identify(presented.trim()))
}

async fn upgrade(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let Some(identity) = identify(&shared, &headers) else {
        tracing::info!(%peer, "upgrade refused: bad token");
        return unauthorized();
    };
    let slot = match shared.reserve_connection(peer.ip()) {
        Ok(slot) => slot,
        Err(full) => {
            let limits = shared.config.limits;
            let message = match full {
                Full::Server => format!("at most {} connections", limits.max_connections),
                Full::Peer => format!(
                    "at most {} connections from one address",
                    limits.max_connections_per_ip
                ),
            };
            tracing::warn!(%peer, ?full, "upgrade refused: full");
            let mut response = problem(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::TooManyConnections.as_str(),
                message,
            );
            response.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(FULL_RETRY_AFTER_SECS),
            );
            return response;
        }
    };
    // The socket refuses anything far over the protocol limit outright; frames between the two
    // limits are read and answered with `frame_too_large`.
    let hard_limit = shared
        .config
        .limits
        .max_frame_bytes
        .saturating_mul(4)
        .max(1 << 20);
    ws.max_message_size(hard_limit)
        .max_frame_size(hard_limit)
        .on_upgrade(move |socket| client::serve(shared, socket, peer, slot, identity))
}

async fn health(State(shared): State<Arc<Shared>>) -> Json<serde_json::Value> {
    let state = shared.lock();
    Json(json!({
        "status": "ok",
        "plant": state.name(),
        "clients": shared.connections(),
        "lastSeq": state.last_seq(),
    }))
}

/// Level 0: a command over HTTP; its status then arrives on the socket as `command_status`.
async fn command(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let Some(identity) = identify(&shared, &headers) else {
        return unauthorized();
    };
    let role = identity.operator.role;
    if !role.may_change() {
        return problem(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden.as_str(),
            format!("a {role} may not command the plant"),
        );
    }
    if !shared.command_rate.take(peer.ip()) {
        let mut response = problem(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited.as_str(),
            format!(
                "over {} commands per second from this address: not accepted, not run",
                shared.config.limits.commands_per_second
            ),
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(1u64));
        return response;
    }
    let request: CommandRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            let e = brewdeck_protocol::ProtocolError::from(e);
            return problem(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadMessage.as_str(),
                e.to_string(),
            );
        }
    };
    let issued_at = request.issued_at.unwrap_or_else(Timestamp::now);
    let command = Command {
        command_id: request
            .command_id
            .unwrap_or_else(|| CommandId(uuid::Uuid::new_v4().to_string())),
        endpoint_id: request.endpoint_id,
        action: request.action,
        value: request.value,
        issued_at,
        expires_at: request
            .expires_at
            .unwrap_or(Timestamp(Timestamp::now().0 + DEFAULT_COMMAND_LIFETIME)),
    };
    if let Err(e) = caps::command(&command) {
        return problem(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadMessage.as_str(),
            e.to_string(),
        );
    }
    match shared.lock().submit(command, &identity.operator) {
        Submitted::New(record) => (StatusCode::ACCEPTED, Json(record)).into_response(),
        Submitted::Repeat { record, .. } => (StatusCode::OK, Json(record)).into_response(),
    }
}
