//! `history_query` through a real socket: answers from the historian, each refusal with its
//! code and the query's `requestId`, the connection kept; and history that survives a restart
//! of a plant with `--data-dir`.
#![allow(clippy::unwrap_used)]

mod common;
use brewdeck_protocol::*;
use common::*;

fn at(ms: i64) -> Timestamp {
    Timestamp::from_unix_millis(ms).unwrap()
}

fn now_ms() -> i64 {
    Timestamp::now().unix_millis()
}

fn query(
    id: &str,
    endpoints: Vec<EndpointId>,
    from_ms: i64,
    to_ms: i64,
    max_points: Option<u32>,
) -> ClientMessage {
    ClientMessage::HistoryQuery(HistoryQuery {
        request_id: id.into(),
        endpoint_ids: endpoints,
        from: at(from_ms),
        to: at(to_ms),
        max_points,
    })
}

/// The answer to `id`: its `history`, or the `error` that carries its `requestId`.
async fn answer(c: &mut Client, id: &str) -> Result<History, ServerError> {
    c.until(|m| match m {
        ServerMessage::History(h) if h.request_id == id => Some(Ok(h)),
        ServerMessage::Error(e) if e.request_id.as_deref() == Some(id) => Some(Err(e)),
        _ => None,
    })
    .await
}

async fn refused(c: &mut Client, id: &str) -> String {
    match answer(c, id).await {
        Err(e) => e.code.unwrap_or_default(),
        Ok(h) => panic!("{id} was answered: {h:?}"),
    }
}

