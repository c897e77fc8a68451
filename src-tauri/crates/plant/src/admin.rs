//! The admin API for tests and demos: off unless `--admin`, and then for loopback peers only,
//! for requests addressed to this machine by name and sent by no web page, and, with
//! `--admin-token-file`, carrying that token. One guard on the whole router checks all of it.

use crate::caps::{Refused, MAX_ADMIN_BODY_BYTES};
use crate::problem::{bearer, problem, unauthorized};
use crate::shared::Shared;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use brewdeck_protocol::{EndpointId, Severity, Token};
use serde::Deserialize;
use serde_json::json;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

pub(crate) fn router(shared: &Arc<Shared>) -> Router<Arc<Shared>> {
    Router::new()
        .route("/admin/alarm", post(raise_alarm))
        .route("/admin/alarm/{id}/clear", post(clear_alarm))
        .route("/admin/drop", post(drop_clients))
        .route("/admin/stall", post(stall))
        .route("/admin/unstall", post(unstall))
        .route("/admin/stats", get(stats))
        .route_layer(middleware::from_fn_with_state(shared.clone(), guard))
        .layer(DefaultBodyLimit::max(MAX_ADMIN_BODY_BYTES))
}

/// Every admin request passes here before its handler.
async fn guard(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let refusal = refusal(
        &peer,
        request.headers(),
        request.uri(),
        shared.config.admin_token.as_ref(),
    );
    match refusal {
        Some(response) => {
            tracing::info!(%peer, path = request.uri().path(), status = response.status().as_u16(), "admin request refused");
            response
        }
        None => next.run(request).await,
    }
}

/// Why an admin request is not served, if it is not.
fn refusal(
    peer: &SocketAddr,
    headers: &HeaderMap,
    uri: &Uri,
    admin_token: Option<&Token>,
) -> Option<Response> {
    let forbidden = |message: &str| Some(problem(StatusCode::FORBIDDEN, "forbidden", message));
    if !peer.ip().is_loopback() {
        return forbidden("the admin API answers loopback peers only");
    }
    // A page whose name was rebound to 127.0.0.1 still sends its own name as the Host.
    if !addressed_to_loopback(headers, uri) {
        return forbidden(
            "the admin API answers only requests whose Host header is localhost, 127.x.x.x or \
             [::1]",
        );
    }
    // Browsers send an Origin with every cross-site (and same-site) POST; tools send none.
    if headers.contains_key(header::ORIGIN) {
        return forbidden("the admin API refuses requests from web pages (an Origin header)");
    }
    if let Some(token) = admin_token {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer);
        if !presented.is_some_and(|p| token.matches(p.trim())) {
            return Some(unauthorized());
        }
    }
    None
}

/// Exactly one `Host` header, naming this machine, and the same of the request target's
/// authority when it has one (absolute form).
fn addressed_to_loopback(headers: &HeaderMap, uri: &Uri) -> bool {
    let mut hosts = headers.get_all(header::HOST).iter();
    let host = match (hosts.next(), hosts.next()) {
        (Some(host), None) => host.to_str().ok(),
        _ => None,
    };
    host.is_some_and(is_loopback_host)
        && uri.authority().is_none_or(|a| is_loopback_host(a.as_str()))
}

/// Whether a `Host` value is `localhost`, a 127.x.x.x address or `[::1]`, with or without a
/// port.
fn is_loopback_host(host: &str) -> bool {
    let (name, port) = match host.rsplit_once(':') {
        // `[::1]` alone has colons too, but ends with its bracket.
        Some((name, port)) if !host.ends_with(']') => (name, Some(port)),
        _ => (host, None),
    };
    let port_ok = port.is_none_or(|p| {
        !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok()
    });
    if !port_ok {
        return false;
    }
    if name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Some(v6) = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        return v6.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback());
    }
    name.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
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
    body: Result<axum::body::Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("an admin request body is at most {MAX_ADMIN_BODY_BYTES} bytes"),
            )
        }
        Err(e) => return problem(e.status(), "bad_request", e.body_text()),
    };
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
    let raised = state.raise_manual(
        request.severity.unwrap_or(Severity::Critical),
        request
            .message
            .unwrap_or_else(|| "Manual alarm raised from the admin API".to_owned()),
        request.endpoint_id,
    );
    let (alarm_id, seq) = match raised {
        Ok(raised) => raised,
        Err(e @ Refused::TooManyAlarms { .. }) => {
            return problem(StatusCode::CONFLICT, "too_many_alarms", e.to_string())
        }
        Err(e) => return problem(StatusCode::BAD_REQUEST, "bad_request", e.to_string()),
    };
    tracing::info!(alarm_id, seq, "admin raised an alarm");
    (
        StatusCode::CREATED,
        Json(json!({ "alarmId": alarm_id, "seq": seq })),
    )
        .into_response()
}

