//! What the webview may know of the app beside the plant: never the token itself.

use crate::settings::Settings;
use crate::vault::TokenPresence;
use brewdeck_link::PlantSnapshot;
use serde::Serialize;
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeskStatus {
    /// Connected to the embedded demo plant, not a real one.
    pub demo: bool,
    /// The server this run talks to.
    pub server: String,
    /// `--server` chose the server for this run; the saved settings are unchanged.
    pub server_from_command_line: bool,
    pub token: TokenPresence,
    pub settings: Settings,
    /// The settings file was unreadable and defaults are in use: why.
    pub settings_problem: Option<String>,
    /// A reading older than this is stale (as the link judges it).
    #[ts(type = "number")]
    pub stale_after_ms: u64,
    pub version: String,
}

/// Everything the webview needs to draw itself from nothing (at start, after a reload).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeskSnapshot {
    pub plant: PlantSnapshot,
    pub desk: DeskStatus,
    /// Who this desk is on the plant and what it offers (from `plant`).
    pub operator: crate::operator::DeskOperator,
}

/// What a check for updates found.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct UpdateCheck {
    /// The version running now.
    pub current: String,
    /// A newer, signed version, if the release channel has one.
    pub available: Option<AvailableUpdate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AvailableUpdate {
    pub version: String,
    pub notes: Option<String>,
    pub date: Option<String>,
}
