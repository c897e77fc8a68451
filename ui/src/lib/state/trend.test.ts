// The trend tool's pure parts (ranges, pan, zoom, points per pixel, gaps, one scale per unit)
// and TrendView against a faked record: when it asks, and when it does not.

import { afterEach, describe, expect, test, vi } from "vitest";
import type { TrendAnswer, TrendQuery } from "../generated/station";
import { RECORD_FILLED } from "../generated/station/events";
import { FakeBackend, settle, until } from "../testing/fake-backend";
import { FILL_VALVE, GLYCOL_PUMP, HLT_LEVEL, HLT_TEMP, MASH_TEMP, deskSnapshot, trendAnswer, trendSeries } from "../testing/fixtures";
import { GAP_BUCKETS, lastColumn, layOut, maxColumn, minColumn, scaleKey, unitScales } from "./trend-data";
import {
  MAX_ENDPOINTS,
  TrendView,
  clampMaxPoints,
  customRange,
  liveIntervalMs,
  liveRange,
  panRange,
  presetOf,
  presetRange,
  toLocalInput,
  toggleChosen,
  windowOf,
  zoomRange,
} from "./trend.svelte";

const NOW = Date.parse("2025-03-01T12:00:00Z");
const HOUR = 3_600_000;

describe("ranges", () => {
  test("a preset is live: its window ends now and moves with it", () => {
    const r = presetRange("8h");
    expect(r.live).toBe(true);
    expect(windowOf(r, NOW)).toEqual({ fromMs: NOW - 8 * HOUR, toMs: NOW });
    expect(windowOf(r, NOW + 5000)).toEqual({ fromMs: NOW + 5000 - 8 * HOUR, toMs: NOW + 5000 });
    expect(presetOf(r)).toBe("8h");
    expect(windowOf(presetRange("30d"), NOW).fromMs).toBe(NOW - 30 * 24 * HOUR);
  });

  test("pan moves by the fraction of the span asked, leaves live, and never passes now", () => {
    const back = panRange(presetRange("1h"), -0.5, NOW);
    expect(back).toEqual({ live: false, spanMs: HOUR, toMs: NOW - HOUR / 2 });
    expect(presetOf(back)).toBeNull();
    const backAgain = panRange(back, -0.5, NOW);
    expect(windowOf(backAgain, NOW)).toEqual({ fromMs: NOW - 2 * HOUR, toMs: NOW - HOUR });
    const forward = panRange(backAgain, 0.5, NOW);
    expect(forward.toMs).toBe(NOW - HOUR / 2);
    // Forward past now stops at now, still frozen.
    expect(panRange(back, 0.5, NOW)).toEqual({ live: false, spanMs: HOUR, toMs: NOW });
  });

  test("zoom to a dragged selection leaves live, whichever way it was dragged; a click is no zoom", () => {
    expect(zoomRange(NOW - 600_000, NOW - 60_000)).toEqual({ live: false, spanMs: 540_000, toMs: NOW - 60_000 });
    expect(zoomRange(NOW - 60_000, NOW - 600_000)).toEqual({ live: false, spanMs: 540_000, toMs: NOW - 60_000 });
    expect(zoomRange(NOW - 2000, NOW)).toBeNull();
  });

  test("Live again keeps the span, within what live ranges allow", () => {
    expect(liveRange({ live: false, spanMs: 2 * HOUR, toMs: NOW - HOUR })).toEqual({ live: true, spanMs: 2 * HOUR, toMs: 0 });
    expect(liveRange({ live: false, spanMs: 400 * 24 * HOUR, toMs: NOW }).spanMs).toBe(30 * 24 * HOUR);
  });

  test("maxPoints is the chart's width in pixels, 200 to 5000", () => {
    expect(clampMaxPoints(812.4)).toBe(812);
    expect(clampMaxPoints(50)).toBe(200);
    expect(clampMaxPoints(9000)).toBe(5000);
    expect(clampMaxPoints(Number.NaN)).toBe(200);
  });

  test("live asks again once a bucket, between every 1 s and every 60 s", () => {
    expect(liveIntervalMs(250)).toBe(1000);
    expect(liveIntervalMs(1000)).toBe(1000);
    expect(liveIntervalMs(15_000)).toBe(15_000);
    expect(liveIntervalMs(3_600_000)).toBe(60_000);
  });

  test("custom dates: both needed, valid, the start first", () => {
    const from = toLocalInput(NOW - HOUR);
    const to = toLocalInput(NOW);
    expect(customRange(from, to)).toEqual({ range: { live: false, spanMs: HOUR, toMs: NOW } });
    expect(customRange("", to)).toEqual({ error: "Enter both the start and the end." });
    expect(customRange("yesterday", to)).toEqual({ error: "The start is not a valid date and time." });
    expect(customRange(to, from)).toEqual({ error: "The start must be before the end." });
    expect(customRange(to, to)).toEqual({ error: "The start must be before the end." });
  });

  test("at most eight endpoints: the newest choices stay", () => {
    let chosen: number[] = [];
    for (let id = 1; id <= 10; id++) chosen = toggleChosen(chosen, id, true) as number[];
    expect(chosen).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
    expect(chosen).toHaveLength(MAX_ENDPOINTS);
    expect(toggleChosen(chosen, 5, false)).toEqual([3, 4, 6, 7, 8, 9, 10]);
  });
});

