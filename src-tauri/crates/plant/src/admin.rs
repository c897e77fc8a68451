//! The admin API for tests and demos: off unless `--admin`, and then for loopback peers only.

use crate::http::problem;
use crate::shared::Shared;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use brewdeck_protocol::{EndpointId, Severity};
use serde::Deserialize;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;

pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/admin/alarm", post(raise_alarm))
        .route("/admin/alarm/{id}/clear", post(clear_alarm))
        .route("/admin/drop", post(drop_clients))
        .route("/admin/stall", post(stall))
        .route("/admin/unstall", post(unstall))
        .route("/admin/stats", get(stats))
}

/// The refusal for a peer that is not on this machine, if it is not.
fn refuse_remote(peer: &SocketAddr) -> Option<Response> {
    if peer.ip().is_loopback() {
        None
    } else {
        Some(problem(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the admin API answers loopback peers only",
        ))
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct AlarmRequest {
    severity: Option<Severity>,
    message: Option<String>,
    endpoint_id: Option<EndpointId>,
}

async fn raise_alarm(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: axum::body::Bytes,
) -> Response {
    if let Some(r) = refuse_remote(&peer) {
        return r;
    }
    let request: AlarmRequest = if body.is_empty() {
        AlarmRequest::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(r) => r,
            Err(e) => {
                return problem(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    format!("alarm body: {e}"),
                )
            }
        }
    };
    let mut state = shared.lock();
    if let Some(id) = &request.endpoint_id {
        if !state.endpoint_exists(id) {
            return problem(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("no endpoint {id}"),
            );
        }
    }
    let (alarm_id, seq) = state.raise_manual(
        request.severity.unwrap_or(Severity::Critical),
        request
            .message
            .unwrap_or_else(|| "Manual alarm raised from the admin API".to_owned()),
        request.endpoint_id,
    );
    tracing::info!(alarm_id, seq, "admin raised an alarm");
    (
        StatusCode::CREATED,
        Json(json!({ "alarmId": alarm_id, "seq": seq })),
    )
        .into_response()
}

async fn clear_alarm(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<u64>,
) -> Response {
    if let Some(r) = refuse_remote(&peer) {
        return r;
    }
    if shared.lock().clear_manual(id) {
        Json(json!({ "alarmId": id, "cleared": true })).into_response()
    } else {
        problem(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no active alarm {id}"),
        )
    }
}

async fn drop_clients(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    if let Some(r) = refuse_remote(&peer) {
        return r;
    }
    let dropped = shared.connections();
    shared.signals.drop_all.send_modify(|n| *n += 1);
    tracing::info!(dropped, "admin dropped every client");
    Json(json!({ "dropped": dropped })).into_response()
}

async fn stall(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    set_stall(&shared, &peer, true)
}

async fn unstall(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    set_stall(&shared, &peer, false)
}

fn set_stall(shared: &Shared, peer: &SocketAddr, stalled: bool) -> Response {
    if let Some(r) = refuse_remote(peer) {
        return r;
    }
    shared.signals.stall.send_replace(stalled);
    tracing::info!(stalled, "admin stall");
    Json(json!({ "stalled": stalled })).into_response()
}

async fn stats(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    if let Some(r) = refuse_remote(&peer) {
        return r;
    }
    let stats = shared.lock().stats();
    let mut body = serde_json::to_value(stats).unwrap_or_default();
    body["connections"] = json!(shared.connections());
    body["stalled"] = json!(*shared.signals.stall.borrow());
    Json(body).into_response()
}

#[cfg(test)]
mod tests {
    use super::refuse_remote;

    #[test]
    fn only_loopback_peers_are_served() {
        for ok in ["127.0.0.1:5000", "[::1]:5000", "127.8.9.10:1"] {
            assert!(refuse_remote(&ok.parse().expect("addr")).is_none(), "{ok}");
        }
        for remote in ["10.0.0.7:5000", "192.168.1.20:80", "[fe80::1]:9"] {
            let refusal = refuse_remote(&remote.parse().expect("addr"));
            assert_eq!(refusal.map(|r| r.status().as_u16()), Some(403), "{remote}");
        }
    }
}
