//! The audible annunciator: which alarms make a sound, and when it stops. A pure policy like
//! [`crate::notices`]: link events, the operator's Silence, settings and the time in; [`Cue`]s
//! for the sound player out, so every rule is tested without a sound card.
//!
//! - A new alarm that calls for the operator (active, unacknowledged, not shelved) sounds as its
//!   severity's [`SoundMode`] says: by default critical repeats, high sounds once, medium and
//!   low stay quiet. New means an alarm id first seen live, replayed after a reconnect or in a
//!   fresh snapshot once the desk has synced; or a known alarm coming back to call again (its
//!   shelf expired or it was unshelved; it cleared unacknowledged and returned). Alarms already
//!   standing when the desk first synced are on screen, not sounded; a replay or snapshot of a
//!   known alarm never sounds it again.
//! - A repeating sound goes on while at least one alarm it was started for still calls and was
//!   not silenced: acknowledged (on any desk), shelved, cleared or closed stops it.
//! - Silence stops the sound without acknowledging anything (ISA-18.2 keeps the two apart): the
//!   alarms stay unacknowledged, counted in [`AnnunciatorView::silenced`]; a new alarm after it
//!   sounds again.
//! - A flood of alarms of one sound plays it once per [`CHIME_SPACING`], not once per alarm.

use crate::sound::Sound;
use brewdeck_link::{Delivery, LinkEvent};
use brewdeck_protocol::{Alarm, AlarmId, AlarmState, Severity};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;
use tokio::time::Instant;
use ts_rs::TS;

/// The shortest time between two single plays of one sound: a burst of high alarms chimes
/// once, not over itself.
pub const CHIME_SPACING: Duration = Duration::from_secs(2);
/// Alarm ids remembered, so a replay of an alarm that has since closed never sounds it again.
const REMEMBERED: usize = 20_000;

/// What an alarm of one severity does when it comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum SoundMode {
    /// Sounds again and again until acknowledged, shelved, cleared or silenced.
    Repeat,
    /// Sounds once.
    Once,
    Off,
}

/// The sound of each alarm severity (a setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct AlarmSounds {
    pub critical: SoundMode,
    pub high: SoundMode,
    pub medium: SoundMode,
    pub low: SoundMode,
}

impl Default for AlarmSounds {
    fn default() -> Self {
        AlarmSounds {
            critical: SoundMode::Repeat,
            high: SoundMode::Once,
            medium: SoundMode::Off,
            low: SoundMode::Off,
        }
    }
}

impl AlarmSounds {
    pub fn mode(&self, severity: Severity) -> SoundMode {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
        }
    }
}

/// What the sound player is to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cue {
    /// Play this sound once, over whatever plays.
    Once(Sound),
    /// Repeat this sound until [`Cue::Stop`], in place of any sound repeating now.
    Repeat(Sound),
    /// Stop every sound.
    Stop,
}

/// The annunciator as the operator's screen shows it: a Silence button only while `sounding`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AnnunciatorView {
    /// A sound repeats now. (A single chime is over before anyone could silence it.)
    pub sounding: bool,
    /// The most severe alarm the repeating sound is for.
    pub playing: Option<Severity>,
    /// Alarms silenced and still unacknowledged: silence is not acknowledgement.
    pub silenced: usize,
}

/// What the annunciator knows of one alarm that is not closed.
#[derive(Debug, Clone, Copy)]
struct Tracked {
    severity: Severity,
    /// Active, unacknowledged and not shelved: it wants the operator.
    calls: bool,
    /// Out of the way now, but may call again: shelved, or cleared without acknowledgement.
    away: bool,
    /// Its repeating sound was started and not silenced.
    sounding: bool,
    silenced: bool,
}

/// A set that forgets its oldest members past a size.
#[derive(Debug, Default)]
struct Seen {
    set: HashSet<AlarmId>,
    order: VecDeque<AlarmId>,
}

