//! One JSON object per line on stdout.

use serde::Serialize;
use std::io::Write;

#[derive(Debug)]
pub struct Output;

impl Output {
    pub fn stdout() -> Self {
        Output
    }

    /// Writes one line; `false` once stdout is gone (the reader quit), so the caller stops.
    pub fn line<T: Serialize>(&self, value: &T) -> bool {
        let Ok(text) = serde_json::to_string(value) else {
            return true;
        };
        let mut out = std::io::stdout().lock();
        writeln!(out, "{text}").and_then(|()| out.flush()).is_ok()
    }
}