/// Asks until the historian has readings of `endpoint` over the last minute.
async fn with_readings(c: &mut Client, endpoint: &EndpointId) -> History {
    let deadline = tokio::time::Instant::now() + WAIT;
    for i in 0.. {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no history within {WAIT:?}"
        );
        let id = format!("wait-{i}");
        let to = now_ms();
        c.send(&query(
            &id,
            vec![endpoint.clone()],
            to - 60_000,
            to,
            Some(700),
        ))
        .await;
        let h = answer(c, &id).await.unwrap();
        if h.series[0].points.iter().map(|p| p.n).sum::<u64>() >= 10 {
            return h;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    unreachable!()
}

#[tokio::test]
async fn the_plant_lists_history_and_answers_from_every_reading() {
    let plant = plant().await;
    let mut c = Client::connect(&plant).await;
    let connected = c.expect_connected().await;
    assert!(
        connected.serves(FEATURE_HISTORY),
        "{:?}",
        connected.features
    );
    c.hello(None).await;
    let snapshot = c.expect_snapshot().await;
    let temp = find(&snapshot, "HLT temperature").id.clone();

    let h = with_readings(&mut c, &temp).await;
    // One minute in at most 700 points: 100 ms buckets, the smallest width that fits.
    assert_eq!(h.bucket_ms, 100);
    let points = &h.series[0].points;
    assert_eq!(h.series[0].endpoint_id, temp);
    for w in points.windows(2) {
        assert!(w[0].t < w[1].t, "oldest first, one point a bucket");
    }
    for p in points {
        assert!(p.min <= p.last && p.last <= p.max, "{p:?}");
        assert!(p.t.unix_millis() % 100 == 0, "buckets start on their width");
        assert!(p.n >= 1);
    }
    // The plant began less than a minute ago: it cannot say it has the whole minute.
    assert!(!h.complete);
}

#[tokio::test]
async fn each_bad_query_is_refused_with_its_id_and_the_socket_stays_open() {
    let plant = plant().await;
    let (mut c, snapshot) = Client::level1(&plant).await;
    let id = snapshot.catalog[0].id.clone();
    let now = now_ms();

    c.send(&query(
        "from-after-to",
        vec![id.clone()],
        now,
        now - 1000,
        None,
    ))
    .await;
    assert_eq!(refused(&mut c, "from-after-to").await, "bad_request");
    c.send(&query("no-endpoints", vec![], now - 1000, now, None))
        .await;
    assert_eq!(refused(&mut c, "no-endpoints").await, "bad_request");
    c.send(&query(
        "zero-points",
        vec![id.clone()],
        now - 1000,
        now,
        Some(0),
    ))
    .await;
    assert_eq!(refused(&mut c, "zero-points").await, "bad_request");
    c.send(&query(
        "too-many-points",
        vec![id.clone()],
        now - 1000,
        now,
        Some(5001),
    ))
    .await;
    assert_eq!(refused(&mut c, "too-many-points").await, "too_large");
    let wide: Vec<EndpointId> = (0..21u64).map(Into::into).collect();
    c.send(&query("too-wide", wide, now - 1000, now, None))
        .await;
    assert_eq!(refused(&mut c, "too-wide").await, "too_large");
    // Malformed: a time that is not one; the id is still echoed.
    c.send_raw(r#"{"type":"history_query","requestId":"bad-time","endpointIds":[1],"from":"yesterday","to":"now"}"#).await;
    assert_eq!(refused(&mut c, "bad-time").await, "bad_request");
    let long = "x".repeat(65);
    c.send(&query(&long, vec![id.clone()], now - 1000, now, None))
        .await;
    let e = c
        .until(|m| match m {
            ServerMessage::Error(e) if e.code.as_deref() == Some("bad_request") => Some(e),
            _ => None,
        })
        .await;
    assert_eq!(e.request_id, None, "an over-long id is not echoed");

    // Still open, still answering; an endpoint it does not know is an empty series.
    c.send(&query(
        "fine",
        vec![id, "no-such".into()],
        now - 1000,
        now,
        None,
    ))
    .await;
    let h = answer(&mut c, "fine").await.unwrap();
    assert_eq!(h.series.len(), 2);
    assert!(h.series[1].points.is_empty());
}

#[tokio::test]
async fn queries_over_the_message_rate_are_refused_by_id() {
    let plant = plant_with(|c| {
        c.limits.messages_per_second = 0.5;
        c.limits.message_burst = 2.0;
    })
    .await;
    let mut c = Client::connect(&plant).await;
    c.expect_connected().await;
    c.hello(None).await; // the burst's first message
    c.expect_snapshot().await;
    let now = now_ms();
    for id in ["q1", "q2", "q3"] {
        c.send(&query(id, vec![1.into()], now - 1000, now, None))
            .await;
    }
    assert!(answer(&mut c, "q1").await.is_ok(), "within the burst");
    assert_eq!(refused(&mut c, "q2").await, "rate_limited");
    assert_eq!(refused(&mut c, "q3").await, "rate_limited");
}

#[tokio::test]
async fn ten_years_is_answered_at_a_coarse_width_within_max_points() {
    let plant = plant().await;
    let (mut c, snapshot) = Client::level1(&plant).await;
    let temp = find(&snapshot, "HLT temperature").id.clone();
    with_readings(&mut c, &temp).await;
    let now = now_ms();
    let ten_years = 10 * 365 * 86_400_000;
    c.send(&query(
        "decade",
        vec![temp],
        now - ten_years,
        now,
        Some(5000),
    ))
    .await;
    let h = answer(&mut c, "decade").await.unwrap();
    assert!(
        h.bucket_ms >= ten_years as u64 / 5000,
        "bucket {} ms",
        h.bucket_ms
    );
    assert!(h.series[0].points.len() <= 5000);
    assert!(
        !h.series[0].points.is_empty(),
        "the last minutes are in the last bucket"
    );
}

#[tokio::test]
async fn an_answer_too_big_for_a_frame_is_given_at_a_lower_resolution() {
    // 30 days of 20 endpoints, filled straight into a store the plant then opens.
    let dir = tempfile::tempdir().unwrap();
    let mut spec = brewdeck_store::fill::FillSpec::new(
        brewdeck_store::Fine::EveryReading,
        20,
        30.0,
        1.0 / 60.0,
    );
    spec.source = String::new();
    brewdeck_store::fill::bulk_fill(&dir.path().join("plant.sqlite3"), &spec).unwrap();
    let plant = plant_with(|c| c.data_dir = Some(dir.path().to_owned())).await;
    let (mut c, _) = Client::level1(&plant).await;
    let ids: Vec<EndpointId> = (0..20)
        .map(|i| brewdeck_store::fill::FillSpec::endpoint(i).as_str().into())
        .collect();
    let now = now_ms();
    c.send(&query("big", ids, now - 30 * 86_400_000, now, Some(5000)))
        .await;
    let frame = loop {
        match c.frame().await {
            Some(tokio_tungstenite::tungstenite::Message::Text(t))
                if t.as_str().contains("\"big\"") =>
            {
                break t
            }
            Some(_) => continue,
            None => panic!("socket ended"),
        }
    };
    assert!(frame.len() <= 1024 * 1024, "{} bytes", frame.len());
    let ServerMessage::History(h) = decode_server(frame.as_str()).unwrap() else {
        panic!("not a history: {}", &frame.as_str()[..200.min(frame.len())]);
    };
    // 5000 points over 30 days would be 10-minute buckets: too big for 20 endpoints.
    assert!(h.bucket_ms > 600_000, "bucket {} ms", h.bucket_ms);
    assert!(h.series.iter().all(|s| !s.points.is_empty()));
    assert!(h.complete, "the store's history began 30 days ago");
}

#[tokio::test]
async fn history_survives_a_restart_with_a_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_owned();
    let plant = plant_with(|c| c.data_dir = Some(data_dir.clone())).await;
    let (mut c, snapshot) = Client::level1(&plant).await;
    let temp = find(&snapshot, "HLT temperature").id.clone();
    let before = with_readings(&mut c, &temp).await;
    let seen: u64 = before.series[0].points.iter().map(|p| p.n).sum();
    drop(c);
    plant.shutdown().await;
    assert!(dir.path().join("plant.sqlite3").exists());

    let plant = plant_with(|c| c.data_dir = Some(data_dir.clone())).await;
    let (mut c, _) = Client::level1(&plant).await;
    c.send(&query(
        "after",
        vec![temp],
        before.from.unix_millis(),
        before.to.unix_millis(),
        Some(600),
    ))
    .await;
    let after = answer(&mut c, "after").await.unwrap();
    let kept: u64 = after.series[0].points.iter().map(|p| p.n).sum();
    assert!(
        kept >= seen,
        "kept {kept} of the {seen} readings seen before the restart"
    );
    plant.shutdown().await;
}

#[tokio::test]
async fn a_week_recorded_before_a_restart_is_answered_per_minute() {
    use brewdeck_store::{Location, Reading, Store, StoreConfig};
    let dir = tempfile::tempdir().unwrap();
    let mut config = StoreConfig::plant(Location::File(dir.path().join("plant.sqlite3")));
    config.fine_retention = std::time::Duration::from_secs(8 * 86_400);
    let store = Store::open(config).unwrap().store;
    let end = now_ms() - 10 * 60_000;
    let week = 7 * 86_400_000;
    store.writer().record(
        "",
        (0..7 * 24 * 60)
            .map(|i| Reading {
                endpoint: "1".into(),
                t_ms: end - week + i * 60_000,
                value: 60.0,
            })
            .collect(),
    );
    store.flush().unwrap();
    drop(store);
    let plant = plant_with(|c| c.data_dir = Some(dir.path().to_owned())).await;
    let (mut c, _) = Client::level1(&plant).await;
    // 4999 minutes: with the first bucket aligned on the minute, at most 5000 buckets.
    let (from, to) = (end - week, end - week + 4999 * 60_000);
    c.send(&query("old", vec![1.into()], from, to, Some(5000)))
        .await;
    let h = answer(&mut c, "old").await.unwrap();
    assert_eq!(h.bucket_ms, 60_000);
    assert!(
        h.series[0].points.len() >= 4990,
        "{} points",
        h.series[0].points.len()
    );
    assert!(
        h.series[0].points.iter().all(|p| p.n == 1),
        "one reading a minute"
    );
}
