//! Plays the alarm sounds natively (rodio over cpal: ALSA on Linux, which reaches PulseAudio or
//! PipeWire through their ALSA plugins), so they sound while the window is hidden.
//!
//! Everything happens on the player's own thread: no caller waits for a sound device. A missing
//! or broken device is a status ([`SoundStatus::Unavailable`]) and one warning in the log, never
//! an error to the caller: alarms and notifications go on without sound. The device is opened
//! when a sound starts and closed soon after the last one ends, so an idle desk holds no audio
//! stream (and closed at once on stop, so nothing buffered plays on); while a repeating sound
//! is wanted and the device is gone, it is tried again every [`RETRY_EVERY`].

use crate::annunciator::Cue;
use crate::sound::{Sound, REPEAT_GAP};
use rodio::source::Source;
use rodio::{CpalError, CpalErrorKind, DeviceSinkBuilder, MixerDeviceSink, Player};
use serde::Serialize;
use std::collections::HashMap;
use std::num::NonZero;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, watch};
use ts_rs::TS;

/// How often a wanted repeating sound tries a device that was unavailable.
pub const RETRY_EVERY: Duration = Duration::from_secs(5);
/// How long the device stays open after the last sound: the end of a sound still in the
/// device's buffer is heard, and a quick next sound does not reopen it.
const CLOSE_AFTER: Duration = Duration::from_secs(2);
/// How often the thread looks whether single sounds have ended, while the device is open.
const LOOK_EVERY: Duration = Duration::from_millis(250);
/// Stream errors that go on this long, without a quiet second, mean the device is lost. A
/// single one is a glitch the stream goes on after: ALSA's pulse plugin reports one as a
/// stream starts.
const FAULTY_FOR: Duration = Duration::from_secs(2);
/// A pause this long between stream errors ends a run of them.
const QUIET: Duration = Duration::from_secs(1);
/// Stream errors kept for the thread to read: a dead device can report one per poll.
const FAULTS_KEPT: usize = 64;

/// Whether the desk can make a sound, for the UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum SoundStatus {
    /// The device has not been tried yet.
    Checking,
    Ready,
    /// No sound: alarms still show and notify. Why, in the system's words.
    Unavailable {
        reason: String,
    },
}

/// What the player plays at the moment it is asked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NowPlaying {
    pub repeating: Option<Sound>,
    /// Single sounds not yet ended.
    pub once: usize,
}

enum Order {
    Once(Sound),
    Repeat(Sound),
    Stop,
    Report(oneshot::Sender<NowPlaying>),
}

/// An error of a playing stream (word from the audio thread): which opening of the device,
/// so a late word about one already closed does not close its successor. On a channel of its
/// own: the orders' channel closing is what ends the player's thread.
struct Fault {
    opening: u64,
    reason: String,
    /// The stream has ended: the device is gone.
    lost: bool,
}

/// The handle of the player's thread; the thread ends, and its sound with it, when the last
/// clone is dropped (then the status channel closes).
#[derive(Debug, Clone)]
pub struct SoundPlayer {
    orders: mpsc::Sender<Order>,
    status: watch::Receiver<SoundStatus>,
}

impl SoundPlayer {
    /// Starts the player's thread, which tries the default output device at once (so the UI
    /// soon knows whether sound is there).
    pub fn start() -> SoundPlayer {
        let (orders, inbox) = mpsc::channel();
        let (status_tx, status) = watch::channel(SoundStatus::Checking);
        let spawned = std::thread::Builder::new()
            .name("alarm-sound".to_owned())
            .spawn(move || Speaker::new(status_tx).run(inbox));
        let status = match spawned {
            Ok(_) => status,
            Err(e) => {
                tracing::warn!(error = %e, "no thread for alarm sounds: alarms will be silent");
                watch::channel(SoundStatus::Unavailable {
                    reason: format!("the sound thread could not start: {e}"),
                })
                .1
            }
        };
        SoundPlayer { orders, status }
    }

    pub fn play_once(&self, sound: Sound) {
        self.send(Order::Once(sound));
    }

