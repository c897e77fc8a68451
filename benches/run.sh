#!/usr/bin/env bash
# Brewdeck's figures in one command: builds (release), runs every sub-benchmark, prints a table
# with the machine's context and writes target/bench/summary.json. About 12 minutes here.
#
#   benches/run.sh [--no-build] [--only LIST] [-- WEBVIEW ARGS...]
#
#   LIST: comma-separated among ingest,recovery,history,delivery,notify,memory,churn (default: all).
#   WEBVIEW ARGS go to benches/webview.py (e.g. --delivery-s 30 --notify-launches 10).
#
# Sub-benchmarks, each writing target/bench/<name>.json, merged by benches/summary.py:
#   ingest    cargo bench -p brewdeck-link --bench ingest
#   recovery  cargo bench -p brewdeck-link --bench recovery (kills and restarts the release plant)
#   history   cargo bench -p brewdeck-station --bench history (fills 30-day stores in target/bench
#             once, then queries them; floods a plant's historian for 60 s)
#   delivery, notify, memory, churn: benches/webview.py, on a desktop of its own (Xvfb, a
#             private D-Bus session, a throwaway HOME; WEBKIT_DISABLE_DMABUF_RENDERER=1)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/target/bench
build=1
only=ingest,recovery,history,delivery,notify,memory,churn
webview_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --only) only=$2; shift ;;
    --) shift; webview_args=("$@"); break ;;
    -h|--help) sed -n '2,14p' "$0" | cut -c3-; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
wants() { [[ ",$only," == *",$1,"* ]]; }

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf '\033[1;31mxx> %s\033[0m\n' "$*" >&2; exit 1; }

# The same desktop as ./dev's with_desktop: a virtual X display, a private D-Bus session and a
# throwaway home.
with_desktop() {
  local home=$DESKTOP_HOME display_file xvfb status=0
  rm -rf "$home" && mkdir -p "$home/run" && chmod 700 "$home/run"
  display_file=$(mktemp)
  Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp -ac 3>"$display_file" 2>/dev/null &
  xvfb=$!
  for _ in $(seq 100); do [ -s "$display_file" ] && break; sleep 0.1; done
  [ -s "$display_file" ] || die "Xvfb did not start"
  DISPLAY=":$(cat "$display_file")" HOME="$home" XDG_CONFIG_HOME="$home/config" \
    XDG_DATA_HOME="$home/data" XDG_CACHE_HOME="$home/cache" XDG_RUNTIME_DIR="$home/run" \
    WEBKIT_DISABLE_DMABUF_RENDERER=1 \
    dbus-run-session -- "$@" || status=$?
  kill "$xvfb" 2>/dev/null || true
  rm -f "$display_file"
  return $status
}

started=$SECONDS
mkdir -p "$out"
# Fresh figures only: a figure left from an earlier run would pass for this one's.
for name in ${only//,/ }; do rm -f "$out/$name.json"; done
rm -f "$out/summary.json"

if [ $build -eq 1 ]; then
  if [ ! -f ui/dist/index.html ] || [ -n "$(find ui/src ui/index.html ui/package.json -newer ui/dist/index.html 2>/dev/null | head -1)" ]; then
    log "ui: build (ui/dist is missing or older than ui/src)"
    (cd ui && { [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error; } && npm run build)
  fi
  log "cargo build --release (brewdeck, brewdeck-plant, brewdeck-hello)"
  cargo build --release -p brewdeck -p brewdeck-plant -p brewdeck-hello
fi
app=$root/target/release/brewdeck
plant=$root/target/release/brewdeck-plant
hello=$root/target/release/brewdeck-hello
for b in "$app" "$plant" "$hello"; do [ -x "$b" ] || die "missing $b: run without --no-build"; done

failed=()
if wants ingest; then
  log "ingest: cargo bench -p brewdeck-link --bench ingest"
  BENCH_DIR=$out cargo bench -p brewdeck-link --bench ingest || failed+=(ingest)
fi
if wants recovery; then
  if [ -f src-tauri/crates/link/benches/recovery.rs ]; then
    log "recovery: cargo bench -p brewdeck-link --bench recovery"
    BENCH_DIR=$out cargo bench -p brewdeck-link --bench recovery || failed+=(recovery)
  else
    log "recovery: no src-tauri/crates/link/benches/recovery.rs yet; its figures will show as missing"
  fi
fi
if wants history; then
  log "history: cargo bench -p brewdeck-station --bench history"
  BENCH_DIR=$out cargo bench -p brewdeck-station --bench history || failed+=(history)
fi
desktop=()
for name in delivery notify memory churn; do wants $name && desktop+=("$name"); done
if [ ${#desktop[@]} -gt 0 ]; then
  log "webview: ${desktop[*]} (Xvfb, private D-Bus session; logs under $out/webview/work)"
  desktop_list=$(IFS=,; echo "${desktop[*]}")
  DESKTOP_HOME=$out/webview/home TAURI_DRIVER=$(command -v tauri-driver) \
    with_desktop python3 benches/webview.py "$app" "$plant" "$hello" "$out/webview" \
      --only "$desktop_list" ${webview_args[@]+"${webview_args[@]}"} || failed+=(webview)
  for name in "${desktop[@]}"; do
    [ -f "$out/webview/$name.json" ] && mv "$out/webview/$name.json" "$out/$name.json"
  done
fi

log "summary ($((SECONDS - started)) s in all)"
python3 benches/summary.py "$out" --seconds $((SECONDS - started))
if [ ${#failed[@]} -gt 0 ]; then
  die "some benches did not run to the end: ${failed[*]} (their figures show as missing)"
fi
