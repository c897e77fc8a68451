// What the operator sees, scenario by scenario, on the real app (see ../README.md).

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { App, SINK, Watcher, appRunning, scenario, secretToolLookup, sinkLevel, waitFor } from "../lib/harness.js";

/** The X map state of the top-level window titled `name` (IsViewable, IsUnMapped), or null. */
function windowMapState(name) {
  try {
    return /Map State: (\w+)/.exec(execFileSync("xwininfo", ["-name", name], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }))?.[1] ?? null;
  } catch {
    return null;
  }
}

const BADGE = "[data-testid=link-badge]";
const SERVICE = "com.brewdeck.desk";

/** Every tile's endpoint id and shown value. */
function tileValues(app) {
  return app.browser.execute(() =>
    Object.fromEntries([...document.querySelectorAll("[data-testid=tile]")].map((t) => [t.dataset.endpoint, t.querySelector("[data-testid=tile-value]")?.textContent])),
  );
}

/** Starts the app on a plant with the plant's token for this run, and waits for connected. */
async function connectedApp(ctx, plant) {
  const app = await ctx.startApp({ args: ["--server", plant.url], token: plant.token });
  await app.badge("connected");
  await waitFor("live values", async () => (await app.text("[data-testid=tile-value]")) !== "—" && app.text("[data-testid=tile-value]"));
  return app;
}

/** Clicks a switch of an endpoint (data-action on|off|open|close). */
async function press(app, id, action) {
  const button = await app.$(`${App.controls(id)} button[data-action=${action}]`);
  await button.waitForClickable({ timeout: 10_000 });
  await button.click();
}

async function phaseOf(app, id) {
  const el = await app.$(`${App.controls(id)} [data-testid=command-phase]`);
  if (!(await el.isExisting())) return null;
  return { phase: await el.getAttribute("data-phase"), text: await el.getText() };
}

scenario("first launch with no settings runs the demo plant", async (ctx) => {
  const app = await ctx.startApp();
  const banner = await waitFor("the DEMO banner", () => app.text("[data-testid=demo-banner]"));
  assert.match(banner, /DEMO/);
  await app.badge("connected");
  const before = await waitFor("values", async () => {
    const v = await tileValues(app);
    return Object.values(v).some((x) => x && x !== "—") && v;
  });
  assert.ok(Object.keys(before).length >= 20, `only ${Object.keys(before).length} tiles`);
  const changed = await waitFor("a value to change", async () => {
    const now = await tileValues(app);
    return Object.keys(now).find((k) => now[k] !== before[k]);
  });
  ctx.t.diagnostic(`banner ${JSON.stringify(banner)}; changed ${changed}`);
});

scenario("settings: server URL and token saved, connected, token in the keychain only", async (ctx) => {
  const plant = await ctx.startPlant();
  const app = await ctx.startApp(); // no settings: the demo plant
  await app.badge("connected");
  await app.openTab("settings");
  const url = await app.$("input[name=serverUrl]");
  await url.setValue(plant.url);
  await (await app.$("button=Save settings")).click();
  await waitFor("Settings saved.", async () => (await app.$("p.done=Settings saved.")).isExisting());
  // The demo banner goes; no token yet for this server.
  await waitFor("the DEMO banner to go", async () => !(await (await app.$("[data-testid=demo-banner]")).isExisting()));
  await (await app.$("[data-testid=token-input]")).setValue(plant.token);
  await (await app.$("button=Set token")).click();
  await waitFor("Token saved in the keychain.", async () => (await app.$("p.done=Token saved in the keychain.")).isExisting());
  const badge = await app.badge("connected");
  assert.match(badge, /Connected/);
  assert.equal(await app.attr("[data-testid=token-status]", "data-source"), "keychain");
  assert.match(await app.text("footer"), new RegExp(plant.addr.replace(/\./g, "\\.")));

  // The keychain holds it, under the app's identifier and the server's URL.
  const item = secretToolLookup(["service", SERVICE]);
  assert.ok(item.includes(`secret = ${plant.token}`), `secret-tool: ${item.replace(plant.token, "<token>")}`);
  assert.ok(item.includes(plant.addr), `the item is not for ${plant.addr}: ${item.replace(plant.token, "<token>")}`);

  // Nowhere in the page: not in the DOM (inputs' values included), not in storage.
  const found = await app.browser.execute((tok) => {
    const values = [...document.querySelectorAll("input, textarea")].map((i) => i.value);
    return {
      html: document.documentElement.outerHTML.includes(tok),
      inputs: values.some((v) => v.includes(tok)),
      storage: JSON.stringify({ ...localStorage }).includes(tok) || JSON.stringify({ ...sessionStorage }).includes(tok),
    };
  }, plant.token);
  assert.deepEqual(found, { html: false, inputs: false, storage: false });
  assert.ok(!app.log().includes(plant.token), "the token is in the app's log");
});

