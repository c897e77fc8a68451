//! Telemetry for the webview, coalesced: the latest value per endpoint since the last flush,
//! cut into batches whose JSON stays under a size bound, however fast readings arrive.

use brewdeck_protocol::{EndpointId, Telemetry};
use serde::Serialize;
use std::collections::HashMap;
use ts_rs::TS;

/// Each batch's JSON stays under this (8 KiB), so no single IPC message is large.
pub const MAX_BATCH_BYTES: usize = 8 * 1024;

/// A batch of readings: the latest value of each endpoint that changed.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ReadingBatch {
    pub readings: Vec<Telemetry>,
}

/// `{"readings":[]}`
const ENVELOPE_BYTES: usize = 15;

/// The latest reading per endpoint, in first-arrival order, until taken.
#[derive(Debug, Default)]
pub struct ReadingBatcher {
    pending: Vec<Telemetry>,
    index: HashMap<EndpointId, usize>,
}

impl ReadingBatcher {
    pub fn push(&mut self, reading: Telemetry) {
        match self.index.get(&reading.endpoint_id) {
            Some(&i) => self.pending[i] = reading,
            None => {
                self.index
                    .insert(reading.endpoint_id.clone(), self.pending.len());
                self.pending.push(reading);
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Everything pending, as batches of at most `max_bytes` of JSON each (a single reading
    /// larger than that goes alone rather than be lost).
    pub fn take(&mut self, max_bytes: usize) -> Vec<ReadingBatch> {
        self.index.clear();
        let mut batches = Vec::new();
        let mut current = Vec::new();
        let mut size = ENVELOPE_BYTES;
        for reading in self.pending.drain(..) {
            let bytes = brewdeck_protocol::encoded_len(&reading);
            let extra = bytes + usize::from(!current.is_empty());
            if !current.is_empty() && size + extra > max_bytes {
                batches.push(ReadingBatch {
                    readings: std::mem::take(&mut current),
                });
                size = ENVELOPE_BYTES;
                current.push(reading);
                size += bytes;
            } else {
                current.push(reading);
                size += extra;
            }
        }
        if !current.is_empty() {
            batches.push(ReadingBatch { readings: current });
        }
        batches
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use brewdeck_protocol::{Timestamp, Value};

    fn reading(id: usize, v: f64) -> Telemetry {
        Telemetry {
            endpoint_id: EndpointId::from(format!("fermenter-{id}.temperature").as_str()),
            value: Value::Number(v),
            timestamp: Timestamp::now(),
            quality: None,
        }
    }

    #[test]
    fn only_the_latest_value_per_endpoint_is_kept_in_arrival_order() {
        let mut b = ReadingBatcher::default();
        b.push(reading(1, 1.0));
        b.push(reading(2, 2.0));
        b.push(reading(1, 3.0));
        let batches = b.take(MAX_BATCH_BYTES);
        assert_eq!(batches.len(), 1);
        let values: Vec<_> = batches[0]
            .readings
            .iter()
            .map(|r| (r.endpoint_id.to_string(), r.value.clone()))
            .collect();
        assert_eq!(
            values,
            vec![
                ("fermenter-1.temperature".to_owned(), Value::Number(3.0)),
                ("fermenter-2.temperature".to_owned(), Value::Number(2.0)),
            ]
        );
        assert!(b.is_empty());
        assert!(b.take(MAX_BATCH_BYTES).is_empty());
    }

    #[test]
    fn large_flushes_split_into_batches_under_the_bound_losing_nothing() {
        let mut b = ReadingBatcher::default();
        for i in 0..500 {
            b.push(reading(i, i as f64 + 0.25));
        }
        let batches = b.take(MAX_BATCH_BYTES);
        assert!(batches.len() > 1);
        let mut total = 0;
        for batch in &batches {
            let json = serde_json::to_vec(batch).unwrap();
            assert!(json.len() <= MAX_BATCH_BYTES, "{} bytes", json.len());
            // Not wastefully small either: each but the last is over half full.
            total += batch.readings.len();
        }
        for batch in &batches[..batches.len() - 1] {
            assert!(serde_json::to_vec(batch).unwrap().len() > MAX_BATCH_BYTES / 2);
        }
        assert_eq!(total, 500);
    }

    #[test]
    fn the_size_estimate_is_exact() {
        let mut b = ReadingBatcher::default();
        for i in 0..40 {
            b.push(reading(i, -1.5e-7 * i as f64));
        }
        for max in [200, 1000, 4096] {
            let mut c = ReadingBatcher::default();
            for r in &b.pending {
                c.push(r.clone());
            }
            for batch in c.take(max) {
                let len = serde_json::to_vec(&batch).unwrap().len();
                assert!(len <= max || batch.readings.len() == 1, "{len} > {max}");
            }
        }
    }
}
