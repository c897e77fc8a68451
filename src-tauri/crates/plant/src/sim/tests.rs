use super::*;
use brewdeck_protocol::EndpointKind;

const TICK: Duration = Duration::from_millis(100);

fn brewery() -> Brewery {
    Brewery::new(&SimConfig::default())
}

fn id(b: &Brewery, name: &str) -> EndpointId {
    b.catalog()
        .iter()
        .find(|e| e.name == name)
        .map(|e| e.id.clone())
        .unwrap_or_else(|| panic!("no endpoint named {name}"))
}

fn number(b: &Brewery, name: &str) -> f64 {
    b.value(&id(b, name))
        .and_then(|v| v.as_f64())
        .unwrap_or_else(|| panic!("{name} has no numeric value"))
}

fn flag(b: &Brewery, name: &str) -> bool {
    b.value(&id(b, name))
        .and_then(|v| v.as_bool())
        .unwrap_or_else(|| panic!("{name} has no boolean value"))
}

/// Applies a command that must succeed.
fn command(b: &mut Brewery, name: &str, action: Action, value: Option<f64>) -> Value {
    let value = value.map(Value::Number);
    let endpoint = id(b, name);
    b.apply(&endpoint, action, value.as_ref())
        .unwrap_or_else(|r| panic!("{name} {action:?} refused: {}", r.reason))
}

/// A command that must be refused.
fn refused(b: &mut Brewery, name: &str, action: Action, value: Option<Value>) -> Refusal {
    let endpoint = id(b, name);
    let checked = b.check(&endpoint, action, value.as_ref());
    let applied = b.apply(&endpoint, action, value.as_ref());
    match (checked, applied) {
        (Err(c), Err(a)) => {
            assert_eq!(c, a, "check and apply refuse alike");
            a
        }
        other => panic!("{name} {action:?} was not refused: {other:?}"),
    }
}

fn run(b: &mut Brewery, seconds: f64) -> Vec<SimEvent> {
    let steps = (seconds * 10.0).round() as usize;
    (0..steps).flat_map(|_| b.step(TICK)).collect()
}

/// Steps until `done` holds, at most `max_seconds`; the events on the way.
fn run_until(b: &mut Brewery, max_seconds: f64, done: impl Fn(&Brewery) -> bool) -> Vec<SimEvent> {
    let mut events = Vec::new();
    for _ in 0..(max_seconds * 10.0) as usize {
        events.extend(b.step(TICK));
        if done(b) {
            return events;
        }
    }
    panic!("condition not reached within {max_seconds} s");
}

fn raised<'a>(events: &'a [SimEvent], key: &str) -> Vec<(&'a Severity, &'a String)> {
    events
        .iter()
        .filter_map(|e| match e {
            SimEvent::AlarmRaised {
                condition,
                severity,
                message,
                ..
            } if condition == key => Some((severity, message)),
            _ => None,
        })
        .collect()
}

fn cleared(events: &[SimEvent], key: &str) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, SimEvent::AlarmCleared { condition } if condition == key))
        .count()
}

