// The suite's harness: a brewdeck-plant per scenario, the app through tauri-driver (one driver
// and one app per session, each with its own config and data folders), the native
// notifications seen on the bus, and what a failing scenario leaves behind.
//
// run.sh sets: BREWDECK_APP, BREWDECK_PLANT, BREWDECK_CLI, E2E_ARTIFACTS, E2E_NOTIFY_LOG,
// TAURI_DRIVER; it runs inside a private desktop (Xvfb, D-Bus session, keyring, dunst).

import { spawn, execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { test } from "node:test";
import { remote } from "webdriverio";

export const APP = must("BREWDECK_APP");
export const PLANT = must("BREWDECK_PLANT");
export const CLI = process.env.BREWDECK_CLI || path.join(path.dirname(PLANT), "brewdeck-cli");
/** Writes simulated days into a store file (brewdeck-store's bench tool). */
export const STORE_FILL = process.env.BREWDECK_STORE_FILL || path.join(path.dirname(PLANT), "brewdeck-store-fill");
export const ARTIFACTS = must("E2E_ARTIFACTS");
export const NOTIFY_LOG = must("E2E_NOTIFY_LOG");
const DRIVER = process.env.TAURI_DRIVER || "tauri-driver";
const DRIVER_PORT = 4444;
/** Bound of every wait on the page (the app's first frame is 2–4 s here). */
export const WAIT_MS = 30_000;

function must(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the suite through tests/e2e/run.sh`);
  return v;
}

const stripAnsi = (s) => s.replace(/\x1b\[[0-9;]*m/g, "");

/** Polls until probe() returns something truthy; fails with `what` and the last value. */
export async function waitFor(what, probe, timeoutMs = WAIT_MS, everyMs = 200) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try {
      last = await probe();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}

// ---------------------------------------------------------------- the plant

export class Plant {
  /** Starts a plant on a free port (or `port`), with its own token. */
  /** With `operators` ([[name, role, token], ...]) the plant reads them from a file
   * (`--operators`) instead of one token. */
  static async start(dir, { port = 0, token, args = [], operators } = {}) {
    const p = new Plant(dir, token ?? randomBytes(16).toString("hex"), args, operators);
    await p.#spawn(port);
    return p;
  }

  constructor(dir, token, args, operators) {
    this.dir = dir;
    this.token = token;
    this.args = args;
    this.tokenFile = path.join(dir, "plant-token");
    fs.writeFileSync(this.tokenFile, token, { mode: 0o600 });
    this.operatorsFile = null;
    if (operators) {
      this.operatorsFile = path.join(dir, "operators");
      const lines = operators.map(([name, role, t]) => `${name} ${role} sha256:${createHash("sha256").update(t).digest("hex")}`);
      fs.writeFileSync(this.operatorsFile, `# name role secret\n${lines.join("\n")}\n`, { mode: 0o600 });
    }
    this.logFile = path.join(dir, "plant.log");
    this.proc = null;
  }

  async #spawn(port) {
    const log = fs.openSync(this.logFile, "a");
    const access = this.operatorsFile ? ["--operators", this.operatorsFile] : ["--token-file", this.tokenFile];
    this.proc = spawn(PLANT, ["--listen", `127.0.0.1:${port}`, ...access, "--admin", ...this.args], {
      stdio: ["ignore", "pipe", log],
      env: { ...process.env, RUST_LOG: "info", NO_COLOR: "1" },
    });
    fs.closeSync(log);
    const proc = this.proc;
    const line = await new Promise((resolve, reject) => {
      let buf = "";
      const timer = setTimeout(() => reject(new Error(`the plant printed no address; see ${this.logFile}`)), 15_000);
      const onExit = (c) => {
        clearTimeout(timer);
        reject(new Error(`plant exited (${c}) before it listened; see ${this.logFile}`));
      };
      proc.once("exit", onExit);
      proc.stdout.on("data", (d) => {
        buf += d;
        const nl = buf.indexOf("\n");
        if (nl >= 0) {
          clearTimeout(timer);
          proc.off("exit", onExit);
          resolve(buf.slice(0, nl).trim());
        }
      });
    });
    this.addr = line.split(/\s+/).pop();
    this.url = `ws://${this.addr}/ws`;
    this.port = Number(this.addr.split(":").pop());
  }

  async admin(method, p, body) {
    const res = await fetch(`http://${this.addr}${p}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  raiseAlarm(severity, message, endpointId) {
    return this.admin("POST", "/admin/alarm", { severity, message, ...(endpointId ? { endpointId } : {}) });
  }

  stats() {
    return this.admin("GET", "/admin/stats");
  }

  /** The plant's log, without colours. */
  log() {
    return stripAnsi(fs.readFileSync(this.logFile, "utf8"));
  }

  /** Kills the plant (SIGKILL: no goodbye to the clients) and waits for it to be gone. */
  async kill(signal = "SIGKILL") {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const gone = new Promise((r) => this.proc.once("exit", r));
    this.proc.kill(signal);
    await gone;
  }

  /** Starts the plant again on the same port (a new process: the app must reconnect). */
  async restart() {
    await this.kill();
    await waitFor("the port to be free", async () => {
      try {
        await this.#spawn(this.port);
        return true;
      } catch {
        return false;
      }
    }, 10_000, 300);
  }
}

// ---------------------------------------------------------------- notifications on the bus

/** The Notify calls dbus-monitor logged, from `from` (a byte offset) on. */
export function notifyCalls(from = 0) {
  const text = fs.existsSync(NOTIFY_LOG) ? fs.readFileSync(NOTIFY_LOG, "utf8").slice(from) : "";
  const calls = [];
  for (const block of text.split(/^(?=method call )/m)) {
    if (!/member=Notify\b/.test(block.split("\n")[0])) continue;
    // Top-level arguments only (3 spaces): app_name, app_icon, summary, body; hints are deeper.
    const strings = [...block.matchAll(/^ {3}string "((?:[^"\\]|\\.)*)"$/gm)].map((m) => m[1]);
    calls.push({ app: strings[0], summary: strings[2], body: strings[3] });
  }
  return calls;
}

export function notifyMark() {
  return fs.existsSync(NOTIFY_LOG) ? fs.readFileSync(NOTIFY_LOG, "utf8").length : 0;
}

// ---------------------------------------------------------------- the app through tauri-driver

/** The app's processes; with `configHome`, only the one started with that config folder. */
function appPids(configHome) {
  const pids = [];
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (fs.readlinkSync(`/proc/${d}/exe`) !== fs.realpathSync(APP)) continue;
      if (configHome && !fs.readFileSync(`/proc/${d}/environ`, "utf8").split("\0").includes(`XDG_CONFIG_HOME=${configHome}`)) continue;
      pids.push(Number(d));
    } catch {
      /* gone, or not ours to read */
    }
  }
  return pids;
}

export function appRunning() {
  return appPids().length > 0;
}

export class App {
  /**
   * Starts tauri-driver (with `env` for the app: it inherits the driver's environment) and a
   * session on the app with `args`. Sessions of one scenario share its config and data
   * folders (a second session is the app restarted).
   */
  static async start(dir, { args = [], token, env: extra = {}, desk } = {}) {
    // Another desk beside the first: its own folders, its own D-Bus session (the
    // single-instance rule is per session) and its own driver ports.
    const second = desk !== undefined;
    if (second) {
      dir = path.join(dir, `desk-${desk}`);
      fs.mkdirSync(dir, { recursive: true });
    } else {
      await waitFor("no app left from an earlier session (single instance)", () => !appRunning(), 20_000);
    }
    const app = new App(dir);
    app.port = second ? DRIVER_PORT + 10 * (desk + 1) : DRIVER_PORT;
    const env = { ...process.env, ...extra };
    delete env.BREWDECK_TOKEN;
    if (token) env.BREWDECK_TOKEN = token;
    env.XDG_CONFIG_HOME = path.join(dir, "config");
    env.XDG_DATA_HOME = app.dataHome;
    env.XDG_CACHE_HOME = path.join(dir, "cache");
    for (const d of [env.XDG_CONFIG_HOME, env.XDG_DATA_HOME, env.XDG_CACHE_HOME]) fs.mkdirSync(d, { recursive: true });
    const log = fs.openSync(path.join(dir, "tauri-driver.log"), "a");
    app.configHome = env.XDG_CONFIG_HOME;
    const driverArgs = ["--port", String(app.port), "--native-port", String(app.port + 1)];
    app.driver = second
      ? spawn("dbus-run-session", ["--", DRIVER, ...driverArgs], { stdio: ["ignore", log, log], env, detached: true })
      : spawn(DRIVER, driverArgs, { stdio: ["ignore", log, log], env, detached: true });
    fs.closeSync(log);
    app.second = second;
    try {
      await waitFor("tauri-driver", async () => (await fetch(`http://127.0.0.1:${app.port}/status`)).ok, 15_000);
      app.browser = await remote({
        hostname: "127.0.0.1",
        port: app.port,
        logLevel: "error",
        connectionRetryCount: 0,
        capabilities: {
          browserName: "wry",
          "wdio:enforceWebDriverClassic": true,
          "tauri:options": { application: APP, args },
        },
      });
    } catch (e) {
      await app.stop(); // no driver or app left behind for the next scenario
      throw e;
    }
    return app;
  }

  constructor(dir) {
    this.dir = dir;
    this.dataHome = path.join(dir, "data");
  }

  get logDir() {
    return path.join(this.dataHome, "com.brewdeck.desk", "logs");
  }

  /** Every log line the app wrote so far. */
  log() {
    if (!fs.existsSync(this.logDir)) return "";
    return fs.readdirSync(this.logDir).sort().map((f) => stripAnsi(fs.readFileSync(path.join(this.logDir, f), "utf8"))).join("");
  }

  $(sel) {
    return this.browser.$(sel);
  }

  async text(sel) {
    return (await this.browser.$(sel)).getText();
  }

  async attr(sel, name) {
    return (await this.browser.$(sel)).getAttribute(name);
  }

  /** Waits for the connection badge's state. */
  async badge(state, timeoutMs = WAIT_MS) {
    await waitFor(`the badge to say "${state}"`, async () => (await this.attr("[data-testid=link-badge]", "data-state")) === state, timeoutMs);
    return this.text("[data-testid=link-badge]");
  }

  async openTab(name) {
    await (await this.$(`[data-testid=tab-${name}]`)).click();
    await waitFor(`the ${name} tab`, async () => (await this.attr(`[data-testid=tab-${name}]`, "aria-selected")) === "true");
  }

  /** The endpoint id of the tile named `name` (as the operator reads it). */
  async endpointNamed(name) {
    return waitFor(`a tile named "${name}"`, () =>
      this.browser.execute((n) => {
        for (const t of document.querySelectorAll("[data-testid=tile]")) {
          if (t.querySelector("h3")?.textContent.trim() === n) return t.getAttribute("data-endpoint");
        }
        return null;
      }, name),
    );
  }

  /** A CSS selector for the controls of an endpoint. */
  static controls(id) {
    return `[data-testid=controls][data-endpoint=${JSON.stringify(id)}]`;
  }

  async screenshot(file) {
    await this.browser.saveScreenshot(file);
  }

  /** Ends the session, the driver and (through them) the app; makes sure the app is gone. */
  async stop() {
    try {
      await this.browser?.deleteSession();
    } catch {
      /* the window may be gone already */
    }
    if (this.driver && this.driver.exitCode === null) {
      const gone = new Promise((r) => this.driver.once("exit", r));
      try {
        process.kill(-this.driver.pid, "SIGTERM");
      } catch {
        /* already gone */
      }
      await Promise.race([gone, sleep(10_000)]);
    }
    // A hidden window outlives its WebDriver session: end the app we started, by its id.
    const mine = () => appPids(this.configHome);
    try {
      await waitFor("the app to exit", () => mine().length === 0, 10_000);
    } catch {
      for (const pid of mine()) {
        try {
          process.kill(pid, "SIGTERM");
        } catch {
          /* gone */
        }
      }
      try {
        await waitFor("the app to exit after SIGTERM", () => mine().length === 0, 10_000);
      } catch {
        for (const pid of mine()) process.kill(pid, "SIGKILL");
      }
    }
  }
}