impl Seen {
    /// True when newly inserted.
    fn insert(&mut self, id: &AlarmId) -> bool {
        if !self.set.insert(id.clone()) {
            return false;
        }
        self.order.push_back(id.clone());
        if self.order.len() > REMEMBERED {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        true
    }
}

#[derive(Debug)]
pub struct Annunciator {
    sounds: AlarmSounds,
    alarms: HashMap<AlarmId, Tracked>,
    seen: Seen,
    /// The first sync after start (or after a change of server) has happened: later snapshot
    /// alarms are news.
    baselined: bool,
    /// The severity whose sound repeats now.
    playing: Option<Severity>,
    last_once: HashMap<Sound, Instant>,
}

impl Annunciator {
    pub fn new(sounds: AlarmSounds) -> Self {
        Annunciator {
            sounds,
            alarms: HashMap::new(),
            seen: Seen::default(),
            baselined: false,
            playing: None,
            last_once: HashMap::new(),
        }
    }

    /// What this link event changes in the sound.
    pub fn on_event(&mut self, event: &LinkEvent, now: Instant) -> Vec<Cue> {
        match event {
            LinkEvent::Alarm { alarm, via } => {
                let once = self.apply(alarm, *via);
                self.cues(once.into_iter().collect(), now)
            }
            LinkEvent::Synced { .. } => {
                self.baselined = true;
                Vec::new()
            }
            LinkEvent::ServerChanged { .. } => {
                // Another plant: the old one's alarms are not this one's, and the new one's
                // standing alarms are on screen at its first sync, like at start.
                self.alarms.clear();
                self.seen = Seen::default();
                self.baselined = false;
                self.cues(Vec::new(), now)
            }
            _ => Vec::new(),
        }
    }

    /// The desk's whole set of alarms, after each (re)sync or when the bridge fell behind the
    /// link: the truth. Alarms missing from it closed meanwhile, maybe on another desk, and no
    /// longer keep a sound going.
    pub fn on_snapshot(&mut self, alarms: &[Alarm], now: Instant) -> Vec<Cue> {
        let mut once = Vec::new();
        for alarm in alarms {
            once.extend(self.apply(alarm, Delivery::Snapshot));
        }
        let present: HashSet<&AlarmId> = alarms.iter().map(|a| &a.alarm_id).collect();
        self.alarms.retain(|id, _| present.contains(id));
        self.cues(once, now)
    }

    /// The operator's Silence: the sound stops, the alarms stay unacknowledged.
    pub fn silence(&mut self, now: Instant) -> Vec<Cue> {
        for alarm in self.alarms.values_mut().filter(|a| a.sounding) {
            alarm.sounding = false;
            alarm.silenced = true;
        }
        let mut cues = self.cues(Vec::new(), now);
        // Silence means silence, a chime too, whether or not a sound repeats.
        if !cues.contains(&Cue::Stop) {
            cues.push(Cue::Stop);
        }
        cues
    }

    /// New settings: from now on. A severity no longer set to repeat stops repeating; one newly
    /// set to sound does not sound for alarms already in.
    pub fn set_sounds(&mut self, sounds: AlarmSounds, now: Instant) -> Vec<Cue> {
        self.sounds = sounds;
        for alarm in self.alarms.values_mut() {
            if sounds.mode(alarm.severity) != SoundMode::Repeat {
                alarm.sounding = false;
            }
        }
        self.cues(Vec::new(), now)
    }

    pub fn sounds(&self) -> AlarmSounds {
        self.sounds
    }

    pub fn view(&self) -> AnnunciatorView {
        AnnunciatorView {
            sounding: self.playing.is_some(),
            playing: self.playing,
            silenced: self.alarms.values().filter(|a| a.silenced).count(),
        }
    }

