// The operator's record on the real app: two desks signed in as different operators see each
// other's shelving (who, why, until when) and acknowledgement notes; a shelving that runs out
// brings the alarm back unacknowledged; a viewer's command button says why it is disabled;
// a critical alarm sounds on the (null) sound card until silenced.

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { App, SINK, scenario, sinkLevel as level, waitFor } from "../lib/harness.js";

const ANA = ["ana", "operator", "ana-e2e-token-51f0"];
const SAM = ["sam", "supervisor", "sam-e2e-token-8c2a"];
const VAL = ["val", "viewer", "val-e2e-token-3d77"];
/** A shelving minute lasts this long on the test plant, so a shelf runs out in seconds. */
const SHELVING_MINUTE_MS = 1000;

async function desk(ctx, plant, [, , token], desk) {
  const app = await ctx.startApp({ args: ["--server", plant.url], token, desk });
  await app.badge("connected");
  return app;
}

async function click(app, sel) {
  const el = await app.$(sel);
  await el.waitForClickable({ timeout: 10_000 });
  await el.click();
}

/** The alarm row (in the list shown now) whose text has `message`, as a selector. */
function row(alarmId, testid = "alarm-row") {
  return `[data-testid=${testid}][data-alarm-id="${alarmId}"]`;
}

async function alarmIdOf(app, message) {
  return waitFor(`an alarm row "${message}"`, () =>
    app.browser.execute((m) => {
      for (const r of document.querySelectorAll("[data-testid=alarm-row]")) {
        if (r.textContent.includes(m)) return r.getAttribute("data-alarm-id");
      }
      return null;
    }, message),
  );
}

async function textOf(app, sel) {
  return app.browser.execute((s) => document.querySelector(s)?.textContent?.trim() ?? null, sel);
}

scenario("two operators: one shelves with a reason, the other sees who and until when; it returns unacknowledged", async (ctx) => {
  const plant = await ctx.startPlant({ operators: [ANA, SAM], args: ["--shelving-minute-ms", String(SHELVING_MINUTE_MS)] });
  const ana = await desk(ctx, plant, ANA);
  const sam = await desk(ctx, plant, SAM, 1);
  await waitFor("ana's name on her desk", async () => (await textOf(ana, "[data-testid=operator-badge]"))?.includes("ana"));
  await waitFor("sam's name on his", async () => (await textOf(sam, "[data-testid=operator-badge]"))?.includes("sam"));

  await plant.raiseAlarm("high", "FV-3 probe reads uncertain");
  await ana.openTab("alarms");
  const id = await alarmIdOf(ana, "FV-3 probe reads uncertain");
  // Acknowledged first: the return from the shelf is a new demand, unacknowledged again.
  await click(ana, `${row(id)} [data-testid=ack-submit]`);
  await waitFor("ana's acknowledgement", async () => (await textOf(ana, `${row(id)} [data-testid=alarm-acked-by]`))?.includes("ana"));

  await click(ana, `${row(id)} [data-testid=shelve-button]`);
  const dialog = await ana.$("[data-testid=shelve-dialog]");
  await dialog.waitForDisplayed({ timeout: 10_000 });
  await (await ana.$("[data-testid=shelve-minutes]")).selectByAttribute("value", "15");
  await (await ana.$("[data-testid=shelve-reason]")).setValue("probe being replaced");
  await click(ana, "[data-testid=shelve-confirm]");

  // Sam's desk: in the Shelved list, by ana, why, until when.
  await sam.openTab("alarms");
  await click(sam, "[data-testid=alarms-filter-shelved]");
  const shelved = row(id, "shelved-row");
  await waitFor("the shelving on sam's desk", async () => (await textOf(sam, `${shelved} [data-testid=shelved-by]`))?.includes("ana"));
  assert.match(await textOf(sam, `${shelved} [data-testid=shelved-reason]`), /probe being replaced/);
  assert.ok((await textOf(sam, `${shelved} [data-testid=shelved-until]`))?.length > 0, "until when is shown");

  // Fifteen shelving minutes later: back in the active list, unacknowledged, on both desks.
  await click(sam, "[data-testid=alarms-filter-active]");
  for (const app of [sam, ana]) {
    await waitFor("the alarm back from the shelf", async () => {
      const r = await app.$(row(id));
      return (await r.isExisting()) && (await textOf(app, `${row(id)} [data-testid=alarm-acked-by]`)) === null;
    }, 60_000);
  }
});

