//! `Link::history`: a `history_query` goes out with a fresh `requestId`, and its caller gets
//! the `history` or the `error` carrying that id, or `NotConnected` when the connection drops
//! first. A server that does not list `history` is never asked.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use brewdeck_link::{HistoryRequest, LinkError};
use brewdeck_protocol::Timestamp;
use common::scripted::{self, read_until, say, Answer, Ws};
use common::{link_config, link_with, WAIT};
use serde_json::json;

fn request() -> HistoryRequest {
    HistoryRequest {
        endpoint_ids: vec!["ferm-1-temp".into()],
        from: Timestamp::parse("2026-11-23T05:00:00Z").unwrap(),
        to: Timestamp::parse("2026-11-23T06:00:00Z").unwrap(),
        max_points: Some(60),
    }
}

async fn greet(ws: &mut Ws, features: serde_json::Value) {
    say(
        ws,
        json!({"type":"connected","clientId":"h1","protocols":["brewdeck.v1"],"features":features})
            .to_string(),
    )
    .await;
    read_until(ws, |m| m["type"] == "hello").await.unwrap();
    say(ws, scripted::snapshot(&[], 1)).await;
}

/// A link to `url`, once synced (its snapshot applied), its events taken before it dials.
async fn ready(url: &str) -> brewdeck_link::Link {
    let mut config = link_config(url);
    config.connect_on_start = false;
    let (link, _store) = link_with(config, "t");
    let mut rx = link.events();
    link.connect().await.unwrap();
    common::synced(&link, &mut rx).await;
    link
}

#[tokio::test]
async fn answers_and_refusals_reach_the_caller_that_asked() {
    let server = scripted::serve(
        |_| Answer::Upgrade,
        |_, mut ws: Ws| async move {
            greet(&mut ws, json!(["history"])).await;
            // First query: answered. Second: refused with its id. Third: the line drops.
            let q = read_until(&mut ws, |m| m["type"] == "history_query").await.unwrap();
            assert_eq!(q["endpointIds"], json!(["ferm-1-temp"]));
            assert_eq!(q["maxPoints"], 60);
            say(&mut ws, json!({"type":"history","requestId":q["requestId"],"from":q["from"],"to":q["to"],
                "bucketMs":60000,"series":[{"endpointId":"ferm-1-temp","points":[
                {"t":"2026-11-23T05:00:00Z","min":18.0,"max":18.5,"last":18.25,"n":60}]}],"complete":true}).to_string()).await;
            let q2 = read_until(&mut ws, |m| m["type"] == "history_query").await.unwrap();
            assert_ne!(q2["requestId"], q["requestId"], "each query has its own id");
            // An unrelated error first: not the caller's answer.
            say(&mut ws, json!({"type":"error","message":"something else","code":"rate_limited","requestId":"nobody"}).to_string()).await;
            say(&mut ws, json!({"type":"error","message":"maxPoints too many","code":"too_large","requestId":q2["requestId"]}).to_string()).await;
            read_until(&mut ws, |m| m["type"] == "history_query").await.unwrap();
            // Hang up without answering.
        },
    )
    .await;
    let link = ready(&server.url).await;

    let history = tokio::time::timeout(WAIT, link.history(request()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(history.bucket_ms, 60_000);
    assert_eq!(history.series[0].points[0].n, 60);
    assert_eq!(history.series[0].points[0].last, 18.25);

    let refused = tokio::time::timeout(WAIT, link.history(request()))
        .await
        .unwrap();
    assert_eq!(
        refused,
        Err(LinkError::Refused {
            code: "too_large".into(),
            message: "maxPoints too many".into()
        })
    );

    let dropped = tokio::time::timeout(WAIT, link.history(request()))
        .await
        .unwrap();
    assert_eq!(dropped, Err(LinkError::NotConnected));
}

#[tokio::test]
async fn a_server_that_does_not_list_history_is_not_asked() {
    let (asked_tx, mut asked) = tokio::sync::mpsc::unbounded_channel();
    let server = scripted::serve(
        |_| Answer::Upgrade,
        move |_, mut ws: Ws| {
            let asked_tx = asked_tx.clone();
            async move {
                greet(&mut ws, json!([])).await;
                if let Some(m) = read_until(&mut ws, |m| m["type"] == "history_query").await {
                    let _ = asked_tx.send(m);
                }
            }
        },
    )
    .await;
    let link = ready(&server.url).await;
    let refused = link.history(request()).await;
    assert_eq!(refused, Err(LinkError::Unsupported("history")));
    // Close the link: the server's read ends; nothing was asked.
    link.shutdown().await;
    drop(server);
    assert!(asked.try_recv().is_err(), "no history_query was sent");
}

#[tokio::test]
async fn not_connected_is_said_at_once() {
    let (link, _store) = link_with(link_config("ws://127.0.0.1:9/ws"), "t");
    assert_eq!(link.history(request()).await, Err(LinkError::NotConnected));
}

/// A caller that asks as soon as the state says `Connected` (the snapshot not yet in) is
/// answered once the session is ready, not told `NotConnected`: the desk's first trend does
/// exactly that.
#[tokio::test]
async fn a_query_asked_while_the_session_syncs_goes_out_once_it_is_ready() {
    let (go_tx, go) = tokio::sync::oneshot::channel::<()>();
    let go = std::sync::Mutex::new(Some(go));
    let server = scripted::serve(
        |_| Answer::Upgrade,
        move |_, mut ws: Ws| {
            let go = go.lock().unwrap().take();
            async move {
                say(
                    &mut ws,
                    json!({"type":"connected","clientId":"h1","protocols":["brewdeck.v1"],"features":["history"]})
                        .to_string(),
                )
                .await;
                read_until(&mut ws, |m| m["type"] == "hello").await.unwrap();
                // The snapshot waits until the test has asked.
                go.unwrap().await.unwrap();
                say(&mut ws, scripted::snapshot(&[], 1)).await;
                let q = read_until(&mut ws, |m| m["type"] == "history_query").await.unwrap();
                say(&mut ws, json!({"type":"history","requestId":q["requestId"],"from":q["from"],"to":q["to"],
                    "bucketMs":60000,"series":[],"complete":true}).to_string()).await;
                read_until(&mut ws, |_| false).await;
            }
        },
    )
    .await;
    let mut config = link_config(&server.url);
    config.connect_on_start = false;
    let (link, _store) = link_with(config, "t");
    link.connect().await.unwrap();
    common::connected(&link).await;

    let asked = link.history(request());
    tokio::pin!(asked);
    assert!(futures_util::FutureExt::now_or_never(&mut asked).is_none());
    // Operations are served in order: once this returns, the query has been taken in.
    let _ = link.snapshot().await;
    go_tx.send(()).unwrap();
    let history = tokio::time::timeout(WAIT, asked).await.unwrap().unwrap();
    assert_eq!(history.bucket_ms, 60_000);
}
