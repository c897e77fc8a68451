#!/usr/bin/env python3
"""Merges the sub-benchmarks' OUT/<name>.json into OUT/summary.json, with the machine's
context, and prints the table (each figure against its target: PASS, MISS, or missing).

  python3 benches/summary.py OUT [--seconds N]
"""

import argparse
import datetime
import json
import os
import platform
import subprocess

SOURCES = ["ingest", "recovery", "history", "delivery", "notify", "memory", "churn"]

# key, what, unit, (op, target) or None, source
ROWS = [
    ("ingest_ratio", "link ingest rate / bare tokio-tungstenite+serde_json", "x", (">=", 0.80), "ingest"),
    ("delivery_p99_ms_10k", "plant send -> webview handler p99 at 10k/s", "ms", ("<=", 100), "delivery"),
    ("batches_per_s_10k", "batches (flushes of latest values) per s at 10k/s", "/s", ("<=", 20), "delivery"),
    ("recover_restart_s", "plant crashed, back after 1/5/30 s -> synced, median", "s", ("<=", 1), "recovery"),
    ("recover_restart_worst_s", "  worst of those", "s", ("<=", 2), "recovery"),
    ("recover_announced_s", "  restart announced (reconnect), median", "s", None, "recovery"),
    ("recover_halfopen_s", "half-open link (stranded) -> synced anew, median", "s", ("<=", 12.5), "recovery"),
    ("recover_blackhole_s", "  every packet dropped -> noticed dead, median", "s", ("<=", 12.5), "recovery"),
    ("history_query_30d_ms", "plant answers 30 d of 1 endpoint in 1000 points (store: 500 endpoints x 30 d x 1 Hz), p99", "ms", ("<=", 50), "history"),
    ("desk_trend_30d_ms", "the same from the desk's record (DeskRecord::trend), p99", "ms", ("<=", 50), "history"),
    ("history_ingest_per_s", "plant historian: readings stored per s in a 50k/s flood (60 s)", "/s", (">=", 49000), "history"),
    ("history_ingest_dropped", "  readings the historian dropped in it", "", ("<=", 0), "history"),
    ("store_cap_days_demo", "days of the demo plant the desk's default size cap holds", "d", (">=", 400), "history"),
    ("notify_p99_ms", "alarm raised -> Notify on the bus, p99", "ms", ("<=", 250), "notify"),
    ("idle_pss_mb", "PSS idle on a plant server (app + WebKit)", "MiB", None, "memory"),
    ("idle_pss_ratio", "idle PSS / hello-world's", "x", ("<=", 1.25), "memory"),
    ("churn_pss_growth_mb", "PSS growth over an hour-equivalent of churn", "MiB", ("<=", 5), "churn"),
    ("cpu_ratio", "CPU, demo plant streaming / hello-world at 10 Hz", "x", ("<=", 2), "memory"),
    # Context for the figures above.
    ("delivery_p50_ms_10k", "  p50 at 10k/s", "ms", None, "delivery"),
    ("readings_events_per_s_10k", "  readings events per s at 10k/s (a batch split under 8 KiB each)", "/s", None, "delivery"),
    ("bytes_per_event_10k", "  bytes per event at 10k/s", "B", None, "delivery"),
    ("bytes_per_event_max_10k", "  largest event at 10k/s", "B", None, "delivery"),
    ("delivery_cpu_pct_10k", "  CPU of app + WebKit at 10k/s (% of a core)", "%", None, "delivery"),
    ("delivery_p50_ms_1k", "  p50 at 1k/s", "ms", None, "delivery"),
    ("delivery_p99_ms_1k", "  p99 at 1k/s", "ms", None, "delivery"),
    ("batches_per_s_1k", "  batches per s at 1k/s", "/s", None, "delivery"),
    ("readings_events_per_s_1k", "  readings events per s at 1k/s", "/s", None, "delivery"),
    ("bytes_per_event_1k", "  bytes per event at 1k/s", "B", None, "delivery"),
    ("delivery_cpu_pct_1k", "  CPU at 1k/s", "%", None, "delivery"),
    ("delivery_p50_ms_50k", "  p50 at 50k/s", "ms", None, "delivery"),
    ("delivery_p99_ms_50k", "  p99 at 50k/s", "ms", None, "delivery"),
    ("batches_per_s_50k", "  batches per s at 50k/s", "/s", None, "delivery"),
    ("readings_events_per_s_50k", "  readings events per s at 50k/s", "/s", None, "delivery"),
    ("bytes_per_event_50k", "  bytes per event at 50k/s", "B", None, "delivery"),
    ("delivery_cpu_pct_50k", "  CPU at 50k/s", "%", None, "delivery"),
    ("history_query_30d_p50_ms", "  plant history p50", "ms", None, "history"),
    ("desk_trend_30d_p50_ms", "  desk trend p50", "ms", None, "history"),
    ("history_fill_s", "  filling the plant's 30-day store (0: reused)", "s", None, "history"),
    ("history_fanout_per_s", "  readings per s reaching a client during the flood", "/s", None, "history"),
    ("store_bytes_per_endpoint_day_1hz", "  desk record bytes per endpoint-day, 1 Hz", "B", None, "history"),
    ("store_bytes_per_endpoint_day_demo", "  desk record bytes per further endpoint-day, demo plant (4 Hz)", "B", None, "history"),
    ("store_fixed_demo_mb", "  desk record's fixed cost for the demo plant (24 h per second)", "MB", None, "history"),
    ("notify_p50_ms", "  notify p50", "ms", None, "notify"),
    ("notify_samples", "  notify samples", "", None, "notify"),
    ("hello_pss_mb", "  hello-world PSS (app + WebKit)", "MiB", None, "memory"),
    ("idle_pss_demo_mb", "  PSS idle in demo mode (the simulated plant inside)", "MiB", None, "memory"),
    ("idle_pss_demo_ratio", "  demo-mode PSS / hello-world's", "x", None, "memory"),
    ("cpu_plant_server_pct", "  Brewdeck CPU on a plant server (% of a core)", "%", None, "memory"),
    ("cpu_plant_server_ratio", "  that / hello-world's", "x", None, "memory"),
    ("cpu_pct", "  Brewdeck CPU on the demo plant (% of a core)", "%", None, "memory"),
    ("hello_cpu_pct", "  hello-world CPU, 10 page updates/s", "%", None, "memory"),
    ("churn_pss_before_mb", "  churn: PSS before", "MiB", None, "churn"),
    ("churn_pss_after_mb", "  churn: PSS after", "MiB", None, "churn"),
    ("churn_app_process_growth_mb", "  churn: growth of the app's own process (no WebKit)", "MiB", None, "churn"),
    ("churn_pss_growth_from_fresh_mb", "  churn: growth from a fresh start (flood catalog included)", "MiB", None, "churn"),
    ("hour_equivalent_readings", "  churn: readings (an hour of the demo plant)", "", None, "churn"),
]


