// The trend tool's state: which endpoints, which range (live or frozen), and the record's
// answer for them. The range math is pure and exported for tests; `TrendView` asks the record
// (`trend`) when something changes, on a timer while live, and again on RECORD_FILLED.
// Buckets, values and what is missing are the record's to decide: nothing is re-derived here.

import * as backend from "../backend";
import { BackendError, RECORD_FILLED, type Unlisten } from "../backend";
import type { EndpointId } from "../generated/protocol";
import type { TrendAnswer, TrendQuery } from "../generated/station";

export const MAX_ENDPOINTS = 8;
export const MIN_POINTS = 200;
export const MAX_POINTS = 5000;
/** Narrower selections are taken for a click, not a zoom. */
export const MIN_SPAN_MS = 10_000;
/** "Loading…" shows only for an answer slower than this. */
export const SLOW_MS = 300;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export type RangeKey = "15m" | "1h" | "8h" | "24h" | "7d" | "30d";
export const RANGES: readonly { key: RangeKey; label: string; spanMs: number }[] = [
  { key: "15m", label: "15 min", spanMs: 15 * MINUTE },
  { key: "1h", label: "1 h", spanMs: HOUR },
  { key: "8h", label: "8 h", spanMs: 8 * HOUR },
  { key: "24h", label: "24 h", spanMs: DAY },
  { key: "7d", label: "7 d", spanMs: 7 * DAY },
  { key: "30d", label: "30 d", spanMs: 30 * DAY },
];
export const MAX_LIVE_SPAN_MS = 30 * DAY;

/** Live: the right edge is now, `spanMs` wide. Frozen: [toMs − spanMs, toMs], fixed. */
export interface TrendRange {
  live: boolean;
  spanMs: number;
  /** The right edge of a frozen range (ignored while live). */
  toMs: number;
}

export function presetRange(key: RangeKey): TrendRange {
  const spanMs = RANGES.find((r) => r.key === key)?.spanMs ?? HOUR;
  return { live: true, spanMs, toMs: 0 };
}

/** The preset a live range is, if any (for the pressed button). */
export function presetOf(range: TrendRange): RangeKey | null {
  if (!range.live) return null;
  return RANGES.find((r) => r.spanMs === range.spanMs)?.key ?? null;
}

export function windowOf(range: TrendRange, now: number): { fromMs: number; toMs: number } {
  const toMs = range.live ? now : range.toMs;
  return { fromMs: toMs - range.spanMs, toMs };
}

/** Moves by `fraction` of the span (−0.5: half back), leaving live; never past now. */
export function panRange(range: TrendRange, fraction: number, now: number): TrendRange {
  const { toMs } = windowOf(range, now);
  const moved = Math.min(now, Math.round(toMs + fraction * range.spanMs));
  return { live: false, spanMs: range.spanMs, toMs: moved };
}

/** A dragged selection as a frozen range; null when too narrow to mean a zoom. */
export function zoomRange(fromMs: number, toMs: number): TrendRange | null {
  const [a, b] = fromMs <= toMs ? [fromMs, toMs] : [toMs, fromMs];
  if (b - a < MIN_SPAN_MS) return null;
  return { live: false, spanMs: Math.round(b - a), toMs: Math.round(b) };
}

/** Back to following now, as wide as it was (within what live ranges allow). */
export function liveRange(range: TrendRange): TrendRange {
  return { live: true, spanMs: Math.min(MAX_LIVE_SPAN_MS, Math.max(MIN_SPAN_MS, range.spanMs)), toMs: 0 };
}

/** About one point per pixel of the chart. */
export function clampMaxPoints(widthPx: number): number {
  if (!Number.isFinite(widthPx)) return MIN_POINTS;
  return Math.min(MAX_POINTS, Math.max(MIN_POINTS, Math.round(widthPx)));
}

/** How often a live range is asked again: once a bucket, between 1 s and 60 s. */
export function liveIntervalMs(bucketMs: number): number {
  return Math.min(60_000, Math.max(1000, bucketMs));
}

/** A `datetime-local` value ("2025-01-31T14:05") as ms, in local time; null if not one. */
export function parseLocal(text: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text)) return null;
  const ms = new Date(text).getTime();
  return Number.isNaN(ms) ? null : ms;
}

/** ms as a `datetime-local` value, in local time, to the minute. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** Two `datetime-local` values as a frozen range, or what is wrong with them. */
export function customRange(fromText: string, toText: string): { range: TrendRange } | { error: string } {
  if (fromText === "" || toText === "") return { error: "Enter both the start and the end." };
  const from = parseLocal(fromText);
  const to = parseLocal(toText);
  if (from === null) return { error: "The start is not a valid date and time." };
  if (to === null) return { error: "The end is not a valid date and time." };
  if (from >= to) return { error: "The start must be before the end." };
  return { range: { live: false, spanMs: to - from, toMs: to } };
}

