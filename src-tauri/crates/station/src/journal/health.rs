//! Alarm health as ISA-18.2 measures it, from the journal's last 24 hours and the alarms held
//! now: alarms per 10 minutes against its benchmarks (about 1 acceptable, 2 the most
//! manageable, more than 10 a flood), time in flood, the most frequent alarms, chattering
//! alarms (3 or more transitions within a minute), stale ones (active over 24 h), and what is
//! shelved now. Pure: entries and alarms in, figures out.

use brewdeck_protocol::{
    Alarm, AlarmId, AlarmState, EndpointId, JournalEntry, JournalKind, Severity, Shelved, Timestamp,
};
use serde::Serialize;
use std::collections::HashMap;
use ts_rs::TS;

pub const WINDOW_MS: i64 = 24 * 3_600_000;
pub const BUCKET_MS: i64 = 10 * 60_000;
/// ISA-18.2's benchmarks, in alarms per 10 minutes.
pub const ACCEPTABLE: f64 = 1.0;
pub const MANAGEABLE: f64 = 2.0;
pub const FLOOD: u32 = 10;
/// Transitions of one alarm within a minute that make it chattering.
pub const CHATTER: usize = 3;
const CHATTER_MS: i64 = 60_000;
const TOP: usize = 10;

/// Where the average rate sits against the benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum HealthRating {
    /// About one alarm per 10 minutes or fewer.
    Acceptable,
    /// Up to two: the most an operator manages.
    Manageable,
    /// More than two: the operator is overloaded.
    Overloaded,
}

