#!/usr/bin/env python3
"""The desktop benches of `benches/run.sh`: the real release app (and a hello-world Tauri app)
on this desktop, which must be private (Xvfb, a private D-Bus session, a throwaway HOME:
run.sh gives all three). Each sub-benchmark writes OUT/<name>.json:

  delivery  plant flood -> webview handler: batches/s, bytes/batch, latency, CPU (1k/10k/50k/s)
  notify    POST /admin/alarm -> org.freedesktop.Notifications.Notify on the bus
  memory    PSS and CPU: Brewdeck on its demo plant beside brewdeck-hello (10 Hz page updates)
  churn     PSS growth over an hour-equivalent of telemetry, alarms and link drops

  python3 benches/webview.py APP PLANT HELLO OUT [--only delivery,notify,memory,churn] [--quick]
"""

import argparse
import json
import os
import re
import secrets
import subprocess
import time

from lib import (App, Plant, comms, cpu_by_process, cpu_ticks, free_port, log,
                 pss_by_process, pss_settled, pss_timeline, quantile, telemetry_rate, tree,
                 webdriver, write_json)

# ----- delivery -----

# Listens to the readings event through the same IPC path as the UI's own handler
# (@tauri-apps/api's listen() is this invoke), records each batch's arrival, size and the age
# of every reading in it (arrival - the plant's timestamp, set when the plant published it;
# same machine, same clock), then unlistens and returns the figures.
DELIVERY_JS = r"""
const secs = arguments[0], done = arguments[arguments.length - 1];
const I = window.__TAURI_INTERNALS__;
const EVENT = "plant://readings";
const ages = [], arrivals = [], sizes = [];
let readings = 0, first = null, last = null, bad = 0;
const handler = I.transformCallback((ev) => {
  const now = Date.now();
  const rs = ev.payload.readings;
  arrivals.push(now);
  sizes.push(JSON.stringify(ev.payload).length);
  for (const r of rs) {
    const t = Date.parse(r.timestamp);
    if (Number.isFinite(t)) ages.push(now - t); else bad++;
  }
  readings += rs.length;
});
function q(xs, p) { return xs.length ? xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] : null; }
I.invoke("plugin:event|listen", { event: EVENT, target: { kind: "Any" }, handler }).then((eventId) => {
  const t0 = Date.now();
  setTimeout(() => {
    const t1 = Date.now();
    I.invoke("plugin:event|unlisten", { event: EVENT, eventId }).catch(() => {});
    ages.sort((a, b) => a - b);
    // Events of one flush arrive back to back; a gap over 10 ms starts the next flush.
    let flushes = arrivals.length ? 1 : 0;
    for (let i = 1; i < arrivals.length; i++) if (arrivals[i] - arrivals[i - 1] > 10) flushes++;
    const seconds = (t1 - t0) / 1000;
    done({
      seconds, batches: arrivals.length, readings, unparsed_timestamps: bad,
      batches_per_s: arrivals.length / seconds, flushes_per_s: flushes / seconds,
      readings_per_s: readings / seconds,
      bytes_per_batch: sizes.length ? sizes.reduce((a, b) => a + b, 0) / sizes.length : null,
      bytes_per_batch_max: sizes.length ? Math.max(...sizes) : null,
      latency_p50_ms: q(ages, 0.5), latency_p90_ms: q(ages, 0.9), latency_p99_ms: q(ages, 0.99),
      latency_max_ms: ages.length ? ages[ages.length - 1] : null,
      latency_min_ms: ages.length ? ages[0] : null,
      tiles: document.querySelectorAll("[data-testid=tile]").length,
    });
  }, secs * 1000);
}).catch((e) => done({ error: String(e) }));
"""

RATES = [("1k", 2), ("10k", 20), ("50k", 100)]  # 500 flood endpoints at these rates (Hz)
FLOOD_ENDPOINTS = 500


def app_pid_under(root):
    """The app's pid among the driver's descendants (tauri-driver -> WebKitWebDriver -> app)."""
    for pid in tree(root):
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() == "brewdeck":
                    return pid
        except OSError:
            pass
    return None