describe("laying an answer out for uPlot", () => {
  const answer = (series: TrendAnswer["series"], bucketMs = 1000): TrendAnswer => ({
    fromMs: 0,
    toMs: 100_000,
    bucketMs,
    series,
    filling: false,
  });

  test("columns per endpoint: min, max, last; x shared; nothing invented at the ends", () => {
    const laid = layOut(answer([trendSeries(1, [[10_000, 5], [11_000, 6], [12_000, 7]])]), [1]);
    expect(laid.data[0]).toEqual([10_000, 11_000, 12_000]);
    expect(laid.data[lastColumn(0)]).toEqual([5, 6, 7]);
    expect(laid.data[minColumn(0)]).toEqual([4, 5, 6]);
    expect(laid.data[maxColumn(0)]).toEqual([6, 7, 8]);
    expect(laid.points).toBe(3);
    expect(laid.newest).toEqual([2]);
  });

  test("a jump of more than 1.5 buckets is a gap: a null breaks the line there", () => {
    expect(GAP_BUCKETS).toBe(1.5);
    const laid = layOut(
      answer(
        [
          trendSeries(1, [[0, 1], [60_000, 2], [120_000, 3], [300_000, 4], [360_000, 5]]),
        ],
        60_000,
      ),
      [1],
    );
    expect(laid.data[0]).toEqual([0, 60_000, 120_000, 180_000, 300_000, 360_000]);
    expect(laid.data[lastColumn(0)]).toEqual([1, 2, 3, null, 4, 5]);
    expect(laid.points).toBe(5);
    // Exactly 1.5 buckets is no gap.
    const close = layOut(answer([trendSeries(1, [[0, 1], [1500, 2]])]), [1]);
    expect(close.data[lastColumn(0)]).toEqual([1, 2]);
  });

  test("two endpoints on one x: a slot only the other has is skipped over, not a gap", () => {
    const laid = layOut(
      answer([trendSeries(1, [[1000, 1], [3000, 3]]), trendSeries(2, [[1000, 10], [2000, 20], [3000, 30]])], 2000),
      [2, 1],
    );
    expect(laid.data[0]).toEqual([1000, 2000, 3000]);
    expect(laid.data[lastColumn(0)]).toEqual([10, 20, 30]);
    expect(laid.data[lastColumn(1)]).toEqual([1, undefined, 3]);
    expect(laid.points).toBe(5);
  });

  test("an endpoint the answer lacks gets empty columns; no answer, nothing at all", () => {
    const laid = layOut(answer([trendSeries(1, [[1000, 1]])]), [1, 9]);
    expect(laid.data).toHaveLength(7);
    expect(laid.data[lastColumn(1)]).toEqual([undefined]);
    expect(laid.newest).toEqual([0, -1]);
    expect(layOut(null, [1]).data).toEqual([[], [], [], []]);
  });

  test("one scale per unit; states share one 0..1 scale", () => {
    expect([HLT_TEMP, HLT_LEVEL, MASH_TEMP, GLYCOL_PUMP, FILL_VALVE].map(scaleKey)).toEqual(["°F", "%", "°F", "state", "state"]);
    expect(unitScales([HLT_TEMP, HLT_LEVEL, MASH_TEMP, GLYCOL_PUMP, FILL_VALVE])).toEqual(["°F", "%", "state"]);
  });
});

