//! Native notifications, observed where a desktop would show them: on a private D-Bus session
//! whose `org.freedesktop.Notifications` this test owns, with the app talking to a running
//! plant whose admin API raises alarms.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use brewdeck_station::bridge::events;
use common::*;
use serde_json::json;

#[test]
fn alarms_and_own_commands_notify_once_and_floods_fold() {
    // Whole: the bus and the notification server live as long as the desk.
    let desk = notifying_desk();
    let (t, plant, shown) = (&desk.t, &desk.plant, &desk.shown);
    let snap = t.snapshot();

    // 1. A command issued here succeeds: one notification.
    let setpoint = endpoint_named(&snap, "Fermenter 2 setpoint");
    t.invoke(
        "send_command",
        json!({"draft": {"endpointId": setpoint, "action": "set", "value": 60.0}}),
    )
    .unwrap();
    let done = shown.wait_for("the command's notification", |s| {
        s.summary.starts_with("Command succeeded")
    });
    assert_eq!(
        done.summary,
        "Command succeeded: Fermenter 2 setpoint set to 60"
    );

    // 2. A critical alarm: one notification with its text.
    admin(
        plant,
        "/admin/alarm",
        r#"{"severity":"critical","message":"Kettle boil-over detected"}"#,
    );
    let critical = shown.wait_for("the alarm's notification", |s| {
        s.body == "Kettle boil-over detected"
    });
    // Critical: it stays until dismissed, where the desktop allows it.
    assert_eq!(critical.urgency, Some(2), "{critical:?}");
    assert_eq!(critical.expire_timeout, 0, "{critical:?}");
    assert_ne!(
        done.urgency,
        Some(2),
        "a command's notification is not urgent"
    );
    // A low one is not chosen in the default settings.
    admin(
        plant,
        "/admin/alarm",
        r#"{"severity":"low","message":"Low note"}"#,
    );

    // 3. The link drops and comes back; an alarm raised meanwhile notifies (live or replayed),
    //    and nothing already notified is notified again.
    let mark = t.events.len();
    admin(plant, "/admin/drop", "");
    admin(
        plant,
        "/admin/alarm",
        r#"{"severity":"critical","message":"Raised across the drop"}"#,
    );
    t.events.wait_for_after(mark, "the link to come back", |e| {
        e.name == events::PLANT_NOTICE && e.payload["kind"] == "synced"
    });
    shown.wait_for("the alarm raised across the drop", |s| {
        s.body == "Raised across the drop"
    });

    // 4. A flood: two more fit in the minute's five, the rest fold into one summary.
    for i in 0..6 {
        admin(
            plant,
            "/admin/alarm",
            &format!(r#"{{"severity":"critical","message":"Flood alarm {i}"}}"#),
        );
    }
    let summary = shown.wait_for("the flood's summary", |s| {
        s.summary.contains("more in Brewdeck")
    });
    assert_eq!(summary.summary, "4 alarms more in Brewdeck");
    assert!(summary.body.contains("Flood alarm 5"), "{summary:?}");

    let all = shown.all();
    let count = |body: &str| all.iter().filter(|s| s.body == body).count();
    assert_eq!(count("Kettle boil-over detected"), 1, "{all:#?}");
    assert_eq!(count("Raised across the drop"), 1, "{all:#?}");
    assert_eq!(count("Low note"), 0, "{all:#?}");
    assert_eq!(all.len(), 6, "five one by one and one summary: {all:#?}");
}
