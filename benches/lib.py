"""Shared pieces of the webview benches (benches/webview.py): the apps and plants they start,
and what they read from /proc. Standard library only; the WebDriver client is
tests/smoke/webdriver.py.

Every figure about "the app" covers the app's process and its descendants (WebKit's web and
network processes), found by walking /proc from the pid this script started, so other apps
running on the machine at the same time are never counted."""

import base64
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "smoke"))

import webdriver  # noqa: E402  (tests/smoke/webdriver.py)

CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(*args):
    print("bench:", *args, file=sys.stderr, flush=True)


# ----- /proc -----

def _stat(pid):
    """(ppid, utime + stime ticks, comm) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    head, tail = text.rsplit(")", 1)
    fields = tail.split()
    return int(fields[1]), int(fields[11]) + int(fields[12]), head.split("(", 1)[1]


def tree(root):
    """The pids of root and all its descendants."""
    children = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        s = _stat(pid)
        if s:
            children.setdefault(s[0], []).append(int(pid))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        if _stat(pid) is None:
            continue
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def comms(pids):
    return sorted((_stat(p) or (0, 0, "?"))[2] for p in pids)


def pss_mib(pids):
    """PSS summed over these processes (/proc/PID/smaps_rollup): shared pages counted once."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            continue
    return total / 1024


def pss_by_process(root):
    """{command name: MiB} over root's tree (same names summed)."""
    out = {}
    for pid in tree(root):
        name = (_stat(pid) or (0, 0, "?"))[2]
        out[name] = round(out.get(name, 0) + pss_mib([pid]), 1)
    return out


def cpu_ticks(pids):
    return {p: s[1] for p in pids if (s := _stat(p))}


def pss_settled(root, samples=5, every=1.0):
    """The median of a few PSS samples, a second apart."""
    values = []
    for i in range(samples):
        if i:
            time.sleep(every)
        values.append(pss_mib(tree(root)))
    return statistics.median(values), values


def pss_timeline(root, seconds, every=2.0):
    """PSS every `every` s for `seconds`: [(t, MiB, {command name: MiB})]."""
    start, out = time.monotonic(), []
    while True:
        t = time.monotonic() - start
        by = pss_by_process(root)
        out.append((round(t, 1), round(sum(by.values()), 1), by))
        if t + every > seconds:
            return out
        time.sleep(every)


def cpu_by_process(root, seconds):
    """CPU of root's tree over `seconds` in % of one core: (total, {command name: %})."""
    def snap():
        return {p: (s[1], s[2]) for p in tree(root) if (s := _stat(p))}
    t0, c0 = time.monotonic(), snap()
    time.sleep(seconds)
    c1, t1 = snap(), time.monotonic()
    by = {}
    for p, (ticks, name) in c1.items():
        by[name] = by.get(name, 0) + ticks - c0.get(p, (0, name))[0]
    scale = 100 / CLK_TCK / (t1 - t0)
    return sum(by.values()) * scale, {k: round(v * scale, 2) for k, v in by.items()}


def quantile(xs, q):
    xs = sorted(xs)
    if not xs:
        return None
    return xs[min(len(xs) - 1, int(q * len(xs)))]


# ----- processes -----

def free_port():
    return webdriver.free_port()