scenario("a wrong token is rejected once, with no retry storm", async (ctx) => {
  const plant = await ctx.startPlant();
  const app = await ctx.startApp({ args: ["--server", plant.url], token: "not-the-token" });
  const badge = await app.badge("unauthorized");
  assert.match(badge, /Token rejected/);
  const t0 = Date.now();
  await sleep(6_000); // a storm would show here: the backoff's first steps are 0.5, 1, 2 s
  const refusals = plant.log().split("\n").filter((l) => l.includes("upgrade refused: bad token")).length;
  const stats = await plant.stats();
  ctx.t.diagnostic(`refusals in ${((Date.now() - t0) / 1000).toFixed(0)} s after the badge: ${refusals}; connections ${stats.connections}`);
  assert.ok(refusals >= 1 && refusals <= 2, `the plant refused ${refusals} upgrades`);
  assert.equal(stats.connections, 0);
  assert.equal(await app.attr(BADGE, "data-state"), "unauthorized");
});

scenario("start a transfer pump: confirmed, in progress then succeeded in place, notified", async (ctx) => {
  const plant = await ctx.startPlant();
  const app = await connectedApp(ctx, plant);
  const valve = await app.endpointNamed("HLT → mash tun valve");
  const pump = await app.endpointNamed("HLT → mash tun pump");
  await press(app, valve, "open");
  await waitFor("the valve open", async () => (await phaseOf(app, valve))?.phase === "succeeded");

  // Record every phase shown in place for the pump, from before the click on.
  await app.browser.execute((sel) => {
    window.__phases = [];
    const root = document.querySelector(sel);
    const seen = () => {
      const p = root.querySelector("[data-testid=command-phase]")?.getAttribute("data-phase");
      if (p && window.__phases[window.__phases.length - 1] !== p) window.__phases.push(p);
    };
    new MutationObserver(seen).observe(root, { subtree: true, childList: true, attributes: true, characterData: true });
  }, App.controls(pump));

  await press(app, pump, "on");
  const dialog = await app.$("[data-testid=confirm-dialog]");
  await dialog.waitForDisplayed({ timeout: 10_000 });
  assert.match(await dialog.getText(), /HLT → mash tun pump/);
  assert.match(await dialog.getText(), /critical equipment/);
  await (await dialog.$("button.confirm")).click();
  const done = await waitFor("the pump's command to succeed", async () => {
    const p = await phaseOf(app, pump);
    return p?.phase === "succeeded" && p;
  });
  assert.match(done.text, /Succeeded/);
  const phases = await app.browser.execute(() => window.__phases);
  ctx.t.diagnostic(`phases shown: ${phases.join(" → ")}`);
  // In progress first (queued, or already sent when the plant's event beats the reply),
  // then only forward, ending in succeeded: the lifecycle shown in place, never going back.
  const order = ["queued", "sent", "acked", "succeeded"];
  assert.ok(["queued", "sent", "acked"].includes(phases[0]), `phases shown: ${phases.join(" → ")}`);
  for (let i = 1; i < phases.length; i++) {
    assert.ok(order.indexOf(phases[i]) > order.indexOf(phases[i - 1]), `went back: ${phases.join(" → ")}`);
  }
  assert.equal(phases[phases.length - 1], "succeeded");

  const note = await waitFor("a notification for the completion", () =>
    ctx.notifications().find((n) => /Command succeeded/.test(n.summary) && n.summary.includes("HLT → mash tun pump")),
  10_000);
  ctx.t.diagnostic(`notified: ${note.summary} / ${note.body}`);
});

