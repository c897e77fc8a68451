#!/usr/bin/env python3
"""A tour of the real app against a standalone brewdeck-plant: screenshots of the operator's
screen (normal, alarm, shelved, journal, health, settings, reconnecting) and, with --flood, how the webview keeps up with
500 endpoints updating 20 times a second (frame times, event-loop lag, CPU). Not a test: a
tool for the figures and pictures in notes and README. Run under Xvfb and a private D-Bus
session, e.g. DESKTOP_HOME=target/tour ./dev tour, or by hand:

  python3 tour.py APP PLANT OUTDIR [--flood] [--seconds 20]
"""

import argparse
import json
import os
import secrets
import subprocess
import time
import urllib.request

from webdriver import Driver, wait_until

FRAMES_JS = """
const secs = arguments[0], done = arguments[arguments.length - 1];
const frames = [], lags = [];
let last = performance.now();
const end = last + secs * 1000;
// Event-loop lag: how late a 0 ms timer runs (what a click would wait for).
(function probe() {
  const t0 = performance.now();
  setTimeout(() => { lags.push(performance.now() - t0); if (performance.now() < end) setTimeout(probe, 50); }, 0);
})();
function q(xs, p) { xs.sort((a, b) => a - b); return xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]; }
function frame(t) {
  frames.push(t - last); last = t;
  if (t < end) { requestAnimationFrame(frame); return; }
  done({ frames: frames.length, fps: frames.length / secs,
         frame_p50: q(frames, 0.5), frame_p95: q(frames, 0.95), frame_p99: q(frames, 0.99),
         frame_max: frames[frames.length - 1],
         lag_p50: q(lags, 0.5), lag_p99: q(lags, 0.99), lag_max: lags[lags.length - 1],
         tiles: document.querySelectorAll('[data-testid=tile]').length });
}
requestAnimationFrame(frame);
"""


def cpu_ticks(names):
    """Total CPU ticks of processes whose command name is in names."""
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                parts = f.read().rsplit(")", 1)
            comm = open(f"/proc/{pid}/comm").read().strip()
        except OSError:
            continue
        if comm in names:
            fields = parts[1].split()
            total += int(fields[11]) + int(fields[12])
    return total


