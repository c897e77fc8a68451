#!/usr/bin/env bash
# WebSocket conformance: the Autobahn TestSuite's client cases, served by kosoku (the Autobahn
# case files under a native runner), against a client that opens its sockets with the link's
# own code (brewdeck_link::open_socket: the link's WebSocket configuration and connector).
# The verdicts (behavior and behaviorClose of each case) are compared with the committed
# tests/conformance/expected.json. See tests/conformance/README.md.
#
#   tests/conformance/run.sh            run, compare; exit 1 with a diff if the verdicts changed
#   tests/conformance/run.sh --update   run and rewrite expected.json
#
# Needs cargo and Python >= 3.10 with venv (Debian/Ubuntu: apt-get install python3 python3-venv).
# Installs kosoku, pinned by hash, into a venv in <cargo target dir>/conformance/venv, once.
# The full Autobahn report of the last run: <cargo target dir>/conformance/reports/index.html.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

usage() { echo "usage: $0 [--update]" >&2; }
update=0
case "${1:-}" in
  "") ;;
  --update) update=1 ;;
  -h | --help) usage; exit 0 ;;
  *) usage; exit 2 ;;
esac
[ $# -le 1 ] || { usage; exit 2; }

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'xx> %s\n' "$*" >&2; exit 1; }

started=$SECONDS
agent=brewdeck-link
python=${PYTHON:-python3}
command -v "$python" >/dev/null || die "$python not found: apt-get install python3 python3-venv"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
  die "kosoku needs Python >= 3.10; $python is $("$python" -V 2>&1)"
command -v cargo >/dev/null || die "cargo not found"

# CARGO_TARGET_DIR, like cargo, is relative to the current directory (the repo root).
target_dir=${CARGO_TARGET_DIR:-target}
mkdir -p "$target_dir/conformance"
target_dir=$(cd "$target_dir" && pwd)
work=$target_dir/conformance
venv=$work/venv
reports=$work/reports

# One run at a time in this tree: they share the venv and the report directory.
if command -v flock >/dev/null; then
  exec 9>"$work/.lock"
  flock -n 9 || { log "waiting for another conformance run in this tree"; flock 9; }
fi

# The venv, rebuilt only when the Python or the pinned requirements change. The stamp is
# written last, so an interrupted install is redone next time.
stamp=$venv/.brewdeck-stamp
want=$("$python" - "$here/requirements.txt" <<'EOF'
import hashlib, sys
print(sys.executable, sys.version.split()[0], hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())
EOF
)
if [ ! -x "$venv/bin/kosoku" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "installing kosoku (pinned by hash) into $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv" ||
    die "python3 -m venv failed: on Debian/Ubuntu, apt-get install python3-venv"
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install --quiet \
    --require-hashes --only-binary :all: -r "$here/requirements.txt"
  printf '%s\n' "$want" >"$stamp"
fi

log "building the client: cargo build -p brewdeck-link --example autobahn_client"
cargo build --locked --quiet -p brewdeck-link --example autobahn_client
client=$target_dir/debug/examples/autobahn_client
[ -x "$client" ] || die "no client at $client"

# The fuzzing server on a port of the system's choosing; it prints the one it got.
rm -rf "$reports"
mkdir -p "$reports"
server_log=$work/kosoku.log
PYTHONUNBUFFERED=1 "$venv/bin/kosoku" --mode fuzzingserver --outdir "$reports" 127.0.0.1:0 \
  >"$server_log" 2>&1 &
server=$!
cleanup() {
  if kill -0 "$server" 2>/dev/null; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
}
trap cleanup EXIT

port=
for _ in $(seq 300); do
  port=$(sed -n 's|.*listening on ws://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$server_log" | head -n1)
  [ -n "$port" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$server_log" >&2; die "kosoku did not start"; }
  sleep 0.1
done
[ -n "$port" ] || { cat "$server_log" >&2; die "kosoku did not say its port within 30 s"; }

log "running the Autobahn client cases against kosoku on 127.0.0.1:$port"
cases_started=$SECONDS
client_status=0
timeout 600 "$client" "ws://127.0.0.1:$port" --agent "$agent" || client_status=$?

# kosoku ends its run when the client asks for the reports; it exits 1 when any case is not
# OK, NON-STRICT or INFORMATIONAL (UNIMPLEMENTED included), so its status is not the verdict:
# the comparison with expected.json is.
server_status=
for _ in $(seq 600); do
  if ! kill -0 "$server" 2>/dev/null; then
    server_status=0
    wait "$server" || server_status=$?
    break
  fi
  sleep 0.1
done
if [ -z "$server_status" ] || [ "$server_status" -gt 1 ] || [ ! -s "$reports/index.json" ]; then
  tail -n 20 "$server_log" >&2
  die "kosoku wrote no report (client exit $client_status, kosoku exit ${server_status:-still running})"
fi
[ "$client_status" -eq 0 ] || log "the client exited $client_status: comparing what was reported"
log "cases ran in $((SECONDS - cases_started)) s; report: $reports/index.html"

fresh=$work/verdicts.json
"$venv/bin/python" "$here/report.py" reduce "$reports" "$agent" "$fresh"
if [ "$update" -eq 1 ]; then
  [ "$client_status" -eq 0 ] || die "not updating expected.json: the client exited $client_status"
  cp "$fresh" "$here/expected.json"
  "$venv/bin/python" "$here/report.py" summary "$fresh"
  log "wrote tests/conformance/expected.json in $((SECONDS - started)) s"
  exit 0
fi
status=0
"$venv/bin/python" "$here/report.py" compare "$here/expected.json" "$fresh" "$reports" || status=$?
[ "$client_status" -eq 0 ] || status=1
log "conformance $([ "$status" -eq 0 ] && echo passed || echo FAILED) in $((SECONDS - started)) s"
exit "$status"
