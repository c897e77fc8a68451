//! The task that makes alarms heard: it follows the link, asks the [`Annunciator`] what to
//! play and hands it to the [`SoundPlayer`], natively, so alarms sound while the window is
//! hidden. The operator's Silence and the sound settings reach it through its handle; the
//! screen follows its [`AnnunciatorView`].

use crate::annunciator::{AlarmSounds, Annunciator, AnnunciatorView};
use crate::sound_player::{SoundPlayer, SoundStatus};
use brewdeck_link::{Link, LinkEvent, WeakLink};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// What the screen shows of the alarm sound: whether it sounds (the Silence button), and
/// whether the desk can make a sound at all.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct AlarmSoundView {
    pub annunciator: AnnunciatorView,
    pub device: SoundStatus,
}

/// What the rest of the desk holds of the task.
#[derive(Debug, Clone)]
pub struct AlarmSoundsHandle {
    silence: mpsc::UnboundedSender<()>,
    view: watch::Receiver<AnnunciatorView>,
    player: SoundPlayer,
}

impl AlarmSoundsHandle {
    /// Stops the sound; acknowledges nothing.
    pub fn silence(&self) {
        let _ = self.silence.send(());
    }

    pub fn view(&self) -> AnnunciatorView {
        *self.view.borrow()
    }

    pub fn watch(&self) -> watch::Receiver<AnnunciatorView> {
        self.view.clone()
    }

    /// Whether the desk can make a sound at all (a missing sound card is said, not fatal).
    pub fn status(&self) -> watch::Receiver<SoundStatus> {
        self.player.watch_status()
    }

    pub fn sound_view(&self) -> AlarmSoundView {
        AlarmSoundView {
            annunciator: self.view(),
            device: self.player.status(),
        }
    }
}

/// Starts the player and the task; call inside a tokio runtime, before the link first syncs.
pub fn spawn_alarm_sounds(
    link: &Link,
    sounds: watch::Receiver<AlarmSounds>,
) -> (AlarmSoundsHandle, tokio::task::JoinHandle<()>) {
    let player = SoundPlayer::start();
    let (silence_tx, silence_rx) = mpsc::unbounded_channel();
    let (view_tx, view) = watch::channel(AnnunciatorView::default());
    let events = link.events();
    let task = tokio::spawn(run(
        link.downgrade(),
        events,
        sounds,
        silence_rx,
        view_tx,
        player.clone(),
    ));
    let handle = AlarmSoundsHandle {
        silence: silence_tx,
        view,
        player,
    };
    (handle, task)
}

async fn run(
    link: WeakLink,
    mut events: tokio::sync::broadcast::Receiver<LinkEvent>,
    mut sounds: watch::Receiver<AlarmSounds>,
    mut silence: mpsc::UnboundedReceiver<()>,
    view: watch::Sender<AnnunciatorView>,
    player: SoundPlayer,
) {
    let mut annunciator = Annunciator::new(*sounds.borrow_and_update());
    loop {
        let cues = tokio::select! {
            event = events.recv() => match event {
                Ok(LinkEvent::Readings { .. }) => continue,
                Ok(event) => {
                    let mut cues = annunciator.on_event(&event, Instant::now());
                    if matches!(event, LinkEvent::Synced { .. }) {
                        // The whole set: alarms closed meanwhile (maybe on another desk) stop.
                        let Some(l) = link.upgrade() else { break };
                        if let Ok(snapshot) = l.snapshot().await {
                            cues.extend(annunciator.on_snapshot(&snapshot.alarms, Instant::now()));
                        }
                    }
                    cues
                }
                Err(RecvError::Lagged(_)) => {
                    let Some(l) = link.upgrade() else { break };
                    match l.snapshot().await {
                        Ok(snapshot) => annunciator.on_snapshot(&snapshot.alarms, Instant::now()),
                        Err(_) => Vec::new(),
                    }
                }
                Err(RecvError::Closed) => break,
            },
            Some(()) = silence.recv() => {
                tracing::info!("alarms silenced (not acknowledged)");
                annunciator.silence(Instant::now())
            }
            Ok(()) = sounds.changed() => {
                let chosen = *sounds.borrow_and_update();
                annunciator.set_sounds(chosen, Instant::now())
            }
        };
        for cue in cues {
            player.play(cue);
        }
        view.send_if_modified(|v| {
            let now = annunciator.view();
            let changed = *v != now;
            *v = now;
            changed
        });
    }
    player.stop();
}