    /// Repeats `sound`, with a short gap, until [`Self::stop`]; replaces a sound repeating now.
    pub fn start_repeating(&self, sound: Sound) {
        self.send(Order::Repeat(sound));
    }

    /// Stops every sound.
    pub fn stop(&self) {
        self.send(Order::Stop);
    }

    /// Carries out one of the annunciator's cues.
    pub fn play(&self, cue: Cue) {
        match cue {
            Cue::Once(sound) => self.play_once(sound),
            Cue::Repeat(sound) => self.start_repeating(sound),
            Cue::Stop => self.stop(),
        }
    }

    pub fn status(&self) -> SoundStatus {
        self.status.borrow().clone()
    }

    /// The status, to follow its changes.
    pub fn watch_status(&self) -> watch::Receiver<SoundStatus> {
        self.status.clone()
    }

    /// What plays once every order sent before this call has been carried out.
    pub async fn now_playing(&self) -> NowPlaying {
        let (reply, answer) = oneshot::channel();
        self.send(Order::Report(reply));
        answer.await.unwrap_or_default()
    }

    fn send(&self, order: Order) {
        // Only fails when the thread is gone, which the status already says.
        let _ = self.orders.send(order);
    }
}

/// The sounds decoded for the mixer: a single play, and a repeat (the sound and its gap).
struct Tracks {
    once: HashMap<Sound, rodio::buffer::SamplesBuffer>,
    repeat: HashMap<Sound, rodio::buffer::SamplesBuffer>,
}

impl Tracks {
    /// Why not, in words for the status: the sounds are ours, so only a bad build fails here.
    fn decode() -> Result<Tracks, String> {
        let mut tracks = Tracks {
            once: HashMap::new(),
            repeat: HashMap::new(),
        };
        for sound in [Sound::Critical, Sound::High] {
            let fail = |e: hound::Error| format!("the {sound:?} sound is unreadable: {e}");
            let reader = hound::WavReader::new(sound.wav()).map_err(fail)?;
            let spec = reader.spec();
            let rate = NonZero::new(spec.sample_rate)
                .ok_or_else(|| format!("the {sound:?} sound has no sample rate"))?;
            let channels = NonZero::new(spec.channels)
                .ok_or_else(|| format!("the {sound:?} sound has no channels"))?;
            let mut samples = reader
                .into_samples::<i16>()
                .map(|s| s.map(|s| f32::from(s) / 32768.0))
                .collect::<Result<Vec<f32>, _>>()
                .map_err(fail)?;
            let buffer =
                |samples: Vec<f32>| rodio::buffer::SamplesBuffer::new(channels, rate, samples);
            tracks.once.insert(sound, buffer(samples.clone()));
            let gap = REPEAT_GAP.as_secs_f64() * f64::from(spec.sample_rate);
            samples.resize(
                samples.len() + gap as usize * usize::from(spec.channels),
                0.0,
            );
            tracks.repeat.insert(sound, buffer(samples));
        }
        Ok(tracks)
    }
}

/// The player's thread.
struct Speaker {
    tracks: Result<Tracks, String>,
    device: Option<MixerDeviceSink>,
    /// The sound asked to repeat, kept while the device is away so it resumes when it is back.
    wanted: Option<Sound>,
    repeating: Option<(Sound, Player)>,
    once: Vec<Player>,
    /// When the device last had nothing to play.
    idle_since: Option<Instant>,
    last_try: Option<Instant>,
    status: watch::Sender<SoundStatus>,
    /// A failure was logged; the next is not, until the device worked again.
    warned: bool,
    /// How many times the device was opened: names the current one.
    openings: u64,
    faults: mpsc::Receiver<Fault>,
    /// Cloned into each opened device's error callback.
    fault_tx: mpsc::SyncSender<Fault>,
    /// The first and the latest stream error of a run of them.
    faulty: Option<(Instant, Instant)>,
}

impl Speaker {
    fn new(status: watch::Sender<SoundStatus>) -> Speaker {
        let (fault_tx, faults) = mpsc::sync_channel(FAULTS_KEPT);
        Speaker {
            tracks: Tracks::decode(),
            device: None,
            wanted: None,
            repeating: None,
            once: Vec::new(),
            idle_since: None,
            last_try: None,
            status,
            warned: false,
            openings: 0,
            faults,
            fault_tx,
            faulty: None,
        }
    }

