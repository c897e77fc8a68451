//! The actor on tokio's paused time: backoff schedule, reset, liveness, outbox expiry,
//! server-requested delays, authorization, resume and in-flight commands.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::command_book::{CommandDraft, CommandPhase};
use crate::events::{Delivery, LinkEvent};
use crate::state::{LinkState, ProtocolLevel};
use crate::testing::{config, connected, harness, snapshot, Peer};
use crate::transport::DialError;
use crate::{LinkError, BY_THIS_DESK};
use brewdeck_protocol::{
    Action, Alarm, AlarmId, ClientMessage, CommandState, CommandStatus, EndpointId, Hello, Resumed,
    ServerMessage, Severity, Subscription, Timestamp, Token, PROTOCOL_V1,
};
use std::time::Duration;
use tokio::time::Instant;

fn alarm(id: u64, seq: Option<u64>) -> ServerMessage {
    ServerMessage::Alarm(Alarm {
        alarm_id: AlarmId::from(id),
        severity: Severity::Critical,
        message: format!("alarm {id}"),
        timestamp: Timestamp::now(),
        endpoint_id: None,
        state: None,
        acked: None,
        acked_by: None,
        acked_at: None,
        ack_note: None,
        shelved: None,
        seq,
    })
}

fn draft() -> CommandDraft {
    CommandDraft {
        endpoint_id: EndpointId::from(7),
        action: Action::On,
        value: None,
    }
}

/// Connects a level-1 peer through hello and an empty snapshot; returns it after the
/// link's subscriptions.
async fn level1_peer(peer: &mut Peer, seq: u64) -> Option<u64> {
    peer.send(&connected(true));
    let Some(ClientMessage::Hello(Hello { protocol, last_seq })) = peer.next_message().await else {
        panic!("hello first")
    };
    assert_eq!(protocol, PROTOCOL_V1);
    peer.send(&snapshot(seq));
    last_seq
}

/// A plant back within a minute finds the link trying about once a second; past the minute
/// the link backs off to thirty seconds, and never gives up.
#[tokio::test(start_paused = true)]
async fn a_minute_of_quick_attempts_then_doubling_to_thirty_never_giving_up() {
    let mut h = harness(config(), 1.0);
    let mut times = Vec::new();
    for _ in 0..48 {
        let d = h.dial().await;
        times.push(d.at);
        d.fail(DialError::Transient("refused".into()));
    }
    let gaps: Vec<u128> = times
        .windows(2)
        .map(|w| (w[1] - w[0]).as_millis())
        .collect();
    // 0 to 60 s: forty attempts 1.5 s apart at most (full jitter: 0.75 s on average).
    assert!(gaps[..40].iter().all(|g| *g == 1500), "{gaps:?}");
    assert_eq!(gaps[40..], [3000, 6000, 12000, 24000, 30000, 30000, 30000]);
    let state = h.link.state();
    assert!(
        matches!(state, LinkState::Connecting { attempt: 47 }),
        "{state:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn jitter_draws_below_the_ceiling() {
    let mut h = harness(config(), 0.25);
    let first = h.dial().await;
    let t0 = first.at;
    first.fail(DialError::Transient("x".into()));
    let second = h.dial().await;
    let t1 = second.at;
    assert_eq!((t1 - t0).as_millis(), 375);
    second.fail(DialError::Transient("x".into()));
    let third = h.dial().await;
    assert_eq!((third.at - t1).as_millis(), 375);
}

#[tokio::test(start_paused = true)]
async fn reconnecting_state_says_attempt_and_when() {
    let mut h = harness(config(), 1.0);
    h.dial().await.fail(DialError::Transient("refused".into()));
    let s = h
        .wait_state(|s| matches!(s, LinkState::Reconnecting { .. }))
        .await;
    let LinkState::Reconnecting {
        attempt,
        retry_in_ms,
        last_error,
        ..
    } = s
    else {
        unreachable!()
    };
    assert_eq!((attempt, retry_in_ms), (1, 1500));
    assert_eq!(last_error, "refused");
}

#[tokio::test(start_paused = true)]
async fn a_connection_that_stayed_up_resets_the_backoff() {
    let mut h = harness(config(), 1.0);
    // Past the quick minute: the next delay is 3 s.
    let start = Instant::now();
    while Instant::now() - start < Duration::from_secs(60) {
        h.dial().await.fail(DialError::Transient("down".into()));
    }
    // Short-lived connection: the same outage, the backoff keeps growing (6 s).
    let peer = h.dial().await.accept();
    peer.send(&connected(false));
    h.wait_state(LinkState::is_connected).await;
    peer.hang_up();
    let t = Instant::now();
    let d = h.dial().await;
    assert_eq!((d.at - t).as_millis(), 6000);
    // Up for 10 s (heartbeats keep it alive): the next outage is a new one, quick again.
    let peer = d.accept();
    peer.send(&connected(false));
    h.wait_state(LinkState::is_connected).await;
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_secs(2)).await;
        peer.send_json(
            serde_json::json!({"type": "heartbeat", "timestamp": "2026-01-01T00:00:00Z"}),
        );
    }
    peer.hang_up();
    let t = Instant::now();
    let d = h.dial().await;
    assert_eq!((d.at - t).as_millis(), 1500);
}

