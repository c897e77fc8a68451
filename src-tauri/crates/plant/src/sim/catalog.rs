//! The catalog: every endpoint the brewery exposes, in a stable order (ids 1..=N), and for each
//! the part of the plant it stands for.

use super::plant::{Heated, Line, Point, TankId};
use brewdeck_protocol::{Action, Endpoint, EndpointId, EndpointKind, Id, Limits};

pub(super) const HLT: &str = "Hot liquor tank";
pub(super) const MASH: &str = "Mash tun";
pub(super) const KETTLE: &str = "Boil kettle";
pub(super) const FERMENTERS: &str = "Fermenters";
pub(super) const CHILLER: &str = "Glycol chiller";

/// Alarm thresholds shown in the catalog (`limits.high`/`low`) and used by the alarms, so the
/// UI colours a value exactly when the alarm would fire.
pub(super) const HLT_TEMP_HIGH: f64 = 185.0;
pub(super) const LEVEL_LOW: f64 = 10.0;
pub(super) const GLYCOL_TEMP_HIGH: f64 = 40.0;

#[derive(Debug, Clone)]
pub(super) struct Catalog {
    pub endpoints: Vec<Endpoint>,
    pub points: Vec<Point>,
}

impl Catalog {
    pub fn build(fermenters: usize) -> Catalog {
        let mut c = Catalog {
            endpoints: Vec::new(),
            points: Vec::new(),
        };
        let high = |x: f64| Limits {
            high: Some(x),
            ..Limits::default()
        };
        let low = |x: f64| Limits {
            low: Some(x),
            ..Limits::default()
        };

        c.sensor(
            Point::TankTemp(TankId::Hlt),
            "HLT temperature",
            HLT,
            Some(high(HLT_TEMP_HIGH)),
        );
        c.sensor(
            Point::TankLevel(TankId::Hlt),
            "HLT level",
            HLT,
            Some(low(LEVEL_LOW)),
        );
        c.heater(Heated::Hlt, "HLT heater", HLT);
        c.setpoint(
            Point::Setpoint(Heated::Hlt),
            "HLT setpoint",
            HLT,
            40.0,
            212.0,
        );
        c.valve(Point::FillValve, "HLT fill valve", HLT);

        let line = Line::HltToMash;
        c.pump(line, MASH);
        c.valve(
            Point::LineValve(line),
            &format!("{} valve", line.route()),
            MASH,
        );
        c.sensor(
            Point::TankTemp(TankId::Mash),
            "Mash tun temperature",
            MASH,
            None,
        );
        c.sensor(Point::TankLevel(TankId::Mash), "Mash tun level", MASH, None);

        let line = Line::MashToKettle;
        c.pump(line, KETTLE);
        c.valve(
            Point::LineValve(line),
            &format!("{} valve", line.route()),
            KETTLE,
        );
        c.sensor(
            Point::TankTemp(TankId::Kettle),
            "Kettle temperature",
            KETTLE,
            None,
        );
        c.sensor(
            Point::TankLevel(TankId::Kettle),
            "Kettle level",
            KETTLE,
            Some(low(LEVEL_LOW)),
        );
        c.heater(Heated::Kettle, "Kettle heater", KETTLE);
        c.setpoint(
            Point::Setpoint(Heated::Kettle),
            "Kettle setpoint",
            KETTLE,
            40.0,
            215.0,
        );

        for i in 0..fermenters {
            let n = i + 1;
            // No static `high`: the alarm follows the setpoint (setpoint + 5 °F).
            let name = format!("Fermenter {n} temperature");
            c.sensor(Point::FermenterTemp(i), &name, FERMENTERS, None);
            let name = format!("Fermenter {n} setpoint");
            c.setpoint(Point::FermenterSetpoint(i), &name, FERMENTERS, 28.0, 80.0);
            let name = format!("Fermenter {n} cooling valve");
            c.push(
                Point::CoolingValve(i),
                &name,
                FERMENTERS,
                EndpointKind::Valve,
                None,
                &[],
            );
        }

        let glycol_limits = Some(high(GLYCOL_TEMP_HIGH));
        c.sensor(
            Point::GlycolTemp,
            "Glycol temperature",
            CHILLER,
            glycol_limits,
        );
        let on_off = &[Action::On, Action::Off];
        c.push(
            Point::Compressor,
            "Chiller compressor",
            CHILLER,
            EndpointKind::Switch,
            None,
            on_off,
        );
        c.push(
            Point::GlycolPump,
            "Glycol pump",
            CHILLER,
            EndpointKind::Pump,
            None,
            on_off,
        );
        c.setpoint(
            Point::GlycolSetpoint,
            "Glycol setpoint",
            CHILLER,
            20.0,
            40.0,
        );
        c
    }

    /// The position of an endpoint: our ids are the numbers 1..=N in catalog order.
    pub fn index(&self, id: &EndpointId) -> Option<usize> {
        match id.0 {
            Id::Number(n) if n >= 1 => {
                let i = usize::try_from(n - 1).ok()?;
                (i < self.endpoints.len()).then_some(i)
            }
            _ => None,
        }
    }

    pub fn endpoint_of(&self, point: Point) -> Option<&Endpoint> {
        let i = self.points.iter().position(|p| *p == point)?;
        self.endpoints.get(i)
    }

    fn push(
        &mut self,
        point: Point,
        name: &str,
        area: &str,
        kind: EndpointKind,
        limits: Option<Limits>,
        actions: &[Action],
    ) -> &mut Endpoint {
        let id = EndpointId::from(self.endpoints.len() as u64 + 1);
        let unit = match kind {
            EndpointKind::Temperature | EndpointKind::Setpoint => Some("°F".to_owned()),
            EndpointKind::Level => Some("%".to_owned()),
            _ => None,
        };
        self.points.push(point);
        self.endpoints.push(Endpoint {
            id,
            name: name.to_owned(),
            area: area.to_owned(),
            kind,
            unit,
            writable: !actions.is_empty(),
            critical: false,
            actions: actions.to_vec(),
            limits,
        });
        let last = self.endpoints.len() - 1;
        &mut self.endpoints[last]
    }

    fn sensor(&mut self, point: Point, name: &str, area: &str, limits: Option<Limits>) {
        let kind = if point.is_level() {
            EndpointKind::Level
        } else {
            EndpointKind::Temperature
        };
        self.push(point, name, area, kind, limits, &[]);
    }

    fn heater(&mut self, h: Heated, name: &str, area: &str) {
        let actions = &[Action::On, Action::Off];
        let e = self.push(
            Point::Heater(h),
            name,
            area,
            EndpointKind::Heater,
            None,
            actions,
        );
        e.critical = true;
    }

    fn pump(&mut self, line: Line, area: &str) {
        let name = format!("{} pump", line.route());
        let actions = &[Action::On, Action::Off];
        let e = self.push(
            Point::Pump(line),
            &name,
            area,
            EndpointKind::Pump,
            None,
            actions,
        );
        e.critical = true;
    }

    fn valve(&mut self, point: Point, name: &str, area: &str) {
        let actions = &[Action::Open, Action::Close];
        self.push(point, name, area, EndpointKind::Valve, None, actions);
    }

    fn setpoint(&mut self, point: Point, name: &str, area: &str, min: f64, max: f64) {
        let limits = Limits {
            min: Some(min),
            max: Some(max),
            ..Limits::default()
        };
        let kind = EndpointKind::Setpoint;
        self.push(point, name, area, kind, Some(limits), &[Action::Set]);
    }
}
