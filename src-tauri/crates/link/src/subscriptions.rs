//! The subscriptions the link wants, and what it has told the current server: re-sent in one
//! message per channel after every (re)connect, never twice.

use brewdeck_protocol::{Endpoint, EndpointId};
use std::collections::BTreeSet;

#[derive(Debug, Default)]
pub(crate) struct Subscriptions {
    explicit: BTreeSet<EndpointId>,
    /// Follow every endpoint of the catalog (level 1).
    pub follow_catalog: bool,
}

impl Subscriptions {
    pub fn add(&mut self, ids: Vec<EndpointId>) {
        self.explicit.extend(ids);
    }

    pub fn remove(&mut self, ids: &[EndpointId]) {
        for id in ids {
            self.explicit.remove(id);
        }
    }

    /// Every endpoint the link wants readings for.
    pub fn wanted(&self, catalog: &[Endpoint]) -> BTreeSet<EndpointId> {
        let mut all = self.explicit.clone();
        if self.follow_catalog {
            all.extend(catalog.iter().map(|e| e.id.clone()));
        }
        all
    }
}

/// What to send to bring a server from `told` to `wanted`.
pub(crate) fn delta(
    told: &BTreeSet<EndpointId>,
    wanted: &BTreeSet<EndpointId>,
) -> (Vec<EndpointId>, Vec<EndpointId>) {
    let add = wanted.difference(told).cloned().collect();
    let remove = told.difference(wanted).cloned().collect();
    (add, remove)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delta_sends_only_the_difference() {
        let told: BTreeSet<EndpointId> = [1u64, 2, 3].into_iter().map(EndpointId::from).collect();
        let wanted: BTreeSet<EndpointId> = [2u64, 3, 4].into_iter().map(EndpointId::from).collect();
        let (add, remove) = delta(&told, &wanted);
        assert_eq!(add, vec![EndpointId::from(4)]);
        assert_eq!(remove, vec![EndpointId::from(1)]);
        let (add, remove) = delta(&wanted, &wanted);
        assert!(add.is_empty() && remove.is_empty());
    }
}
