#!/usr/bin/env bash
# The end-to-end suite: every scenario of tests/e2e/scenarios on the built app, inside the
# current desktop, which must already be private (an X display, a private D-Bus session and a
# throwaway HOME: ./dev's with_desktop gives all three). Starts the Secret Service
# (gnome-keyring, unlocked), a notification daemon (dunst) and a monitor of its Notify calls,
# then runs the scenarios with node --test; each scenario starts its own plant and its own app
# session through tauri-driver.
#
#   tests/e2e/run.sh APP PLANT ARTIFACTS [node --test args...]
#
# e.g. from the repo root (after npm ci in tests/e2e):
#   source <(sed -n '/^log()/,/^}/p;/^die()/,/^}/p;/^with_desktop()/,/^}/p' dev)
#   DESKTOP_HOME=/tmp/e2e-home TAURI_DRIVER=$(command -v tauri-driver) with_desktop \
#     tests/e2e/run.sh target/debug/brewdeck target/debug/brewdeck-plant target/e2e
#
# Exits non-zero when a scenario fails; a failed scenario leaves a screenshot, the page, the
# app's log, the plant's log and the notifications in ARTIFACTS/failed/<scenario>.
set -euo pipefail

[ $# -ge 3 ] || { echo "usage: $0 APP PLANT ARTIFACTS [node --test args...]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
app=$(realpath "$1")
plant=$(realpath "$2")
mkdir -p "$3"
artifacts=$(realpath "$3")
shift 3

[ -n "${DISPLAY:-}" ] || { echo "no DISPLAY: run inside with_desktop (Xvfb)" >&2; exit 2; }
[ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || { echo "no private D-Bus session: run inside dbus-run-session" >&2; exit 2; }
[ -x "$app" ] && [ -x "$plant" ] || { echo "not executable: $app or $plant" >&2; exit 2; }
[ -d "$here/node_modules/webdriverio" ] || { echo "run npm ci in $here first" >&2; exit 2; }

rm -rf "$artifacts/failed" "$artifacts/work"
mkdir -p "$artifacts/work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# A private home for the keyring's files (with_desktop's HOME is already a throwaway one).
export XDG_DATA_HOME=${XDG_DATA_HOME:-$HOME/.local/share}
mkdir -p "$XDG_DATA_HOME"

# The Secret Service, unlocked, on this session bus.
eval "$(echo -n test-pass | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
[ -n "${GNOME_KEYRING_PID:-}" ] && pids+=("$GNOME_KEYRING_PID")

# A notification daemon owning org.freedesktop.Notifications, and a record of every Notify.
dunst >"$artifacts/dunst.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.Notifications 2>/dev/null | grep -q true && break
  sleep 0.1
done
notify_log=$artifacts/notify.log
dbus-monitor --session "type=method_call,interface=org.freedesktop.Notifications,member=Notify" >"$notify_log" 2>&1 &
pids+=($!)
# The monitor's first line (its own NameAcquired) says its match rule is in place.
for _ in $(seq 100); do [ -s "$notify_log" ] && break; sleep 0.1; done
[ -s "$notify_log" ] || { echo "dbus-monitor did not start" >&2; exit 1; }

export BREWDECK_APP=$app BREWDECK_PLANT=$plant E2E_ARTIFACTS=$artifacts E2E_NOTIFY_LOG=$notify_log
export BREWDECK_CLI=${BREWDECK_CLI:-$(dirname "$plant")/brewdeck-cli}
export TAURI_DRIVER=${TAURI_DRIVER:-$(command -v tauri-driver)}
export WEBKIT_DISABLE_DMABUF_RENDERER=1

status=0
started=$SECONDS
(cd "$here" && node --test --test-concurrency=1 --test-reporter=spec "$@" scenarios/) || status=$?
echo "e2e: $((SECONDS - started)) s" >&2
if [ $status -ne 0 ]; then
  echo "e2e: FAILED; screenshots and logs of the failed scenarios: $artifacts/failed" >&2
fi
exit $status
