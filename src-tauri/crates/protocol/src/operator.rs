//! Level 1 feature `operators`: each token belongs to one operator with a name and a role,
//! and the role says what the operator may change. The one statement of the role rules, so
//! the plant that enforces them and the desk that disables its buttons cannot drift apart.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The name a server lists in `connected.features` when it names operators and enforces roles.
pub const FEATURE_OPERATORS: &str = "operators";

/// What an operator may do, in increasing order: `viewer` < `operator` < `supervisor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Sees everything; changes nothing (no command, acknowledgement, shelving or note).
    Viewer,
    /// Commands, acknowledges, writes notes, shelves for up to an hour.
    Operator,
    /// As an operator, shelves for up to eight hours and unshelves what anyone shelved.
    Supervisor,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Supervisor];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Supervisor => "supervisor",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// Commands, acknowledgements, shelving and notes: anything that changes the plant or
    /// the record.
    pub fn may_change(self) -> bool {
        self >= Role::Operator
    }

    /// The longest shelving this role may ask for, in minutes (0: none).
    pub fn shelve_limit_minutes(self) -> u32 {
        match self {
            Role::Viewer => 0,
            Role::Operator => 60,
            Role::Supervisor => 480,
        }
    }

    /// Whether this role may unshelve an alarm someone else shelved.
    pub fn may_unshelve_others(self) -> bool {
        self >= Role::Supervisor
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who a connection is: level-1 `connected.operator`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Operator {
    pub name: String,
    pub role: Role,
}

#[cfg(test)]
mod tests {
    use super::Role;

    #[test]
    fn roles_are_ordered_and_their_limits_follow() {
        assert!(Role::Viewer < Role::Operator && Role::Operator < Role::Supervisor);
        assert!(!Role::Viewer.may_change());
        assert!(Role::Operator.may_change() && Role::Supervisor.may_change());
        assert_eq!(Role::Viewer.shelve_limit_minutes(), 0);
        assert_eq!(Role::Operator.shelve_limit_minutes(), 60);
        assert_eq!(Role::Supervisor.shelve_limit_minutes(), 480);
        assert!(!Role::Operator.may_unshelve_others());
        assert!(Role::Supervisor.may_unshelve_others());
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            let wire = serde_json::to_value(role).expect("a role encodes");
            assert_eq!(wire.as_str(), Some(role.as_str()));
        }
        assert_eq!(Role::parse("admin"), None);
    }
}
