//! The brewery's true state (no noise) and the names of its parts. Physics, interlocks and
//! alarms all read this; only measurements add noise on top of it.

use brewdeck_protocol::Value;

/// Room temperature the vessels lose heat to, °F.
pub(super) const AMBIENT_F: f64 = 68.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TankId {
    Hlt,
    Mash,
    Kettle,
}

impl TankId {
    /// As it starts a sentence or an endpoint name.
    pub fn title(self) -> &'static str {
        match self {
            TankId::Hlt => "HLT",
            TankId::Mash => "Mash tun",
            TankId::Kettle => "Kettle",
        }
    }

    /// As it reads inside a sentence.
    pub fn label(self) -> &'static str {
        match self {
            TankId::Hlt => "HLT",
            TankId::Mash => "mash tun",
            TankId::Kettle => "kettle",
        }
    }
}

/// The vessels with a heater.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Heated {
    Hlt,
    Kettle,
}

impl Heated {
    pub fn tank(self) -> TankId {
        match self {
            Heated::Hlt => TankId::Hlt,
            Heated::Kettle => TankId::Kettle,
        }
    }

    /// Below this level the element is not covered: it may not start, and a running one trips.
    pub fn min_level(self) -> f64 {
        match self {
            Heated::Hlt => 20.0,
            Heated::Kettle => 15.0,
        }
    }
}

/// The transfer lines, each a pump and a valve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Line {
    HltToMash,
    MashToKettle,
}

impl Line {
    pub fn source(self) -> TankId {
        match self {
            Line::HltToMash => TankId::Hlt,
            Line::MashToKettle => TankId::Mash,
        }
    }

    pub fn destination(self) -> TankId {
        match self {
            Line::HltToMash => TankId::Mash,
            Line::MashToKettle => TankId::Kettle,
        }
    }

    /// "HLT → mash tun", as the start of the pump's and the valve's names.
    pub fn route(self) -> String {
        format!("{} → {}", self.source().title(), self.destination().label())
    }

    /// A running pump trips when its source falls below this level (it would run dry).
    pub const TRIP_LEVEL: f64 = 0.5;
    /// A pump may start only above this level; the dry-run alarm clears at it too, so the
    /// alarm is active exactly while the pump cannot be restarted.
    pub const START_LEVEL: f64 = 5.0;
}

/// What an endpoint stands for in the plant. Fermenters are numbered from 0 here, from 1 in
/// names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Point {
    TankTemp(TankId),
    TankLevel(TankId),
    Heater(Heated),
    Setpoint(Heated),
    FillValve,
    Pump(Line),
    LineValve(Line),
    FermenterTemp(usize),
    FermenterSetpoint(usize),
    /// Read-only `Bool`, true = open: the fermenter's controller drives it.
    CoolingValve(usize),
    GlycolTemp,
    Compressor,
    GlycolPump,
    GlycolSetpoint,
}

impl Point {
    /// Noise amplitude of a measured analog value; `None` for equipment and setpoints, which
    /// read back exactly what they are.
    pub fn noise(self) -> Option<f64> {
        match self {
            Point::TankTemp(_) | Point::FermenterTemp(_) | Point::GlycolTemp => Some(0.08),
            Point::TankLevel(_) => Some(0.05),
            _ => None,
        }
    }