async fn clear_alarm(State(shared): State<Arc<Shared>>, Path(id): Path<u64>) -> Response {
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

async fn drop_clients(State(shared): State<Arc<Shared>>) -> Response {
    let dropped = shared.connections();
    shared.signals.drop_all.send_modify(|n| *n += 1);
    tracing::info!(dropped, "admin dropped every client");
    Json(json!({ "dropped": dropped })).into_response()
}

async fn stall(State(shared): State<Arc<Shared>>) -> Response {
    set_stall(&shared, true)
}

async fn unstall(State(shared): State<Arc<Shared>>) -> Response {
    set_stall(&shared, false)
}

fn set_stall(shared: &Shared, stalled: bool) -> Response {
    shared.signals.stall.send_replace(stalled);
    tracing::info!(stalled, "admin stall");
    Json(json!({ "stalled": stalled })).into_response()
}

async fn stats(State(shared): State<Arc<Shared>>) -> Response {
    let stats = shared.lock().stats();
    let mut body = serde_json::to_value(stats).unwrap_or_default();
    body["connections"] = json!(shared.connections());
    body["stalled"] = json!(*shared.signals.stall.borrow());
    Json(body).into_response()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::{is_loopback_host, refusal};
    use axum::http::{HeaderMap, HeaderValue, Uri};

    fn status(peer: &str, host: Option<&str>, uri: &str) -> Option<u16> {
        let mut headers = HeaderMap::new();
        if let Some(host) = host {
            headers.insert("host", HeaderValue::from_str(host).unwrap());
        }
        let uri: Uri = uri.parse().unwrap();
        refusal(&peer.parse().expect("addr"), &headers, &uri, None).map(|r| r.status().as_u16())
    }

    #[test]
    fn only_loopback_peers_are_served() {
        for ok in ["127.0.0.1:5000", "[::1]:5000", "127.8.9.10:1"] {
            assert_eq!(status(ok, Some("localhost"), "/admin/stats"), None, "{ok}");
        }
        for remote in ["10.0.0.7:5000", "192.168.1.20:80", "[fe80::1]:9"] {
            assert_eq!(
                status(remote, Some("localhost"), "/admin/stats"),
                Some(403),
                "{remote}"
            );
        }
    }

    #[test]
    fn only_hosts_naming_this_machine_are_loopback() {
        for ok in [
            "localhost",
            "LocalHost:8765",
            "127.0.0.1",
            "127.0.0.1:80",
            "127.255.3.4:65535",
            "[::1]",
            "[::1]:8765",
        ] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in [
            "",
            "attacker.example",
            "attacker.example:8765",
            "localhost.attacker.example",
            "127.0.0.1.nip.io",
            "localhost.",
            "sub.localhost",
            "10.0.0.1",
            "0.0.0.0:8765",
            "127.1",
            "::1",
            "[::2]:80",
            "[::ffff:8.8.8.8]",
            "[::1]x",
            "localhost:",
            "localhost:+80",
            "localhost:65536",
            "localhost:80:80",
            "user@localhost",
        ] {
            assert!(!is_loopback_host(bad), "{bad}");
        }
    }

    #[test]
    fn a_missing_or_foreign_host_or_target_is_refused() {
        let peer = "127.0.0.1:5000";
        assert_eq!(status(peer, None, "/admin/stats"), Some(403));
        assert_eq!(
            status(peer, Some("evil.example"), "/admin/stats"),
            Some(403)
        );
        assert_eq!(
            status(peer, Some("localhost"), "http://evil.example/admin/stats"),
            Some(403)
        );
        assert_eq!(
            status(peer, Some("localhost"), "http://127.0.0.1:9/admin/stats"),
            None
        );
    }
}
