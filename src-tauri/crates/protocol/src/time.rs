use chrono::{DateTime, Datelike, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use ts_rs::TS;

/// A point in time on the wire: RFC 3339 text. Reading also accepts what level-0 servers are
/// seen to send: an ISO time without offset (taken as UTC) and Unix seconds as a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, TS)]
#[ts(type = "string")]
pub struct Timestamp(pub DateTime<Utc>);

impl Timestamp {
    pub fn now() -> Self {
        Timestamp(Utc::now())
    }

    /// `None` outside the years RFC 3339 can write (0000–9999): such a time could be read
    /// but never written back.
    pub fn from_unix_millis(ms: i64) -> Option<Self> {
        Utc.timestamp_millis_opt(ms)
            .single()
            .map(Timestamp)
            .filter(Timestamp::writable)
    }

    fn writable(&self) -> bool {
        (0..=9999).contains(&self.0.year())
    }

    pub fn unix_millis(&self) -> i64 {
        self.0.timestamp_millis()
    }

    /// Parses the forms described on the type.
    pub fn parse(text: &str) -> Option<Self> {
        if let Ok(t) = DateTime::parse_from_rfc3339(text) {
            return Some(Timestamp(t.with_timezone(&Utc)));
        }
        NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
            .ok()
            .map(|naive| Timestamp(naive.and_utc()))
            .filter(Timestamp::writable)
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(t: DateTime<Utc>) -> Self {
        Timestamp(t)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 time or Unix seconds")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
                Timestamp::parse(v).ok_or_else(|| E::custom("not an RFC 3339 time"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Timestamp, E> {
                if !v.is_finite() {
                    return Err(E::custom("time out of range"));
                }
                // Saturating casts: an absurd value is refused by from_unix_millis below.
                Timestamp::from_unix_millis((v * 1000.0).round() as i64)
                    .ok_or_else(|| E::custom("time out of range"))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timestamp, E> {
                i64::try_from(v)
                    .ok()
                    .and_then(|s| s.checked_mul(1000))
                    .and_then(Timestamp::from_unix_millis)
                    .ok_or_else(|| E::custom("time out of range"))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Timestamp, E> {
                v.checked_mul(1000)
                    .and_then(Timestamp::from_unix_millis)
                    .ok_or_else(|| E::custom("time out of range"))
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::Timestamp;

    #[test]
    fn a_time_past_year_9999_is_refused_as_it_could_not_be_written_back() {
        // 10^12 Unix seconds (a server sending milliseconds as seconds) is in year 33658.
        let far: Result<Timestamp, _> = serde_json::from_str("1000000000000");
        assert!(far.is_err());
        assert!(Timestamp::parse("+33658-09-27T01:46:40Z").is_none());
        let near: Timestamp = serde_json::from_str("1000000000").expect("2001");
        let again: Timestamp =
            serde_json::from_str(&serde_json::to_string(&near).expect("written")).expect("read");
        assert_eq!(again, near);
    }
}
