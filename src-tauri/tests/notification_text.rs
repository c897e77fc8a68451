//! What a server sends is data: an alarm's text reaches the desktop's notification server (on
//! a private D-Bus session) as escaped, capped text, never as markup. Its own test binary:
//! libdbus reads the session bus address once per process.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use brewdeck_station::notice_text::MAX_BODY_CHARS;
use common::*;
use serde_json::json;

#[test]
fn alarm_text_reaches_the_desktop_escaped_and_capped() {
    // Whole: the bus and the notification server live as long as the desk.
    let desk = notifying_desk();
    let (plant, shown) = (&desk.plant, &desk.shown);

    // Markup, as a server might send it (control characters are the unit tests' part: the
    // reference plant refuses them).
    let message = "<b>boil</b> & <a href=\"https://evil.example\">fix</a>";
    admin(
        plant,
        "/admin/alarm",
        &json!({"severity": "critical", "message": message}).to_string(),
    );
    let markup = shown.wait_for("the markup alarm", |s| s.body.contains("boil"));
    assert_eq!(
        markup.body,
        "&lt;b&gt;boil&lt;/b&gt; &amp; &lt;a href=\"https://evil.example\"&gt;fix&lt;/a&gt;"
    );

    // A long message is cut, with an ellipsis.
    let long = format!("Long {}", "x".repeat(1_000));
    admin(
        plant,
        "/admin/alarm",
        &json!({"severity": "critical", "message": long}).to_string(),
    );
    let cut = shown.wait_for("the long alarm", |s| s.body.starts_with("Long "));
    assert_eq!(cut.body.chars().count(), MAX_BODY_CHARS, "{cut:?}");
    assert!(cut.body.ends_with('…'), "{cut:?}");
    assert!(cut.summary.chars().count() <= 80, "{cut:?}");
}