scenario("an interlock rejects the command with its reason in place", async (ctx) => {
  const plant = await ctx.startPlant();
  const app = await connectedApp(ctx, plant);
  const pump = await app.endpointNamed("Mash tun → kettle pump");
  await press(app, pump, "on");
  const dialog = await app.$("[data-testid=confirm-dialog]");
  await dialog.waitForDisplayed({ timeout: 10_000 });
  await (await dialog.$("button.confirm")).click();
  let shown;
  try {
    shown = await waitFor("the rejection shown in place", async () => {
      const p = await phaseOf(app, pump);
      return p?.phase === "rejected" && p;
    }, 15_000);
  } catch (e) {
    // Say whether the core knew (a UI that lost the event) or not (nothing came back).
    const core = app.log().split("\n").find((l) => l.includes("Command rejected: Mash tun → kettle pump"));
    const p = await phaseOf(app, pump);
    throw new Error(`${e.message}; in place: ${JSON.stringify(p)}; the core's log: ${core ?? "no rejection"}`);
  }
  assert.match(shown.text, /Rejected: interlock: Mash tun → kettle pump requires its valve open/);
  // The plant carried nothing out.
  const stats = await plant.stats();
  assert.equal(Object.values(stats.executions ?? {}).reduce((a, b) => a + b, 0), 0, JSON.stringify(stats.executions));
});

scenario("a critical alarm: banner, list, one notification, acknowledged, seen by a second client", async (ctx) => {
  const plant = await ctx.startPlant();
  const app = await connectedApp(ctx, plant);
  const watcher = new Watcher(plant, ctx.dir);
  ctx.cleanups.push(() => watcher.stop());
  await waitFor("the second client to sync", () => watcher.find((l) => l.kind === "synced"));

  const message = `Kettle over temperature ${Date.now()}`;
  const { alarmId } = await plant.raiseAlarm("critical", message);
  const critical = await waitFor("the banner's critical alarm", async () => {
    const el = await app.$("[data-testid=newest-critical]");
    return (await el.isExisting()) && (await el.getText()).includes(message) && el.getText();
  });
  assert.match(critical, /CRITICAL/);
  assert.equal(await app.attr("[data-testid=alarm-count][data-severity=critical]", "data-count"), "1");
  const row = await app.$(`[data-testid=alarm-row][data-alarm="${alarmId}"]`);
  await row.waitForExist({ timeout: 10_000 });
  assert.match(await row.getText(), new RegExp(message));
  assert.equal(await row.getAttribute("data-acked"), "false");

  await waitFor("the notification", () => ctx.notifications().some((n) => n.body === message), 10_000);
  await sleep(2_000); // a second one would come within the summary delay
  const notes = ctx.notifications().filter((n) => n.body === message);
  assert.equal(notes.length, 1, JSON.stringify(notes));
  assert.match(notes[0].summary, /Critical alarm/i);

  await app.openTab("alarms");
  await (await row.$("button=Acknowledge")).click();
  await waitFor("the row acknowledged", async () => (await row.getAttribute("data-acked")) === "true");
  // The plant's one token is the operator named "operator": acknowledgements name who.
  assert.equal(await app.text(`[data-testid=alarm-row][data-alarm="${alarmId}"] [data-testid=alarm-acked-by]`), "operator");
  await waitFor("no unacknowledged critical in the banner", async () => !(await (await app.$("[data-testid=newest-critical]")).isExisting()));
  const seen = await waitFor("the second client to see the acknowledgement", () =>
    watcher.find((l) => l.kind === "alarm" && l.alarm?.alarmId === alarmId && l.alarm?.acked === true),
  );
  assert.equal(seen.alarm.ackedBy, "operator", "the second client is told who, not which connection");
});