    fn run(mut self, inbox: mpsc::Receiver<Order>) {
        // The first look at the device, for the status; closed again when idle.
        self.open();
        loop {
            let order = match self.wake_in() {
                None => inbox.recv().ok(),
                Some(wait) => match inbox.recv_timeout(wait) {
                    Ok(order) => Some(order),
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        self.look();
                        continue;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => None,
                },
            };
            let Some(order) = order else { break };
            self.carry_out(order);
            self.look();
        }
        tracing::debug!("alarm sound player ended");
    }

    /// How long to wait for an order before looking at the sounds again.
    fn wake_in(&self) -> Option<Duration> {
        if self.device.is_some() {
            Some(LOOK_EVERY)
        } else if self.wanted.is_some() {
            let since = self.last_try.map_or(RETRY_EVERY, |t| t.elapsed());
            Some(RETRY_EVERY.saturating_sub(since))
        } else {
            None
        }
    }

    fn carry_out(&mut self, order: Order) {
        match order {
            Order::Once(sound) => {
                if let Some(player) = self.player_for(sound, false) {
                    self.once.push(player);
                }
            }
            Order::Repeat(sound) => {
                self.wanted = Some(sound);
                if self.repeating.as_ref().is_none_or(|(s, _)| *s != sound) {
                    // Dropping a player stops its sound.
                    self.repeating = None;
                    self.repeating = self.player_for(sound, true).map(|p| (sound, p));
                }
            }
            Order::Stop => {
                self.wanted = None;
                self.repeating = None;
                self.once.clear();
                // Closing the device drops what it still holds (a tenth of a second or more
                // through a sound server): Silence is heard at once.
                self.device = None;
            }
            Order::Report(reply) => {
                let _ = reply.send(NowPlaying {
                    repeating: self.repeating.as_ref().map(|(s, _)| *s),
                    once: self.once.iter().filter(|p| !p.empty()).count(),
                });
            }
        }
    }

    /// Ends what has ended: single sounds that played out, the device once idle a while; and
    /// tries again a repeating sound that waits for the device.
    fn look(&mut self) {
        // Bounded: a dead device reports as fast as it is read.
        for _ in 0..FAULTS_KEPT {
            let Ok(fault) = self.faults.try_recv() else {
                break;
            };
            // About a device closed since: nothing to do.
            if fault.opening != self.openings || self.device.is_none() {
                continue;
            }
            let now = Instant::now();
            let first = match self.faulty {
                Some((first, latest)) if now.duration_since(latest) < QUIET => first,
                _ => {
                    tracing::debug!(reason = %fault.reason, "sound stream error");
                    now
                }
            };
            self.faulty = Some((first, now));
            if fault.lost || now.duration_since(first) >= FAULTY_FOR {
                self.repeating = None;
                self.once.clear();
                self.device = None;
                self.faulty = None;
                self.last_try = Some(now);
                self.unavailable(fault.reason);
            }
        }
        self.once.retain(|p| !p.empty());
        if let (Some(sound), None) = (self.wanted, &self.repeating) {
            if self.wake_in() == Some(Duration::ZERO) {
                self.repeating = self.player_for(sound, true).map(|p| (sound, p));
            }
        }
        let busy = self.repeating.is_some() || !self.once.is_empty();
        if busy || self.device.is_none() {
            self.idle_since = None;
            return;
        }
        let since = *self.idle_since.get_or_insert_with(Instant::now);
        if since.elapsed() >= CLOSE_AFTER {
            self.device = None;
            self.idle_since = None;
        }
    }

    /// A player of `sound` on the open (or newly opened) device.
    fn player_for(&mut self, sound: Sound, repeat: bool) -> Option<Player> {
        let source = match &self.tracks {
            Ok(tracks) if repeat => tracks.repeat.get(&sound).cloned(),
            Ok(tracks) => tracks.once.get(&sound).cloned(),
            Err(reason) => {
                let reason = reason.clone();
                self.unavailable(reason);
                return None;
            }
        }?;
        let device = self.open()?;
        let player = Player::connect_new(device.mixer());
        if repeat {
            player.append(source.repeat_infinite());
        } else {
            player.append(source);
        }
        Some(player)
    }

