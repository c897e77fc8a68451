//! A trend as CSV: one row per bucket per endpoint, `time,endpoint_id,endpoint,unit,min,max,
//! last,` with RFC 3339 UTC times. Names come from the plant: they are quoted as CSV needs, and
//! a name a spreadsheet would take for a formula is made plain text.

use super::view::TrendAnswer;
use brewdeck_protocol::{Endpoint, Timestamp};
use std::fmt::Write;

pub const HEADER: &str = "time,endpoint_id,endpoint,unit,min,max,last\n";

/// One CSV field: quoted when it holds a comma, quote or line break; prefixed with `'` when a
/// spreadsheet would run it (`=`, `+`, `-`, `@`, tab, CR at the start).
pub fn field(text: &str) -> String {
    let inert = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if inert.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", inert.replace('"', "\"\""))
    } else {
        inert
    }
}

/// The answer's rows, and how many.
pub fn render(answer: &TrendAnswer, catalog: &[Endpoint]) -> (String, u64) {
    let mut out = String::from(HEADER);
    let mut rows = 0u64;
    for series in &answer.series {
        let endpoint = catalog.iter().find(|e| e.id == series.endpoint_id);
        let id = field(&series.endpoint_id.to_string());
        let name = field(endpoint.map(|e| e.name.as_str()).unwrap_or(""));
        let unit = field(endpoint.and_then(|e| e.unit.as_deref()).unwrap_or(""));
        for i in 0..series.t.len() {
            let Some(t) = Timestamp::from_unix_millis(series.t[i]) else {
                continue;
            };
            let _ = writeln!(
                out,
                "{t},{id},{name},{unit},{},{},{}",
                series.min[i], series.max[i], series.last[i]
            );
            rows += 1;
        }
    }
    (out, rows)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::record::view::TrendSeries;

    #[test]
    fn fields_are_quoted_and_formulas_made_inert() {
        assert_eq!(field("FV-1 temp"), "FV-1 temp");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("-5"), "'-5");
        assert_eq!(field("@SUM"), "'@SUM");
    }

    #[test]
    fn one_row_per_bucket_per_endpoint() {
        let answer = TrendAnswer {
            from_ms: 0,
            to_ms: 120_000,
            bucket_ms: 60_000,
            series: vec![TrendSeries {
                endpoint_id: "ferm-1-temp".into(),
                t: vec![1_764_547_200_000, 1_764_547_260_000],
                min: vec![18.0, 18.25],
                max: vec![18.5, 18.75],
                last: vec![18.25, 18.5],
            }],
            filling: false,
        };
        let (text, rows) = render(&answer, &[]);
        assert_eq!(rows, 2);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], HEADER.trim_end());
        assert_eq!(
            lines[1],
            "2025-12-01T00:00:00.000Z,ferm-1-temp,,,18,18.5,18.25"
        );
        assert_eq!(lines.len(), 3);
    }
}