#[tokio::test(start_paused = true)]
async fn silence_for_twelve_seconds_is_a_dead_link_and_pings_go_every_four() {
    let mut h = harness(config(), 1.0);
    let mut peer = h.dial().await.accept();
    let opened = Instant::now();
    peer.send(&connected(false));
    h.wait_state(LinkState::is_connected).await;
    let mut pings = Vec::new();
    // The peer reads and never answers.
    while let Some(frame) = peer.next_frame().await {
        if let tokio_tungstenite::tungstenite::Message::Ping(_) = frame {
            pings.push((Instant::now() - opened).as_secs());
        }
        if h.link.state().name() != "connected" {
            break;
        }
    }
    let s = h
        .wait_state(|s| matches!(s, LinkState::Reconnecting { .. }))
        .await;
    let dead_at = Instant::now() - opened;
    assert_eq!(dead_at.as_secs(), 12, "declared dead after {dead_at:?}");
    // A third ping may go out at the very moment the link is declared dead.
    let before: Vec<u64> = pings.into_iter().filter(|p| *p < 12).collect();
    assert_eq!(before, [4, 8]);
    let LinkState::Reconnecting { last_error, .. } = s else {
        unreachable!()
    };
    assert!(last_error.contains("no frame"), "{last_error}");
}

#[tokio::test(start_paused = true)]
async fn any_frame_keeps_the_link_alive() {
    let mut h = harness(config(), 1.0);
    let peer = h.dial().await.accept();
    peer.send(&connected(false));
    h.wait_state(LinkState::is_connected).await;
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_secs(10)).await;
        peer.send_raw(Ok(tokio_tungstenite::tungstenite::Message::Pong(
            Default::default(),
        )));
    }
    assert!(h.link.state().is_connected(), "300 s of pongs every 10 s");
}

#[tokio::test(start_paused = true)]
async fn a_server_that_never_says_connected_is_dropped() {
    let mut h = harness(config(), 1.0);
    let _peer = h.dial().await.accept();
    let t = Instant::now();
    let s = h
        .wait_state(|s| matches!(s, LinkState::Reconnecting { .. }))
        .await;
    assert_eq!((Instant::now() - t).as_secs(), 10);
    assert!(format!("{s:?}").contains("no `connected`"));
}

#[tokio::test(start_paused = true)]
async fn outbox_commands_expire_after_thirty_seconds_offline() {
    let mut h = harness(config(), 1.0);
    let dial = h.dial().await;
    let view = h.link.send_command(draft()).await.unwrap();
    assert_eq!(view.phase, CommandPhase::Queued);
    let issued = Instant::now();
    dial.fail(DialError::Transient("down".into()));
    // Keep failing dials while waiting.
    let expired = loop {
        tokio::select! {
            d = h.dials.recv() => d.unwrap().fail(DialError::Transient("down".into())),
            e = h.events.recv() => {
                if let LinkEvent::Command { command, via } = e.unwrap() {
                    if command.phase == CommandPhase::Failed {
                        assert_eq!(via, Delivery::Local);
                        break command;
                    }
                }
            }
        }
    };
    assert_eq!((Instant::now() - issued).as_secs(), 30);
    assert_eq!(expired.reason.as_deref(), Some("expired"));
    assert_eq!(expired.command_id, view.command_id);
    // It is never sent: the next connection gets hello and subscriptions only.
    let mut peer = h.dial().await.accept();
    level1_peer(&mut peer, 10).await;
    for _ in 0..2 {
        let m = peer.next_message().await.unwrap();
        assert!(matches!(m, ClientMessage::Subscribe(_)), "{m:?}");
    }
    assert_eq!(h.link.snapshot().await.unwrap().outbox, 0);
}