scenario("an acknowledgement's note appears in the other desk's journal view", async (ctx) => {
  const plant = await ctx.startPlant({ operators: [ANA, SAM] });
  const ana = await desk(ctx, plant, ANA);
  const sam = await desk(ctx, plant, SAM, 1);
  await plant.raiseAlarm("medium", "FV-5 level high");
  await ana.openTab("alarms");
  const id = await alarmIdOf(ana, "FV-5 level high");
  await (await ana.$(`${row(id)} [data-testid=ack-note-input]`)).setValue("lid open for dry hopping");
  await click(ana, `${row(id)} [data-testid=ack-submit]`);
  await waitFor("the note on ana's row", async () => (await textOf(ana, `${row(id)} [data-testid=alarm-ack-note]`))?.includes("dry hopping"));

  await sam.openTab("journal");
  await (await sam.$("[data-testid=journal-text-filter]")).setValue("dry hopping");
  const entry = await waitFor("the acknowledgement in sam's journal", () =>
    sam.browser.execute(() => {
      for (const r of document.querySelectorAll("[data-testid=journal-row]")) {
        if (r.getAttribute("data-kind") !== "alarm_acked") continue;
        return {
          by: r.querySelector("[data-testid=journal-by]")?.textContent.trim(),
          note: r.querySelector("[data-testid=journal-note]")?.textContent.trim(),
          text: r.querySelector("[data-testid=journal-text]")?.textContent.trim(),
        };
      }
      return null;
    }),
  );
  assert.equal(entry.by, "ana");
  assert.match(entry.note, /lid open for dry hopping/);
  assert.match(entry.text, /FV-5 level high/);
});

scenario("a viewer's command button is disabled, with the reason", async (ctx) => {
  const plant = await ctx.startPlant({ operators: [VAL] });
  const val = await desk(ctx, plant, VAL);
  await waitFor("the viewer's badge", async () => (await textOf(val, "[data-testid=operator-badge]"))?.includes("viewer"));
  const id = await val.endpointNamed("Fermenter 2 setpoint");
  const controls = App.controls(id);
  const state = await waitFor("the controls drawn", () =>
    val.browser.execute((sel) => {
      const c = document.querySelector(sel);
      if (!c) return null;
      const buttons = [...c.querySelectorAll("button")];
      if (buttons.length === 0) return null;
      return {
        allDisabled: buttons.every((b) => b.disabled),
        reason: document.querySelector(`${sel} [data-testid=command-denied-reason]`)?.textContent.trim() ?? null,
      };
    }, controls),
  );
  assert.ok(state.allDisabled, "every command button is disabled");
  assert.match(state.reason ?? "", /viewer/);
});

// ---- sound: what the null sink plays, measured

scenario("a critical alarm sounds on the sound card until silenced, and stays unacknowledged", async (ctx) => {
  assert.ok(SINK, "BREWDECK_TEST_SINK is not set: run the suite through ./dev (with_desktop starts a null sink)");
  const plant = await ctx.startPlant({ operators: [ANA] });
  const ana = await desk(ctx, plant, ANA);
  await ana.openTab("alarms");
  await plant.raiseAlarm("critical", "Kettle boil-over detected");
  const id = await alarmIdOf(ana, "Kettle boil-over detected");
  await waitFor("the silence button", async () => (await ana.$("[data-testid=silence-button]")).isDisplayed());
  const sounding = await level(ctx.dir, "sounding");
  assert.ok(sounding > 0.05, `the alarm is heard: RMS ${sounding}`);
  // Repeating: still sounding a moment later.
  const still = await level(ctx.dir, "still-sounding");
  assert.ok(still > 0.05, `it repeats until silenced: RMS ${still}`);
  await click(ana, "[data-testid=silence-button]");
  await waitFor("the silence button gone", async () => !(await (await ana.$("[data-testid=silence-button]")).isDisplayed()));
  const silent = await level(ctx.dir, "silenced");
  assert.ok(silent < 0.005, `silence stops it: RMS ${silent}`);
  ctx.t.diagnostic(`RMS sounding ${sounding.toFixed(3)}, still ${still.toFixed(3)}, silenced ${silent.toFixed(4)}`);
  // Silence is not an acknowledgement.
  assert.equal(await textOf(ana, `${row(id)} [data-testid=alarm-acked-by]`), null);
});