fn readings_of(events: &[SimEvent], endpoint: &EndpointId) -> Vec<Value> {
    events
        .iter()
        .filter_map(|e| match e {
            SimEvent::Reading {
                endpoint: id,
                value,
            } if id == endpoint => Some(value.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn catalog_ids_run_one_to_n_with_consistent_flags() {
    let b = brewery();
    let catalog = b.catalog();
    for (i, e) in catalog.iter().enumerate() {
        assert_eq!(e.id, EndpointId::from(i as u64 + 1), "{}", e.name);
        assert_eq!(e.writable, !e.actions.is_empty(), "{}", e.name);
        let critical = matches!(e.kind, EndpointKind::Heater)
            || (e.kind == EndpointKind::Pump && e.name.contains('→'));
        assert_eq!(e.critical, critical, "{}", e.name);
        let areas = [
            "Hot liquor tank",
            "Mash tun",
            "Boil kettle",
            "Fermenters",
            "Glycol chiller",
        ];
        assert!(areas.contains(&e.area.as_str()), "{}: {}", e.name, e.area);
        let unit = match e.kind {
            EndpointKind::Temperature | EndpointKind::Setpoint => Some("°F"),
            EndpointKind::Level => Some("%"),
            _ => None,
        };
        assert_eq!(e.unit.as_deref(), unit, "{}", e.name);
    }
    // Heaters and transfer pumps: two of each, all critical.
    assert_eq!(catalog.iter().filter(|e| e.critical).count(), 4);
    let setpoint = &catalog[id_index(&b, "HLT setpoint")];
    let limits = setpoint.limits.unwrap_or_default();
    assert_eq!((limits.min, limits.max), (Some(40.0), Some(212.0)));
    assert_eq!(setpoint.actions, vec![Action::Set]);
    let heater = &catalog[id_index(&b, "Kettle heater")];
    assert_eq!(heater.actions, vec![Action::On, Action::Off]);
    // Values: one per endpoint, in catalog order, equipment as Bool.
    let values = b.values();
    assert_eq!(values.len(), catalog.len());
    for ((vid, v), e) in values.iter().zip(catalog) {
        assert_eq!(vid, &e.id);
        let equipment = matches!(
            e.kind,
            EndpointKind::Heater | EndpointKind::Pump | EndpointKind::Valve | EndpointKind::Switch
        );
        assert_eq!(matches!(v, Value::Bool(_)), equipment, "{}: {v:?}", e.name);
    }
}

fn id_index(b: &Brewery, name: &str) -> usize {
    b.catalog()
        .iter()
        .position(|e| e.name == name)
        .unwrap_or_else(|| panic!("no endpoint named {name}"))
}

#[test]
fn fermenter_count_follows_config_and_is_clamped() {
    let fermenters = |n: usize| {
        let b = Brewery::new(&SimConfig {
            seed: 1,
            fermenters: n,
        });
        let temps = b
            .catalog()
            .iter()
            .filter(|e| e.area == "Fermenters" && e.kind == EndpointKind::Temperature)
            .count();
        let all = b
            .catalog()
            .iter()
            .filter(|e| e.area == "Fermenters")
            .count();
        assert_eq!(
            all,
            temps * 3,
            "temperature, setpoint and cooling valve each"
        );
        temps
    };
    assert_eq!(fermenters(4), 4);
    assert_eq!(fermenters(2), 2);
    assert_eq!(fermenters(0), 1);
    assert_eq!(fermenters(20), 8);
    let b = Brewery::new(&SimConfig {
        seed: 1,
        fermenters: 8,
    });
    let valve = &b.catalog()[id_index(&b, "Fermenter 8 cooling valve")];
    assert!(!valve.writable);
    assert_eq!(valve.kind, EndpointKind::Valve);
}

#[test]
fn nothing_alarms_in_the_first_minutes() {
    let mut b = brewery();
    let events = run(&mut b, 180.0);
    let alarms: Vec<_> = events
        .iter()
        .filter(|e| !matches!(e, SimEvent::Reading { .. }))
        .collect();
    assert!(alarms.is_empty(), "{alarms:?}");
    // The demo looks alive: every temperature and level reported changes.
    for e in b.catalog() {
        if matches!(e.kind, EndpointKind::Temperature | EndpointKind::Level) {
            assert!(readings_of(&events, &e.id).len() > 1000, "{}", e.name);
        }
    }
}

fn scripted(seed: u64) -> Vec<String> {
    let mut b = Brewery::new(&SimConfig {
        seed,
        fermenters: 4,
    });
    let mut log = Vec::new();
    let mut apply = |b: &mut Brewery, name: &str, action, value: Option<f64>| {
        let endpoint = id(b, name);
        let value = value.map(Value::Number);
        log.push(format!("{:?}", b.apply(&endpoint, action, value.as_ref())));
    };
    let mut events = Vec::new();
    for i in 0..600 {
        match i {
            100 => apply(&mut b, "HLT setpoint", Action::Set, Some(190.0)),
            200 => {
                apply(&mut b, "HLT → mash tun valve", Action::Open, None);
                apply(&mut b, "HLT → mash tun pump", Action::On, None);
            }
            300 => apply(&mut b, "Chiller compressor", Action::Off, None),
            400 => apply(&mut b, "HLT heater", Action::On, None),
            _ => {}
        }
        events.extend(b.step(TICK).iter().map(|e| format!("{e:?}")));
    }
    log.extend(events);
    log
}

#[test]
fn same_seed_same_events_other_seed_differs() {
    let a = scripted(7);
    let b = scripted(7);
    assert!(a.len() > 6000, "{}", a.len());
    assert_eq!(a, b);
    // The script raised alarms (HLT hot, heater tripped), so they are compared too.
    assert!(
        a.iter().any(|e| e.contains("AlarmRaised")),
        "no alarm in the script"
    );
    assert_ne!(a, scripted(8));
}

#[test]
fn heater_holds_hlt_at_setpoint_and_off_it_cools() {
    let mut b = brewery();
    let start = number(&b, "HLT temperature");
    assert!((149.0..151.0).contains(&start), "{start}");
    let events = run(&mut b, 30.0);
    let temps: Vec<f64> = readings_of(&events, &id(&b, "HLT temperature"))
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    let max = temps.iter().copied().fold(f64::MIN, f64::max);
    assert!(max <= 168.1, "overshoot: {max}");
    // Climbs ~1.5 °F/s: visibly moving after one second.
    assert!(temps[10] > start + 1.0, "{} vs {start}", temps[10]);
    let held = number(&b, "HLT temperature");
    assert!((167.7..=168.1).contains(&held), "{held}");

    assert_eq!(
        command(&mut b, "HLT heater", Action::Off, None),
        Value::Bool(false)
    );
    run(&mut b, 60.0);
    let cooled = number(&b, "HLT temperature");
    assert!(cooled < 164.0 && cooled > 150.0, "{cooled}");
}

#[test]
fn transfer_pump_moves_liquor_from_hlt_to_mash_tun() {
    let mut b = brewery();
    let (hlt, mash) = (number(&b, "HLT level"), number(&b, "Mash tun level"));
    command(&mut b, "HLT → mash tun valve", Action::Open, None);
    assert_eq!(
        command(&mut b, "HLT → mash tun pump", Action::On, None),
        Value::Bool(true)
    );
    run(&mut b, 10.0);
    let (hlt2, mash2) = (number(&b, "HLT level"), number(&b, "Mash tun level"));
    assert!(hlt - hlt2 > 25.0, "HLT {hlt} -> {hlt2}");
    assert!(mash2 - mash > 25.0, "mash tun {mash} -> {mash2}");
    assert!(
        ((hlt + mash) - (hlt2 + mash2)).abs() < 0.5,
        "liquor is conserved"
    );
    // Nothing moves with the pump stopped.
    command(&mut b, "HLT → mash tun pump", Action::Off, None);
    run(&mut b, 5.0);
    assert!((number(&b, "HLT level") - hlt2).abs() < 0.2);
}

#[test]
fn pump_needs_its_valve_and_valve_cannot_close_under_running_pump() {
    let mut b = brewery();
    let r = refused(&mut b, "HLT → mash tun pump", Action::On, None);
    assert!(r.interlock, "{r:?}");
    assert!(r.reason.starts_with("interlock"), "{}", r.reason);
    assert!(r.reason.contains("valve"), "{}", r.reason);
    assert!(!flag(&b, "HLT → mash tun pump"));

    command(&mut b, "HLT → mash tun valve", Action::Open, None);
    command(&mut b, "HLT → mash tun pump", Action::On, None);
    let r = refused(&mut b, "HLT → mash tun valve", Action::Close, None);
    assert!(r.interlock, "{r:?}");
    assert!(r.reason.contains("interlock"), "{}", r.reason);
    assert!(flag(&b, "HLT → mash tun valve"));
    // Stopping first makes closing fine.
    command(&mut b, "HLT → mash tun pump", Action::Off, None);
    let closed = command(&mut b, "HLT → mash tun valve", Action::Close, None);
    assert_eq!(closed, Value::Bool(false));
}

#[test]
fn apply_checks_again_what_check_allowed() {
    let mut b = brewery();
    command(&mut b, "Mash tun → kettle valve", Action::Open, None);
    let pump = id(&b, "Mash tun → kettle pump");
    assert_eq!(b.check(&pump, Action::On, None), Ok(()));
    command(&mut b, "Mash tun → kettle valve", Action::Close, None);
    let r = b.apply(&pump, Action::On, None).err();
    assert!(r.as_ref().is_some_and(|r| r.interlock), "{r:?}");
    assert!(!flag(&b, "Mash tun → kettle pump"));
}

#[test]
fn draining_the_hlt_trips_its_heater_and_then_its_pump() {
    let mut b = brewery();
    let heater = id(&b, "HLT heater");
    assert!(flag(&b, "HLT heater"));
    command(&mut b, "HLT → mash tun valve", Action::Open, None);
    command(&mut b, "HLT → mash tun pump", Action::On, None);

    let events = run_until(&mut b, 60.0, |b| !flag(b, "HLT heater"));
    assert_eq!(readings_of(&events, &heater), vec![Value::Bool(false)]);
    let trip = raised(&events, "hlt.heater.tripped");
    assert_eq!(trip.len(), 1, "{events:?}");
    assert_eq!(*trip[0].0, Severity::Critical);
    assert!(trip[0].1.contains("HLT heater"), "{}", trip[0].1);
    let level = number(&b, "HLT level");
    assert!((18.0..20.1).contains(&level), "tripped promptly: {level}");

    let r = refused(&mut b, "HLT heater", Action::On, None);
    assert!(r.interlock, "{r:?}");
    assert!(
        r.reason.contains("interlock") && r.reason.contains("20 %"),
        "{}",
        r.reason
    );

    // Run dry: the pump trips itself and says so.
    let pump = id(&b, "HLT → mash tun pump");
    let events = run_until(&mut b, 60.0, |b| !flag(b, "HLT → mash tun pump"));
    assert_eq!(readings_of(&events, &pump), vec![Value::Bool(false)]);
    let dry = raised(&events, "transfer.hlt_mash.dry_run");
    assert_eq!(dry.len(), 1, "{events:?}");
    assert_eq!(*dry[0].0, Severity::Critical);
    assert_eq!(raised(&events, "hlt.level.low").len(), 1);
    let r = refused(&mut b, "HLT → mash tun pump", Action::On, None);
    assert!(r.interlock && r.reason.contains("dry-run"), "{r:?}");

    // Refill: every alarm clears once, and the heater may start again.
    command(&mut b, "HLT → mash tun valve", Action::Close, None);
    command(&mut b, "HLT fill valve", Action::Open, None);
    let events = run_until(&mut b, 60.0, |b| number(b, "HLT level") > 25.0);
    assert_eq!(cleared(&events, "transfer.hlt_mash.dry_run"), 1);
    assert_eq!(cleared(&events, "hlt.level.low"), 1);
    assert_eq!(cleared(&events, "hlt.heater.tripped"), 1);
    assert_eq!(
        command(&mut b, "HLT heater", Action::On, None),
        Value::Bool(true)
    );
}

#[test]
fn validation_refusals_are_not_interlocks() {
    let mut b = brewery();
    let cases = [
        (
            "HLT setpoint",
            Action::Set,
            Some(Value::Number(250.0)),
            "outside",
        ),
        (
            "HLT setpoint",
            Action::Set,
            Some(Value::Number(39.9)),
            "outside",
        ),
        (
            "Fermenter 1 setpoint",
            Action::Set,
            Some(Value::Number(81.0)),
            "outside",
        ),
        (
            "HLT setpoint",
            Action::Set,
            None,
            "set needs a numeric value",
        ),
        (
            "HLT setpoint",
            Action::Set,
            Some(Value::Text("170".into())),
            "numeric",
        ),
        (
            "HLT setpoint",
            Action::Set,
            Some(Value::Number(f64::NAN)),
            "numeric",
        ),
        ("HLT temperature", Action::On, None, "read-only"),
        ("Fermenter 1 cooling valve", Action::Open, None, "read-only"),
        ("HLT heater", Action::Open, None, "does not accept 'open'"),
        (
            "HLT fill valve",
            Action::Set,
            Some(Value::Number(1.0)),
            "does not accept",
        ),
    ];
    for (name, action, value, expected) in cases {
        let r = refused(&mut b, name, action, value);
        assert!(!r.interlock, "{name}: {r:?}");
        assert!(r.reason.contains(expected), "{name}: {}", r.reason);
    }
    for unknown in [
        EndpointId::from(0u64),
        EndpointId::from(999u64),
        EndpointId::from("1"),
    ] {
        let r = b.check(&unknown, Action::On, None).err();
        assert!(r
            .as_ref()
            .is_some_and(|r| !r.interlock && r.reason.contains("unknown")));
        assert_eq!(b.apply(&unknown, Action::On, None).err(), r);
        assert_eq!(b.value(&unknown), None);
    }
    // Limits are inclusive, and the state did not move on any refusal.
    assert_eq!(number(&b, "HLT setpoint"), 168.0);
    let set = command(&mut b, "HLT setpoint", Action::Set, Some(212.0));
    assert_eq!(set, Value::Number(212.0));
    assert_eq!(b.value(&id(&b, "HLT setpoint")), Some(set));
}

#[test]
fn fermenter_controller_follows_its_setpoint() {
    let mut b = brewery();
    let valve = "Fermenter 1 cooling valve";
    let temp = "Fermenter 1 temperature";
    let start = number(&b, temp);

    command(
        &mut b,
        "Fermenter 1 setpoint",
        Action::Set,
        Some(start + 5.0),
    );
    run(&mut b, 60.0);
    assert!(!flag(&b, valve), "closed above the temperature");
    let warmed = number(&b, temp);
    assert!(warmed > start + 1.5, "{start} -> {warmed}");

    command(
        &mut b,
        "Fermenter 1 setpoint",
        Action::Set,
        Some(start - 5.0),
    );
    run(&mut b, 0.1);
    assert!(flag(&b, valve), "opened below the temperature");
    run(&mut b, 10.0);
    let cooled = number(&b, temp);
    assert!(cooled < warmed - 2.0, "{warmed} -> {cooled}");

    // Without glycol flow the valve closes and the beer warms again.
    command(&mut b, "Glycol pump", Action::Off, None);
    run(&mut b, 30.0);
    assert!(!flag(&b, valve));
    assert!(number(&b, temp) > cooled, "warms without glycol");
}

#[test]
fn glycol_alarm_raises_once_and_clears_once() {
    let mut b = brewery();
    let glycol = "Glycol temperature";
    let mut events = Vec::new();

    command(&mut b, "Chiller compressor", Action::Off, None);
    events.extend(run_until(&mut b, 900.0, |b| number(b, glycol) > 40.5));
    assert_eq!(raised(&events, "glycol.temp.high").len(), 1);

    // Chilling to a 40 °F setpoint parks the glycol right at the threshold: no flapping.
    command(&mut b, "Glycol setpoint", Action::Set, Some(40.0));
    command(&mut b, "Chiller compressor", Action::On, None);
    events.extend(run(&mut b, 60.0));
    let hovering = number(&b, glycol);
    assert!((39.8..40.2).contains(&hovering), "{hovering}");
    assert_eq!(cleared(&events, "glycol.temp.high"), 0);

    command(&mut b, "Glycol setpoint", Action::Set, Some(30.0));
    events.extend(run(&mut b, 60.0));
    assert!(number(&b, glycol) < 31.0);
    let raises = raised(&events, "glycol.temp.high");
    assert_eq!(raises.len(), 1);
    assert_eq!(*raises[0].0, Severity::High);
    assert!(
        raises[0].1.starts_with("Glycol temperature 40"),
        "{}",
        raises[0].1
    );
    assert_eq!(cleared(&events, "glycol.temp.high"), 1);
    let raise_at = events.iter().position(
        |e| matches!(e, SimEvent::AlarmRaised { condition, .. } if condition == "glycol.temp.high"),
    );
    let clear_at = events.iter().position(
        |e| matches!(e, SimEvent::AlarmCleared { condition } if condition == "glycol.temp.high"),
    );
    assert!(raise_at < clear_at);
}

#[test]
fn fermenter_alarm_names_fermenter_and_setpoint() {
    let mut b = brewery();
    command(&mut b, "Glycol pump", Action::Off, None);
    let events = run_until(&mut b, 600.0, |b| {
        number(b, "Fermenter 2 temperature") > 66.0 + 5.5
    });
    let raises = raised(&events, "fermenter.2.temp.high");
    assert_eq!(raises.len(), 1, "{events:?}");
    assert!(
        raises[0].1.starts_with("Fermenter 2 temperature 71")
            && raises[0].1.ends_with("above setpoint 66.0 °F"),
        "{}",
        raises[0].1
    );
}

#[test]
fn hysteresis_holds_a_hovering_value() {
    let hovering = [
        39.9, 40.1, 39.95, 40.05, 39.5, 40.2, 39.1, 38.9, 39.5, 40.0, 40.01,
    ];
    let mut active = false;
    let mut transitions = Vec::new();
    for x in hovering {
        let now = alarms::above(x, 40.0, 1.0, active);
        if now != active {
            transitions.push((x, now));
        }
        active = now;
    }
    assert_eq!(
        transitions,
        vec![(40.1, true), (38.9, false), (40.01, true)]
    );
    assert!(alarms::below(9.9, 10.0, 2.0, false));
    assert!(alarms::below(11.9, 10.0, 2.0, true));
    assert!(!alarms::below(12.1, 10.0, 2.0, true));
}

#[test]
fn a_long_step_is_integrated_like_short_ones() {
    let mut b = brewery();
    command(&mut b, "HLT → mash tun valve", Action::Open, None);
    command(&mut b, "HLT → mash tun pump", Action::On, None);
    // One 30 s step still trips the heater at its minimum and the pump when dry.
    let events = b.step(Duration::from_secs(30));
    assert!(!flag(&b, "HLT heater") && !flag(&b, "HLT → mash tun pump"));
    assert_eq!(raised(&events, "hlt.heater.tripped").len(), 1);
    assert_eq!(raised(&events, "transfer.hlt_mash.dry_run").len(), 1);
    // The pump trips with a puddle (< 0.5 %) left in the HLT.
    assert!((number(&b, "Mash tun level") - 90.0).abs() < 0.6);
}