#[tokio::test(start_paused = true)]
async fn outbox_goes_out_in_order_after_the_snapshot() {
    let mut h = harness(config(), 1.0);
    let dial = h.dial().await;
    let a = h.link.send_command(draft()).await.unwrap();
    let b = h.link.send_command(draft()).await.unwrap();
    let mut peer = dial.accept();
    assert_eq!(level1_peer(&mut peer, 10).await, None);
    let mut sent = Vec::new();
    while sent.len() < 2 {
        if let Some(ClientMessage::Command(c)) = peer.next_message().await {
            sent.push(c.command_id);
        }
    }
    assert_eq!(sent, [a.command_id, b.command_id]);
}

#[tokio::test(start_paused = true)]
async fn reconnect_message_sets_the_next_delay() {
    let mut h = harness(config(), 1.0);
    let peer = h.dial().await.accept();
    peer.send(&connected(false));
    h.wait_state(LinkState::is_connected).await;
    peer.send_json(serde_json::json!({"type":"reconnect","reason":"maintenance","retry_after":7}));
    let t = Instant::now();
    let d = h.dial().await;
    assert_eq!((d.at - t).as_secs(), 7);
}

#[tokio::test(start_paused = true)]
async fn http_503_retry_after_sets_the_next_delay() {
    let mut h = harness(config(), 1.0);
    let d = h.dial().await;
    let t = d.at;
    d.fail(DialError::RetryAfter(
        Duration::from_secs(12),
        "busy".into(),
    ));
    let d = h.dial().await;
    assert_eq!((d.at - t).as_secs(), 12);
    // The override is used once; then the backoff resumes (still the quick minute: 1.5 s).
    let t = d.at;
    d.fail(DialError::Transient("down".into()));
    assert_eq!((h.dial().await.at - t).as_millis(), 1500);
}

#[tokio::test(start_paused = true)]
async fn unauthorized_waits_for_a_new_token_then_uses_it() {
    let mut h = harness(config(), 1.0);
    h.dial()
        .await
        .fail(DialError::Unauthorized("refused".into()));
    h.wait_state(|s| matches!(s, LinkState::Unauthorized { .. }))
        .await;
    // An hour passes with no attempt.
    let waited = tokio::time::timeout(Duration::from_secs(3600), h.dials.recv()).await;
    assert!(waited.is_err(), "no dial while unauthorized");
    let store: std::sync::Arc<dyn crate::TokenStore> = h.store.clone();
    h.link
        .set_token(store, config().server, Token::new("new-token"))
        .await
        .unwrap();
    let d = h.dial().await;
    assert_eq!(d.token.expose(), "new-token");
}

/// A token saved for another server than the link's (the app moved meanwhile) changes
/// nothing here: no dial, and the link keeps what it had.
#[tokio::test(start_paused = true)]
async fn a_token_changed_for_another_server_is_not_taken() {
    let mut h = harness(config(), 1.0);
    h.dial()
        .await
        .fail(DialError::Unauthorized("refused".into()));
    h.wait_state(|s| matches!(s, LinkState::Unauthorized { .. }))
        .await;
    let elsewhere = crate::ServerUrl::parse("ws://127.0.0.1:10/ws", false).unwrap();
    h.link
        .ops_for_tests()
        .send(crate::ops::Op::TokenChanged(elsewhere))
        .await
        .unwrap();
    let waited = tokio::time::timeout(Duration::from_secs(3600), h.dials.recv()).await;
    assert!(
        waited.is_err(),
        "dialed after another server's token changed"
    );
    assert!(matches!(h.link.state(), LinkState::Unauthorized { .. }));
}

#[tokio::test(start_paused = true)]
async fn no_token_is_unauthorized_without_dialing() {
    let mut h = harness(config(), 1.0);
    h.dial().await.fail(DialError::Transient("x".into()));
    let store: std::sync::Arc<dyn crate::TokenStore> = h.store.clone();
    h.link
        .set_token(store, config().server, None)
        .await
        .unwrap();
    let s = h
        .wait_state(|s| matches!(s, LinkState::Unauthorized { .. }))
        .await;
    assert!(format!("{s:?}").contains("no token"));
}