    fn open(&mut self) -> Option<&MixerDeviceSink> {
        if self.device.is_none() {
            self.last_try = Some(Instant::now());
            self.openings += 1;
            self.faulty = None;
            let opening = self.openings;
            let faults = self.fault_tx.clone();
            let opened = DeviceSinkBuilder::from_default_device()
                .map(|b| {
                    b.with_error_callback(move |e: CpalError| {
                        if let Some(lost) = lost(&e) {
                            let reason = e.to_string();
                            // A full channel already says enough.
                            let _ = faults.try_send(Fault {
                                opening,
                                reason,
                                lost,
                            });
                        }
                    })
                })
                .and_then(|b| b.open_sink_or_fallback());
            match opened {
                Ok(mut device) => {
                    // Closing it is the plan, not news.
                    device.log_on_drop(false);
                    self.device = Some(device);
                    self.available();
                }
                Err(e) => self.unavailable(with_causes(&e)),
            }
        }
        self.device.as_ref()
    }

    fn available(&mut self) {
        if self.warned {
            tracing::info!("the sound device is back: alarms sound again");
        }
        self.warned = false;
        self.status.send_if_modified(|s| {
            let changed = *s != SoundStatus::Ready;
            *s = SoundStatus::Ready;
            changed
        });
    }

    fn unavailable(&mut self, reason: String) {
        if !self.warned {
            tracing::warn!(%reason, "no sound device: alarms will show and notify without sound");
            self.warned = true;
        }
        self.status.send_if_modified(|s| {
            let new = SoundStatus::Unavailable { reason };
            let changed = *s != new;
            *s = new;
            changed
        });
    }
}

/// Whether a stream error means the device is gone (the stream has ended), or `None` for a
/// glitch the stream recovers from by itself (an underrun). Others may pass or persist.
fn lost(e: &CpalError) -> Option<bool> {
    match e.kind() {
        CpalErrorKind::Xrun | CpalErrorKind::DeviceChanged | CpalErrorKind::RealtimeDenied => {
            tracing::debug!(error = %e, "sound glitch");
            None
        }
        // cpal ends the stream after these.
        CpalErrorKind::DeviceNotAvailable
        | CpalErrorKind::HostUnavailable
        | CpalErrorKind::StreamInvalidated => Some(true),
        _ => Some(false),
    }
}

/// An error and what caused it, on one line: rodio's own words alone say little.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_sounds_decode_and_the_repeat_adds_its_gap() {
        let tracks = Tracks::decode().unwrap();
        for sound in [Sound::Critical, Sound::High] {
            let once = tracks.once[&sound].total_duration().unwrap();
            let repeat = tracks.repeat[&sound].total_duration().unwrap();
            let gap = repeat - once;
            assert!(
                gap.abs_diff(REPEAT_GAP) < Duration::from_millis(1),
                "{sound:?}: {gap:?}"
            );
        }
        let peak = tracks.once[&Sound::Critical]
            .clone()
            .fold(0.0f32, |m, s| m.max(s.abs()));
        assert!((0.5..1.0).contains(&peak), "{peak}");
    }

    #[test]
    fn device_errors_read_with_their_causes_and_glitches_are_not_failures() {
        let cause =
            CpalError::with_message(CpalErrorKind::HostUnavailable, "pulse: connection refused");
        let e = rodio::DeviceSinkError::BuildError(cause);
        let reason = with_causes(&e);
        assert!(reason.starts_with("Error opening the stream"), "{reason}");
        assert!(reason.contains("connection refused"), "{reason}");
        assert_eq!(lost(&CpalError::new(CpalErrorKind::Xrun)), None);
        assert_eq!(
            lost(&CpalError::new(CpalErrorKind::DeviceNotAvailable)),
            Some(true)
        );
        assert_eq!(
            lost(&CpalError::new(CpalErrorKind::BackendError)),
            Some(false)
        );
    }
}