scenario("the plant killed and restarted: reconnecting, stale, blocked, then connected with nothing lost", async (ctx) => {
  const plant = await ctx.startPlant();
  const app = await connectedApp(ctx, plant);
  const pump = await app.endpointNamed("HLT → mash tun pump");
  await plant.kill();
  const badge = await app.badge("reconnecting");
  assert.match(badge, /Reconnecting \(attempt \d+\)/);
  await waitFor("every tile stale", () => app.browser.execute(() => {
    const tiles = [...document.querySelectorAll("[data-testid=tile]")];
    return tiles.length > 0 && tiles.every((t) => t.dataset.stale === "true");
  }));
  const offline = await app.text("[data-testid=offline-banner]");
  assert.match(offline, /every value shown is stale and every control is blocked/);
  const button = await app.$(`${App.controls(pump)} button[data-action=on]`);
  assert.equal(await button.isEnabled(), false);
  assert.match(await app.text(`${App.controls(pump)} [data-testid=blocked-reason]`), /Blocked: reconnecting/);

  // Back on the same port; an alarm raised there before the app is back must show.
  await plant.restart();
  const message = `Raised while the desk was away ${Date.now()}`;
  const stateAtRaise = await app.attr(BADGE, "data-state");
  const { alarmId } = await plant.raiseAlarm("high", message);
  await app.badge("connected", 45_000);
  ctx.t.diagnostic(`the alarm was raised while the badge said "${stateAtRaise}"`);
  const row = await app.$(`[data-testid=alarm-row][data-alarm="${alarmId}"]`);
  await row.waitForExist({ timeout: 10_000 });
  assert.match(await row.getText(), new RegExp(message));
  await waitFor("values live again", () => app.browser.execute(() => [...document.querySelectorAll("[data-testid=tile]")].some((t) => t.dataset.stale === "false")));
  assert.equal(await button.isEnabled(), true);
}, { timeout: 150_000 });

scenario("a stalled plant: the dead link is detected and the badge says so", async (ctx) => {
  const plant = await ctx.startPlant();
  const app = await connectedApp(ctx, plant);
  // Every state the badge shows, with its text, as it changes (a poll could miss a short one).
  await app.browser.execute((sel) => {
    window.__badges = [];
    const badge = document.querySelector(sel);
    const seen = () => {
      const b = document.querySelector(sel) ?? badge;
      window.__badges.push({ state: b.dataset.state, text: b.textContent.replace(/\s+/g, " ").trim(), at: Date.now() });
    };
    new MutationObserver(seen).observe(badge.parentElement, { subtree: true, childList: true, attributes: true, characterData: true });
  }, BADGE);
  await plant.admin("POST", "/admin/stall");
  const t0 = Date.now();
  // The link declares a connection dead after 12 s without a frame (a ping every 4 s goes
  // unanswered). The stall holds only the open socket: the next connection works, so the badge
  // says "reconnecting" only for the backoff's first step before it is connected again.
  const dead = await waitFor("the badge to report the dead link", () =>
    app.browser.execute(() => window.__badges.find((b) => b.state === "reconnecting")), 40_000, 250);
  ctx.t.diagnostic(`detected after ${((dead.at - t0) / 1000).toFixed(1)} s: ${dead.text}`);
  assert.match(dead.text, /Reconnecting \(attempt 1\).*no frame from the server for 12 s: the connection is dead/);
  await app.badge("connected");
  await plant.admin("POST", "/admin/unstall");
}, { timeout: 150_000 });

scenario("closing the window hides it to the tray; a critical alarm still notifies", async (ctx) => {
  const plant = await ctx.startPlant();
  const app = await connectedApp(ctx, plant);
  // What the window manager's close button does: a close request (WM_DELETE_WINDOW), which
  // the app turns into hide. (WebDriver's "close window" destroys the webview instead.)
  assert.equal(windowMapState("Brewdeck"), "IsViewable");
  execFileSync("python3", [new URL("../lib/close_window.py", import.meta.url).pathname, "Brewdeck"], { stdio: "inherit" });
  await waitFor("the window hidden", () => windowMapState("Brewdeck") === "IsUnMapped", 10_000);
  await sleep(1_000);
  assert.ok(appRunning(), "the app quit on close");
  const message = `Glycol chiller fault ${Date.now()}`;
  await plant.raiseAlarm("critical", message);
  const note = await waitFor("the notification from the hidden app", () => ctx.notifications().find((n) => n.body === message), 15_000);
  ctx.t.diagnostic(`notified: ${note.summary} / ${note.body}`);
  // And heard: the sound is the app's own, not the webview's, so a hidden window sounds.
  assert.ok(SINK, "BREWDECK_TEST_SINK is not set: run the suite through ./dev (with_desktop starts a null sink)");
  const heard = await sinkLevel(ctx.dir, "hidden");
  ctx.t.diagnostic(`RMS with the window hidden: ${heard.toFixed(3)}`);
  assert.ok(heard > 0.05, `the hidden app's alarm is heard: RMS ${heard}`);
  assert.ok(appRunning(), "the app is gone");
  assert.equal(windowMapState("Brewdeck"), "IsUnMapped", "the window is still on screen");
});