    /// Takes in one alarm's news; the sound to play once for it, if any.
    fn apply(&mut self, alarm: &Alarm, via: Delivery) -> Option<Sound> {
        let id = &alarm.alarm_id;
        let first_seen = self.seen.insert(id);
        if alarm.is_closed() {
            self.alarms.remove(id);
            return None;
        }
        let acked = alarm.acked == Some(true);
        let cleared = alarm.state == Some(AlarmState::Cleared);
        let shelved = alarm.shelved.is_some();
        let calls = !acked && !cleared && !shelved;
        let on_screen_at_start = !self.baselined && via == Delivery::Snapshot;
        let before = self.alarms.get(id).copied();
        let news = calls
            && match before {
                None => first_seen && !on_screen_at_start,
                Some(known) => !known.calls && known.away,
            };
        let mut now = Tracked {
            severity: alarm.severity,
            calls,
            away: !acked && (cleared || shelved),
            sounding: calls && before.is_some_and(|b| b.sounding),
            silenced: calls && before.is_some_and(|b| b.silenced),
        };
        let mut once = None;
        if news {
            match self.sounds.mode(alarm.severity) {
                SoundMode::Repeat => {
                    now.sounding = true;
                    now.silenced = false;
                }
                SoundMode::Once => once = Some(Sound::for_severity(alarm.severity)),
                SoundMode::Off => {}
            }
        }
        self.alarms.insert(id.clone(), now);
        once
    }

