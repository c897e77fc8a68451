#!/usr/bin/env python3
"""The real app window on the demo plant, checked through WebDriver.

Starts tauri-driver (which starts the app through WebKitWebDriver), then checks what an
operator sees on first launch: the DEMO banner, the connection badge reaching "connected",
and live values that change; and that a second launch hands over to the first. Saves a
screenshot. Run it under Xvfb and a private D-Bus session (./dev test does):
python3 demo_window.py APP_BINARY ARTIFACT_DIR
"""

import os
import subprocess
import sys

from webdriver import WAIT_S, Driver, pss_mib, wait_until


def main():
    app, artifacts = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    os.makedirs(artifacts, exist_ok=True)
    driver = Driver(os.path.join(artifacts, "tauri-driver.log"))
    page = None
    try:
        page = driver.session(app)
        banner = wait_until("the DEMO banner", lambda: page.text("[data-testid=demo-banner]"))
        assert "DEMO" in banner, banner
        wait_until("the link to connect",
                   lambda: page.attr("[data-testid=link-badge]", "data-state") == "connected")
        badge = page.text("[data-testid=link-badge]")
        first = wait_until("a live value", lambda: page.text("[data-testid=tile-value]"))
        # The first tile is the hot liquor tank's temperature: it moves every tick.
        changed = wait_until("the value to change",
                             lambda: (v := page.text("[data-testid=tile-value]")) != first and v)
        tiles = page.find_all("[data-testid=tile]")
        assert len(tiles) >= 20, f"only {len(tiles)} tiles"
        # Only one instance runs: a second launch hands over to this one and exits.
        second = subprocess.run([app], timeout=WAIT_S, capture_output=True)
        assert second.returncode == 0, f"second launch: {second.returncode} {second.stderr[-2000:]!r}"
        assert "DEMO" in page.text("[data-testid=demo-banner]"), "the first instance is gone"
        path = page.screenshot(os.path.join(artifacts, "demo.png"))
        memory = pss_mib()
        print(f"demo window OK (a second launch exited, the first stayed): banner {banner!r}, "
              f"badge {badge!r}, {len(tiles)} tiles, first value {first!r} -> {changed!r}; "
              f"screenshot {path}; memory {memory} MiB PSS (app and WebKit processes)")
    finally:
        if page:
            page.close()
        driver.stop()


if __name__ == "__main__":
    main()
