//! Alarm conditions: each a stable key, a severity and a test with hysteresis, so a value
//! hovering at a threshold raises once and clears once.

use super::catalog::{Catalog, GLYCOL_TEMP_HIGH, HLT_TEMP_HIGH, LEVEL_LOW};
use super::plant::{Heated, Line, Plant, Point, TankId};
use brewdeck_protocol::{EndpointId, Severity};

/// How far back past a threshold a value must come before its alarm clears.
const TEMP_BAND: f64 = 1.0;
const LEVEL_BAND: f64 = 2.0;
/// A fermenter alarms this far above its setpoint.
pub(super) const FERMENTER_OVER: f64 = 5.0;

#[derive(Debug, Clone, Copy)]
enum Kind {
    HltTempHigh,
    LevelLow(TankId),
    HeaterTripped(Heated),
    DryRun(Line),
    FermenterTempHigh(usize),
    GlycolTempHigh,
}

#[derive(Debug, Clone)]
pub(super) struct Condition {
    pub key: String,
    pub severity: Severity,
    pub endpoint: Option<EndpointId>,
    /// The name of the endpoint, for the message.
    name: String,
    kind: Kind,
}

/// Every condition of a brewery, in a fixed order (the order of the events of one step).
pub(super) fn conditions(catalog: &Catalog, fermenters: usize) -> Vec<Condition> {
    let condition = |key: String, severity, point, kind| {
        let e = catalog.endpoint_of(point);
        let endpoint = e.map(|e| e.id.clone());
        let name = e.map(|e| e.name.clone()).unwrap_or_default();
        Condition {
            key,
            severity,
            endpoint,
            name,
            kind,
        }
    };
    let mut all = vec![
        condition(
            "hlt.temp.high".to_owned(),
            Severity::High,
            Point::TankTemp(TankId::Hlt),
            Kind::HltTempHigh,
        ),
        condition(
            "hlt.level.low".to_owned(),
            Severity::Medium,
            Point::TankLevel(TankId::Hlt),
            Kind::LevelLow(TankId::Hlt),
        ),
        condition(
            "hlt.heater.tripped".to_owned(),
            Severity::Critical,
            Point::Heater(Heated::Hlt),
            Kind::HeaterTripped(Heated::Hlt),
        ),
        condition(
            "kettle.level.low".to_owned(),
            Severity::Medium,
            Point::TankLevel(TankId::Kettle),
            Kind::LevelLow(TankId::Kettle),
        ),
        condition(
            "kettle.heater.tripped".to_owned(),
            Severity::Critical,
            Point::Heater(Heated::Kettle),
            Kind::HeaterTripped(Heated::Kettle),
        ),
        condition(
            "transfer.hlt_mash.dry_run".to_owned(),
            Severity::Critical,
            Point::Pump(Line::HltToMash),
            Kind::DryRun(Line::HltToMash),
        ),
        condition(
            "transfer.mash_kettle.dry_run".to_owned(),
            Severity::Critical,
            Point::Pump(Line::MashToKettle),
            Kind::DryRun(Line::MashToKettle),
        ),
    ];
    for i in 0..fermenters {
        all.push(condition(
            format!("fermenter.{}.temp.high", i + 1),
            Severity::High,
            Point::FermenterTemp(i),
            Kind::FermenterTempHigh(i),
        ));
    }
    all.push(condition(
        "glycol.temp.high".to_owned(),
        Severity::High,
        Point::GlycolTemp,
        Kind::GlycolTempHigh,
    ));
    all
}

impl Condition {
    /// Whether the condition holds now, given whether it held before (the hysteresis).
    pub fn holds(&self, plant: &Plant, was: bool) -> bool {
        match self.kind {
            Kind::HltTempHigh => above(plant.hlt.temp, HLT_TEMP_HIGH, TEMP_BAND, was),
            Kind::LevelLow(t) => below(plant.tank(t).level, LEVEL_LOW, LEVEL_BAND, was),
            // Trips latch in the plant itself until their cause is gone.
            Kind::HeaterTripped(h) => plant.heater(h).tripped,
            Kind::DryRun(l) => plant.line(l).dry_run,
            Kind::FermenterTempHigh(i) => plant
                .fermenters
                .get(i)
                .is_some_and(|f| above(f.temp, f.setpoint + FERMENTER_OVER, TEMP_BAND, was)),
            Kind::GlycolTempHigh => above(plant.glycol.temp, GLYCOL_TEMP_HIGH, TEMP_BAND, was),
        }
    }

    /// What the operator reads when it is raised.
    pub fn message(&self, plant: &Plant) -> String {
        let name = &self.name;
        match self.kind {
            Kind::HltTempHigh => {
                format!(
                    "{name} {:.1} °F above {HLT_TEMP_HIGH:.0} °F",
                    plant.hlt.temp
                )
            }
            Kind::LevelLow(t) => {
                format!("{name} {:.1} % below {LEVEL_LOW:.0} %", plant.tank(t).level)
            }
            Kind::HeaterTripped(h) => format!(
                "{name} tripped: {} level {:.1} % below its {:.0} % minimum",
                h.tank().label(),
                plant.tank(h.tank()).level,
                h.min_level()
            ),
            Kind::DryRun(l) => format!(
                "{name} tripped on dry run: {} empty ({:.1} %)",
                l.source().label(),
                plant.tank(l.source()).level
            ),
            Kind::FermenterTempHigh(i) => {
                let (temp, setpoint) = plant
                    .fermenters
                    .get(i)
                    .map_or((0.0, 0.0), |f| (f.temp, f.setpoint));
                format!(
                    "Fermenter {} temperature {temp:.1} °F above setpoint {setpoint:.1} °F",
                    i + 1
                )
            }
            Kind::GlycolTempHigh => format!(
                "{name} {:.1} °F above {GLYCOL_TEMP_HIGH:.0} °F",
                plant.glycol.temp
            ),
        }
    }
}

/// Raised above `threshold`, cleared only once back below `threshold - band`.
pub(super) fn above(x: f64, threshold: f64, band: f64, was: bool) -> bool {
    if was {
        x > threshold - band
    } else {
        x > threshold
    }
}

/// Raised below `threshold`, cleared only once back above `threshold + band`.
pub(super) fn below(x: f64, threshold: f64, band: f64, was: bool) -> bool {
    if was {
        x < threshold + band
    } else {
        x < threshold
    }
}
