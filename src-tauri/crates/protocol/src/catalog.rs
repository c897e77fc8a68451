use crate::client::Action;
use crate::ids::EndpointId;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// One point of the plant as the catalog in a level-1 `snapshot` describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct Endpoint {
    pub id: EndpointId,
    pub name: String,
    /// The part of the plant it belongs to, for grouping ("Hot liquor tank").
    pub area: String,
    pub kind: EndpointKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default)]
    pub writable: bool,
    /// Equipment whose commands an operator must confirm (heaters, transfer pumps).
    #[serde(default)]
    pub critical: bool,
    /// The actions a command may carry for this endpoint; empty when not writable.
    #[serde(default)]
    pub actions: Vec<Action>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<Limits>,
}

/// What an endpoint is, so the UI can draw the right control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum EndpointKind {
    Temperature,
    Level,
    Pressure,
    Pump,
    Valve,
    Heater,
    Switch,
    Setpoint,
    #[serde(other)]
    Other,
}

/// The range a value may take (`min`/`max`: commands outside are refused) and the thresholds
/// past which it is abnormal (`low`/`high`: drawn as out of limits).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct Limits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<f64>,
}
