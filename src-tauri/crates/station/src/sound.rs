//! The alarm sounds the desk plays, shipped inside the binary (so no install can lose them).
//!
//! They are the project's own, made by `tools/make-alarm-sounds.py`; to change one, edit and run
//! `python3 tools/make-alarm-sounds.py`, rebuild, and commit the new WAVs.

use brewdeck_protocol::Severity;
use std::time::Duration;

/// One of the desk's alarm sounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sound {
    /// About 1 s of two alternating tones; repeated while a critical alarm waits.
    Critical,
    /// One chime of about 0.6 s; also the sound of medium and low alarms set to sound.
    High,
}

/// The silence between two plays of a repeating sound, so the pattern reads as a call.
pub const REPEAT_GAP: Duration = Duration::from_millis(400);

impl Sound {
    /// The sound an alarm of this severity makes.
    pub fn for_severity(severity: Severity) -> Sound {
        match severity {
            Severity::Critical => Sound::Critical,
            Severity::High | Severity::Medium | Severity::Low => Sound::High,
        }
    }

    /// The WAV file: 16-bit PCM, mono, 22050 Hz.
    pub fn wav(self) -> &'static [u8] {
        match self {
            Sound::Critical => include_bytes!("../sounds/critical.wav"),
            Sound::High => include_bytes!("../sounds/high.wav"),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_sounds_are_small_mono_16_bit_and_about_as_long_as_said() {
        for (sound, seconds) in [(Sound::Critical, 1.0), (Sound::High, 0.6)] {
            let reader = hound::WavReader::new(sound.wav()).unwrap();
            let spec = reader.spec();
            assert_eq!(
                (spec.channels, spec.sample_rate, spec.bits_per_sample),
                (1, 22050, 16),
                "{sound:?}"
            );
            let length = f64::from(reader.duration()) / 22050.0;
            assert!((length - seconds).abs() < 0.05, "{sound:?}: {length} s");
            assert!(sound.wav().len() < 64 * 1024, "{sound:?} grew large");
        }
    }
}