class App:
    """An app started directly (no WebDriver), in a process group of its own."""

    def __init__(self, argv, log_path, env=None):
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdout=open(log_path, "a"), stderr=subprocess.STDOUT,
                                     start_new_session=True, env=env)

    @property
    def pid(self):
        return self.proc.pid

    def wait_window(self, timeout=60):
        """Until the webview's processes exist (WebKit starts them when the window loads)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.argv[0]} exited with {self.proc.returncode}")
            names = comms(tree(self.pid))
            if any(n.startswith("WebKitWebProces") for n in names):
                return names
            time.sleep(0.2)
        raise RuntimeError(f"{self.argv[0]}: no WebKit process after {timeout} s")

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)
        # The webview's processes are in the same group: wait for them to go too, so the next
        # launch (single-instance) and the next figure start clean.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class Plant:
    """A standalone brewdeck-plant with the admin API, on a given port or a free one."""

    def __init__(self, binary, out, token_file, port=0, flood=None, name="plant"):
        args = [binary, "--listen", f"127.0.0.1:{port}", "--token-file", token_file, "--admin"]
        if flood:
            args += ["--flood-endpoints", str(flood[0]), "--flood-rate", str(flood[1])]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                                     stderr=open(os.path.join(out, f"{name}.log"), "a"),
                                     start_new_session=True)
        line = self.proc.stdout.readline().decode().strip()
        if not line:
            raise RuntimeError(f"the plant did not start: see {out}/{name}.log")
        self.addr = line.split()[-1]
        self.port = int(self.addr.rsplit(":", 1)[1])
        self.url = f"ws://{self.addr}/ws"

    def http(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"http://{self.addr}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"null")

    def admin(self, path, body=None):
        return self.http("POST", path, body if body is not None else {})

    def connections(self):
        try:
            return self.http("GET", "/admin/stats").get("connections", 0)
        except OSError:
            return 0

    def wait_connected(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.connections() >= 1:
                return
            time.sleep(0.1)
        raise RuntimeError(f"no client connected to the plant at {self.addr} in {timeout} s")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def telemetry_rate(url, token, seconds=5.0, endpoints=400):
    """Telemetry messages per second a plant sends one client following endpoints 1..N: a
    minimal WebSocket client (RFC 6455, text frames only) over a plain socket."""
    host, port = url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               f"Authorization: Bearer {token}\r\n\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            raise RuntimeError("the plant closed the WebSocket handshake")
        buf += chunk
    head, buf = buf.split(b"\r\n\r\n", 1)
    if b" 101 " not in head.split(b"\r\n")[0]:
        raise RuntimeError(f"WebSocket refused: {head[:200]!r}")

    def send(obj):
        payload = json.dumps(obj).encode()
        mask = os.urandom(4)
        n = len(payload)
        header = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else
                                  bytes([0x80 | 126]) + n.to_bytes(2, "big") if n < 65536 else
                                  bytes([0x80 | 127]) + n.to_bytes(8, "big"))
        s.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    send({"type": "subscribe", "channel": "telemetry", "endpointIds": list(range(1, endpoints + 1))})

    def frames():
        nonlocal buf
        while True:
            while len(buf) < 2 or len(buf) < _frame_len(buf):
                chunk = s.recv(65536)
                if not chunk:
                    return
                buf += chunk
            n = _frame_len(buf)
            frame, buf = buf[:n], buf[n:]
            yield frame[0] & 0x0F, frame[_header_len(frame):]

    start = time.monotonic()
    warm, count = start + 1.0, 0  # the first second holds the current values of everything
    for opcode, payload in frames():
        now = time.monotonic()
        if now >= warm + seconds:
            break
        if opcode == 1 and now >= warm and b'"type":"telemetry"' in payload:
            count += 1
    s.close()
    return count / seconds


def _header_len(b):
    n = b[1] & 0x7F
    return 2 + (2 if n == 126 else 8 if n == 127 else 0) + (4 if b[1] & 0x80 else 0)


def _frame_len(b):
    if len(b) < 2:
        return 2
    n = b[1] & 0x7F
    if n == 126:
        if len(b) < 4:
            return 4
        n = int.from_bytes(b[2:4], "big")
    elif n == 127:
        if len(b) < 10:
            return 10
        n = int.from_bytes(b[2:10], "big")
    return _header_len(b) + n


def write_json(out_dir, name, figures):
    path = os.path.join(out_dir, f"{name}.json")
    with open(path, "w") as f:
        json.dump(figures, f, indent=2)
        f.write("\n")
    log(f"{name}: {json.dumps(figures)}")
    return path
