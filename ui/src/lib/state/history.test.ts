// The history behind sparklines and trends: one point per endpoint per second, bounded
// memory whatever the rate, gaps where the link was down, uPlot's aligned data.

import { describe, expect, test } from "vitest";
import { History } from "./history.svelte";

const T0 = Date.parse("2025-01-01T10:00:00Z");

describe("History", () => {
  test("one point per endpoint per second: the newest reading of the second stands", () => {
    const h = new History();
    h.record([{ endpointId: 1, value: 10 }], T0);
    h.record([{ endpointId: 1, value: 11 }], T0 + 400);
    h.record([{ endpointId: 1, value: 12 }], T0 + 999);
    h.record([{ endpointId: 1, value: 13 }], T0 + 1000);
    expect(h.points(1, T0)).toEqual({ t: [T0, T0 + 1000], v: [12, 13] });
  });

  test("tick moves once per new second, not once per reading", () => {
    const h = new History();
    const before = h.tick;
    for (let i = 0; i < 20; i++) h.record([{ endpointId: 1, value: i }, { endpointId: 2, value: i }], T0 + i * 50);
    expect(h.tick - before).toBe(1);
    h.record([{ endpointId: 1, value: 99 }], T0 + 1000);
    expect(h.tick - before).toBe(2);
  });

  test("booleans are 1/0, text is not recorded", () => {
    const h = new History();
    h.record([{ endpointId: 1, value: true }, { endpointId: 2, value: "auto" }], T0);
    h.record([{ endpointId: 1, value: false }], T0 + 1000);
    expect(h.points(1, T0).v).toEqual([1, 0]);
    expect(h.has(2)).toBe(false);
  });

  test("memory stays bounded: 20 readings/s for two hours keep one hour, oldest gone", () => {
    const h = new History();
    const hours = 2;
    for (let i = 0; i < hours * 3600 * 20; i++) h.record([{ endpointId: 1, value: i }], T0 + i * 50);
    expect(h.pointCount).toBe(3600);
    const { t } = h.points(1, 0);
    expect(t[0]).toBe(T0 + 3600_000); // the first hour has made way
    expect(t.at(-1)).toBe(T0 + 2 * 3600_000 - 1000);
    expect(h.bytes).toBe(3600 * 8);
  });

  test("memory stays bounded across many endpoints, and past maxSeries nothing more is kept", () => {
    const h = new History({ maxSeries: 300 });
    const batch = Array.from({ length: 500 }, (_, id) => ({ endpointId: id, value: id }));
    for (let s = 0; s < 3700; s += 1) h.record(batch, T0 + s * 1000);
    expect(h.seriesCount).toBe(300);
    expect(h.pointCount).toBe(300 * 3600);
    // 8 bytes a point: 500 endpoints would be at most 14.4 MB.
    expect(h.bytes).toBe(300 * 3600 * 8);
  });

  test("a gap breaks the lines where the link went down", () => {
    const h = new History();
    h.record([{ endpointId: 1, value: 5 }], T0);
    h.gap(T0 + 2000);
    h.gap(T0 + 3000); // already broken: nothing more
    h.record([{ endpointId: 1, value: 6 }], T0 + 9000);
    const { v } = h.points(1, T0);
    expect(v).toHaveLength(3);
    expect(v[0]).toBe(5);
    expect(Number.isNaN(v[1])).toBe(true);
    expect(v[2]).toBe(6);
  });

  test("aligned data for uPlot: seconds, values, null for gaps, undefined for no point; held to now when live", () => {
    const h = new History();
    h.record([{ endpointId: 1, value: 1 }], T0 - 5000); // before the window: starts the line
    h.record([{ endpointId: 1, value: 2 }], T0 + 2000);
    h.gap(T0 + 3000);
    h.record([{ endpointId: 2, value: 7 }], T0 + 1000);
    const [x, a, b] = h.aligned([1, 2], T0, T0 + 5000, true);
    expect(x).toEqual([0, 1, 2, 3, 4, 5].map((s) => T0 / 1000 + s));
    expect(a).toEqual([1, undefined, 2, null, undefined, undefined]);
    expect(b).toEqual([undefined, 7, undefined, undefined, undefined, 7]);
    const [, , still] = h.aligned([1, 2], T0, T0 + 5000, false);
    expect(still).toEqual([undefined, 7, undefined, undefined, undefined, undefined]);
  });

  test("sparkPath draws one line, broken at gaps, at most one point per pixel column", () => {
    const h = new History();
    for (let s = 0; s < 300; s++) h.record([{ endpointId: 1, value: Math.sin(s / 10) }], T0 + s * 1000);
    const path = h.sparkPath(1, T0 + 300_000, 300_000, 100, 20, true);
    const points = path.match(/[ML]/g) ?? [];
    expect(points.length).toBeLessThanOrEqual(102);
    expect(path.startsWith("M")).toBe(true);
    expect(path.match(/M/g)).toHaveLength(1);

    h.gap(T0 + 300_000);
    h.record([{ endpointId: 1, value: 0 }], T0 + 320_000);
    expect(h.sparkPath(1, T0 + 330_000, 300_000, 100, 20, true).match(/M/g)).toHaveLength(2);
    expect(h.sparkPath(99, T0, 300_000, 100, 20, true)).toBe("");
  });
});

describe("History.seed (the record's last hour, at start)", () => {
  test("fills in before the points held, with a gap where the record has none and where the app was closed", () => {
    const h = new History();
    // Live since T0 + 600 s (the snapshot's reading).
    h.record([{ endpointId: 1, value: 50 }], T0 + 600_000);
    const t = [T0, T0 + 1000, T0 + 2000, T0 + 10_000, T0 + 11_000];
    const tick = h.tick;
    h.seed(1, t, [1, 2, 3, 4, 5], 1000);
    expect(h.tick).toBe(tick + 1);
    const { t: ts, v } = h.points(1, T0);
    expect(ts).toEqual([T0, T0 + 1000, T0 + 2000, T0 + 3000, T0 + 10_000, T0 + 11_000, T0 + 12_000, T0 + 600_000]);
    expect(v.map((x) => (Number.isNaN(x) ? null : x))).toEqual([1, 2, 3, null, 4, 5, null, 50]);
    // Live readings carry on after it.
    h.record([{ endpointId: 1, value: 51 }], T0 + 601_000);
    expect(h.points(1, T0 + 600_000).v).toEqual([50, 51]);
  });

  test("what is not older than the first point held is skipped; an unknown endpoint starts from the record", () => {
    const h = new History();
    h.record([{ endpointId: 1, value: 50 }], T0 + 2000);
    h.seed(1, [T0, T0 + 1000, T0 + 2000, T0 + 3000], [1, 2, 3, 4], 1000);
    expect(h.points(1, T0).v).toEqual([1, 2, 50]);
    h.seed(2, [T0, T0 + 1000], [7, 8], 1000);
    expect(h.points(2, T0).v).toEqual([7, 8]);
  });

  test("an hour of seconds fills the ring; past its capacity the oldest make way", () => {
    const h = new History({ spanMs: 10_000 });
    h.record([{ endpointId: 1, value: 99 }], T0 + 20_000);
    const t = Array.from({ length: 20 }, (_, i) => T0 + i * 1000);
    h.seed(1, t, t.map((_, i) => i), 1000);
    const { v } = h.points(1, 0);
    expect(v).toHaveLength(10);
    expect(v.slice(-2)).toEqual([19, 99]);
  });
});