def delivery(a, out, token_file):
    figures = {}
    driver = webdriver.Driver(os.path.join(out, "tauri-driver.log"))
    try:
        for label, hz in RATES:
            plant = Plant(a.plant, out, token_file, flood=(FLOOD_ENDPOINTS, hz), name=f"plant-{label}")
            page = None
            try:
                page = driver.session(a.app, ["--server", plant.url])
                webdriver.call("POST", f"{page.s}/timeouts", {"script": (a.delivery_s + 60) * 1000})
                webdriver.wait_until("connected", lambda: page.attr(
                    "[data-testid=link-badge]", "data-state") == "connected")
                time.sleep(a.warm_s)
                app = app_pid_under(driver.proc.pid)
                c0 = time.monotonic()
                t0 = cpu_ticks(tree(app))
                r = page.script_async(DELIVERY_JS, a.delivery_s)
                t1, c1 = cpu_ticks(tree(app)), time.monotonic()
                if "error" in r:
                    raise RuntimeError(f"delivery script: {r['error']}")
                ticks = sum(v - t0.get(p, 0) for p, v in t1.items())
                r["cpu_percent"] = 100 * ticks / os.sysconf("SC_CLK_TCK") / (c1 - c0)
                r["offered_per_s"] = FLOOD_ENDPOINTS * hz
                r["processes"] = comms(tree(app))
                figures[label] = r
                log(f"delivery {label}: {json.dumps(r)}")
            finally:
                if page:
                    page.close()
                plant.stop()
                time.sleep(1)
    finally:
        driver.stop()
    flat = {"delivery": figures}
    for label, r in figures.items():
        flat[f"delivery_p50_ms_{label}"] = r["latency_p50_ms"]
        flat[f"delivery_p99_ms_{label}"] = r["latency_p99_ms"]
        # A batch is one flush of the latest values (at most 20 a second); issue 4 has it split
        # into events under 8 KiB of JSON each, so a large flush is several events.
        flat[f"batches_per_s_{label}"] = r["flushes_per_s"]
        flat[f"readings_events_per_s_{label}"] = r["batches_per_s"]
        flat[f"bytes_per_event_{label}"] = r["bytes_per_batch"]
        flat[f"bytes_per_event_max_{label}"] = r["bytes_per_batch_max"]
        flat[f"delivery_cpu_pct_{label}"] = r["cpu_percent"]
        flat[f"delivered_readings_per_s_{label}"] = r["readings_per_s"]
    write_json(out, "delivery", flat)


# ----- notify -----

class NotifyMonitor:
    """dbus-monitor on this session's Notify calls; each call's bus time and string args."""

    def __init__(self, out):
        self.path = os.path.join(out, "notify-monitor.log")
        self.proc = subprocess.Popen(
            ["dbus-monitor", "--session",
             "type=method_call,interface=org.freedesktop.Notifications,member=Notify"],
            stdout=open(self.path, "w"), stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 10
        while os.path.getsize(self.path) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)  # its own NameAcquired line: the match rule is in place

    def calls(self):
        """[(bus time, [string args: app name, icon, summary, body, ...])]."""
        out, cur = [], None
        with open(self.path) as f:
            for line in f:
                m = re.match(r"method call time=([\d.]+) .*member=Notify", line)
                if m:
                    cur = (float(m.group(1)), [])
                    out.append(cur)
                    continue
                if line.startswith(("signal", "method return", "error", "method call")):
                    cur = None
                    continue
                if cur is not None:
                    m = re.match(r'\s+string "(.*)"$', line)
                    if m and len(cur[1]) < 4:
                        cur[1].append(m.group(1))
        return out

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def notify(a, out, token_file, monitor):
    plant = Plant(a.plant, out, token_file, name="plant-notify")
    sent = []  # (marker, posted at)
    try:
        for launch in range(a.notify_launches):
            app = App([a.app, "--server", plant.url], os.path.join(out, "app-notify.log"))
            try:
                plant.wait_connected()
                time.sleep(3)  # the first sync: alarms before it are on screen, not notified
                ids = []
                for i in range(a.notify_per_launch):
                    marker = f"Bench alarm {launch + 1}.{i + 1} {secrets.token_hex(4)}"
                    t = time.time()
                    r = plant.admin("/admin/alarm", {"severity": "critical", "message": marker})
                    sent.append((marker, t))
                    ids.append(r["alarmId"])
                    time.sleep(a.notify_gap_s)
                time.sleep(2)
            finally:
                app.stop()
            for i in ids:
                try:
                    plant.admin(f"/admin/alarm/{i}/clear")
                except OSError:
                    pass
    finally:
        plant.stop()
    time.sleep(0.5)
    seen = {}
    for at, args in monitor.calls():
        if len(args) >= 4 and args[3] not in seen:
            seen[args[3]] = (at, args[2])
    lat = [(seen[m][0] - t) * 1000 for m, t in sent if m in seen]
    figures = {
        "notify_samples": len(lat),
        "notify_sent": len(sent),
        "notify_launches": a.notify_launches,
        "notify_p50_ms": quantile(lat, 0.5),
        "notify_p99_ms": quantile(lat, 0.99),
        "notify_max_ms": max(lat) if lat else None,
        "notify_min_ms": min(lat) if lat else None,
        "notify_latencies_ms": [round(x, 1) for x in lat],
        "notify_other_calls": sorted({s for b, (at, s) in seen.items()
                                      if not b.startswith("Bench alarm")}),
    }
    write_json(out, "notify", figures)


