//! Who this desk is on the plant, and what its role lets it do here. The one place the desk
//! decides what to offer: the webview disables what is denied and shows the reason, and the
//! plant refuses it anyway. The role's rules themselves are `brewdeck_protocol::Role`'s.

use brewdeck_link::{PlantSnapshot, ProtocolLevel};
use brewdeck_protocol::{Operator, Role, FEATURE_JOURNAL, FEATURE_NOTES, FEATURE_SHELVING};
use serde::Serialize;
use ts_rs::TS;

/// Whether an action is offered, and why not when it is not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Permission {
    Allowed,
    Denied { reason: String },
}

impl Permission {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Permission::Allowed)
    }

    fn denied(reason: impl Into<String>) -> Self {
        Permission::Denied {
            reason: reason.into(),
        }
    }
}

/// What the desk offers this operator against this server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeskOperator {
    /// The operator's name, when the server names operators.
    pub name: Option<String>,
    pub role: Option<Role>,
    pub command: Permission,
    pub acknowledge: Permission,
    pub shelve: Permission,
    /// Unshelving what another operator shelved (one's own is always allowed with `shelve`).
    pub unshelve_others: Permission,
    pub note: Permission,
    /// The longest shelving this desk offers, in minutes.
    pub shelve_limit_minutes: u32,
    /// Shelving kept by this desk only: the server does not serve `shelving`.
    pub shelving_is_local: bool,
    /// Notes kept in this desk's journal only: the server does not serve `notes`.
    pub notes_are_local: bool,
    /// The journal shown is this desk's own: the server does not serve `journal`.
    pub journal_is_local: bool,
}

/// How the desk reads a server that names no operators: as one that enforces no roles.
const UNNAMED: Role = Role::Operator;

impl DeskOperator {
    pub fn of(plant: &PlantSnapshot) -> DeskOperator {
        DeskOperator::from_parts(plant.level, &plant.features, plant.operator.as_ref())
    }

    /// From what the server said in `connected`: its level, features and who we are.
    pub fn from_parts(
        level: Option<ProtocolLevel>,
        features: &[String],
        operator: Option<&Operator>,
    ) -> DeskOperator {
        let serves = |f: &str| features.iter().any(|x| x == f);
        let role = operator.map(|o| o.role);
        let effective = role.unwrap_or(UNNAMED);
        let level1 = level == Some(ProtocolLevel::Level1);
        let viewer = |what: &str| {
            Permission::denied(format!(
                "your role (viewer) may not {what}: ask an operator or a supervisor"
            ))
        };
        let changes = |what: &str| {
            if effective.may_change() {
                Permission::Allowed
            } else {
                viewer(what)
            }
        };
        let acknowledge = if !effective.may_change() {
            viewer("acknowledge alarms")
        } else if level == Some(ProtocolLevel::Level0) {
            Permission::denied("this plant server (level 0) takes no acknowledgements")
        } else {
            Permission::Allowed
        };
        let unshelve_others = if !effective.may_change() {
            viewer("unshelve alarms")
        } else if serves(FEATURE_SHELVING) && !effective.may_unshelve_others() {
            Permission::denied(format!(
                "your role ({effective}) may unshelve only what you shelved: ask a supervisor"
            ))
        } else {
            Permission::Allowed
        };
        DeskOperator {
            name: operator.map(|o| o.name.clone()),
            role,
            command: changes("send commands"),
            acknowledge,
            shelve: changes("shelve alarms"),
            unshelve_others,
            note: changes("write notes"),
            shelve_limit_minutes: effective.shelve_limit_minutes(),
            shelving_is_local: !(level1 && serves(FEATURE_SHELVING)),
            notes_are_local: !(level1 && serves(FEATURE_NOTES)),
            journal_is_local: !(level1 && serves(FEATURE_JOURNAL)),
        }
    }

    /// The name this desk's own journal entries carry.
    pub fn signature(&self) -> String {
        self.name.clone().unwrap_or_else(|| "this desk".to_owned())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn plant(
        level: ProtocolLevel,
        features: &[&str],
        operator: Option<(&str, Role)>,
    ) -> DeskOperator {
        let features: Vec<String> = features.iter().map(|f| (*f).to_owned()).collect();
        let operator = operator.map(|(name, role)| Operator {
            name: name.to_owned(),
            role,
        });
        DeskOperator::from_parts(Some(level), &features, operator.as_ref())
    }

    const ALL: [&str; 5] = ["history", "operators", "journal", "shelving", "notes"];

    #[test]
    fn a_viewer_is_offered_nothing_that_changes_the_plant_and_is_told_why() {
        let d = plant(ProtocolLevel::Level1, &ALL, Some(("val", Role::Viewer)));
        assert_eq!(d.name.as_deref(), Some("val"));
        for p in [
            &d.command,
            &d.acknowledge,
            &d.shelve,
            &d.note,
            &d.unshelve_others,
        ] {
            let Permission::Denied { reason } = p else {
                panic!("a viewer was offered {p:?}")
            };
            assert!(reason.contains("viewer"), "{reason}");
        }
        assert_eq!(d.shelve_limit_minutes, 0);
    }

    #[test]
    fn operators_and_supervisors_get_their_roles_limits() {
        let op = plant(ProtocolLevel::Level1, &ALL, Some(("ana", Role::Operator)));
        assert!(op.command.is_allowed() && op.acknowledge.is_allowed() && op.shelve.is_allowed());
        assert_eq!(op.shelve_limit_minutes, 60);
        assert!(!op.unshelve_others.is_allowed());
        assert!(!op.shelving_is_local && !op.notes_are_local && !op.journal_is_local);
        let sup = plant(ProtocolLevel::Level1, &ALL, Some(("sam", Role::Supervisor)));
        assert_eq!(sup.shelve_limit_minutes, 480);
        assert!(sup.unshelve_others.is_allowed());
    }

    #[test]
    fn a_level0_server_gets_this_desks_own_shelving_notes_and_journal() {
        let d = plant(ProtocolLevel::Level0, &[], None);
        assert_eq!(d.name, None);
        assert!(d.command.is_allowed() && d.shelve.is_allowed() && d.note.is_allowed());
        assert!(
            !d.acknowledge.is_allowed(),
            "level 0 takes no acknowledgements"
        );
        assert!(d.shelving_is_local && d.notes_are_local && d.journal_is_local);
        assert_eq!(d.signature(), "this desk");
    }
}
