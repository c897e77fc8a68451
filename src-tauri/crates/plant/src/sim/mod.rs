//! A deterministic simulated brewery: hot liquor tank, mash tun, boil kettle, fermenters and a
//! glycol chiller, with interlocks and alarm conditions.
//!
//! Pure logic: no I/O, no clock, no threads. Time advances only through [`Brewery::step`], and
//! the only randomness (measurement noise) comes from a PRNG seeded by [`SimConfig::seed`], so
//! the same seed and the same calls give the same outputs.
//!
//! Values: temperatures in °F and levels in % as `Number` (rounded to 0.01, with noise);
//! setpoints as `Number`; equipment as `Bool`, on/open = true. A fermenter's cooling valve is a
//! read-only `Bool` (true = open) driven by the fermenter's own controller.
//!
//! ```
//! use brewdeck_plant::sim::{Brewery, SimConfig};
//! use std::time::Duration;
//! let mut brewery = Brewery::new(&SimConfig::default());
//! let events = brewery.step(Duration::from_millis(100));
//! assert!(!events.is_empty());
//! ```

mod alarms;
mod catalog;
mod interlocks;
mod physics;
mod plant;
mod rng;
#[cfg(test)]
mod tests;

use brewdeck_protocol::{Action, Endpoint, EndpointId, Severity, Value};
use catalog::Catalog;
use plant::{Plant, Point};
use rng::SplitMix64;
use std::fmt;
use std::time::Duration;

/// How to build a brewery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimConfig {
    /// Seeds the measurement noise.
    pub seed: u64,
    /// How many fermenters, 1..=8 (clamped).
    pub fermenters: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 1,
            fermenters: 4,
        }
    }
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub reason: String,
    /// True when an interlock refused it, false for plain validation.
    pub interlock: bool,
}

impl Refusal {
    fn invalid(reason: String) -> Self {
        Refusal {
            reason,
            interlock: false,
        }
    }

    fn interlock(reason: String) -> Self {
        Refusal {
            reason,
            interlock: true,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for Refusal {}

/// What one step produced.
#[derive(Debug, Clone, PartialEq)]
pub enum SimEvent {
    /// A value that changed (measured values change nearly every step: noise).
    Reading { endpoint: EndpointId, value: Value },
    /// An alarm condition that became true. `condition` is a stable key ("hlt.temp.high").
    AlarmRaised {
        condition: String,
        severity: Severity,
        message: String,
        endpoint: Option<EndpointId>,
    },
    /// An alarm condition that became false again.
    AlarmCleared { condition: String },
}

/// The simulated brewery.
pub struct Brewery {
    seed: u64,
    catalog: Catalog,
    plant: Plant,
    /// The latest value of every endpoint, in catalog order: what `value` answers.
    readings: Vec<Value>,
    conditions: Vec<alarms::Condition>,
    /// Whether each condition held at the end of the last step.
    active: Vec<bool>,
    rng: SplitMix64,
}

impl fmt::Debug for Brewery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Brewery")
            .field("seed", &self.seed)
            .field("endpoints", &self.catalog.endpoints.len())
            .field("plant", &self.plant)
            .field("active_alarms", &self.active.iter().filter(|a| **a).count())
            .finish_non_exhaustive()
    }
}

impl Brewery {
    pub fn new(config: &SimConfig) -> Brewery {
        let fermenters = config.fermenters.clamp(1, 8);
        let catalog = Catalog::build(fermenters);
        let plant = Plant::new(fermenters);
        let conditions = alarms::conditions(&catalog, fermenters);
        let mut rng = SplitMix64::new(config.seed);
        let readings = catalog
            .points
            .iter()
            .map(|p| measure(&plant, *p, &mut rng))
            .collect();
        Brewery {
            seed: config.seed,
            active: vec![false; conditions.len()],
            catalog,
            plant,
            readings,
            conditions,
            rng,
        }
    }

    /// Every endpoint, ids 1..=N in this order.
    pub fn catalog(&self) -> &[Endpoint] {
        &self.catalog.endpoints
    }

