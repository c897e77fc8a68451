//! What the desktop around the window says: the window title, and the tray's menu, icon and
//! tooltip (the connection and the alarms). The app only puts them on screen.

use crate::bridge::AlarmTally;
use brewdeck_link::LinkState;

/// The tooltip before the link has said anything.
pub const TOOLTIP_STARTING: &str = "Brewdeck: starting";

/// The window's title: DEMO while on the simulated plant, so no one mistakes it for the real one.
pub fn window_title(demo: bool) -> &'static str {
    if demo {
        "Brewdeck — DEMO (simulated plant)"
    } else {
        "Brewdeck"
    }
}

/// The tray menu's items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayItem {
    Show,
    RetryNow,
    /// Stops the alarm sound without acknowledging anything.
    Silence,
    Quit,
}

impl TrayItem {
    /// In menu order.
    pub const ALL: [TrayItem; 4] = [
        TrayItem::Show,
        TrayItem::RetryNow,
        TrayItem::Silence,
        TrayItem::Quit,
    ];

    /// The menu item's id (what a click reports).
    pub fn id(self) -> &'static str {
        match self {
            TrayItem::Show => "show",
            TrayItem::RetryNow => "retry",
            TrayItem::Silence => "silence",
            TrayItem::Quit => "quit",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            TrayItem::Show => "Show Brewdeck",
            TrayItem::RetryNow => "Retry now",
            TrayItem::Silence => "Silence alarms",
            TrayItem::Quit => "Quit",
        }
    }

    /// The item a click's id names.
    pub fn from_id(id: &str) -> Option<TrayItem> {
        TrayItem::ALL.into_iter().find(|item| item.id() == id)
    }
}

/// The tray icon's look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayIcon {
    Normal,
    /// Red: a critical alarm is unacknowledged (whatever the connection).
    Alarm,
    /// Grey: not connected.
    Offline,
}

/// The icon for this connection and these alarms.
pub fn tray_icon(link: &LinkState, alarms: AlarmTally) -> TrayIcon {
    if alarms.unacknowledged_critical > 0 {
        TrayIcon::Alarm
    } else if link.is_connected() {
        TrayIcon::Normal
    } else {
        TrayIcon::Offline
    }
}

/// The tooltip: the connection, then the open alarms.
pub fn tray_tooltip(link: &LinkState, alarms: AlarmTally) -> String {
    let connection = match link {
        LinkState::Connected { .. } => "connected".to_owned(),
        LinkState::Reconnecting { attempt, .. } => format!("reconnecting (attempt {attempt})"),
        LinkState::Unauthorized { .. } => "token rejected".to_owned(),
        LinkState::Failed { reason } => format!("failed: {reason}"),
        other => other.name().to_owned(),
    };
    let alarm_text = match (alarms.unacknowledged_critical, alarms.open) {
        (0, 0) => "no alarms".to_owned(),
        (0, open) => format!("{open} open alarm(s)"),
        (critical, open) => format!("{critical} CRITICAL unacknowledged, {open} open"),
    };
    format!("Brewdeck: {connection}; {alarm_text}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use brewdeck_link::ProtocolLevel;
    use brewdeck_protocol::Timestamp;

    fn connected() -> LinkState {
        LinkState::Connected {
            level: ProtocolLevel::Level1,
            plant: None,
            since: Timestamp::now(),
        }
    }

    fn tally(open: usize, unacknowledged_critical: usize) -> AlarmTally {
        AlarmTally {
            open,
            unacknowledged_critical,
        }
    }

    #[test]
    fn the_title_says_demo_on_the_demo_plant() {
        assert_eq!(window_title(false), "Brewdeck");
        assert!(window_title(true).contains("DEMO"));
    }

    #[test]
    fn every_tray_item_is_found_by_its_id() {
        for item in TrayItem::ALL {
            assert_eq!(TrayItem::from_id(item.id()), Some(item));
        }
        assert_eq!(TrayItem::from_id("nothing"), None);
        let labels: Vec<_> = TrayItem::ALL.iter().map(|i| i.label()).collect();
        assert_eq!(
            labels,
            ["Show Brewdeck", "Retry now", "Silence alarms", "Quit"]
        );
    }

    #[test]
    fn the_icon_is_red_for_an_unacknowledged_critical_alarm_and_grey_offline() {
        assert_eq!(tray_icon(&connected(), tally(2, 0)), TrayIcon::Normal);
        assert_eq!(tray_icon(&connected(), tally(2, 1)), TrayIcon::Alarm);
        assert_eq!(tray_icon(&LinkState::Idle, tally(0, 0)), TrayIcon::Offline);
        assert_eq!(tray_icon(&LinkState::Idle, tally(1, 1)), TrayIcon::Alarm);
    }

    #[test]
    fn the_tooltip_says_the_connection_and_the_alarms() {
        assert_eq!(
            tray_tooltip(&connected(), tally(0, 0)),
            "Brewdeck: connected; no alarms"
        );
        let reconnecting = LinkState::Reconnecting {
            attempt: 3,
            retry_at: Timestamp::now(),
            retry_in_ms: 1000,
            last_error: "refused".to_owned(),
        };
        assert_eq!(
            tray_tooltip(&reconnecting, tally(2, 0)),
            "Brewdeck: reconnecting (attempt 3); 2 open alarm(s)"
        );
        let rejected = LinkState::Unauthorized {
            reason: "bad token".to_owned(),
        };
        assert_eq!(
            tray_tooltip(&rejected, tally(3, 1)),
            "Brewdeck: token rejected; 1 CRITICAL unacknowledged, 3 open"
        );
        let failed = LinkState::Failed {
            reason: "bad URL".to_owned(),
        };
        assert_eq!(
            tray_tooltip(&failed, tally(0, 0)),
            "Brewdeck: failed: bad URL; no alarms"
        );
        assert_eq!(
            tray_tooltip(&LinkState::Connecting { attempt: 0 }, tally(0, 0)),
            "Brewdeck: connecting; no alarms"
        );
    }
}
