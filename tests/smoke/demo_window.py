#!/usr/bin/env python3
"""The real app window on the demo plant, checked through WebDriver.

Starts tauri-driver (which starts the app through WebKitWebDriver), then checks what an
operator sees on first launch: the DEMO banner, the connection badge reaching "connected",
and live values that change. Saves a screenshot. Run it under Xvfb and a private D-Bus
session (./dev test does): python3 demo_window.py APP_BINARY ARTIFACT_DIR

Standard library only: a few W3C WebDriver calls need no client package.
"""

import base64
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

DRIVER = "http://127.0.0.1:4444"
WAIT_S = 60


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


def wait_until(what, probe):
    """Polls the page (WebDriver has no push) until probe() returns a truthy value."""
    deadline = time.monotonic() + WAIT_S
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


def main():
    app, artifacts = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    os.makedirs(artifacts, exist_ok=True)
    driver_bin = os.environ.get("TAURI_DRIVER", "tauri-driver")
    driver = subprocess.Popen([driver_bin, "--port", "4444"],
                              stdout=open(os.path.join(artifacts, "tauri-driver.log"), "w"),
                              stderr=subprocess.STDOUT, start_new_session=True)
    session = None
    try:
        wait_until("tauri-driver", lambda: call("GET", "/status") is not None)
        session = call("POST", "/session", {"capabilities": {"alwaysMatch": {
            "browserName": "wry",
            "tauri:options": {"application": app},
        }}})["sessionId"]
        s = f"/session/{session}"

        def find(css):
            return call("POST", f"{s}/element", {"using": "css selector", "value": css})

        def text(css):
            el = find(css)
            return call("GET", f"{s}/element/{list(el.values())[0]}/text")

        def attr(css, name):
            el = find(css)
            return call("GET", f"{s}/element/{list(el.values())[0]}/attribute/{name}")

        banner = wait_until("the DEMO banner", lambda: text("[data-testid=demo-banner]"))
        assert "DEMO" in banner, banner
        wait_until("the link to connect",
                   lambda: attr("[data-testid=link-badge]", "data-state") == "connected")
        badge = text("[data-testid=link-badge]")
        first = wait_until("a live value", lambda: text("[data-testid=tile-value]"))
        # The first tile is the hot liquor tank's temperature: it moves every tick.
        changed = wait_until("the value to change",
                             lambda: (v := text("[data-testid=tile-value]")) != first and v)
        tiles = call("POST", f"{s}/elements", {"using": "css selector",
                                               "value": "[data-testid=tile]"})
        assert len(tiles) >= 20, f"only {len(tiles)} tiles"
        # Only one instance runs: a second launch hands over to this one and exits.
        second = subprocess.run([app], timeout=WAIT_S, capture_output=True)
        assert second.returncode == 0, f"second launch: {second.returncode} {second.stderr[-2000:]!r}"
        assert "DEMO" in text("[data-testid=demo-banner]"), "the first instance is gone"
        shot = call("GET", f"{s}/screenshot")
        path = os.path.join(artifacts, "demo.png")
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot))
        print(f"demo window OK (a second launch exited, the first stayed): banner {banner!r}, badge {badge!r}, {len(tiles)} tiles, "
              f"first value {first!r} -> {changed!r}; screenshot {path}")
    finally:
        if session:
            try:
                call("DELETE", f"/session/{session}")
            except Exception:  # the app may already be gone; the driver goes next
                pass
        # tauri-driver leaves WebKitWebDriver behind: end its whole process group.
        try:
            os.killpg(driver.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        driver.wait(timeout=20)


if __name__ == "__main__":
    main()