    pub fn is_level(self) -> bool {
        matches!(self, Point::TankLevel(_))
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Tank {
    /// °F.
    pub temp: f64,
    /// % of capacity, 0..=100.
    pub level: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Heater {
    pub on: bool,
    pub setpoint: f64,
    /// Tripped on low level and not yet reset by the level coming back.
    pub tripped: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Transfer {
    pub pump: bool,
    pub valve: bool,
    /// Tripped on an empty source and not yet reset by the source refilling.
    pub dry_run: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Fermenter {
    pub temp: f64,
    pub setpoint: f64,
    /// Driven by the fermenter's own controller, not by commands.
    pub valve_open: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Chiller {
    pub temp: f64,
    pub setpoint: f64,
    pub compressor: bool,
    pub pump: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Plant {
    pub hlt: Tank,
    pub hlt_heater: Heater,
    pub hlt_fill: bool,
    pub hlt_to_mash: Transfer,
    pub mash: Tank,
    pub mash_to_kettle: Transfer,
    pub kettle: Tank,
    pub kettle_heater: Heater,
    pub fermenters: Vec<Fermenter>,
    pub glycol: Chiller,
}

/// What a validated command does: switch something on/open (true) or off/closed, or set a number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Change {
    Switch(bool),
    Set(f64),
}

impl Plant {
    /// Mid-brew: HLT heating strike water, a mash resting, the kettle coming to the boil,
    /// fermenters holding their setpoints on a running chiller. No alarm is true here.
    pub fn new(fermenters: usize) -> Plant {
        const SETPOINTS: [f64; 8] = [65.0, 66.0, 64.0, 68.0, 62.0, 67.0, 65.0, 63.0];
        const OFFSETS: [f64; 8] = [0.2, -0.3, 0.1, 0.4, -0.2, 0.0, 0.3, -0.1];
        let idle = Transfer {
            pump: false,
            valve: false,
            dry_run: false,
        };
        Plant {
            hlt: Tank {
                temp: 150.0,
                level: 60.0,
            },
            hlt_heater: Heater {
                on: true,
                setpoint: 168.0,
                tripped: false,
            },
            hlt_fill: false,
            hlt_to_mash: idle,
            mash: Tank {
                temp: 152.0,
                level: 30.0,
            },
            mash_to_kettle: idle,
            kettle: Tank {
                temp: 185.0,
                level: 40.0,
            },
            kettle_heater: Heater {
                on: true,
                setpoint: 212.0,
                tripped: false,
            },
            fermenters: (0..fermenters)
                .map(|i| Fermenter {
                    temp: SETPOINTS[i % 8] + OFFSETS[i % 8],
                    setpoint: SETPOINTS[i % 8],
                    valve_open: false,
                })
                .collect(),
            glycol: Chiller {
                temp: 28.0,
                setpoint: 28.0,
                compressor: true,
                pump: true,
            },
        }
    }

    pub fn tank(&self, id: TankId) -> &Tank {
        match id {
            TankId::Hlt => &self.hlt,
            TankId::Mash => &self.mash,
            TankId::Kettle => &self.kettle,
        }
    }

    pub fn tank_mut(&mut self, id: TankId) -> &mut Tank {
        match id {
            TankId::Hlt => &mut self.hlt,
            TankId::Mash => &mut self.mash,
            TankId::Kettle => &mut self.kettle,
        }
    }

    pub fn heater(&self, h: Heated) -> &Heater {
        match h {
            Heated::Hlt => &self.hlt_heater,
            Heated::Kettle => &self.kettle_heater,
        }
    }

    pub fn heater_mut(&mut self, h: Heated) -> &mut Heater {
        match h {
            Heated::Hlt => &mut self.hlt_heater,
            Heated::Kettle => &mut self.kettle_heater,
        }
    }

    pub fn line(&self, line: Line) -> &Transfer {
        match line {
            Line::HltToMash => &self.hlt_to_mash,
            Line::MashToKettle => &self.mash_to_kettle,
        }
    }

    pub fn line_mut(&mut self, line: Line) -> &mut Transfer {
        match line {
            Line::HltToMash => &mut self.hlt_to_mash,
            Line::MashToKettle => &mut self.mash_to_kettle,
        }
    }

    /// The true value of a point: equipment as `Bool` (on/open = true), the rest as `Number`.
    /// A fermenter index out of range (cannot happen: the catalog is built from the same
    /// count) reads as 0 / false rather than panicking.
    pub fn read(&self, point: Point) -> Value {
        let fermenter = |i: usize| self.fermenters.get(i).copied();
        match point {
            Point::TankTemp(t) => Value::Number(self.tank(t).temp),
            Point::TankLevel(t) => Value::Number(self.tank(t).level),
            Point::Heater(h) => Value::Bool(self.heater(h).on),
            Point::Setpoint(h) => Value::Number(self.heater(h).setpoint),
            Point::FillValve => Value::Bool(self.hlt_fill),
            Point::Pump(l) => Value::Bool(self.line(l).pump),
            Point::LineValve(l) => Value::Bool(self.line(l).valve),
            Point::FermenterTemp(i) => Value::Number(fermenter(i).map_or(0.0, |f| f.temp)),
            Point::FermenterSetpoint(i) => Value::Number(fermenter(i).map_or(0.0, |f| f.setpoint)),
            Point::CoolingValve(i) => Value::Bool(fermenter(i).is_some_and(|f| f.valve_open)),
            Point::GlycolTemp => Value::Number(self.glycol.temp),
            Point::Compressor => Value::Bool(self.glycol.compressor),
            Point::GlycolPump => Value::Bool(self.glycol.pump),
            Point::GlycolSetpoint => Value::Number(self.glycol.setpoint),
        }
    }

    /// Carries out a validated, interlock-checked change. `None` when the point takes no such
    /// change (validation against the catalog's actions prevents that).
    pub fn command(&mut self, point: Point, change: Change) -> Option<Value> {
        match (point, change) {
            (Point::Heater(h), Change::Switch(on)) => self.heater_mut(h).on = on,
            (Point::Setpoint(h), Change::Set(x)) => self.heater_mut(h).setpoint = x,
            (Point::FillValve, Change::Switch(open)) => self.hlt_fill = open,
            (Point::Pump(l), Change::Switch(on)) => self.line_mut(l).pump = on,
            (Point::LineValve(l), Change::Switch(open)) => self.line_mut(l).valve = open,
            (Point::FermenterSetpoint(i), Change::Set(x)) => {
                self.fermenters.get_mut(i)?.setpoint = x
            }
            (Point::Compressor, Change::Switch(on)) => self.glycol.compressor = on,
            (Point::GlycolPump, Change::Switch(on)) => self.glycol.pump = on,
            (Point::GlycolSetpoint, Change::Set(x)) => self.glycol.setpoint = x,
            _ => return None,
        }
        Some(self.read(point))
    }
}
