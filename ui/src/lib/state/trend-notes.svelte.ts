// The shift log's notes on the trend: those about the charted endpoints within the range on
// screen. Read from the journal (`journal`, kind "note") when the range changes (at most once
// a second while live), not per frame; PLANT_NOTE adds a new one at once. Which endpoints a
// note is about is the journal's; this only picks those that are charted.

import * as backend from "../backend";
import { BackendError, PLANT_NOTE, type Unlisten } from "../backend";
import type { EndpointId, JournalEntry, Note } from "../generated/protocol";
import { makeFilter } from "./journal.svelte";

/** Notes read per range, at most (the journal's largest page). */
export const NOTES_LIMIT = 500;
/** The journal is asked at most this often. */
export const NOTES_MIN_INTERVAL_MS = 1000;

/** A note as the chart marks it. */
export interface NoteMark {
  /** Stable across the journal and PLANT_NOTE: the note's id when it has one. */
  key: string;
  atMs: number;
  by: string;
  text: string;
  endpointIds: EndpointId[];
}

function markOf(n: Pick<JournalEntry, "at" | "by" | "text" | "endpointIds" | "seq"> & { noteId?: number }): NoteMark | null {
  const atMs = Date.parse(n.at);
  if (Number.isNaN(atMs)) return null;
  const key = n.noteId !== undefined ? `note-${n.noteId}` : `seq-${n.seq}`;
  return { key, atMs, by: n.by, text: n.text, endpointIds: n.endpointIds ?? [] };
}

/** The notes about any of `ids` within [fromMs, toMs], oldest first. */
export function notesOn(notes: readonly NoteMark[], ids: readonly EndpointId[], fromMs: number, toMs: number): NoteMark[] {
  const charted = new Set(ids.map(String));
  return notes
    .filter((n) => n.atMs >= fromMs && n.atMs <= toMs && n.endpointIds.some((id) => charted.has(String(id))))
    .sort((a, b) => a.atMs - b.atMs);
}

export class TrendNotes {
  /** The notes read for the range last asked, about any endpoint. */
  all = $state.raw<NoteMark[]>([]);
  error = $state<string | null>(null);

  readonly #now: () => number;
  /** The range wanted and the one last asked for. */
  #want: { fromMs: number; toMs: number } | null = null;
  #asked: { fromMs: number; toMs: number } | null = null;
  #lastAskAt = -Infinity;
  #inflight = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #visible = true;
  #seq = 0;
  #unlisten: Unlisten | null = null;
  #stopped = false;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async start(): Promise<void> {
    try {
      const unlisten = await backend.on(PLANT_NOTE, (e) => this.#add(e.note));
      if (this.#stopped) unlisten();
      else this.#unlisten = unlisten;
    } catch (e) {
      this.error = `Could not follow the notes: ${BackendError.from("listen", e).message}`;
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#seq++;
    clearTimeout(this.#timer);
    this.#unlisten?.();
    this.#unlisten = null;
  }

  /** The chart shows these endpoints over this range; none: nothing is asked. */
  update(ids: readonly EndpointId[], fromMs: number, toMs: number): void {
    this.#want = ids.length === 0 ? null : { fromMs, toMs };
    this.#schedule();
  }

  /** Hidden: nothing asked. Shown: the range wanted is asked if it was not. */
  setVisible(visible: boolean): void {
    if (visible === this.#visible) return;
    this.#visible = visible;
    if (!visible) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    } else {
      this.#schedule();
    }
  }

  /** The range wanted, when it was not asked for: now, or a second after the last ask. */
  #schedule(): void {
    if (this.#stopped || !this.#visible || this.#inflight || this.#timer !== undefined) return;
    if (!this.#wanted()) return;
    const wait = this.#lastAskAt + NOTES_MIN_INTERVAL_MS - this.#now();
    if (wait <= 0) {
      void this.#ask();
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#stopped && this.#visible && !this.#inflight) void this.#ask();
    }, wait);
  }

  /** The range wanted, if it is not the one asked for. */
  #wanted(): { fromMs: number; toMs: number } | null {
    const want = this.#want;
    if (!want || (this.#asked && this.#asked.fromMs === want.fromMs && this.#asked.toMs === want.toMs)) return null;
    return want;
  }

  async #ask(): Promise<void> {
    const range = this.#wanted();
    if (!range) return;
    const seq = ++this.#seq;
    this.#asked = range;
    this.#lastAskAt = this.#now();
    this.#inflight = true;
    try {
      const page = await backend.journal(
        makeFilter({ fromMs: Math.floor(range.fromMs), toMs: Math.ceil(range.toMs), kinds: ["note"], limit: NOTES_LIMIT }),
      );
      if (seq !== this.#seq) return;
      this.all = page.entries.map(markOf).filter((m): m is NoteMark => m !== null);
      this.error = null;
    } catch (e) {
      if (seq !== this.#seq) return;
      this.error = BackendError.from("journal", e).message;
    } finally {
      this.#inflight = false;
      // The range moved on meanwhile: ask for where it is now.
      this.#schedule();
    }
  }

  /** A new note: shown at once when the chart is on screen (asked for later otherwise). */
  #add(note: Note): void {
    if (!this.#visible) {
      this.#asked = null;
      return;
    }
    const mark = markOf(note);
    if (!mark || this.all.some((m) => m.key === mark.key)) return;
    this.all = [...this.all, mark];
  }
}