// ---------------------------------------------------------------- a second client

/** brewdeck-cli watch against the plant: every state change and event as JSON lines. */
export class Watcher {
  constructor(plant, dir) {
    this.lines = [];
    this.proc = spawn(CLI, ["watch", "--server", plant.url, "--token-file", plant.tokenFile, "--endpoints", "none"], {
      stdio: ["ignore", "pipe", fs.openSync(path.join(dir, "second-client.log"), "a")],
      env: { ...process.env, NO_COLOR: "1" },
    });
    let buf = "";
    this.proc.stdout.on("data", (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          this.lines.push(JSON.parse(line));
        } catch {
          /* not JSON */
        }
      }
    });
  }

  find(pred) {
    return this.lines.find(pred);
  }

  stop() {
    if (this.proc.exitCode === null) this.proc.kill("SIGTERM");
  }
}

// ---------------------------------------------------------------- sound on the null sink

/** The null sink ./dev's with_desktop gives the app (its monitor is recorded). */
export const SINK = process.env.BREWDECK_TEST_SINK;

/** The sink's RMS level (0 to 1) over `seconds`: parec records its monitor as 16-bit WAV;
 * the samples after the `data` chunk are read to the end (parec, interrupted, leaves the
 * chunk's length unset). The first moments of a recording may be empty: record long enough. */