# ----- memory and CPU at idle -----

def memory(a, out, token_file):
    """Idle PSS and CPU of hello-world, of Brewdeck connected to a plant server (how operators
    run it: the plant is another machine's), and of Brewdeck in demo mode (the simulated plant
    runs inside the app, so its memory and CPU count)."""
    results = {}
    plant = Plant(a.plant, out, token_file, name="plant-memory")
    try:
        for name, argv in [("hello", [a.hello]),
                           ("brewdeck", [a.app, "--server", plant.url]),
                           ("brewdeck_demo", [a.app, "--demo"])]:
            app = App(argv, os.path.join(out, f"app-{name}.log"))
            try:
                app.wait_window()
                time.sleep(a.settle_s)
                pss, samples = pss_settled(app.pid)
                by_process = pss_by_process(app.pid)
                cpu, cpu_by = cpu_by_process(app.pid, a.cpu_s)
                results[name] = {"pss_mib": pss, "pss_samples_mib": samples, "cpu_percent": cpu,
                                 "pss_by_process_mib": by_process, "cpu_by_process_pct": cpu_by}
                log(f"memory {name}: {json.dumps(results[name])}")
            finally:
                app.stop()
    finally:
        plant.stop()
    h, b, d = results["hello"], results["brewdeck"], results["brewdeck_demo"]
    write_json(out, "memory", {
        "idle_pss_mb": b["pss_mib"],
        "hello_pss_mb": h["pss_mib"],
        "idle_pss_ratio": b["pss_mib"] / h["pss_mib"],
        "idle_pss_demo_mb": d["pss_mib"],
        "idle_pss_demo_ratio": d["pss_mib"] / h["pss_mib"],
        # "While the demo plant streams": demo mode, the simulation's CPU included.
        "cpu_pct": d["cpu_percent"],
        "hello_cpu_pct": h["cpu_percent"],
        "cpu_ratio": d["cpu_percent"] / h["cpu_percent"] if h["cpu_percent"] else None,
        "cpu_plant_server_pct": b["cpu_percent"],
        "cpu_plant_server_ratio": b["cpu_percent"] / h["cpu_percent"] if h["cpu_percent"] else None,
        "settle_s": a.settle_s,
        "cpu_window_s": a.cpu_s,
        "memory": results,
    })


# ----- churn -----

