// Recent values of every endpoint, for the tiles' sparklines and the trend chart.
//
// Bounded whatever the plant sends: one point per endpoint per bucket (1 s; a newer reading in
// the same second replaces the older one), at most an hour of buckets per endpoint in a ring
// of typed arrays (8 bytes a point), at most `maxSeries` endpoints. 500 endpoints at 20
// readings/s each hold at most 500 × 3600 points (≈14 MB), however long the shift.
//
// Nothing here is deeply reactive: the arrays live outside `$state`, and `tick` is bumped once
// per batch that started a new bucket somewhere, so readers redraw about once a second, not
// once per reading.

import type { EndpointId, Value } from "../generated/protocol";

export interface HistoryOptions {
  /** How far back points are kept. */
  spanMs?: number;
  /** One point per endpoint per bucket. */
  bucketMs?: number;
  /** Endpoints beyond this many are not recorded. */
  maxSeries?: number;
}

export const HISTORY_SPAN_MS = 60 * 60_000;
export const HISTORY_BUCKET_MS = 1000;
export const HISTORY_MAX_SERIES = 1000;

/** A value as a number for a chart: booleans as 1/0, text not at all. */
export function numeric(value: Value): number | null {
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "boolean") return value ? 1 : 0;
  return null;
}

/** One endpoint's points, oldest first, in a ring that grows by doubling up to its capacity.
 * Times are bucket numbers; a NaN value marks a gap (the link was down). */