def run(*argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def context(seconds):
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f
                        if line.startswith("model name")), "")
    except OSError:
        pass
    mem_kib = 0
    try:
        with open("/proc/meminfo") as f:
            mem_kib = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
    except (OSError, StopIteration):
        pass
    webkit = (run("pkg-config", "--modversion", "webkit2gtk-4.1")
              or run("dpkg-query", "-W", "-f=${Version}", "libwebkit2gtk-4.1-0"))
    distro = ""
    try:
        with open("/etc/os-release") as f:
            distro = next((line.split("=", 1)[1].strip().strip('"') for line in f
                           if line.startswith("PRETTY_NAME=")), "")
    except OSError:
        pass
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu or platform.processor(),
        "cores": os.cpu_count(),
        "ram_gib": round(mem_kib / 1024 / 1024, 1),
        "os": distro,
        "kernel": platform.release(),
        "rustc": run("rustc", "--version"),
        "webkitgtk": webkit,
        "tauri": tauri_version(),
        "profile": "release (lto=thin, codegen-units=4); benches: bench profile",
        "commit": run("git", "rev-parse", "--short", "HEAD") + (" (+ local changes)" if run("git", "status", "--porcelain") else ""),
        "run_seconds": seconds,
    }


def tauri_version():
    try:
        with open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Cargo.lock")) as f:
            text = f.read()
        i = text.index('name = "tauri"\nversion = "')
        return text[i:].split('"')[3]
    except (OSError, ValueError, IndexError):
        return ""


def verdict(value, target):
    if value is None:
        return "missing"
    if target is None:
        return ""
    op, t = target
    ok = value >= t if op == ">=" else value <= t
    return "PASS" if ok else "MISS"


def fmt(v):
    if v is None:
        return "missing"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int) or (isinstance(v, float) and abs(v) >= 1000):
        return f"{v:,.0f}"
    if isinstance(v, float):
        return f"{v:.2f}" if abs(v) < 10 else f"{v:.1f}"
    return str(v)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--seconds", type=int, default=None)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    figures, present = {}, []
    for name in SOURCES:
        path = os.path.join(a.out, f"{name}.json")
        if os.path.exists(path):
            with open(path) as f:
                figures.update(json.load(f))
            present.append(name)
    ctx = context(a.seconds)
    results = {}
    for key, _, _, target, _ in ROWS:
        v = figures.get(key)
        if target is not None or v is None:
            results[key] = verdict(v, target) or "info"
    summary = {"context": ctx, "sources": present, "verdicts": results}
    for key, *_ in ROWS:
        summary.setdefault(key, figures.get(key))
    for k, v in figures.items():
        summary.setdefault(k, v)
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")

    print()
    print("Brewdeck benchmarks")
    for k in ["date", "cpu", "cores", "ram_gib", "os", "kernel", "rustc", "webkitgtk", "tauri",
              "profile", "commit", "run_seconds"]:
        label = {"ram_gib": "RAM (GiB)", "run_seconds": "run time (s)"}.get(k, k)
        print(f"  {label:<13} {ctx.get(k)}")
    print()
    w = max(len(r[1]) for r in ROWS)
    print(f"  {'figure':<{w}}  {'value':>10}  {'unit':<4}  {'target':<8}  result   key")
    print(f"  {'-' * w}  {'-' * 10}  {'-' * 4}  {'-' * 8}  -------  ---")
    for key, what, unit, target, _ in ROWS:
        v = figures.get(key)
        t = f"{target[0]} {target[1]:g}" if target else ""
        print(f"  {what:<{w}}  {fmt(v):>10}  {unit:<4}  {t:<8}  {verdict(v, target):<7}  {key}")
    counts = [verdict(figures.get(k), t) for k, _, _, t, _ in ROWS if t is not None]
    print()
    print(f"  targets: {counts.count('PASS')} PASS, {counts.count('MISS')} MISS, "
          f"{counts.count('missing')} missing")
    print(f"  written: {os.path.join(a.out, 'summary.json')}")


if __name__ == "__main__":
    main()
