//! Whether a command may run: first plain validation against the catalog (what the endpoint
//! accepts), then the interlocks (what the plant's state allows right now).

use super::plant::{Change, Line, Plant, Point};
use super::{round2, Refusal};
use brewdeck_protocol::{Action, Endpoint, Value};

/// Checks a command against the endpoint's catalog entry and turns it into a `Change`.
pub(super) fn validate(
    endpoint: &Endpoint,
    action: Action,
    value: Option<&Value>,
) -> Result<Change, Refusal> {
    let name = &endpoint.name;
    if !endpoint.writable {
        return Err(Refusal::invalid(format!("{name} is read-only")));
    }
    if !endpoint.actions.contains(&action) {
        let accepted: Vec<&str> = endpoint.actions.iter().map(|a| a.as_str()).collect();
        return Err(Refusal::invalid(format!(
            "{name} does not accept '{}' (accepts: {})",
            action.as_str(),
            accepted.join(", ")
        )));
    }
    match action {
        Action::Set => {
            let x = value
                .and_then(Value::as_f64)
                .filter(|x| x.is_finite())
                .ok_or_else(|| Refusal::invalid("set needs a numeric value".to_owned()))?;
            let limits = endpoint.limits.unwrap_or_default();
            let min = limits.min.unwrap_or(f64::NEG_INFINITY);
            let max = limits.max.unwrap_or(f64::INFINITY);
            if x < min || x > max {
                let unit = endpoint.unit.as_deref().unwrap_or("");
                return Err(Refusal::invalid(format!(
                    "{name} {x} {unit} is outside its limits {min}–{max} {unit}"
                )));
            }
            Ok(Change::Set(round2(x)))
        }
        Action::On | Action::Open => Ok(Change::Switch(true)),
        Action::Off | Action::Close => Ok(Change::Switch(false)),
    }
}

/// The interlocks, checked against the plant as it is now. Stopping and opening are always
/// allowed: only starting something or closing a line can make the plant unsafe.
pub(super) fn interlock(
    plant: &Plant,
    endpoint: &Endpoint,
    point: Point,
    change: Change,
) -> Result<(), Refusal> {
    let name = &endpoint.name;
    match (point, change) {
        (Point::Heater(h), Change::Switch(true)) => {
            let tank = h.tank();
            let level = plant.tank(tank).level;
            if level < h.min_level() {
                return Err(Refusal::interlock(format!(
                    "interlock: {name} requires {} level ≥ {} % (now {level:.1} %)",
                    tank.label(),
                    h.min_level(),
                )));
            }
        }
        (Point::Pump(line), Change::Switch(true)) => {
            if !plant.line(line).valve {
                return Err(Refusal::interlock(format!(
                    "interlock: {name} requires its valve open"
                )));
            }
            let source = line.source();
            let level = plant.tank(source).level;
            if level < Line::START_LEVEL {
                return Err(Refusal::interlock(format!(
                    "interlock: {name} requires {} level ≥ {} % (dry-run protection; now \
                     {level:.1} %)",
                    source.label(),
                    Line::START_LEVEL,
                )));
            }
        }
        (Point::LineValve(line), Change::Switch(false)) if plant.line(line).pump => {
            return Err(Refusal::interlock(format!(
                "interlock: {name} cannot close while its pump runs"
            )));
        }
        _ => {}
    }
    Ok(())
}