/// One alarm point (an endpoint's alarm of one severity, or one message), how often.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AlarmPoint {
    pub message: String,
    pub severity: Option<Severity>,
    pub endpoint_ids: Vec<EndpointId>,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StaleAlarm {
    pub alarm_id: AlarmId,
    pub message: String,
    pub severity: Severity,
    pub since: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ShelvedNow {
    pub alarm_id: AlarmId,
    pub message: String,
    pub severity: Severity,
    pub shelved: Shelved,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AlarmHealth {
    /// The start of the 24 hours measured (ms).
    #[ts(type = "number")]
    pub from_ms: i64,
    /// Alarms raised per 10 minutes, oldest first (144 buckets).
    pub per_ten_minutes: Vec<u32>,
    pub average_per_ten_minutes: f64,
    pub peak_per_ten_minutes: u32,
    pub rating: HealthRating,
    /// Minutes in 10-minute periods with more than [`FLOOD`] alarms.
    pub flood_minutes: u32,
    pub raised: u32,
    /// The ten alarm points raised most often.
    pub most_frequent: Vec<AlarmPoint>,
    /// Alarm points with 3 or more transitions within a minute, and how many at most.
    pub chattering: Vec<AlarmPoint>,
    pub stale: Vec<StaleAlarm>,
    pub shelved: Vec<ShelvedNow>,
    /// The journal read reached back the whole 24 hours.
    pub complete: bool,
}

/// An alarm point's key: its endpoint and severity, or its message when it has no endpoint
/// (messages carry values, so one point's messages differ).
fn key(e: &JournalEntry) -> String {
    match e.endpoint_ids.first() {
        Some(id) => format!("{id}|{:?}", e.severity),
        None => format!("|{}", e.text),
    }
}

fn rating(average: f64) -> HealthRating {
    if average <= ACCEPTABLE {
        HealthRating::Acceptable
    } else if average <= MANAGEABLE {
        HealthRating::Manageable
    } else {
        HealthRating::Overloaded
    }
}

/// Health over the 24 hours before `now`, from the entries read (any order) and the alarms
/// held now. `complete` says whether the entries reach back the whole window.
pub fn alarm_health(
    entries: &[JournalEntry],
    alarms: &[Alarm],
    now: Timestamp,
    complete: bool,
) -> AlarmHealth {
    let to = now.unix_millis();
    let from = to - WINDOW_MS;
    let buckets = usize::try_from(WINDOW_MS / BUCKET_MS).unwrap_or(144);
    let mut per = vec![0u32; buckets];
    let mut points: HashMap<String, AlarmPoint> = HashMap::new();
    let mut transitions: HashMap<String, Vec<i64>> = HashMap::new();
    let mut raised = 0u32;
    for e in entries {
        let at = e.at.unix_millis();
        if at < from || at > to {
            continue;
        }
        let k = key(e);
        match e.kind {
            JournalKind::AlarmRaised => {
                raised += 1;
                let i = usize::try_from((at - from) / BUCKET_MS).unwrap_or(0);
                if let Some(b) = per.get_mut(i.min(buckets - 1)) {
                    *b += 1;
                }
                let p = points.entry(k.clone()).or_insert_with(|| AlarmPoint {
                    message: e.text.clone(),
                    severity: e.severity,
                    endpoint_ids: e.endpoint_ids.clone(),
                    count: 0,
                });
                p.count += 1;
                transitions.entry(k).or_default().push(at);
            }
            JournalKind::AlarmCleared => transitions.entry(k).or_default().push(at),
            _ => {}
        }
    }
    let average = f64::from(raised) / buckets as f64;
    let peak = per.iter().copied().max().unwrap_or(0);
    let flood_minutes = per.iter().filter(|n| **n > FLOOD).count() as u32 * 10;
    let mut chattering = Vec::new();
    for (k, mut times) in transitions {
        times.sort_unstable();
        let most = (0..times.len())
            .map(|i| {
                times[i..]
                    .iter()
                    .take_while(|t| **t - times[i] < CHATTER_MS)
                    .count()
            })
            .max()
            .unwrap_or(0);
        if most >= CHATTER {
            if let Some(p) = points.get(&k) {
                chattering.push(AlarmPoint {
                    count: most as u32,
                    ..p.clone()
                });
            }
        }
    }
    chattering.sort_by(|a, b| b.count.cmp(&a.count).then(a.message.cmp(&b.message)));
    let mut most_frequent: Vec<AlarmPoint> = points.into_values().collect();
    most_frequent.sort_by(|a, b| b.count.cmp(&a.count).then(a.message.cmp(&b.message)));
    most_frequent.truncate(TOP);
    let stale = alarms
        .iter()
        .filter(|a| a.state != Some(AlarmState::Cleared) && a.timestamp.unix_millis() < from)
        .map(|a| StaleAlarm {
            alarm_id: a.alarm_id.clone(),
            message: a.message.clone(),
            severity: a.severity,
            since: a.timestamp,
        })
        .collect();
    let shelved = alarms
        .iter()
        .filter_map(|a| {
            a.shelved.as_ref().map(|s| ShelvedNow {
                alarm_id: a.alarm_id.clone(),
                message: a.message.clone(),
                severity: a.severity,
                shelved: s.clone(),
            })
        })
        .collect();
    AlarmHealth {
        from_ms: from,
        per_ten_minutes: per,
        average_per_ten_minutes: average,
        peak_per_ten_minutes: peak,
        rating: rating(average),
        flood_minutes,
        raised,
        most_frequent,
        chattering,
        stale,
        shelved,
        complete,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_unix_millis(ms).unwrap()
    }

    const NOW: i64 = 1_796_000_000_000;

    fn entry(kind: JournalKind, ms: i64, endpoint: u64, text: &str) -> JournalEntry {
        JournalEntry {
            seq: 0,
            at: at(ms),
            by: "plant".into(),
            kind,
            text: text.into(),
            severity: Some(Severity::High),
            alarm_id: None,
            endpoint_ids: vec![endpoint.into()],
            command_id: None,
            action: None,
            value: None,
            status: None,
            reason: None,
            note: None,
            until: None,
            note_id: None,
        }
    }

    #[test]
    fn a_quiet_day_is_acceptable() {
        let entries: Vec<JournalEntry> = (0..100)
            .map(|i| entry(JournalKind::AlarmRaised, NOW - i * 800_000, 1, "FV-1 high"))
            .collect();
        let h = alarm_health(&entries, &[], at(NOW), true);
        assert_eq!(h.raised, 100);
        assert_eq!(h.per_ten_minutes.len(), 144);
        assert_eq!(h.rating, HealthRating::Acceptable);
        assert_eq!(h.flood_minutes, 0);
        assert_eq!(h.most_frequent[0].count, 100);
        assert!(h.chattering.is_empty());
    }

    #[test]
    fn a_flood_and_a_chattering_point_are_found() {
        let mut entries = Vec::new();
        // 15 alarms in one 10-minute period, from 15 endpoints: a flood.
        for i in 0..15 {
            entries.push(entry(
                JournalKind::AlarmRaised,
                NOW - 3_600_000 + i * 1000,
                100 + i as u64,
                "x",
            ));
        }
        // One point raised and cleared twice within 40 s: 4 transitions in a minute.
        for (i, kind) in [JournalKind::AlarmRaised, JournalKind::AlarmCleared]
            .repeat(2)
            .into_iter()
            .enumerate()
        {
            entries.push(entry(
                kind,
                NOW - 7_200_000 + i as i64 * 10_000,
                7,
                "FV-7 level",
            ));
        }
        // Outside the window: not counted.
        entries.push(entry(
            JournalKind::AlarmRaised,
            NOW - WINDOW_MS - 1,
            9,
            "old",
        ));
        let h = alarm_health(&entries, &[], at(NOW), true);
        assert_eq!(h.raised, 17);
        assert_eq!(h.peak_per_ten_minutes, 15);
        assert_eq!(h.flood_minutes, 10);
        assert_eq!(h.chattering.len(), 1);
        assert_eq!(h.chattering[0].message, "FV-7 level");
        assert_eq!(h.chattering[0].count, 4);
        assert!(h.average_per_ten_minutes < ACCEPTABLE);
    }

    #[test]
    fn overload_is_rated_and_stale_and_shelved_alarms_are_listed() {
        let entries: Vec<JournalEntry> = (0..432)
            .map(|i| {
                entry(
                    JournalKind::AlarmRaised,
                    NOW - i * 200_000,
                    i as u64,
                    "busy",
                )
            })
            .collect();
        let stale = Alarm {
            alarm_id: 1.into(),
            severity: Severity::Medium,
            message: "FV-2 probe".into(),
            timestamp: at(NOW - WINDOW_MS - 60_000),
            endpoint_id: None,
            state: Some(AlarmState::Active),
            acked: Some(true),
            acked_by: None,
            acked_at: None,
            ack_note: None,
            shelved: Some(Shelved {
                until: at(NOW + 60_000),
                by: "ana".into(),
                reason: "probe swap".into(),
            }),
            seq: None,
        };
        let h = alarm_health(&entries, &[stale], at(NOW), false);
        assert_eq!(h.rating, HealthRating::Overloaded);
        assert_eq!(h.most_frequent.len(), 10);
        assert_eq!(h.stale.len(), 1);
        assert_eq!(h.shelved[0].shelved.by, "ana");
        assert!(!h.complete);
    }
}
