// A TrendAnswer turned into what uPlot draws: one x column (ms) shared by every line, and per
// endpoint three columns (last, min, max). Pure functions: the record decides the buckets and
// their values; here they are only laid out, with gaps where the record has no reading.

import type { Endpoint, EndpointId } from "../generated/protocol";
import type { TrendAnswer } from "../generated/station";

/** Kinds drawn as off/on (0..1) on one shared scale. */
const STATE_KINDS: ReadonlySet<string> = new Set(["pump", "heater", "valve", "switch"]);

/** A gap is a jump in t of more than this many buckets (the record leaves empty buckets out). */
export const GAP_BUCKETS = 1.5;

/** uPlot's columns: x, then for each endpoint [min, max, last] (drawn in that order: the band
 * between min and max under the line of last values). `null` breaks a line;
 * `undefined` is a slot another endpoint needs, which the line goes straight over. */
export type ChartData = [number[], ...(number | null | undefined)[][]];

/** Where endpoint `i`'s columns are in `ChartData`. */
export const minColumn = (i: number) => 1 + 3 * i;
export const maxColumn = (i: number) => 2 + 3 * i;
export const lastColumn = (i: number) => 3 + 3 * i;

/** Line colours: distinct, muted, and none of the alarm colours (red, orange, yellow, violet). */
const COLOURS = ["#3f7fc4", "#2f9a86", "#8d8f3a", "#b0745a", "#6f86a6", "#3aa6c9", "#5e8c4a", "#8a7f70"];

export function colourOf(i: number): string {
  return COLOURS[i % COLOURS.length]!;
}

export interface Laid {
  data: ChartData;
  /** Non-null `last` values drawn, all endpoints together. */
  points: number;
  /** Per endpoint, the index of its newest point (-1: none), for the legend without a cursor. */
  newest: number[];
}

/** The scale an endpoint is drawn on: one per unit; states share "state" (0..1). */
export function scaleKey(e: Pick<Endpoint, "kind" | "unit">): string {
  return STATE_KINDS.has(e.kind) ? "state" : (e.unit ?? "value");
}

export function isState(e: Pick<Endpoint, "kind">): boolean {
  return STATE_KINDS.has(e.kind);
}

/** The scales the endpoints need, in the order they first appear: one y axis each. */
export function unitScales(endpoints: readonly Pick<Endpoint, "kind" | "unit">[]): string[] {
  const keys: string[] = [];
  for (const e of endpoints) {
    const key = scaleKey(e);
    if (!keys.includes(key)) keys.push(key);
  }
  return keys;
}

/** Lays the answer out for the endpoints `ids`, in that order (one missing from the answer
 * gets empty columns). Nothing is invented before the first or after the last reading. */
export function layOut(answer: TrendAnswer | null, ids: readonly EndpointId[]): Laid {
  const bySeries = new Map(answer?.series.map((s) => [s.endpointId, s]));
  const gapMs = (answer?.bucketMs ?? 1000) * GAP_BUCKETS;
  const bucketMs = answer?.bucketMs ?? 1000;

  // Every x any endpoint needs: its readings, and one slot just after each gap's start for
  // the null that breaks the line.
  let total = 0;
  for (const id of ids) {
    const s = bySeries.get(id);
    if (s) total += 2 * s.t.length;
  }
  const xs = new Float64Array(total);
  let n = 0;
  for (const id of ids) {
    const t = bySeries.get(id)?.t;
    if (!t) continue;
    for (let j = 0; j < t.length; j++) {
      xs[n++] = t[j]!;
      if (j + 1 < t.length && t[j + 1]! - t[j]! > gapMs) xs[n++] = t[j]! + bucketMs;
    }
  }
  const sorted = xs.subarray(0, n).sort();
  const x: number[] = [];
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) x.push(sorted[i]!);
  const slot = new Map<number, number>();
  for (let i = 0; i < x.length; i++) slot.set(x[i]!, i);

  const data: ChartData = [x];
  const newest: number[] = [];
  let points = 0;
  for (const id of ids) {
    const last = new Array<number | null | undefined>(x.length);
    const min = new Array<number | null | undefined>(x.length);
    const max = new Array<number | null | undefined>(x.length);
    const s = bySeries.get(id);
    let newestIndex = -1;
    if (s) {
      for (let j = 0; j < s.t.length; j++) {
        const i = slot.get(s.t[j]!)!;
        last[i] = s.last[j]!;
        min[i] = s.min[j]!;
        max[i] = s.max[j]!;
        newestIndex = i;
        points++;
        if (j + 1 < s.t.length && s.t[j + 1]! - s.t[j]! > gapMs) {
          const g = slot.get(s.t[j]! + bucketMs)!;
          // Another endpoint's reading may sit there: this one's gap still breaks its line.
          last[g] = null;
          min[g] = null;
          max[g] = null;
        }
      }
    }
    data.push(min, max, last);
    newest.push(newestIndex);
  }
  return { data, points, newest };
}
