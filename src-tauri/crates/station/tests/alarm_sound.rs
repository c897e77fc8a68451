//! The alarm sounds for real: the player's sound goes through ALSA (its pulse plugin) to a
//! PulseAudio server of the test's own, whose null sink is recorded and measured.

#![allow(clippy::unwrap_used)]

mod common;

use brewdeck_station::sound::Sound;
use brewdeck_station::sound_player::{NowPlaying, SoundPlayer, SoundStatus, RETRY_EVERY};
use common::pulse::Pulse;
use std::time::Duration;

/// Clearly audible: the critical sound's RMS level is about 0.5 at full volume.
const AUDIBLE: f64 = 0.05;
/// Silence: a null sink with nothing playing records exact zeros.
const SILENT: f64 = 0.005;
/// Longer than one play of the critical sound and its gap, so a recording hears a whole one.
const LISTEN: Duration = Duration::from_millis(1600);

/// One PulseAudio at a time: the server is chosen through this process's environment.
static ONE_SERVER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn private_pulse() -> (tokio::sync::MutexGuard<'static, ()>, Pulse) {
    let guard = ONE_SERVER.lock().await;
    let pulse = Pulse::start();
    pulse.use_in_this_process();
    (guard, pulse)
}

#[tokio::test]
async fn a_repeating_critical_sound_is_heard_until_stopped() {
    let (_one, mut pulse) = private_pulse().await;
    let player = SoundPlayer::start();
    let before = pulse.record_level(Duration::from_millis(500));
    eprintln!("RMS before any sound: {before:.6}");
    assert!(
        before < SILENT,
        "sound before any was asked for: RMS {before}"
    );

    player.start_repeating(Sound::Critical);
    assert_eq!(
        player.now_playing().await,
        NowPlaying {
            repeating: Some(Sound::Critical),
            once: 0
        },
        "status: {:?}",
        player.status()
    );
    assert_eq!(player.status(), SoundStatus::Ready);
    let playing = pulse.record_level(LISTEN);
    let streams = pulse.pactl(&["list", "short", "sink-inputs"]).unwrap();
    assert!(
        playing > AUDIBLE,
        "the critical sound is not heard on the null sink: RMS {playing}; sink inputs: {streams}"
    );
    // It repeats: a second listen, after the first play and its gap, hears it again.
    let again = pulse.record_level(LISTEN);
    assert!(again > AUDIBLE, "not repeated: RMS {again}");
    eprintln!("RMS while repeating: {playing:.4}, then {again:.4}");

    player.stop();
    assert_eq!(player.now_playing().await, NowPlaying::default());
    let after = pulse.record_level(Duration::from_secs(1));
    eprintln!("RMS after stop: {after:.6}");
    assert!(after < SILENT, "still sounding after stop: RMS {after}");

    // The server gone under a playing sound: a status for the UI, no panic, nothing plays...
    player.start_repeating(Sound::Critical);
    assert_eq!(player.now_playing().await.repeating, Some(Sound::Critical));
    let mut status = player.watch_status();
    pulse.stop();
    let unavailable = tokio::time::timeout(
        Duration::from_secs(10),
        status.wait_for(|s| matches!(s, SoundStatus::Unavailable { .. })),
    )
    .await
    .expect("the player reports the lost server")
    .unwrap()
    .clone();
    eprintln!("after the server ended: {unavailable:?}");
    assert_eq!(player.now_playing().await.repeating, None);
    // ...until the server is back: the wanted sound starts by itself, within a retry.
    pulse.restart();
    tokio::time::timeout(
        RETRY_EVERY * 3,
        status.wait_for(|s| *s == SoundStatus::Ready),
    )
    .await
    .expect("the player finds the server again")
    .unwrap();
    assert_eq!(player.now_playing().await.repeating, Some(Sound::Critical));
    let back = pulse.record_level(LISTEN);
    eprintln!("RMS once the server is back: {back:.4}");
    assert!(
        back > AUDIBLE,
        "not heard after the server came back: RMS {back}"
    );

    // Dropping the last handle ends the player's thread, and the sound with it: the status
    // channel closes once the thread is gone.
    let mut status = player.watch_status();
    drop(player);
    tokio::time::timeout(Duration::from_secs(10), async {
        while status.changed().await.is_ok() {}
    })
    .await
    .expect("the player's thread ends with its last handle");
    let level = pulse.record_level(Duration::from_millis(500));
    eprintln!("RMS after the player was dropped: {level:.6}");
    assert!(level < SILENT, "a dropped player still sounds: RMS {level}");
}

#[tokio::test(start_paused = true)]
async fn repeating_then_stopping_at_once_leaves_nothing_playing() {
    let (_one, pulse) = private_pulse().await;
    let player = SoundPlayer::start();
    // Each order is carried out in turn: no wait between them is needed or made.
    player.start_repeating(Sound::Critical);
    player.play_once(Sound::High);
    assert_eq!(
        player.now_playing().await,
        NowPlaying {
            repeating: Some(Sound::Critical),
            once: 1
        }
    );
    for _ in 0..20 {
        player.start_repeating(Sound::Critical);
        player.play_once(Sound::High);
        player.stop();
    }
    assert_eq!(player.now_playing().await, NowPlaying::default());
    let level = pulse.record_level(Duration::from_millis(500));
    eprintln!("RMS after 20 quick start-stops: {level:.6}");
    assert!(level < SILENT, "something still sounds: RMS {level}");
}