    /// The cues that bring the player from what it plays to what it should: the repeating
    /// sound of the most severe sounding alarm, and the single plays asked for.
    fn cues(&mut self, once: Vec<Sound>, now: Instant) -> Vec<Cue> {
        let wanted = self
            .alarms
            .values()
            .filter(|a| a.sounding)
            .map(|a| a.severity)
            .min_by_key(|s| rank(*s));
        let mut cues = Vec::new();
        let before = self.playing.map(Sound::for_severity);
        let after = wanted.map(Sound::for_severity);
        if before != after {
            cues.push(after.map_or(Cue::Stop, Cue::Repeat));
        }
        self.playing = wanted;
        for sound in once {
            let heard = after == Some(sound)
                || self
                    .last_once
                    .get(&sound)
                    .is_some_and(|t| now.duration_since(*t) < CHIME_SPACING);
            if !heard {
                self.last_once.insert(sound, now);
                cues.push(Cue::Once(sound));
            }
        }
        cues
    }
}

/// Most severe first.
fn rank(severity: Severity) -> u8 {
    match severity {
        Severity::Critical => 0,
        Severity::High => 1,
        Severity::Medium => 2,
        Severity::Low => 3,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use brewdeck_protocol::{EndpointId, Shelved, Timestamp};

    fn alarm(id: u64, severity: Severity) -> Alarm {
        Alarm {
            alarm_id: AlarmId::from(id),
            severity,
            message: format!("Kettle over temperature #{id}"),
            timestamp: Timestamp::now(),
            endpoint_id: Some(EndpointId::from("kettle.temperature")),
            state: Some(AlarmState::Active),
            acked: Some(false),
            acked_by: None,
            acked_at: None,
            ack_note: None,
            shelved: None,
            seq: None,
        }
    }

    fn acked(mut a: Alarm) -> Alarm {
        a.acked = Some(true);
        a.acked_by = Some("another desk".to_owned());
        a
    }

    fn shelved(mut a: Alarm) -> Alarm {
        a.shelved = Some(Shelved {
            until: Timestamp::now(),
            by: "op".to_owned(),
            reason: "sensor under repair".to_owned(),
        });
        a
    }

    fn cleared(mut a: Alarm) -> Alarm {
        a.state = Some(AlarmState::Cleared);
        a
    }

    fn event(alarm: Alarm, via: Delivery) -> LinkEvent {
        LinkEvent::Alarm { alarm, via }
    }

    fn live(alarm: Alarm) -> LinkEvent {
        event(alarm, Delivery::Live)
    }

    fn synced() -> LinkEvent {
        LinkEvent::Synced {
            level: brewdeck_link::ProtocolLevel::Level1,
            plant: None,
            endpoints: 0,
            last_seq: None,
        }
    }

    /// An annunciator past its first sync, with nothing standing.
    fn started() -> Annunciator {
        let mut a = Annunciator::new(AlarmSounds::default());
        assert_eq!(a.on_event(&synced(), Instant::now()), vec![]);
        a
    }

    const REPEAT_CRITICAL: Cue = Cue::Repeat(Sound::Critical);

    #[tokio::test(start_paused = true)]
    async fn a_critical_alarm_repeats_until_acknowledged() {
        let mut a = started();
        let now = Instant::now();
        let critical = alarm(1, Severity::Critical);
        assert_eq!(
            a.on_event(&live(critical.clone()), now),
            vec![REPEAT_CRITICAL]
        );
        assert_eq!(
            a.view(),
            AnnunciatorView {
                sounding: true,
                playing: Some(Severity::Critical),
                silenced: 0
            }
        );
        // An update that still calls (a new message) changes nothing.
        let mut updated = critical.clone();
        updated.message = "Kettle still over temperature".to_owned();
        assert_eq!(a.on_event(&live(updated), now), vec![]);
        // A second critical joins the sound: acknowledging the first does not stop it.
        assert_eq!(a.on_event(&live(alarm(2, Severity::Critical)), now), vec![]);
        assert_eq!(a.on_event(&live(acked(critical)), now), vec![]);
        assert!(a.view().sounding);
        assert_eq!(
            a.on_event(&live(acked(alarm(2, Severity::Critical))), now),
            vec![Cue::Stop]
        );
        assert_eq!(a.view(), AnnunciatorView::default());
    }

    #[tokio::test(start_paused = true)]
    async fn silence_stops_the_sound_without_acknowledging_and_a_new_alarm_sounds_again() {
        let mut a = started();
        let now = Instant::now();
        a.on_event(&live(alarm(1, Severity::Critical)), now);
        assert_eq!(a.silence(now), vec![Cue::Stop]);
        assert_eq!(
            a.view(),
            AnnunciatorView {
                sounding: false,
                playing: None,
                silenced: 1
            }
        );
        // The silenced alarm's updates do not wake the sound.
        let mut again = alarm(1, Severity::Critical);
        again.message = "still hot".to_owned();
        assert_eq!(a.on_event(&live(again), now), vec![]);
        // A new alarm does, and repeats until it alone is acknowledged.
        assert_eq!(
            a.on_event(&live(alarm(2, Severity::Critical)), now),
            vec![REPEAT_CRITICAL]
        );
        assert_eq!(a.view().silenced, 1);
        assert_eq!(
            a.on_event(&live(acked(alarm(2, Severity::Critical))), now),
            vec![Cue::Stop]
        );
        // Acknowledging the silenced one ends its count.
        a.on_event(&live(acked(alarm(1, Severity::Critical))), now);
        assert_eq!(a.view().silenced, 0);
        // Silence with nothing sounding still says stop (a chime may be playing).
        assert_eq!(a.silence(now), vec![Cue::Stop]);
    }

    #[tokio::test(start_paused = true)]
    async fn high_sounds_once_and_a_burst_chimes_once() {
        let mut a = started();
        let now = Instant::now();
        assert_eq!(
            a.on_event(&live(alarm(1, Severity::High)), now),
            vec![Cue::Once(Sound::High)]
        );
        assert!(
            !a.view().sounding,
            "a single chime is not a repeating sound"
        );
        assert_eq!(a.on_event(&live(alarm(2, Severity::High)), now), vec![]);
        let later = now + CHIME_SPACING;
        assert_eq!(
            a.on_event(&live(alarm(3, Severity::High)), later),
            vec![Cue::Once(Sound::High)]
        );
        // A high alarm over a repeating critical chimes over it.
        assert_eq!(
            a.on_event(&live(alarm(4, Severity::Critical)), later),
            vec![REPEAT_CRITICAL]
        );
        assert_eq!(
            a.on_event(&live(alarm(5, Severity::High)), later + CHIME_SPACING),
            vec![Cue::Once(Sound::High)]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn medium_and_low_are_quiet_by_default_and_settings_change_each_severity() {
        let mut a = started();
        let now = Instant::now();
        assert_eq!(a.on_event(&live(alarm(1, Severity::Medium)), now), vec![]);
        assert_eq!(a.on_event(&live(alarm(2, Severity::Low)), now), vec![]);
        let sounds = AlarmSounds {
            critical: SoundMode::Once,
            high: SoundMode::Off,
            medium: SoundMode::Repeat,
            low: SoundMode::Once,
        };
        // Settings act on alarms from now on: the medium already in stays quiet.
        assert_eq!(a.set_sounds(sounds, now), vec![]);
        assert_eq!(a.sounds(), sounds);
        assert_eq!(
            a.on_event(&live(alarm(3, Severity::Medium)), now),
            vec![Cue::Repeat(Sound::High)]
        );
        assert_eq!(a.view().playing, Some(Severity::Medium));
        assert_eq!(a.on_event(&live(alarm(4, Severity::High)), now), vec![]);
        assert_eq!(
            a.on_event(&live(alarm(5, Severity::Critical)), now),
            vec![Cue::Once(Sound::Critical)]
        );
        // Turning repeat off stops what repeats.
        assert_eq!(a.set_sounds(AlarmSounds::default(), now), vec![Cue::Stop]);
        let later = now + CHIME_SPACING;
        assert_eq!(a.on_event(&live(alarm(6, Severity::Low)), later), vec![]);
    }

    #[tokio::test(start_paused = true)]
    async fn the_most_severe_sounding_alarm_chooses_the_repeating_sound() {
        let mut a = started();
        let now = Instant::now();
        a.set_sounds(
            AlarmSounds {
                high: SoundMode::Repeat,
                ..AlarmSounds::default()
            },
            now,
        );
        assert_eq!(
            a.on_event(&live(alarm(1, Severity::High)), now),
            vec![Cue::Repeat(Sound::High)]
        );
        assert_eq!(
            a.on_event(&live(alarm(2, Severity::Critical)), now),
            vec![REPEAT_CRITICAL]
        );
        assert_eq!(
            a.on_event(&live(acked(alarm(2, Severity::Critical))), now),
            vec![Cue::Repeat(Sound::High)]
        );
        assert_eq!(a.view().playing, Some(Severity::High));
    }

    #[tokio::test(start_paused = true)]
    async fn shelved_alarms_never_sound_and_shelving_stops_the_sound() {
        let mut a = started();
        let now = Instant::now();
        assert_eq!(
            a.on_event(&live(shelved(alarm(1, Severity::Critical))), now),
            vec![]
        );
        assert_eq!(
            a.on_event(&live(shelved(alarm(2, Severity::High))), now),
            vec![]
        );
        assert_eq!(
            a.on_event(&live(alarm(3, Severity::Critical)), now),
            vec![REPEAT_CRITICAL]
        );
        assert_eq!(
            a.on_event(&live(shelved(alarm(3, Severity::Critical))), now),
            vec![Cue::Stop]
        );
        assert_eq!(a.view(), AnnunciatorView::default());
        // Back from the shelf, still unacknowledged: it calls again, and sounds again.
        assert_eq!(
            a.on_event(&live(alarm(3, Severity::Critical)), now),
            vec![REPEAT_CRITICAL]
        );
        // Even one silenced before its shelf.
        a.silence(now);
        a.on_event(&live(shelved(alarm(3, Severity::Critical))), now);
        assert_eq!(a.view().silenced, 0, "a shelved alarm is not waiting");
        assert_eq!(
            a.on_event(&event(alarm(3, Severity::Critical), Delivery::Replay), now),
            vec![REPEAT_CRITICAL]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn alarms_standing_at_the_first_sync_are_quiet_until_they_call_again() {
        let mut a = Annunciator::new(AlarmSounds::default());
        let now = Instant::now();
        let standing = alarm(1, Severity::Critical);
        assert_eq!(
            a.on_event(&event(standing.clone(), Delivery::Snapshot), now),
            vec![]
        );
        assert_eq!(
            a.on_event(
                &event(shelved(alarm(2, Severity::Critical)), Delivery::Snapshot),
                now
            ),
            vec![]
        );
        a.on_event(&synced(), now);
        assert_eq!(
            a.on_snapshot(
                &[standing.clone(), shelved(alarm(2, Severity::Critical))],
                now
            ),
            vec![]
        );
        assert_eq!(a.on_event(&event(standing, Delivery::Replay), now), vec![]);
        assert_eq!(a.view(), AnnunciatorView::default());
        // The standing shelved one, back from its shelf, is news.
        assert_eq!(
            a.on_event(&live(alarm(2, Severity::Critical)), now),
            vec![REPEAT_CRITICAL]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn replays_and_snapshots_after_a_reconnect_never_sound_twice() {
        let mut a = started();
        let now = Instant::now();
        let critical = alarm(7, Severity::Critical);
        a.on_event(&live(critical.clone()), now);
        a.silence(now);
        let later = now + CHIME_SPACING * 10;
        // The link reconnects: the same alarm replayed, then in the fresh snapshot.
        assert_eq!(
            a.on_event(&event(critical.clone(), Delivery::Replay), later),
            vec![]
        );
        a.on_event(&synced(), later);
        assert_eq!(
            a.on_snapshot(std::slice::from_ref(&critical), later),
            vec![]
        );
        assert_eq!(a.view().silenced, 1);
        // Closed meanwhile, then an old replay of it: never news again.
        assert_eq!(a.on_snapshot(&[], later), vec![]);
        assert_eq!(a.view().silenced, 0);
        assert_eq!(
            a.on_event(&event(critical, Delivery::Replay), later),
            vec![]
        );
        // An alarm raised while the link was down is news, however it arrives.
        assert_eq!(
            a.on_event(&event(alarm(8, Severity::High), Delivery::Replay), later),
            vec![Cue::Once(Sound::High)]
        );
        assert_eq!(
            a.on_snapshot(&[alarm(9, Severity::Critical)], later),
            vec![REPEAT_CRITICAL]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn acknowledged_or_closed_on_another_desk_stops_the_sound() {
        let mut a = started();
        let now = Instant::now();
        a.on_event(&live(alarm(1, Severity::Critical)), now);
        // Acknowledged elsewhere while this desk was disconnected: the snapshot says so.
        assert_eq!(
            a.on_snapshot(&[acked(alarm(1, Severity::Critical))], now),
            vec![Cue::Stop]
        );
        a.on_event(&live(alarm(2, Severity::Critical)), now);
        // Closed elsewhere (cleared and acknowledged): gone from the snapshot.
        assert_eq!(a.on_snapshot(&[], now), vec![Cue::Stop]);
        // A live acknowledgement of a cleared alarm closes it.
        a.on_event(&live(alarm(3, Severity::Critical)), now);
        assert_eq!(
            a.on_event(&live(cleared(alarm(3, Severity::Critical))), now),
            vec![Cue::Stop],
            "a cleared alarm no longer calls"
        );
        // Back to active before anyone acknowledged it: it calls, and sounds, again.
        assert_eq!(
            a.on_event(&live(alarm(3, Severity::Critical)), now),
            vec![REPEAT_CRITICAL]
        );
        assert_eq!(
            a.on_event(&live(acked(cleared(alarm(3, Severity::Critical)))), now),
            vec![Cue::Stop]
        );
        assert_eq!(a.on_event(&live(alarm(3, Severity::Critical)), now), vec![]);
    }

    #[tokio::test(start_paused = true)]
    async fn another_server_starts_quiet_and_stops_the_old_ones_sound() {
        let mut a = started();
        let now = Instant::now();
        a.on_event(&live(alarm(1, Severity::Critical)), now);
        let moved = LinkEvent::ServerChanged {
            server: "wss://other.example/ws".to_owned(),
        };
        assert_eq!(a.on_event(&moved, now), vec![Cue::Stop]);
        assert_eq!(
            a.on_event(
                &event(alarm(1, Severity::Critical), Delivery::Snapshot),
                now
            ),
            vec![],
            "standing on the new server at its first sync"
        );
        a.on_event(&synced(), now);
        assert_eq!(
            a.on_event(&live(alarm(2, Severity::Critical)), now),
            vec![REPEAT_CRITICAL]
        );
    }

    #[test]
    fn sound_settings_are_camel_case_and_fill_in_defaults() {
        let json = serde_json::to_value(AlarmSounds::default()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"critical": "repeat", "high": "once", "medium": "off", "low": "off"})
        );
        let partial: AlarmSounds = serde_json::from_str(r#"{"low":"repeat"}"#).unwrap();
        assert_eq!(partial.low, SoundMode::Repeat);
        assert_eq!(partial.critical, SoundMode::Repeat);
        assert_eq!(partial.high, SoundMode::Once);
    }
}