#[tokio::test(start_paused = true)]
async fn config_errors_park_the_link_until_retry_now() {
    let mut h = harness(config(), 1.0);
    h.dial()
        .await
        .fail(DialError::Config("certificate not trusted".into()));
    let s = h
        .wait_state(|s| matches!(s, LinkState::Failed { .. }))
        .await;
    assert_eq!(
        s,
        LinkState::Failed {
            reason: "certificate not trusted".into()
        }
    );
    assert!(
        tokio::time::timeout(Duration::from_secs(600), h.dials.recv())
            .await
            .is_err()
    );
    h.link.retry_now().await.unwrap();
    h.dial().await;
}

/// A server whose numbers jump (here to `u64::MAX`, as a broken or re-clocked server might)
/// must not make every later alarm look like a duplicate: a new epoch, from a snapshot, and
/// the gap reported.
#[tokio::test(start_paused = true)]
async fn a_seq_jump_is_a_new_epoch_and_later_alarms_still_arrive() {
    let mut h = harness(config(), 1.0);
    let mut peer = h.dial().await.accept();
    assert_eq!(level1_peer(&mut peer, 10).await, None);
    h.event(|e| matches!(e, LinkEvent::Synced { .. })).await;
    peer.send(&alarm(1, Some(11)));
    h.event(|e| matches!(e, LinkEvent::Alarm { alarm, .. } if alarm.seq == Some(11)))
        .await;
    peer.send(&alarm(2, Some(u64::MAX)));
    let missing = h
        .event(|e| matches!(e, LinkEvent::EventsMayBeMissing { .. }))
        .await;
    assert!(
        matches!(
            missing,
            LinkEvent::EventsMayBeMissing {
                from_seq: 11,
                to_seq: u64::MAX
            }
        ),
        "{missing:?}"
    );
    // Back on a new connection, asking for everything rather than resuming after 11.
    let mut peer = h.dial().await.accept();
    assert_eq!(
        level1_peer(&mut peer, 5).await,
        None,
        "hello asks for a snapshot"
    );
    h.event(|e| matches!(e, LinkEvent::Synced { .. })).await;
    peer.send(&alarm(3, Some(6)));
    h.event(|e| matches!(e, LinkEvent::Alarm { alarm, .. } if alarm.seq == Some(6)))
        .await;
    let snap = h.link.snapshot().await.unwrap();
    assert_eq!(snap.last_seq, Some(6));
    assert_eq!(snap.counters.duplicates, 0);
    assert!(snap.missed_events.is_some());
}

/// A jump mid-session is no failure of the path: the link reconnects at once (no backoff,
/// no attempt counted) for its snapshot.
#[tokio::test(start_paused = true)]
async fn a_seq_jump_reconnects_at_once_without_counting_a_failure() {
    let mut h = harness(config(), 1.0);
    let mut peer = h.dial().await.accept();
    level1_peer(&mut peer, 10).await;
    h.event(|e| matches!(e, LinkEvent::Synced { .. })).await;
    peer.send(&alarm(1, Some(10 + (1 << 40))));
    let t = Instant::now();
    let d = h.dial().await;
    assert_eq!(d.at, t, "redialed at once");
    assert_eq!(h.link.state(), LinkState::Connecting { attempt: 0 });
}

/// A snapshot behind the numbers applied (a server gone back without saying so) is a new
/// epoch: later alarms are not taken for duplicates.
#[tokio::test(start_paused = true)]
async fn a_snapshot_behind_the_floor_starts_a_new_epoch() {
    let mut h = harness(config(), 1.0);
    let mut peer = h.dial().await.accept();
    level1_peer(&mut peer, 1_000).await;
    h.event(|e| matches!(e, LinkEvent::Synced { .. })).await;
    peer.hang_up();
    let mut peer = h.dial().await.accept();
    // `connected` says nothing of its counter; the snapshot is far behind ours.
    assert_eq!(level1_peer(&mut peer, 5).await, Some(1_000));
    h.event(|e| {
        matches!(
            e,
            LinkEvent::EventsMayBeMissing {
                from_seq: 1_000,
                to_seq: 5
            }
        )
    })
    .await;
    peer.send(&alarm(7, Some(6)));
    h.event(|e| matches!(e, LinkEvent::Alarm { alarm, .. } if alarm.seq == Some(6)))
        .await;
    assert_eq!(h.link.snapshot().await.unwrap().last_seq, Some(6));
}

