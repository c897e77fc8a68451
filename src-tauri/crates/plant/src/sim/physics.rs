//! How the brewery moves with time. Rates are brisk on purpose (a demo should look alive
//! within seconds) but keep their real-world direction and shape.

use super::plant::{Fermenter, Heated, Line, Plant, Tank, AMBIENT_F};

/// Integration step: a long `dt` is cut into steps this long so trips happen at the level
/// they should, whatever the caller's tick.
const SUBSTEP_S: f64 = 0.1;
/// A longer `dt` than this is treated as this: one call cannot stall the caller.
pub(super) const MAX_DT_S: f64 = 3600.0;

/// Water boils here at sea level: a kettle never gets hotter, whatever its setpoint.
pub(super) const BOIL_F: f64 = 212.0;
/// °F/s an element adds while below its setpoint.
const HEAT_RATE: f64 = 1.5;
/// Time constants (s) of heat loss to the room: the hot tanks cool visibly once their heater
/// is off; the insulated mash tun drifts down a fraction of a degree a minute.
const VESSEL_TAU: f64 = 900.0;
const MASH_TAU: f64 = 14_400.0;
/// %/s boiled off at a rolling boil.
const EVAPORATION: f64 = 0.01;
/// %/s through the HLT fill valve, of mains water at this temperature.
const FILL_RATE: f64 = 1.5;
const MAINS_F: f64 = 55.0;
/// %/s a transfer pump moves.
const TRANSFER_RATE: f64 = 3.0;

/// °F/s a fermenting beer warms by itself (yeast heat).
const FERMENT_HEAT: f64 = 0.04;
const FERMENTER_TAU: f64 = 3600.0;
/// 1/s: how fast an open cooling jacket pulls the beer toward the glycol temperature.
const JACKET_K: f64 = 0.01;
/// °F either side of the setpoint before the cooling valve moves (no chattering).
pub(super) const DEADBAND: f64 = 0.5;
/// 1/s: how much an open jacket warms the glycol, per °F between beer and glycol.
const GLYCOL_LOAD_K: f64 = 0.001;
/// °F/s the compressor removes while the glycol is above its setpoint.
const CHILL_RATE: f64 = 0.5;
const GLYCOL_TAU: f64 = 900.0;

impl Plant {
    /// Advances the plant by `seconds` of simulated time.
    pub fn advance(&mut self, seconds: f64) {
        let mut left = seconds.clamp(0.0, MAX_DT_S);
        while left > 0.0 {
            let h = left.min(SUBSTEP_S);
            self.substep(h);
            left -= h;
        }
    }

    fn substep(&mut self, h: f64) {
        if self.hlt_fill {
            pour(&mut self.hlt, FILL_RATE * h, MAINS_F);
        }
        for line in [Line::HltToMash, Line::MashToKettle] {
            self.transfer(line, h);
        }
        self.trip();
        heat(
            &mut self.hlt,
            self.hlt_heater.on,
            self.hlt_heater.setpoint,
            h,
        );
        heat(
            &mut self.kettle,
            self.kettle_heater.on,
            self.kettle_heater.setpoint,
            h,
        );
        self.mash.temp += (AMBIENT_F - self.mash.temp) * h / MASH_TAU;
        let k = self.kettle_heater;
        // A rolling boil (asked for by a setpoint at or above boiling) boils the wort off.
        if k.on && k.setpoint >= BOIL_F && self.kettle.temp >= BOIL_F - 0.05 {
            self.kettle.level = (self.kettle.level - EVAPORATION * h).max(0.0);
        }
        self.ferment(h);
        self.reset_trips();
    }

    fn transfer(&mut self, line: Line, h: f64) {
        let t = *self.line(line);
        if !(t.pump && t.valve) {
            return;
        }
        let (from, to) = (line.source(), line.destination());
        let source = *self.tank(from);
        let room = 100.0 - self.tank(to).level;
        let moved = (TRANSFER_RATE * h).min(source.level).min(room).max(0.0);
        if moved > 0.0 {
            self.tank_mut(from).level = source.level - moved;
            pour(self.tank_mut(to), moved, source.temp);
        }
    }