    pub fn value(&self, id: &EndpointId) -> Option<Value> {
        self.catalog.index(id).map(|i| self.readings[i].clone())
    }

    /// Every endpoint's latest value, in catalog order.
    pub fn values(&self) -> Vec<(EndpointId, Value)> {
        self.catalog
            .endpoints
            .iter()
            .zip(&self.readings)
            .map(|(e, v)| (e.id.clone(), v.clone()))
            .collect()
    }

    /// Validation when a command arrives: `Err` for an unknown endpoint, one that is not
    /// writable, an action it does not take, `set` without a numeric value or outside
    /// `limits.min`/`max`, or an interlock violated right now.
    pub fn check(
        &self,
        id: &EndpointId,
        action: Action,
        value: Option<&Value>,
    ) -> Result<(), Refusal> {
        self.admit(id, action, value).map(|_| ())
    }

    /// Execution: checks everything again (the plant may have moved since `check`), then
    /// changes the state. `Ok` carries the endpoint's value afterwards.
    pub fn apply(
        &mut self,
        id: &EndpointId,
        action: Action,
        value: Option<&Value>,
    ) -> Result<Value, Refusal> {
        let (i, change) = self.admit(id, action, value)?;
        let point = self.catalog.points[i];
        let Some(actual) = self.plant.command(point, change) else {
            return Err(Refusal::invalid(format!(
                "{} cannot be commanded",
                self.catalog.endpoints[i].name
            )));
        };
        // The caller publishes this value itself; the next step then sees no change to report.
        self.readings[i] = actual.clone();
        Ok(actual)
    }

    fn admit(
        &self,
        id: &EndpointId,
        action: Action,
        value: Option<&Value>,
    ) -> Result<(usize, plant::Change), Refusal> {
        let i = self
            .catalog
            .index(id)
            .ok_or_else(|| Refusal::invalid(format!("unknown endpoint {id}")))?;
        let endpoint = &self.catalog.endpoints[i];
        let change = interlocks::validate(endpoint, action, value)?;
        interlocks::interlock(&self.plant, endpoint, self.catalog.points[i], change)?;
        Ok((i, change))
    }

    /// Advances the physics by `dt` of simulated time (at most an hour per call). Returns
    /// every value that changed, in catalog order, then the alarm conditions that became true
    /// or false, in a fixed order.
    pub fn step(&mut self, dt: Duration) -> Vec<SimEvent> {
        self.plant.advance(dt.as_secs_f64());
        let mut events = Vec::new();
        for (i, point) in self.catalog.points.iter().enumerate() {
            let value = measure(&self.plant, *point, &mut self.rng);
            if value != self.readings[i] {
                events.push(SimEvent::Reading {
                    endpoint: self.catalog.endpoints[i].id.clone(),
                    value: value.clone(),
                });
                self.readings[i] = value;
            }
        }
        for (condition, active) in self.conditions.iter().zip(self.active.iter_mut()) {
            let now = condition.holds(&self.plant, *active);
            if now && !*active {
                events.push(SimEvent::AlarmRaised {
                    condition: condition.key.clone(),
                    severity: condition.severity,
                    message: condition.message(&self.plant),
                    endpoint: condition.endpoint.clone(),
                });
            } else if !now && *active {
                events.push(SimEvent::AlarmCleared {
                    condition: condition.key.clone(),
                });
            }
            *active = now;
        }
        events
    }
}

/// A point as an instrument reads it: analog values with noise, rounded to 0.01.
fn measure(plant: &Plant, point: Point, rng: &mut SplitMix64) -> Value {
    match (plant.read(point), point.noise()) {
        (Value::Number(x), Some(amplitude)) => {
            let mut x = x + rng.symmetric(amplitude);
            if point.is_level() {
                x = x.clamp(0.0, 100.0);
            }
            Value::Number(round2(x))
        }
        (Value::Number(x), None) => Value::Number(round2(x)),
        (other, _) => other,
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
