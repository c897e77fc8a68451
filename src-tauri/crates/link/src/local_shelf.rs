//! Shelving kept by this link alone, for a server that does not serve `shelving` (level 0
//! included): the alarm is marked `shelved` in this desk's model, so nothing here notifies or
//! sounds it, and it comes back by itself when its time is up. Other desks do not see it.

use brewdeck_protocol::{AlarmId, Role, Shelved, Timestamp};
use std::collections::HashMap;
use std::time::Duration;
use tokio::time::Instant;

/// Who local shelvings name: the server names no operator here.
pub const BY_THIS_DESK: &str = "this desk";

/// The longest local shelving: an operator's, as a server without roles is read.
pub fn limit_minutes() -> u32 {
    Role::Operator.shelve_limit_minutes()
}

#[derive(Debug, Default)]
pub(crate) struct LocalShelf {
    shelves: HashMap<AlarmId, (Shelved, Instant)>,
}

impl LocalShelf {
    /// Shelves (again, from now) for `minutes`; checked by the caller.
    pub fn shelve(&mut self, id: AlarmId, minutes: u32, reason: String, now: Instant) -> Shelved {
        let length = Duration::from_secs(u64::from(minutes) * 60);
        let until_ms = Timestamp::now().unix_millis() + i64::from(minutes) * 60_000;
        let shelved = Shelved {
            until: Timestamp::from_unix_millis(until_ms).unwrap_or_else(Timestamp::now),
            by: BY_THIS_DESK.to_owned(),
            reason,
        };
        self.shelves.insert(id, (shelved.clone(), now + length));
        shelved
    }

    pub fn unshelve(&mut self, id: &AlarmId) -> bool {
        self.shelves.remove(id).is_some()
    }

    pub fn get(&self, id: &AlarmId) -> Option<&Shelved> {
        self.shelves.get(id).map(|(s, _)| s)
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.shelves.values().map(|(_, at)| *at).min()
    }

    /// The alarms whose time is up, taken off the shelf.
    pub fn expire(&mut self, now: Instant) -> Vec<AlarmId> {
        let due: Vec<AlarmId> = self
            .shelves
            .iter()
            .filter(|(_, (_, at))| *at <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in &due {
            self.shelves.remove(id);
        }
        due
    }
}

/// Why a local shelving is refused, if it is.
pub fn check(minutes: u32, reason: &str) -> Result<(), String> {
    brewdeck_protocol::check_reason(reason)?;
    let limit = limit_minutes();
    if minutes == 0 || minutes > limit {
        return Err(format!("shelve for 1 to {limit} minutes, not {minutes}"));
    }
    Ok(())
}
