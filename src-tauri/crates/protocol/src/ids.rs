use serde::{Deserialize, Serialize};
use std::fmt;
use ts_rs::TS;

/// The per-server sequence number carried by every level-1 `alarm` and `command_status`.
pub type Seq = u64;

/// An identifier a server chose: level-0 servers use numbers (`59`) or strings, so both are
/// kept exactly as they came and written back the same way.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Id {
    Number(u64),
    Text(String),
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Id::Number(n) => write!(f, "{n}"),
            Id::Text(s) => f.write_str(s),
        }
    }
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
        #[serde(transparent)]
        #[ts(type = "number | string")]
        pub struct $name(pub Id);

        impl From<u64> for $name {
            fn from(n: u64) -> Self {
                $name(Id::Number(n))
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(Id::Text(s.to_owned()))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A point in the plant: a sensor, an actuator or a setpoint.
    EndpointId
);
id_type!(
    /// One occurrence of an alarm (raised, maybe cleared, maybe acknowledged).
    AlarmId
);

/// A command's idempotency key: a UUID v4 chosen by the client in level 1; any string in
/// level 0.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(transparent)]
#[ts(type = "string")]
pub struct CommandId(pub String);

impl From<&str> for CommandId {
    fn from(s: &str) -> Self {
        CommandId(s.to_owned())
    }
}

impl fmt::Display for CommandId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
