//! The bridge against a real link and a real plant in flood mode (500 endpoints, 20 updates a
//! second each: 10 000 readings a second): telemetry reaches the desk at most every 50 ms, in
//! batches under 8 KiB holding the latest value per endpoint, and alarms still come through
//! with their notification.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use brewdeck_link::{Link, LinkConfig, LinkEvent, LinkState, MemoryTokenStore, ServerUrl};
use brewdeck_plant::{Flood, PlantConfig};
use brewdeck_protocol::Token;
use brewdeck_station::bridge::{AlarmTally, Bridge, Output, FLUSH_EVERY};
use brewdeck_station::notices::{Notice, NoticeKind};
use brewdeck_station::readings::{ReadingBatch, MAX_BATCH_BYTES};
use brewdeck_station::settings::NotificationChoices;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

const TOKEN: &str = "bridge-test-token";

#[derive(Debug)]
enum Seen {
    Readings(Instant, Vec<ReadingBatch>),
    Notice(Notice),
    Event(LinkEvent),
    Alarms(AlarmTally),
}

struct Recorder(mpsc::UnboundedSender<Seen>);

impl Output for Recorder {
    fn link_state(&mut self, _: &LinkState) {}
    fn plant_event(&mut self, event: &LinkEvent) {
        let _ = self.0.send(Seen::Event(event.clone()));
    }
    fn readings(&mut self, batches: &[ReadingBatch]) {
        let _ = self
            .0
            .send(Seen::Readings(Instant::now(), batches.to_vec()));
    }
    fn notify(&mut self, notice: &Notice) {
        let _ = self.0.send(Seen::Notice(notice.clone()));
    }
    fn alarms(&mut self, tally: AlarmTally) {
        let _ = self.0.send(Seen::Alarms(tally));
    }
    fn resync(&mut self) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_reaches_the_desk_in_bounded_small_batches_and_alarms_still_notify() {
    let mut config = PlantConfig::new(([127, 0, 0, 1], 0).into(), Token::new(TOKEN).unwrap());
    config.admin = true;
    config.flood = Some(Flood {
        endpoints: 500,
        rate_hz: 20.0,
    });
    let plant = brewdeck_plant::start(config).await.unwrap();
    let mut link_config = LinkConfig::new(ServerUrl::parse(&plant.ws_url(), false).unwrap());
    link_config.connect_on_start = false;
    let link = Link::spawn(
        link_config,
        Arc::new(MemoryTokenStore::new(Token::new(TOKEN))),
    )
    .unwrap();
    let (_choices, choices_rx) = watch::channel(NotificationChoices::default());
    let bridge = Bridge::new(&link, choices_rx);
    let (tx, mut seen) = mpsc::unbounded_channel();
    let task = tokio::spawn(bridge.run(Recorder(tx)));
    link.follow_catalog(true).await.unwrap();
    link.connect().await.unwrap();

    // Collect 60 flushes (3 s or more of flood).
    let mut flushes: Vec<Instant> = Vec::new();
    let mut endpoints = std::collections::HashSet::new();
    let mut raised = false;
    let mut notified = false;
    let mut alarm_event = false;
    let mut tally = AlarmTally::default();
    let deadline = Instant::now() + Duration::from_secs(60);
    while flushes.len() < 60 || !notified || !alarm_event || tally.unacknowledged_critical == 0 {
        let item = tokio::time::timeout_at(deadline, seen.recv())
            .await
            .expect("the bridge keeps delivering")
            .expect("the bridge is running");
        match item {
            Seen::Readings(at, batches) => {
                assert!(!batches.is_empty(), "an empty flush");
                // Latest value per endpoint: no endpoint twice in one flush.
                let mut ids = std::collections::HashSet::new();
                for batch in &batches {
                    let json = serde_json::to_vec(batch).unwrap();
                    assert!(json.len() <= MAX_BATCH_BYTES, "{} bytes", json.len());
                    for r in &batch.readings {
                        assert!(ids.insert(r.endpoint_id.clone()), "{} twice", r.endpoint_id);
                        endpoints.insert(r.endpoint_id.clone());
                    }
                }
                flushes.push(at);
                if flushes.len() == 10 && !raised {
                    raised = true;
                    raise_alarm(&plant).await;
                }
            }
            Seen::Notice(n) if n.kind == NoticeKind::Alarm => {
                assert_eq!(n.body, "Bridge flood test alarm");
                notified = true;
            }
            Seen::Event(LinkEvent::Alarm { alarm, .. }) => {
                alarm_event |= alarm.message == "Bridge flood test alarm";
            }
            Seen::Alarms(t) => tally = t,
            Seen::Notice(_) | Seen::Event(_) => {}
        }
    }
    for pair in flushes.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= FLUSH_EVERY, "two flushes {gap:?} apart");
    }
    assert!(
        endpoints.len() >= 500,
        "only {} endpoints seen",
        endpoints.len()
    );

    link.shutdown().await;
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("the bridge ends with its link")
        .unwrap();
    plant.shutdown().await;
}

async fn raise_alarm(plant: &brewdeck_plant::RunningPlant) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = r#"{"severity":"critical","message":"Bridge flood test alarm"}"#;
    let mut s = tokio::net::TcpStream::connect(plant.local_addr())
        .await
        .unwrap();
    let request = format!(
        "POST /admin/alarm HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
}
