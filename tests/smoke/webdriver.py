"""A minimal W3C WebDriver client (standard library only) for the app's window checks, and
tauri-driver's lifecycle. Shared by demo_window.py and tour.py."""

import base64
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

WAIT_S = 60
# Set by Driver to the port it chose.
DRIVER = "http://127.0.0.1:4444"


def free_port():
    """A loopback port free now, so two suites on one machine never collide."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(DRIVER + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=WAIT_S) as resp:
            return json.loads(resp.read() or b"{}").get("value")
    except urllib.error.HTTPError as e:
        raise RuntimeError(f"{method} {path}: {e.code} {e.read()[:500]!r}") from None
    except (urllib.error.URLError, ConnectionError) as e:  # the driver is not up yet
        raise RuntimeError(f"{method} {path}: {e}") from None


def wait_until(what, probe, wait_s=WAIT_S):
    """Polls the page (WebDriver has no push) until probe() returns a truthy value."""
    deadline = time.monotonic() + wait_s
    last = None
    while time.monotonic() < deadline:
        try:
            last = probe()
            if last:
                return last
        except RuntimeError as e:  # the element is not there yet
            last = e
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what} (last: {last})")


class Driver:
    """tauri-driver (and the WebKitWebDriver it starts), ended with its process group."""

    def __init__(self, log_path):
        global DRIVER
        port, native = free_port(), free_port()
        DRIVER = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen([os.environ.get("TAURI_DRIVER", "tauri-driver"),
                                      "--port", str(port), "--native-port", str(native)],
                                     stdout=open(log_path, "w"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        wait_until("tauri-driver", lambda: call("GET", "/status") is not None)

    def session(self, app, args=()):
        return Session(call("POST", "/session", {"capabilities": {"alwaysMatch": {
            "browserName": "wry",
            "tauri:options": {"application": app, "args": list(args)},
        }}})["sessionId"])

    def stop(self):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=20)


class Session:
    def __init__(self, sid):
        self.s = f"/session/{sid}"

    def find(self, css):
        el = call("POST", f"{self.s}/element", {"using": "css selector", "value": css})
        return list(el.values())[0]

    def find_all(self, css):
        return call("POST", f"{self.s}/elements", {"using": "css selector", "value": css})

    def text(self, css):
        return call("GET", f"{self.s}/element/{self.find(css)}/text")

    def attr(self, css, name):
        return call("GET", f"{self.s}/element/{self.find(css)}/attribute/{name}")

    def click(self, css):
        call("POST", f"{self.s}/element/{self.find(css)}/click", {})

    def script(self, source, *args):
        return call("POST", f"{self.s}/execute/sync", {"script": source, "args": list(args)})

    def script_async(self, source, *args):
        return call("POST", f"{self.s}/execute/async", {"script": source, "args": list(args)})

    def screenshot(self, path):
        with open(path, "wb") as f:
            f.write(base64.b64decode(call("GET", f"{self.s}/screenshot")))
        return path

    def close(self):
        try:
            call("DELETE", self.s)
        except Exception:  # the app may already be gone; the driver goes next
            pass


APP_PROCESSES = {"brewdeck", "WebKitWebProces", "WebKitNetworkPr"}


def pss_mib(names=APP_PROCESSES):
    """PSS summed over the app's processes (WebKit's included), from /proc/PID/smaps_rollup:
    shared pages are counted once, unlike VmRSS sums."""
    total_kib = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() not in names:
                    continue
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total_kib += int(line.split()[1])
        except OSError:
            continue
    return round(total_kib / 1024, 1)