describe("TrendView", () => {
  let fake: FakeBackend | undefined;
  let view: TrendView | undefined;

  afterEach(() => {
    view?.stop();
    view = undefined;
    fake?.uninstall();
    fake = undefined;
    vi.useRealTimers();
  });

  const queries = () => fake!.callsOf("trend").map((c) => c.args.query as TrendQuery);

  function setUp(now = () => NOW) {
    fake = new FakeBackend(deskSnapshot());
    fake.on("trend", (args) => trendAnswer(args.query as TrendQuery));
    view = new TrendView(now);
    return view;
  }

  test("asks at once, sized to the chart; nothing chosen, nothing asked", async () => {
    const v = setUp();
    v.width = 900;
    v.chosen = [HLT_TEMP.id, HLT_LEVEL.id];
    void v.start();
    await until(() => v.answer !== null, "the answer");
    expect(queries()).toEqual([{ endpointIds: [1, 2], fromMs: NOW - HOUR, toMs: NOW, maxPoints: 900 }]);
    expect(v.query).toEqual(queries()[0]);
    v.choose([]);
    await settle();
    expect(queries()).toHaveLength(1);
    expect(v.answer).toBeNull();
  });

  test("live: asked again once a bucket; frozen: only on RECORD_FILLED", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    let now = NOW;
    const v = setUp(() => now);
    v.chosen = [HLT_TEMP.id];
    void v.start();
    await until(() => v.answer !== null, "the answer");
    // An hour over 640 px: a bucket of 6 s, asked again after 6 s.
    expect(v.answer!.bucketMs).toBe(6000);
    now += 5999;
    await vi.advanceTimersByTimeAsync(5999);
    expect(queries()).toHaveLength(1);
    now += 1;
    await vi.advanceTimersByTimeAsync(1);
    await until(() => queries().length === 2, "the live re-ask");
    expect(queries()[1]!.toMs).toBe(NOW + 6000);

    // 7 days over 640 px: a bucket of 945 s; the timer stops at 60 s.
    v.preset("7d");
    await until(() => v.answer?.bucketMs === 945_000, "the 7-day answer");
    const before = queries().length;
    await vi.advanceTimersByTimeAsync(59_000);
    expect(queries()).toHaveLength(before);
    await vi.advanceTimersByTimeAsync(1000);
    await until(() => queries().length === before + 1, "the 60 s re-ask");

    v.pan(-0.5);
    await until(() => v.range.live === false && queries().length === before + 2, "the frozen ask");
    await vi.advanceTimersByTimeAsync(120_000);
    expect(queries()).toHaveLength(before + 2);
    await fake!.emit(RECORD_FILLED, null);
    await until(() => queries().length === before + 3, "the ask after RECORD_FILLED");
    expect(queries()[before + 2]).toEqual(queries()[before + 1]);
  });

  test("filling until the record says it filled; slow answers show Loading only after 300 ms", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const v = setUp();
    let release: (() => void) | null = null;
    let filling = true;
    fake!.on("trend", (args) => {
      const a = trendAnswer(args.query as TrendQuery, { filling });
      return new Promise((resolve) => (release = () => resolve(a)));
    });
    v.chosen = [HLT_TEMP.id];
    v.range = { live: false, spanMs: HOUR, toMs: NOW - HOUR };
    void v.start();
    await until(() => release !== null, "the ask");
    await vi.advanceTimersByTimeAsync(299);
    expect(v.slow).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(v.slow).toBe(true);
    release!();
    await until(() => v.answer !== null, "the answer");
    expect(v.slow).toBe(false);
    expect(v.filling).toBe(true);

    filling = false;
    release = null;
    await fake!.emit(RECORD_FILLED, null);
    await until(() => release !== null, "the ask again");
    release!();
    await until(() => !v.filling, "filled");
  });

  test("an older answer arriving late is dropped", async () => {
    const v = setUp();
    const pending: Array<() => void> = [];
    fake!.on("trend", (args) => {
      const a = trendAnswer(args.query as TrendQuery);
      return new Promise((resolve) => pending.push(() => resolve(a)));
    });
    v.chosen = [HLT_TEMP.id];
    void v.start();
    await until(() => pending.length === 1, "the first ask");
    v.choose([MASH_TEMP.id]);
    await until(() => pending.length === 2, "the second ask");
    pending[1]!();
    await until(() => v.answer !== null, "the second answer");
    pending[0]!();
    await settle();
    expect(v.answer!.series.map((s) => s.endpointId)).toEqual([MASH_TEMP.id]);
  });

  test("hidden: nothing asked; shown again: asked if anything changed", async () => {
    const v = setUp();
    v.chosen = [HLT_TEMP.id];
    void v.start();
    await until(() => queries().length === 1, "the first ask");
    v.setVisible(false);
    v.choose([HLT_TEMP.id, HLT_LEVEL.id]);
    await fake!.emit(RECORD_FILLED, null);
    await settle();
    expect(queries()).toHaveLength(1);
    v.setVisible(true);
    await until(() => queries().length === 2, "the ask on showing");
    expect(queries()[1]!.endpointIds).toEqual([1, 2]);
  });
});