def admin(addr, path, body=b""):
    req = urllib.request.Request(f"http://{addr}{path}", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("app")
    ap.add_argument("plant")
    ap.add_argument("out")
    ap.add_argument("--flood", action="store_true", help="500 extra endpoints at 20 Hz")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--history-days", type=float, default=0,
                    help="simulated days of history in the plant's store first (brewdeck-store-fill "
                         "beside the plant binary), and a picture of the trend tool over them")
    a = ap.parse_args()
    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    token = secrets.token_hex(16)
    token_file = os.path.join(out, "plant-token")
    with open(token_file, "w") as f:
        f.write(token)
    plant_args = [a.plant, "--listen", "127.0.0.1:0", "--token-file", token_file, "--admin"]
    if a.history_days > 0:
        data = os.path.join(out, "plant-data")
        subprocess.run(["rm", "-rf", data], check=True)
        os.makedirs(data)
        fill = os.path.join(os.path.dirname(os.path.abspath(a.plant)), "brewdeck-store-fill")
        # The simulated brewery's 31 endpoints (4 fermenters), one reading a minute.
        ids = ",".join(str(i) for i in range(1, 32))
        subprocess.run([fill, "--path", os.path.join(data, "plant.sqlite3"), "--fine", "plant",
                        "--days", str(a.history_days), "--hz", str(1 / 60), "--names", ids], check=True)
        plant_args += ["--data-dir", data]
    if a.flood:
        plant_args += ["--flood-endpoints", "500", "--flood-rate", "20"]
    plant = subprocess.Popen(plant_args, stdout=subprocess.PIPE, stderr=open(os.path.join(out, "plant.log"), "w"))
    addr = plant.stdout.readline().decode().strip().split()[-1]
    os.environ["BREWDECK_TOKEN"] = token  # inherited by the app through the driver
    driver = Driver(os.path.join(out, "tauri-driver.log"))
    page = None
    figures = {}
    try:
        page = driver.session(os.path.abspath(a.app), ["--server", f"ws://{addr}/ws"])
        wait_until("connected", lambda: page.attr("[data-testid=link-badge]", "data-state") == "connected")
        wait_until("live values", lambda: page.text("[data-testid=tile-value]"))
        time.sleep(3)  # let the sparklines gather a few seconds of history for the picture
        page.screenshot(os.path.join(out, "normal.png"))

        if a.history_days > 0:
            page.click("[data-testid=tab-trends]")
            page.click("[data-testid=trend-range-7d]")
            # A second and third line: the first level and a fermenter in the picker.
            picks = page.find_all("[data-testid=trend-pick]")
            for i in (1, 12):
                if i < len(picks):
                    page.script("arguments[0].click()", picks[i])
            wait_until("the week drawn", lambda: "points=" in (page.script(
                "return document.querySelector('[data-testid=trend-stats]')?.textContent ?? ''") or "")
                and int(page.script("return document.querySelector('[data-testid=trend-stats]').textContent")
                        .split("points=")[1].split()[0]) > 300, 60)
            time.sleep(1)
            page.screenshot(os.path.join(out, "trend-week.png"))
            figures["trend_stats"] = page.script("return document.querySelector('[data-testid=trend-stats]').textContent")
            page.click("[data-testid=tab-alarms]")

        names = {"brewdeck", "WebKitWebProces", "WebKitNetworkPr"}
        t0, c0 = time.monotonic(), cpu_ticks(names)
        figures["webview"] = page.script_async(FRAMES_JS, a.seconds)
        figures["cpu_percent_of_one_core"] = round(
            100 * (cpu_ticks(names) - c0) / os.sysconf("SC_CLK_TCK") / (time.monotonic() - t0), 1)

        admin(addr, "/admin/alarm", json.dumps({"severity": "critical",
              "message": "Kettle temperature above safe limit"}).encode())
        admin(addr, "/admin/alarm", json.dumps({"severity": "high",
              "message": "Glycol supply pressure low"}).encode())
        wait_until("the alarm row", lambda: page.find_all("[data-testid=alarm-row]"))
        time.sleep(1)  # a paint after the DOM update
        page.screenshot(os.path.join(out, "alarm.png"))

        # The operator's record: an acknowledgement with a note, a shelved alarm, a note for the
        # shift's log, and the journal that holds them.
        def row_of(message, testid="alarm-row"):
            return page.script(
                "for (const r of document.querySelectorAll(`[data-testid=${arguments[1]}]`))"
                " if (r.textContent.includes(arguments[0])) return r.getAttribute('data-alarm-id');"
                " return null;", message, testid)
        def type_into(css, value, event="input"):
            page.script("const e = document.querySelector(arguments[0]); e.value = arguments[1];"
                        " e.dispatchEvent(new Event(arguments[2], {bubbles: true}));", css, value, event)
        kettle = wait_until("the kettle's row", lambda: row_of("Kettle temperature"))
        kettle_row = f'[data-testid=alarm-row][data-alarm-id="{kettle}"]'
        type_into(f"{kettle_row} [data-testid=ack-note-input]", "boil-over contained, lid cracked open")
        page.click(f"{kettle_row} [data-testid=ack-submit]")
        wait_until("the acknowledgement", lambda: page.script(
            "return document.querySelector(arguments[0])?.textContent ?? ''",
            f"{kettle_row} [data-testid=alarm-ack-note]"))
        glycol = wait_until("the glycol row", lambda: row_of("Glycol supply"))
        page.click(f'[data-testid=alarm-row][data-alarm-id="{glycol}"] [data-testid=shelve-button]')
        wait_until("the shelve dialog", lambda: page.find_all("[data-testid=shelve-dialog]"))
        type_into("[data-testid=shelve-minutes]", "30", "change")
        type_into("[data-testid=shelve-reason]", "glycol header valve being serviced")
        page.click("[data-testid=shelve-confirm]")
        page.click("[data-testid=alarms-filter-shelved]")
        wait_until("the shelved row", lambda: page.find_all("[data-testid=shelved-row]"))
        time.sleep(1)  # a paint after the DOM update
        page.screenshot(os.path.join(out, "shelved.png"))
        page.click("[data-testid=alarms-filter-active]")

        page.click("[data-testid=tab-journal]")
        page.click("[data-testid=journal-subtab-log]")
        type_into("[data-testid=note-input]", "FV-2 dry hopped, 4 kg Citra; next gravity reading at 14:00")
        page.click("[data-testid=note-submit]")
        wait_until("the note listed", lambda: page.find_all("[data-testid=note-row]"))
        page.click("[data-testid=journal-subtab-entries]")
        wait_until("the journal's rows", lambda: len(page.find_all("[data-testid=journal-row]")) >= 5)
        time.sleep(1)
        page.screenshot(os.path.join(out, "journal.png"))
        page.click("[data-testid=journal-subtab-health]")
        wait_until("alarm health", lambda: page.find_all("[data-testid=alarm-health-rating]"))
        time.sleep(1)
        page.screenshot(os.path.join(out, "health.png"))
        page.click("[data-testid=tab-alarms]")

        for css in ["[data-testid=tab-settings]", "[data-testid=settings]"]:
            try:
                page.click(css)
                break
            except RuntimeError:
                continue
        time.sleep(1)
        page.screenshot(os.path.join(out, "settings.png"))

        plant.terminate()
        plant.wait(timeout=20)
        wait_until("reconnecting", lambda: page.attr("[data-testid=link-badge]", "data-state") == "reconnecting")
        time.sleep(1)
        page.screenshot(os.path.join(out, "reconnecting.png"))
    finally:
        if page:
            page.close()
        driver.stop()
        if plant.poll() is None:
            plant.terminate()
    with open(os.path.join(out, "figures.json"), "w") as f:
        json.dump(figures, f, indent=2)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
