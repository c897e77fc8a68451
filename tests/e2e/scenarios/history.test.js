// The record and the trend tool on the real app: what the desk saw survives a restart, a
// week it never saw comes from the plant, and a CSV export holds the rows of the chart.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { STORE_FILL, scenario, waitFor } from "../lib/harness.js";

const DAY_MS = 86_400_000;

/** What the trend tool drew: `points`, `bucketMs`, `from`, `to` (from its stats element). */
async function trendStats(app) {
  const text = await app.browser.execute(() => document.querySelector("[data-testid=trend-stats]")?.textContent ?? "");
  return Object.fromEntries(text.trim().split(/\s+/).filter(Boolean).map((kv) => {
    const [k, v] = kv.split("=");
    return [k, Number(v)];
  }));
}

async function connectedApp(ctx, plant, env) {
  const app = await ctx.startApp({ args: ["--server", plant.url], token: plant.token, env });
  await app.badge("connected");
  return app;
}

async function click(app, testid) {
  const el = await app.$(`[data-testid=${testid}]`);
  await el.waitForClickable({ timeout: 10_000 });
  await el.click();
}

scenario("restarted, the desk still shows what it recorded, though the plant forgot it", async (ctx) => {
  const plant = await ctx.startPlant();
  const first = await connectedApp(ctx, plant);
  await first.openTab("trends");
  await click(first, "trend-range-15m");
  const before = await waitFor("some of the trend", async () => {
    const s = await trendStats(first);
    return s.points >= 10 && s;
  });
  await first.stop();
  // The plant starts again with its history in memory, empty: only the desk's record (same
  // folders, same server) can show the past.
  await plant.restart();
  const again = await connectedApp(ctx, plant);
  await again.openTab("trends");
  await click(again, "trend-range-15m");
  const after = await waitFor("the trend from the record", async () => {
    const s = await trendStats(again);
    return s.points >= before.points && s;
  });
  assert.ok(after.from <= before.from + 60_000, `the window reaches back: ${JSON.stringify({ before, after })}`);
});

scenario("a week the desk never saw is filled from the plant's history", async (ctx) => {
  // Seven simulated days in the plant's store, one reading a minute of each endpoint.
  const data = path.join(ctx.dir, "plant-data");
  fs.mkdirSync(data, { recursive: true });
  const ids = Array.from({ length: 31 }, (_, i) => String(i + 1));
  execFileSync(STORE_FILL, ["--path", path.join(data, "plant.sqlite3"), "--fine", "plant", "--days", "7", "--hz", String(1 / 60), "--names", ids.join(",")], { stdio: "ignore" });
  const plant = await ctx.startPlant({ args: ["--data-dir", data] });
  const app = await connectedApp(ctx, plant);
  await app.openTab("trends");
  await click(app, "trend-range-7d");
  const week = await waitFor("the week, filled from the plant", async () => {
    const s = await trendStats(app);
    return s.to - s.from >= 7 * DAY_MS - 60_000 && s.points >= 0.8 * (7 * DAY_MS / s.bucketMs) && s;
  }, 60_000);
  assert.ok(week.bucketMs >= 5 * 60_000, JSON.stringify(week));
  const filling = await app.$("[data-testid=trend-filling]");
  assert.equal(await filling.isDisplayed(), false, "the fetching note is gone");
  // Kept: asked again, the desk's record answers without the plant.
  await plant.kill();
  await click(app, "trend-range-24h");
  await click(app, "trend-range-7d");
  const kept = await waitFor("the week from the record", async () => {
    const s = await trendStats(app);
    return s.to - s.from >= 7 * DAY_MS - 60_000 && s.points >= week.points - 2 && s;
  });
  assert.ok(kept.points >= week.points - 2);
});

scenario("a CSV export holds the rows of the chart", async (ctx) => {
  const exports = path.join(ctx.dir, "exports");
  fs.mkdirSync(exports, { recursive: true });
  const plant = await ctx.startPlant();
  const app = await connectedApp(ctx, plant, { BREWDECK_EXPORT_DIR: exports });
  await app.openTab("trends");
  await click(app, "trend-range-15m");
  await waitFor("some of the trend", async () => (await trendStats(app)).points >= 10);
  // Frozen (back half a span and forward again, to now), so the chart and the export ask
  // the same range.
  await click(app, "trend-pan-back");
  await click(app, "trend-pan-forward");
  await waitFor("the frozen range drawn", async () => (await trendStats(app)).points >= 10);
  const shown = await trendStats(app);
  await click(app, "trend-export-csv");
  const said = await waitFor("the export's result", async () => {
    const el = await app.$("[data-testid=trend-export-result]");
    return (await el.isExisting()) && (await el.getText());
  });
  const name = /brewdeck-trend-[\d-]+\.csv/.exec(said)?.[0];
  assert.ok(name, said);
  const lines = fs.readFileSync(path.join(exports, name), "utf8").trim().split("\n");
  assert.equal(lines[0], "time,endpoint_id,endpoint,unit,min,max,last");
  const rows = lines.slice(1);
  assert.ok(rows.length >= shown.points && rows.length <= shown.points + 2, `${rows.length} rows for ${shown.points} points`);
  assert.match(said, new RegExp(`\\(${rows.length} rows\\)`));
  for (const row of rows) assert.equal(row.split(",").length, 7, row);
});