def churn(a, out, token_file, token):
    """PSS growth over an hour-equivalent of churn. The hour: the telemetry the demo plant
    sends one client in an hour (measured here), compressed into a flood; one critical alarm
    raised and cleared per minute-equivalent; a link drop (/admin/drop) every few minutes-
    equivalent, each after the connection was up long enough to reset the reconnect backoff.

    The flood plant's catalog holds 500 more endpoints than the demo's, so the first flood
    grows the UI (tiles) once; a short priming flood comes before the baseline, so the growth
    measured is what the hour adds. The growth from the fresh start is reported beside it."""
    port = free_port()

    def normal():
        return Plant(a.plant, out, token_file, port=port, name="plant-churn")

    def flooding():
        return Plant(a.plant, out, token_file, port=port, flood=(FLOOD_ENDPOINTS, a.churn_hz),
                     name="plant-churn")

    plant = normal()
    demo_rate = telemetry_rate(plant.url, token)
    hour = demo_rate * 3600 * a.churn_scale
    flood_rate = FLOOD_ENDPOINTS * a.churn_hz
    log(f"churn: the demo plant sends {demo_rate:.0f} telemetry messages/s to a client "
        f"following all; an hour: {hour:.0f}, as a flood of {flood_rate:.0f}/s")
    app = App([a.app, "--server", plant.url], os.path.join(out, "app-churn.log"))
    figures = {"demo_telemetry_per_s": demo_rate, "hour_equivalent_readings": hour,
               "flood_per_s": flood_rate}

    def switch(to):
        nonlocal plant
        plant.stop()
        plant = to()
        plant.wait_connected()

    def settled(label):
        """The floor of PSS over the settling window: WebKit gives memory back lazily (a
        collection some tens of seconds after a load ends can free 30 MiB), so one sample or a
        short median depends on when that happened; the floor does not."""
        timeline = pss_timeline(app.pid, a.churn_settle_s)
        _, value, by = min(timeline[len(timeline) // 3:], key=lambda e: e[1])
        figures[f"churn_pss_{label}_timeline"] = [(t, v) for t, v, _ in timeline]
        figures[f"churn_pss_{label}_by_process"] = by
        log(f"churn: {label} {value:.1f} MiB (floor of the last 2/3 of {a.churn_settle_s:g} s)")
        return value, by.get("brewdeck", 0.0)

    def flood(readings, alarms, drops):
        """Until `readings` were offered to a connected app, with alarms and drops spread."""
        connected_s, offered, raised, dropped, up_since = 0.0, 0.0, 0, 0, None
        open_alarms = []
        last = started = time.monotonic()
        limit = readings / flood_rate * 3 + drops * 15 + 60
        while offered < readings and time.monotonic() - started < limit:
            time.sleep(0.2)
            now = time.monotonic()
            up = plant.connections() >= 1
            if up:
                connected_s += now - last
                offered = connected_s * flood_rate
                up_since = up_since or now
            else:
                up_since = None
            last = now
            progress = offered / readings
            if raised < alarms and progress >= raised / alarms:
                r = plant.admin("/admin/alarm", {"severity": "critical",
                                                 "message": f"Churn alarm {raised + 1}"})
                open_alarms.append(r["alarmId"])
                raised += 1
            while len(open_alarms) > 2:  # each is cleared two alarms later
                plant.admin(f"/admin/alarm/{open_alarms.pop(0)}/clear")
            if (dropped < drops and progress >= (dropped + 1) / (drops + 1)
                    and up_since and now - up_since >= a.churn_stable_s):
                plant.admin("/admin/drop")
                dropped += 1
                up_since = None
        for i in open_alarms:
            plant.admin(f"/admin/alarm/{i}/clear")
        return {"wall_s": time.monotonic() - started, "connected_s": connected_s,
                "readings_offered": offered, "alarms": raised, "drops": dropped,
                "complete": offered >= readings}

    try:
        plant.wait_connected()
        app.wait_window()
        fresh, _ = settled("fresh")
        # Priming: the flood's bigger catalog on screen once, one alarm, one drop.
        switch(flooding)
        figures["churn_priming"] = flood(flood_rate * 5, 1, 0)
        switch(normal)
        before, app_before = settled("before")
        switch(flooding)
        hour_figures = flood(hour, a.churn_alarms, a.churn_drops)
        figures.update({f"churn_{k}": v for k, v in hour_figures.items()})
        log(f"churn: {json.dumps(hour_figures)}")
        switch(normal)
        after, app_after = settled("after")
        figures.update({"churn_pss_fresh_mb": fresh, "churn_pss_before_mb": before,
                        "churn_pss_after_mb": after, "churn_pss_growth_mb": after - before,
                        "churn_pss_growth_from_fresh_mb": after - fresh,
                        # The app's own process alone (Rust: link, bridge, tauri), without
                        # WebKit's processes.
                        "churn_app_process_growth_mb": app_after - app_before})
    finally:
        app.stop()
        plant.stop()
    write_json(out, "churn", figures)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("app")
    ap.add_argument("plant")
    ap.add_argument("hello")
    ap.add_argument("out")
    ap.add_argument("--only", default="delivery,notify,memory,churn")
    ap.add_argument("--delivery-s", type=float, default=15)
    ap.add_argument("--warm-s", type=float, default=5)
    ap.add_argument("--notify-launches", type=int, default=6)
    ap.add_argument("--notify-per-launch", type=int, default=5)
    ap.add_argument("--notify-gap-s", type=float, default=1.0)
    ap.add_argument("--cpu-s", type=float, default=30)
    ap.add_argument("--settle-s", type=float, default=20, help="memory: settling before PSS")
    ap.add_argument("--churn-settle-s", type=float, default=45)
    ap.add_argument("--churn-hz", type=float, default=6, help="flood rate of the 500 endpoints")
    ap.add_argument("--churn-alarms", type=int, default=60)
    ap.add_argument("--churn-drops", type=int, default=4)
    ap.add_argument("--churn-stable-s", type=float, default=11,
                    help="connected this long before a drop (the link resets its backoff at 10 s)")
    ap.add_argument("--churn-scale", type=float, default=1.0,
                    help="fraction of the hour of telemetry (for a quick try)")
    a = ap.parse_args()
    for k in ("app", "plant", "hello"):
        setattr(a, k, os.path.abspath(getattr(a, k)))
    out = os.path.abspath(a.out)
    work = os.path.join(out, "work")
    os.makedirs(work, exist_ok=True)
    token = secrets.token_hex(16)
    token_file = os.path.join(work, "plant-token")
    with open(token_file, "w") as f:
        f.write(token)
    os.environ["BREWDECK_TOKEN"] = token  # for the apps, through the driver too
    os.environ.setdefault("WEBKIT_DISABLE_DMABUF_RENDERER", "1")

    # A notification daemon owning the name on this private bus (the app's Notify calls need a
    # receiver), and a record of the calls.
    dunst = subprocess.Popen(["dunst"], stdout=open(os.path.join(work, "dunst.log"), "w"),
                             stderr=subprocess.STDOUT, start_new_session=True)
    for _ in range(100):
        r = subprocess.run(["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
                            "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner",
                            "string:org.freedesktop.Notifications"], capture_output=True, text=True)
        if "true" in r.stdout:
            break
        time.sleep(0.1)
    monitor = NotifyMonitor(work)
    failed = []
    try:
        for name in a.only.split(","):
            started = time.monotonic()
            load = os.getloadavg()[0]
            log(f"== {name} (load average {load:.2f})")
            try:
                if name == "delivery":
                    delivery(a, work, token_file)
                elif name == "notify":
                    notify(a, work, token_file, monitor)
                elif name == "memory":
                    memory(a, work, token_file)
                elif name == "churn":
                    churn(a, work, token_file, token)
                else:
                    raise SystemExit(f"unknown bench {name}")
            except Exception as e:  # one failed figure must not lose the others
                log(f"{name} FAILED: {e!r}")
                failed.append(name)
            log(f"== {name}: {time.monotonic() - started:.0f} s")
            src = os.path.join(work, f"{name}.json")
            if os.path.exists(src):
                with open(src) as f:
                    figures = json.load(f)
                # Other work on the machine shows here: the 1-minute load when the bench began.
                figures[f"{name}_load_1m_at_start"] = load
                with open(os.path.join(out, f"{name}.json"), "w") as f:
                    json.dump(figures, f, indent=2)
                    f.write("\n")
                os.remove(src)
    finally:
        monitor.stop()
        dunst.terminate()
        dunst.wait(timeout=10)
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)} (logs under {work})")


if __name__ == "__main__":
    main()