/// A server that comes back with a counter far ahead (or behind) of ours is not asked to
/// replay after our number.
#[tokio::test(start_paused = true)]
async fn a_server_whose_last_seq_jumped_is_not_resumed_from() {
    let mut h = harness(config(), 1.0);
    let mut peer = h.dial().await.accept();
    level1_peer(&mut peer, 10).await;
    h.event(|e| matches!(e, LinkEvent::Synced { .. })).await;
    peer.hang_up();
    let mut peer = h.dial().await.accept();
    let mut greeting = connected(true);
    if let ServerMessage::Connected(c) = &mut greeting {
        c.last_seq = Some(10 + (1 << 33));
    }
    peer.send(&greeting);
    let Some(ClientMessage::Hello(Hello { last_seq, .. })) = peer.next_message().await else {
        panic!("hello first")
    };
    assert_eq!(last_seq, None);
    h.event(|e| matches!(e, LinkEvent::EventsMayBeMissing { from_seq: 10, .. }))
        .await;
}

#[tokio::test(start_paused = true)]
async fn retry_now_skips_the_wait() {
    let mut h = harness(config(), 1.0);
    // Well past the quick minute, where a wait is 30 s.
    let start = Instant::now();
    while Instant::now() - start < Duration::from_secs(120) {
        h.dial().await.fail(DialError::Transient("x".into()));
    }
    h.wait_state(|s| {
        matches!(
            s,
            LinkState::Reconnecting {
                retry_in_ms: 30000,
                ..
            }
        )
    })
    .await;
    let t = Instant::now();
    h.link.retry_now().await.unwrap();
    let d = h.dial().await;
    assert_eq!(d.at, t);
}

#[tokio::test(start_paused = true)]
async fn hello_carries_the_last_seq_and_replays_are_not_applied_twice() {
    let mut h = harness(config(), 1.0);
    let mut peer = h.dial().await.accept();
    assert_eq!(level1_peer(&mut peer, 100).await, None);
    peer.send(&alarm(1, Some(101)));
    peer.send(&alarm(2, Some(102)));
    h.event(|e| matches!(e, LinkEvent::Alarm { alarm, .. } if alarm.seq == Some(102)))
        .await;
    peer.hang_up();
    let mut peer = h.dial().await.accept();
    peer.send(&connected(true));
    let Some(ClientMessage::Hello(hello)) = peer.next_message().await else {
        panic!("hello")
    };
    assert_eq!(hello.last_seq, Some(102));
    // A server replaying too much: 102 again, then 103 (new), resumed, snapshot.
    peer.send(&alarm(2, Some(102)));
    peer.send(&alarm(3, Some(103)));
    peer.send(&ServerMessage::Resumed(Resumed {
        from_seq: 102,
        to_seq: 103,
        complete: true,
    }));
    peer.send(&snapshot(103));
    let e = h
        .event(|e| matches!(e, LinkEvent::Alarm { .. } | LinkEvent::Synced { .. }))
        .await;
    let LinkEvent::Alarm { alarm, via } = e else {
        panic!("{e:?}")
    };
    assert_eq!((alarm.seq, via), (Some(103), Delivery::Replay));
    let snap = h.link.snapshot().await.unwrap();
    assert_eq!(snap.counters.duplicates, 1);
    assert_eq!(snap.last_seq, Some(103));
    assert!(snap.missed_events.is_none());
}

#[tokio::test(start_paused = true)]
async fn an_incomplete_resume_tells_the_operator() {
    let mut h = harness(config(), 1.0);
    let mut peer = h.dial().await.accept();
    level1_peer(&mut peer, 100).await;
    peer.send(&alarm(1, Some(101)));
    h.event(|e| matches!(e, LinkEvent::Alarm { .. })).await;
    peer.hang_up();
    let mut peer = h.dial().await.accept();
    assert_eq!(level1_peer(&mut peer, 900).await, Some(101));
    peer.send(&ServerMessage::Resumed(Resumed {
        from_seq: 101,
        to_seq: 900,
        complete: false,
    }));
    let e = h
        .event(|e| matches!(e, LinkEvent::EventsMayBeMissing { .. }))
        .await;
    assert_eq!(
        e,
        LinkEvent::EventsMayBeMissing {
            from_seq: 101,
            to_seq: 900
        }
    );
    assert!(h.link.snapshot().await.unwrap().missed_events.is_some());
}