class Series {
  t: Uint32Array;
  v: Float32Array;
  start = 0;
  len = 0;
  readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
    const initial = Math.min(capacity, 64);
    this.t = new Uint32Array(initial);
    this.v = new Float32Array(initial);
  }

  #at(i: number): number {
    return (this.start + i) % this.t.length;
  }

  lastBucket(): number | undefined {
    return this.len === 0 ? undefined : this.t[this.#at(this.len - 1)];
  }

  lastValue(): number | undefined {
    return this.len === 0 ? undefined : this.v[this.#at(this.len - 1)];
  }

  /** Adds a point; returns whether it started a new bucket. */
  push(bucket: number, value: number): boolean {
    const last = this.lastBucket();
    if (last !== undefined && bucket <= last) {
      // Same bucket: the newest value stands for it. Older (the clock went back, or a
      // snapshot's older reading): dropped, the ring stays in time order.
      if (bucket === last) this.v[this.#at(this.len - 1)] = value;
      return false;
    }
    if (this.len === this.t.length && this.len < this.capacity) this.#grow();
    if (this.len < this.t.length) {
      const i = this.#at(this.len);
      this.t[i] = bucket;
      this.v[i] = value;
      this.len++;
    } else {
      // Full: the oldest point makes way.
      this.t[this.start] = bucket;
      this.v[this.start] = value;
      this.start = (this.start + 1) % this.t.length;
    }
    return true;
  }

  /** Puts older points (strictly increasing buckets) before the ones held: those not older
   * than the first held point are skipped; past the capacity the oldest make way. */
  prepend(buckets: readonly number[], values: readonly number[]): boolean {
    const first = this.len > 0 ? this.bucketAt(0) : Infinity;
    let k = 0;
    while (k < buckets.length && buckets[k]! < first) k++;
    if (k === 0) return false;
    const total = Math.min(this.capacity, k + this.len);
    const size = Math.max(total, Math.min(this.capacity, 64));
    const t = new Uint32Array(size);
    const v = new Float32Array(size);
    const older = total - this.len;
    for (let i = 0; i < older; i++) {
      t[i] = buckets[k - older + i]!;
      v[i] = values[k - older + i]!;
    }
    for (let i = 0; i < this.len; i++) {
      t[older + i] = this.bucketAt(i);
      v[older + i] = this.valueAt(i);
    }
    this.t = t;
    this.v = v;
    this.start = 0;
    this.len = total;
    return true;
  }

  #grow(): void {
    // Only while not yet full, so the ring has not wrapped: start is 0.
    const size = Math.min(this.capacity, this.t.length * 2);
    const t = new Uint32Array(size);
    const v = new Float32Array(size);
    t.set(this.t.subarray(0, this.len));
    v.set(this.v.subarray(0, this.len));
    this.t = t;
    this.v = v;
  }

  bucketAt(i: number): number {
    return this.t[this.#at(i)]!;
  }

  valueAt(i: number): number {
    return this.v[this.#at(i)]!;
  }

  /** The index of the newest point before `bucket` (0 when there is none), by bisection. */
  indexBefore(bucket: number): number {
    let lo = 0;
    let hi = this.len - 1;
    if (this.len === 0 || this.bucketAt(0) >= bucket) return 0;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.bucketAt(mid) < bucket) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Calls `visit` newest first until it returns false. */
  backwards(visit: (bucket: number, value: number) => boolean): void {
    for (let i = this.len - 1; i >= 0; i--) {
      const j = this.#at(i);
      if (!visit(this.t[j]!, this.v[j]!)) return;
    }
  }

  get bytes(): number {
    return this.t.byteLength + this.v.byteLength;
  }
}

/** Data for uPlot: x in seconds, then one array per endpoint (`null`: a gap in the line;
 * `undefined`: no point at that second, the line goes straight on). */
export type AlignedSeries = [number[], ...(number | null | undefined)[][]];

export class History {
  /** Bumped when a bucket was started or a gap marked: redraw what depends on history. */
  tick = $state(0);

  readonly spanMs: number;
  readonly bucketMs: number;
  readonly maxSeries: number;
  #series = new Map<EndpointId, Series>();

  constructor(options: HistoryOptions = {}) {
    this.spanMs = options.spanMs ?? HISTORY_SPAN_MS;
    this.bucketMs = options.bucketMs ?? HISTORY_BUCKET_MS;
    this.maxSeries = options.maxSeries ?? HISTORY_MAX_SERIES;
  }

  #bucket(ms: number): number {
    return Math.max(0, Math.floor(ms / this.bucketMs));
  }

  /** Records one reading; returns whether it started a bucket (the caller bumps `tick`). */
  #record(id: EndpointId, value: Value, atMs: number): boolean {
    const n = numeric(value);
    if (n === null) return false;
    let series = this.#series.get(id);
    if (!series) {
      if (this.#series.size >= this.maxSeries) return false;
      series = new Series(Math.ceil(this.spanMs / this.bucketMs));
      this.#series.set(id, series);
    }
    return series.push(this.#bucket(atMs), n);
  }

  /** Records a batch of readings received at `atMs`. */
  record(readings: Iterable<{ endpointId: EndpointId; value: Value }>, atMs: number): void {
    let started = false;
    for (const r of readings) {
      if (this.#record(r.endpointId, r.value, atMs)) started = true;
    }
    if (started) this.tick++;
  }

  /** Breaks every line at `atMs` (the link went down: nothing is known until it is back). */
  gap(atMs: number): void {
    const bucket = this.#bucket(atMs);
    let marked = false;
    for (const series of this.#series.values()) {
      const last = series.lastBucket();
      const value = series.lastValue();
      if (last === undefined || value === undefined || Number.isNaN(value)) continue;
      series.push(Math.max(bucket, last + 1), NaN);
      marked = true;
    }
    if (marked) this.tick++;
  }

  /** Fills in what came before the points held, from the desk's record (oldest first, times
   * in ms, one bucket of `bucketMs` each; a missing bucket is a gap). Once per sync: it
   * rebuilds the endpoint's ring. */
  seed(id: EndpointId, t: readonly number[], values: readonly number[], bucketMs: number): void {
    let series = this.#series.get(id);
    if (!series) {
      if (this.#series.size >= this.maxSeries) return;
      series = new Series(Math.ceil(this.spanMs / this.bucketMs));
      this.#series.set(id, series);
    }
    const gapMs = 1.5 * Math.max(bucketMs, this.bucketMs);
    const buckets: number[] = [];
    const ys: number[] = [];
    for (let i = 0; i < t.length; i++) {
      const bucket = this.#bucket(t[i]!);
      const y = values[i]!;
      const last = buckets.length - 1;
      if (last >= 0 && bucket <= buckets[last]!) {
        if (bucket === buckets[last]) ys[last] = y; // the newer stands, as in `record`
        continue;
      }
      if (i > 0 && t[i]! - t[i - 1]! > gapMs && this.#bucket(t[i - 1]! + bucketMs) < bucket) {
        buckets.push(this.#bucket(t[i - 1]! + bucketMs));
        ys.push(NaN);
      }
      buckets.push(bucket);
      ys.push(y);
    }
    // The app was closed between the record's last reading and the first one held: a gap.
    const first = series.len > 0 ? series.bucketAt(0) : undefined;
    const tail = t.length > 0 ? t[t.length - 1]! : undefined;
    if (first !== undefined && tail !== undefined && first * this.bucketMs - tail > gapMs) {
      const gapBucket = this.#bucket(tail + bucketMs);
      if (gapBucket < first && gapBucket > (buckets[buckets.length - 1] ?? -1)) {
        buckets.push(gapBucket);
        ys.push(NaN);
      }
    }
    if (series.prepend(buckets, ys)) this.tick++;
  }

  clear(): void {
    this.#series.clear();
    this.tick++;
  }

  has(id: EndpointId): boolean {
    return this.#series.has(id);
  }

  get seriesCount(): number {
    return this.#series.size;
  }

  /** Points held, all endpoints together. */
  get pointCount(): number {
    let n = 0;
    for (const s of this.#series.values()) n += s.len;
    return n;
  }

  /** Memory held by the points. */
  get bytes(): number {
    let n = 0;
    for (const s of this.#series.values()) n += s.bytes;
    return n;
  }

  /** One endpoint's points from `fromMs` on, oldest first: times in ms, NaN for a gap. */
  points(id: EndpointId, fromMs: number): { t: number[]; v: number[] } {
    const t: number[] = [];
    const v: number[] = [];
    const series = this.#series.get(id);
    if (!series) return { t, v };
    const from = this.#bucket(fromMs);
    series.backwards((bucket, value) => {
      if (bucket < from) return false;
      t.push(bucket * this.bucketMs);
      v.push(value);
      return true;
    });
    t.reverse();
    v.reverse();
    return { t, v };
  }

  /** An SVG path of one endpoint over [nowMs − spanMs, nowMs] in a width × height box, at most
   * one point per pixel column; the line is held to `nowMs` when `live`. Empty when there is
   * nothing to draw. Called for every tile each second: two passes over the ring, no arrays. */
  sparkPath(id: EndpointId, nowMs: number, spanMs: number, width: number, height: number, live: boolean): string {
    const series = this.#series.get(id);
    if (!series || series.len === 0) return "";
    const fromMs = nowMs - spanMs;
    // The first point drawn: the newest before the window (it enters from the left edge).
    const first = series.indexBefore(Math.floor(fromMs / this.bucketMs));
    let min = Infinity;
    let max = -Infinity;
    for (let i = first; i < series.len; i++) {
      const y = series.valueAt(i);
      if (y < min) min = y; // NaN compares false: gaps are skipped
      if (y > max) max = y;
    }
    if (min === Infinity) return "";
    const pad = 1.5;
    const flat = max === min;
    const yScale = flat ? 0 : (height - 2 * pad) / (max - min);
    const xScale = width / spanMs;
    // Whole units: integers print fast (callers draw in a box of 2 units per pixel).
    const round = Math.round;
    let path = "";
    /** The last point, held back until its pixel column is over (a newer one replaces it). */
    let pending = "";
    let pen = false;
    let lastColumn = -1;
    let lastY = NaN;
    for (let i = first; i < series.len; i++) {
      const v = series.valueAt(i);
      if (Number.isNaN(v)) {
        path += pending;
        pending = "";
        pen = false;
        lastY = NaN;
        continue;
      }
      let x = (series.bucketAt(i) * this.bucketMs - fromMs) * xScale;
      x = x < 0 ? 0 : x > width ? width : x;
      const y = flat ? height / 2 : pad + (max - v) * yScale;
      const column = Math.round(x);
      lastY = y;
      const point = `${round(x)} ${round(y)}`;
      if (pen && column === lastColumn) {
        pending = pending.charAt(0) + point; // a move stays a move
        continue;
      }
      path += pending;
      pending = (pen ? "L" : "M") + point;
      pen = true;
      lastColumn = column;
    }
    path += pending;
    if (live && pen && !Number.isNaN(lastY)) path += `L${round(Math.min(width, Math.max(0, (nowMs - fromMs) * xScale)))} ${round(lastY)}`;
    return path;
  }

  /** The endpoints over [fromMs, toMs], aligned on whole seconds for uPlot. A point before the
   * window starts the line at its left edge; `live` holds each line's last value to `toMs`. */
  aligned(ids: readonly EndpointId[], fromMs: number, toMs: number, live: boolean): AlignedSeries {
    const from = Math.floor(fromMs / 1000);
    const to = Math.max(from, Math.floor(toMs / 1000));
    const n = to - from + 1;
    const x = new Array<number>(n);
    for (let i = 0; i < n; i++) x[i] = from + i;
    const out: AlignedSeries = [x];
    for (const id of ids) {
      const ys = new Array<number | null | undefined>(n).fill(undefined);
      const series = this.#series.get(id);
      let newest = true;
      series?.backwards((bucket, value) => {
        const sec = Math.floor((bucket * this.bucketMs) / 1000);
        const y = Number.isNaN(value) ? null : value;
        if (newest) {
          newest = false;
          if (live && y !== null && sec < to) ys[n - 1] = y;
        }
        if (sec < from) {
          if (ys[0] === undefined && y !== null) ys[0] = y;
          return false;
        }
        const slot = sec - from;
        if (slot < n && ys[slot] === undefined) ys[slot] = y;
        return true;
      });
      out.push(ys);
    }
    return out;
  }
}