    /// Protections that act by themselves: a heater whose element is no longer covered, a pump
    /// whose source is empty.
    fn trip(&mut self) {
        for h in [Heated::Hlt, Heated::Kettle] {
            let level = self.tank(h.tank()).level;
            let heater = self.heater_mut(h);
            if heater.on && level < h.min_level() {
                heater.on = false;
                heater.tripped = true;
            }
        }
        for line in [Line::HltToMash, Line::MashToKettle] {
            let level = self.tank(line.source()).level;
            let t = self.line_mut(line);
            if t.pump && level < Line::TRIP_LEVEL {
                t.pump = false;
                t.dry_run = true;
            }
        }
    }

    /// A trip latches until its cause is gone: the level is back where the equipment may
    /// start again.
    fn reset_trips(&mut self) {
        for h in [Heated::Hlt, Heated::Kettle] {
            if self.tank(h.tank()).level >= h.min_level() {
                self.heater_mut(h).tripped = false;
            }
        }
        for line in [Line::HltToMash, Line::MashToKettle] {
            if self.tank(line.source()).level >= Line::START_LEVEL {
                self.line_mut(line).dry_run = false;
            }
        }
    }

    fn ferment(&mut self, h: f64) {
        let glycol = self.glycol;
        let mut load = 0.0;
        for f in &mut self.fermenters {
            control(f, glycol.pump);
            f.temp += FERMENT_HEAT * h + (AMBIENT_F - f.temp) * h / FERMENTER_TAU;
            if f.valve_open {
                f.temp += (glycol.temp - f.temp) * JACKET_K * h;
                load += (f.temp - glycol.temp) * GLYCOL_LOAD_K * h;
            }
        }
        let g = &mut self.glycol;
        g.temp += (AMBIENT_F - g.temp) * h / GLYCOL_TAU + load;
        if g.compressor && g.temp > g.setpoint {
            g.temp = (g.temp - CHILL_RATE * h).max(g.setpoint);
        }
    }
}

/// The fermenter's own on/off controller with a deadband. Without glycol flow an open valve
/// would cool nothing, so it closes.
fn control(f: &mut Fermenter, glycol_flowing: bool) {
    if !glycol_flowing || f.temp < f.setpoint - DEADBAND {
        f.valve_open = false;
    } else if f.temp > f.setpoint + DEADBAND {
        f.valve_open = true;
    }
}

/// A heater on holds its tank at the setpoint (capped at boiling); otherwise the tank loses
/// heat to the room.
fn heat(tank: &mut Tank, on: bool, setpoint: f64, h: f64) {
    let target = setpoint.min(BOIL_F);
    if on && tank.temp < target {
        tank.temp = (tank.temp + HEAT_RATE * h).min(target);
    } else {
        tank.temp += (AMBIENT_F - tank.temp) * h / VESSEL_TAU;
    }
}

/// Adds `amount` % of liquid at `temp` to a tank, mixing the temperatures by volume.
fn pour(tank: &mut Tank, amount: f64, temp: f64) {
    let amount = amount.min(100.0 - tank.level).max(0.0);
    let total = tank.level + amount;
    if total > 0.0 {
        tank.temp = (tank.temp * tank.level + temp * amount) / total;
    }
    tank.level = total;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pour_mixes_by_volume_and_never_overfills() {
        let mut t = Tank {
            temp: 100.0,
            level: 50.0,
        };
        pour(&mut t, 50.0, 200.0);
        assert_eq!(t.level, 100.0);
        assert!((t.temp - 150.0).abs() < 1e-9);
        pour(&mut t, 10.0, 0.0);
        assert_eq!((t.level, t.temp), (100.0, 150.0));
    }

    #[test]
    fn kettle_never_passes_boiling() {
        let mut p = Plant::new(1);
        p.kettle_heater.setpoint = 215.0;
        p.advance(120.0);
        assert!(p.kettle.temp <= BOIL_F, "{}", p.kettle.temp);
        assert!(p.kettle.temp > BOIL_F - 0.1, "{}", p.kettle.temp);
        assert!(p.kettle.level < 40.0, "boiling evaporates");
    }
}