#[tokio::test(start_paused = true)]
async fn in_flight_commands_are_resent_with_the_same_id_at_level_1() {
    let mut h = harness(config(), 1.0);
    let mut peer = h.dial().await.accept();
    level1_peer(&mut peer, 10).await;
    let view = h.link.send_command(draft()).await.unwrap();
    let first = loop {
        if let Some(ClientMessage::Command(c)) = peer.next_message().await {
            break c;
        }
    };
    assert_eq!(first.command_id, view.command_id);
    peer.send(&ServerMessage::CommandStatus(CommandStatus {
        command_id: view.command_id.clone(),
        status: CommandState::Acked,
        actual_value: None,
        completed_at: None,
        reason: None,
        endpoint_id: None,
        action: None,
        seq: Some(11),
    }));
    h.event(
        |e| matches!(e, LinkEvent::Command { command, .. } if command.phase == CommandPhase::Acked),
    )
    .await;
    peer.hang_up();
    let mut peer = h.dial().await.accept();
    level1_peer(&mut peer, 11).await;
    let again = loop {
        if let Some(ClientMessage::Command(c)) = peer.next_message().await {
            break c;
        }
    };
    assert_eq!(again, first, "same id, same command");
}

#[tokio::test(start_paused = true)]
async fn in_flight_commands_become_unknown_at_level_0() {
    let mut h = harness(config(), 1.0);
    let dial = h.dial().await;
    // Issued offline; the level-0 poster cannot reach the fake address, so the command is
    // marked by whichever comes first. Here: the link drops right after it is handed over.
    let view = h.link.send_command(draft()).await.unwrap();
    let mut peer = dial.accept();
    peer.send(&connected(false));
    // Level 0: subscriptions (alarms), then the command's own subscription before the POST.
    let mut followed = false;
    while !followed {
        if let Some(ClientMessage::Subscribe(Subscription::Commands { command_ids })) =
            peer.next_message().await
        {
            followed = command_ids == vec![view.command_id.clone()];
        }
    }
    let snap = h.link.snapshot().await.unwrap();
    assert_eq!(snap.level, Some(ProtocolLevel::Level0));
    peer.hang_up();
    let e = h
        .event(|e| matches!(e, LinkEvent::Command { command, .. } if command.phase != CommandPhase::Queued))
        .await;
    let LinkEvent::Command { command, .. } = e else {
        unreachable!()
    };
    // Either the drop made it unknown, or the POST failed to connect first: never re-sent.
    assert!(
        matches!(command.phase, CommandPhase::Unknown | CommandPhase::Failed),
        "{command:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn garbage_is_counted_and_the_link_goes_on() {
    let mut h = harness(config(), 1.0);
    let peer = h.dial().await.accept();
    peer.send(&connected(false));
    peer.send_text("{not json");
    peer.send_text(r#"{"type":"telemetry","endpointId":1}"#);
    peer.send_text(r#"{"type":"weather","sky":"blue"}"#);
    peer.send_raw(Ok(tokio_tungstenite::tungstenite::Message::Binary(
        vec![1, 2, 3].into(),
    )));
    peer.send_json(serde_json::json!({"type":"telemetry","endpointId":1,"value":66.5,"timestamp":"2026-01-01T00:00:00Z"}));
    h.event(|e| matches!(e, LinkEvent::Readings { .. })).await;
    let c = h.link.snapshot().await.unwrap().counters;
    assert_eq!((c.bad_frames, c.unknown_messages), (3, 1));
    assert!(h.link.state().is_connected());
}

#[tokio::test(start_paused = true)]
async fn dropping_the_last_handle_stops_the_actor() {
    let mut h = harness(config(), 1.0);
    let mut peer = h.dial().await.accept();
    peer.send(&connected(false));
    h.wait_state(LinkState::is_connected).await;
    let mut state = h.state.clone();
    drop(h.link);
    state.wait_for(|s| *s == LinkState::Stopped).await.unwrap();
    // The socket was closed (after the subscriptions it had sent), and the event channel ended.
    while let Some(m) = peer.next_message().await {
        assert!(matches!(m, ClientMessage::Subscribe(_)), "{m:?}");
    }
    assert!(matches!(
        h.events.recv().await,
        Err(tokio::sync::broadcast::error::RecvError::Closed)
    ));
}

#[tokio::test(start_paused = true)]
async fn shutdown_ends_the_task_and_later_calls_say_stopped() {
    let h = harness(config(), 1.0);
    h.link.shutdown().await;
    assert_eq!(h.link.state(), LinkState::Stopped);
    assert_eq!(
        h.link.snapshot().await.unwrap_err(),
        crate::LinkError::Stopped
    );
}

#[tokio::test(start_paused = true)]
async fn readings_go_stale_with_age_and_when_the_link_drops() {
    let mut h = harness(config(), 1.0);
    let peer = h.dial().await.accept();
    peer.send(&connected(false));
    peer.send_json(serde_json::json!({"type":"telemetry","endpointId":3,"value":150.0,"timestamp":"2026-11-23T06:00:00Z"}));
    h.event(|e| matches!(e, LinkEvent::Readings { .. })).await;
    let fresh = h.link.snapshot().await.unwrap();
    assert!(!fresh.readings[0].stale);
    // 31 s later (pongs keep the link up), past the 30 s threshold.
    for _ in 0..31 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        peer.send_raw(Ok(tokio_tungstenite::tungstenite::Message::Pong(
            Default::default(),
        )));
    }
    let old = h.link.snapshot().await.unwrap();
    assert!(
        old.readings[0].stale && old.readings[0].age_ms >= 31_000,
        "{:?}",
        old.readings[0]
    );
    // A fresh value, then the link drops: stale at once.
    peer.send_json(serde_json::json!({"type":"telemetry","endpointId":3,"value":151.0,"timestamp":"2026-11-23T06:00:31Z"}));
    h.event(|e| matches!(e, LinkEvent::Readings { .. })).await;
    assert!(!h.link.snapshot().await.unwrap().readings[0].stale);
    peer.hang_up();
    h.wait_state(|s| !s.is_connected()).await;
    assert!(h.link.snapshot().await.unwrap().readings[0].stale);
}

#[tokio::test(start_paused = true)]
async fn a_configured_attempt_limit_gives_up_with_the_last_reason() {
    let mut c = config();
    c.max_attempts = Some(3);
    let mut h = harness(c, 1.0);
    for _ in 0..4 {
        h.dial().await.fail(DialError::Transient("refused".into()));
    }
    let s = h
        .wait_state(|s| matches!(s, LinkState::Failed { .. }))
        .await;
    assert_eq!(
        s,
        LinkState::Failed {
            reason: "gave up after 3 attempts: refused".into()
        }
    );
}

#[tokio::test(start_paused = true)]
async fn moving_to_another_server_fails_open_commands_and_forgets_the_plant() {
    let mut h = harness(config(), 1.0);
    let mut peer = h.dial().await.accept();
    level1_peer(&mut peer, 10).await;
    h.event(|e| matches!(e, LinkEvent::Synced { .. })).await;
    h.link.disconnect().await.unwrap();
    let view = h.link.send_command(draft()).await.unwrap();
    let other = crate::ServerUrl::parse("ws://127.0.0.1:10/ws", false).unwrap();
    let destination = crate::Destination::new(other, None).unwrap();
    h.link
        .ops_for_tests()
        .send(crate::ops::Op::SetServer(destination))
        .await
        .unwrap();
    let e = h
        .event(|e| matches!(e, LinkEvent::Command { command, .. } if command.phase == CommandPhase::Failed))
        .await;
    let LinkEvent::Command { command, .. } = e else {
        unreachable!()
    };
    assert_eq!(command.command_id, view.command_id);
    assert_eq!(
        command.reason.as_deref(),
        Some("the link moved to another server")
    );
    let snap = h.link.snapshot().await.unwrap();
    assert_eq!(snap.server, "ws://127.0.0.1:10/ws");
    assert_eq!(snap.last_seq, None);
    assert_eq!(snap.outbox, 0);
}

#[tokio::test(start_paused = true)]
async fn a_new_server_gets_its_own_token_from_the_store_never_the_old_one() {
    let mut h = harness(config(), 1.0);
    let first = h.dial().await;
    assert_eq!(first.token.expose(), "test-token");
    let mut peer = first.accept();
    level1_peer(&mut peer, 10).await;
    h.event(|e| matches!(e, LinkEvent::Synced { .. })).await;
    // The app points the store at the new server's keychain entry, then moves the link.
    let other = crate::ServerUrl::parse("ws://127.0.0.1:10/ws", false).unwrap();
    crate::TokenStore::save(
        h.store.as_ref(),
        &other,
        &Token::new("other-server-token").unwrap(),
    )
    .unwrap();
    let destination = crate::Destination::new(other, None).unwrap();
    h.link
        .ops_for_tests()
        .send(crate::ops::Op::SetServer(destination))
        .await
        .unwrap();
    let second = h.dial().await;
    assert_eq!(second.token.expose(), "other-server-token");
}

#[tokio::test(start_paused = true)]
async fn a_state_sent_on_change_stays_fresh_while_the_link_is_up() {
    let mut h = harness(config(), 1.0);
    let mut peer = h.dial().await.accept();
    peer.send(&connected(true));
    let Some(ClientMessage::Hello(_)) = peer.next_message().await else {
        panic!("hello first")
    };
    let endpoint = |id: u64, kind: &str| serde_json::json!({"id": id, "name": format!("e{id}"), "area": "Kettle", "kind": kind});
    peer.send_json(serde_json::json!({
        "type": "snapshot", "seq": 1,
        "catalog": [endpoint(1, "pump"), endpoint(2, "temperature")],
        "values": [
            {"endpointId": 1, "value": true, "timestamp": "2026-11-23T06:00:00Z"},
            {"endpointId": 2, "value": 70.5, "timestamp": "2026-11-23T06:00:00Z"}
        ],
        "alarms": [], "commands": []
    }));
    h.event(|e| matches!(e, LinkEvent::Synced { .. })).await;
    for _ in 0..31 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        peer.send_raw(Ok(tokio_tungstenite::tungstenite::Message::Pong(
            Default::default(),
        )));
    }
    let snap = h.link.snapshot().await.unwrap();
    let stale = |id: u64| {
        snap.readings
            .iter()
            .find(|r| r.endpoint_id == EndpointId::from(id))
            .unwrap()
            .stale
    };
    assert!(!stale(1), "a pump's state is current until it changes");
    assert!(stale(2), "a temperature 31 s old is stale");
    peer.hang_up();
    h.wait_state(|s| !s.is_connected()).await;
    let snap = h.link.snapshot().await.unwrap();
    assert!(snap.readings.iter().all(|r| r.stale), "all stale when down");
}

/// A level-0 server keeps no shelving: the desk keeps it, marks the alarm (so nothing here
/// notifies or sounds it, even when the server repeats it), and brings it back by itself.
#[tokio::test(start_paused = true)]
async fn shelving_against_a_level0_server_is_kept_by_this_desk_and_ends_by_itself() {
    let mut h = harness(config(), 1.0);
    let peer = h.dial().await.accept();
    peer.send(&connected(false));
    let raised = |id| {
        let ServerMessage::Alarm(mut a) = alarm(id, None) else {
            unreachable!()
        };
        a.state = None;
        a.acked = None;
        ServerMessage::Alarm(a)
    };
    peer.send(&raised(8));
    h.event(|e| matches!(e, LinkEvent::Alarm { alarm, .. } if alarm.alarm_id == AlarmId::from(8)))
        .await;
    let refused = h.link.shelve(AlarmId::from(8), 61, "why".into()).await;
    assert!(
        matches!(&refused, Err(LinkError::Refused { message, .. }) if message.contains("1 to 60")),
        "{refused:?}"
    );
    assert_eq!(
        h.link.shelve(AlarmId::from(9), 5, "why".into()).await,
        Err(LinkError::UnknownAlarm(AlarmId::from(9)))
    );
    h.link
        .shelve(AlarmId::from(8), 30, "probe being replaced".into())
        .await
        .unwrap();
    let shelved = h
        .event(|e| matches!(e, LinkEvent::Alarm { alarm, via: Delivery::Local } if alarm.shelved.is_some()))
        .await;
    let LinkEvent::Alarm { alarm: a, .. } = shelved else {
        unreachable!()
    };
    let s = a.shelved.unwrap();
    assert_eq!(
        (s.by.as_str(), s.reason.as_str()),
        (BY_THIS_DESK, "probe being replaced")
    );
    // The server repeats the alarm: still shelved here, and no news.
    peer.send(&raised(8));
    let snap = h.link.snapshot().await.unwrap();
    assert!(snap.alarms[0].shelved.is_some(), "{:?}", snap.alarms);
    // Thirty minutes on: back, by itself.
    tokio::time::advance(Duration::from_secs(30 * 60)).await;
    let back = h
        .event(|e| matches!(e, LinkEvent::Alarm { alarm, via: Delivery::Local } if alarm.shelved.is_none()))
        .await;
    assert!(matches!(back, LinkEvent::Alarm { .. }));
    assert!(h.link.snapshot().await.unwrap().alarms[0].shelved.is_none());
    // Unshelving early works too.
    h.link
        .shelve(AlarmId::from(8), 10, "again".into())
        .await
        .unwrap();
    h.link.unshelve(AlarmId::from(8)).await.unwrap();
    assert!(h.link.snapshot().await.unwrap().alarms[0].shelved.is_none());
}