export async function sinkLevel(dir, name, seconds = 3) {
  const file = path.join(dir, `${name}.wav`);
  const rec = spawn("parec", ["-d", `${SINK}.monitor`, "--file-format=wav", "--format=s16le", file], { stdio: "ignore" });
  await new Promise((r) => setTimeout(r, seconds * 1000)); // a recording lasts this long: a measurement, not a wait
  rec.kill("SIGINT");
  await new Promise((r) => rec.once("exit", r));
  const wav = fs.readFileSync(file);
  const data = wav.indexOf(Buffer.from("data"));
  if (data < 0) throw new Error(`no data chunk in ${file}`);
  let sum = 0;
  let n = 0;
  for (let i = data + 8; i + 1 < wav.length; i += 2) {
    const x = wav.readInt16LE(i) / 32768;
    sum += x * x;
    n += 1;
  }
  return n ? Math.sqrt(sum / n) : 0;
}

// ---------------------------------------------------------------- scenarios

/**
 * A scenario: a folder of its own; on failure a screenshot, the app's log, the plant's log and
 * the notifications are left in E2E_ARTIFACTS/<slug>, whose path is printed.
 */
export function scenario(name, fn, { timeout = 120_000 } = {}) {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
  test(name, { timeout }, async (t) => {
    const dir = path.join(ARTIFACTS, "work", slug);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const ctx = { dir, apps: [], plants: [], cleanups: [], notifyFrom: notifyMark(), t };
    ctx.startPlant = async (opts) => {
      const p = await Plant.start(dir, opts);
      ctx.plants.push(p);
      return p;
    };
    ctx.startApp = async (opts) => {
      const a = await App.start(dir, opts);
      ctx.apps.push(a);
      return a;
    };
    ctx.notifications = () => notifyCalls(ctx.notifyFrom);
    const started = Date.now();
    try {
      await fn(ctx);
    } catch (e) {
      const out = path.join(ARTIFACTS, "failed", slug);
      fs.mkdirSync(out, { recursive: true });
      for (const [i, a] of ctx.apps.entries()) {
        try {
          await a.screenshot(path.join(out, `screenshot-${i}.png`));
        } catch (err) {
          fs.writeFileSync(path.join(out, `screenshot-${i}.txt`), `no screenshot: ${err.message}\n`);
        }
        try {
          fs.writeFileSync(path.join(out, `page-${i}.html`), await a.browser.getPageSource());
        } catch {
          /* the window is gone */
        }
      }
      try {
        fs.cpSync(dir, path.join(out, "files"), { recursive: true });
      } catch {
        /* best effort */
      }
      try {
        fs.copyFileSync(NOTIFY_LOG, path.join(out, "notify.log"));
      } catch {
        /* none */
      }
      fs.writeFileSync(path.join(out, "error.txt"), `${e.stack ?? e}\n`);
      console.error(`# FAILED ${name}: screenshot and logs in ${out}`);
      throw e;
    } finally {
      for (const c of ctx.cleanups.reverse()) {
        try {
          await c();
        } catch {
          /* best effort */
        }
      }
      for (const a of ctx.apps) await a.stop();
      for (const p of ctx.plants) await p.kill();
      t.diagnostic(`${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  });
}

export function secretToolLookup(attrs) {
  try {
    return execFileSync("secret-tool", ["search", "--all", ...attrs], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    return `${e.stdout ?? ""}${e.stderr ?? ""}`;
  }
}