/** The chosen endpoints after ticking (`on`) or unticking one: the newest MAX_ENDPOINTS. */
export function toggleChosen(chosen: readonly EndpointId[], id: EndpointId, on: boolean): EndpointId[] {
  const rest = chosen.filter((x) => x !== id);
  return on ? [...rest, id].slice(-MAX_ENDPOINTS) : rest;
}

/** The trend tool's choices and the record's answer to them. */
export class TrendView {
  chosen = $state.raw<EndpointId[]>([]);
  range = $state.raw<TrendRange>(presetRange("1h"));
  /** The latest answer, and the query it answers (what Export CSV exports). */
  answer = $state.raw<TrendAnswer | null>(null);
  query = $state.raw<TrendQuery | null>(null);
  /** A query has been pending longer than SLOW_MS. */
  slow = $state(false);
  /** The record is fetching parts of the range from the plant. */
  filling = $state(false);
  error = $state<string | null>(null);
  /** The chart's width in pixels: how many points to ask for. */
  width = 640;

  readonly #now: () => number;
  #visible = true;
  /** Something changed while hidden: ask when shown. */
  #stale = false;
  #seq = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #slowTimer: ReturnType<typeof setTimeout> | undefined;
  #unlisten: Unlisten | null = null;
  #stopped = false;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Asks at once, then listens for RECORD_FILLED (the first answer does not wait for it). */
  async start(): Promise<void> {
    void this.refresh();
    try {
      const unlisten = await backend.on(RECORD_FILLED, () => void this.refresh());
      if (this.#stopped) unlisten();
      else this.#unlisten = unlisten;
    } catch (e) {
      this.error = `Could not follow the record: ${BackendError.from("listen", e).message}`;
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#seq++;
    clearTimeout(this.#timer);
    clearTimeout(this.#slowTimer);
    this.#unlisten?.();
    this.#unlisten = null;
  }

  /** Hidden: no asking, no timer. Shown again: ask if anything changed meanwhile or live. */
  setVisible(visible: boolean): void {
    if (visible === this.#visible) return;
    this.#visible = visible;
    if (!visible) {
      clearTimeout(this.#timer);
      if (this.range.live) this.#stale = true;
    } else if (this.#stale) {
      void this.refresh();
    }
  }

  choose(ids: EndpointId[]): void {
    this.chosen = ids.slice(0, MAX_ENDPOINTS);
    void this.refresh();
  }

  toggle(id: EndpointId, on: boolean): void {
    this.choose(toggleChosen(this.chosen, id, on));
  }

  setRange(range: TrendRange): void {
    this.range = range;
    void this.refresh();
  }

  preset(key: RangeKey): void {
    this.setRange(presetRange(key));
  }

  pan(fraction: number): void {
    this.setRange(panRange(this.range, fraction, this.#now()));
  }

  /** A selection dragged on the chart; ignored when too narrow. */
  zoom(fromMs: number, toMs: number): void {
    const range = zoomRange(fromMs, toMs);
    if (range) this.setRange(range);
  }

  goLive(): void {
    this.setRange(liveRange(this.range));
  }

  /** The query for the current choices, now. */
  currentQuery(): TrendQuery {
    const { fromMs, toMs } = windowOf(this.range, this.#now());
    return { endpointIds: [...this.chosen], fromMs, toMs, maxPoints: clampMaxPoints(this.width) };
  }

  /** Asks the record for the current choices; a newer ask makes an older answer moot. */
  async refresh(): Promise<void> {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    clearTimeout(this.#slowTimer);
    if (!this.#visible) {
      this.#stale = true;
      return;
    }
    this.#stale = false;
    const seq = ++this.#seq;
    if (this.chosen.length === 0) {
      this.answer = null;
      this.query = null;
      this.slow = false;
      this.filling = false;
      return;
    }
    const query = this.currentQuery();
    this.#slowTimer = setTimeout(() => {
      if (seq === this.#seq) this.slow = true;
    }, SLOW_MS);
    let answer: TrendAnswer | null = null;
    try {
      answer = await backend.trend(query);
      if (seq !== this.#seq) return;
      this.error = null;
      this.answer = answer;
      this.query = query;
      this.filling = answer.filling;
    } catch (e) {
      if (seq !== this.#seq) return;
      this.error = BackendError.from("trend", e).message;
    } finally {
      if (seq === this.#seq) {
        clearTimeout(this.#slowTimer);
        this.slow = false;
      }
    }
    // Live: the right edge moves on once a bucket. Frozen: asked again only on RECORD_FILLED.
    if (this.range.live && this.#visible && !this.#stopped) {
      this.#timer = setTimeout(() => void this.refresh(), liveIntervalMs(answer?.bucketMs ?? 1000));
    }
  }
}
