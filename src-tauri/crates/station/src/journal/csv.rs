//! The journal as CSV, for export: one row per entry, newest first, as the view shows it.
//! Every cell is text the plant or an operator wrote: quoted, and a leading `=`, `+`, `-` or
//! `@` made inert so a spreadsheet never runs it as a formula.

use brewdeck_protocol::JournalEntry;

pub const HEADER: &str = "time,kind,severity,by,text,note,endpoints,status,reason,until,seq";

fn cell(text: &str) -> String {
    let inert = match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    };
    format!("\"{}\"", inert.replace('"', "\"\""))
}

fn json_word<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

pub fn row(e: &JournalEntry) -> String {
    let endpoints: Vec<String> = e.endpoint_ids.iter().map(ToString::to_string).collect();
    [
        e.at.to_string(),
        json_word(&e.kind),
        e.severity.as_ref().map(json_word).unwrap_or_default(),
        cell(&e.by),
        cell(&e.text),
        cell(e.note.as_deref().unwrap_or_default()),
        cell(&endpoints.join(" ")),
        e.status.as_ref().map(json_word).unwrap_or_default(),
        cell(e.reason.as_deref().unwrap_or_default()),
        e.until.map(|u| u.to_string()).unwrap_or_default(),
        e.seq.to_string(),
    ]
    .join(",")
}

/// The whole file: the header, then a row per entry.
pub fn write(entries: &[JournalEntry]) -> String {
    let mut out = String::with_capacity(64 * (entries.len() + 1));
    out.push_str(HEADER);
    out.push('\n');
    for e in entries {
        out.push_str(&row(e));
        out.push('\n');
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use brewdeck_protocol::{JournalKind, Severity, Timestamp};

    #[test]
    fn a_row_quotes_what_people_wrote_and_defuses_formulas() {
        let e = JournalEntry {
            seq: 7,
            at: Timestamp::parse("2026-11-30T10:00:00Z").unwrap(),
            by: "ana".into(),
            kind: JournalKind::AlarmAcked,
            text: "FV-3 \"hot\", again".into(),
            severity: Some(Severity::High),
            alarm_id: None,
            endpoint_ids: vec![12.into(), "fv3-temp".into()],
            command_id: None,
            action: None,
            value: None,
            status: None,
            reason: None,
            note: Some("=HYPERLINK(\"x\")".into()),
            until: None,
            note_id: None,
        };
        let text = write(&[e]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], HEADER);
        assert!(lines[1].starts_with("2026-11-30T10:00:00"), "{}", lines[1]);
        assert!(
            lines[1].contains(",alarm_acked,high,\"ana\",\"FV-3 \"\"hot\"\", again\","),
            "{}",
            lines[1]
        );
        assert!(
            lines[1].contains("\"'=HYPERLINK(\"\"x\"\")\""),
            "{}",
            lines[1]
        );
        assert!(lines[1].contains("\"12 fv3-temp\""), "{}", lines[1]);
        assert!(lines[1].ends_with(",7"));
    }
}
