// The journal as this page reads it: the filter form turned into the Rust side's
// `JournalFilter` (pure, exported for tests), and `JournalFeed`, which asks for pages
// (`journal`), pages back with `beforeSeq`, and follows the plant's events while the newest
// page is on screen. Which journal answers (the plant's or this desk's own) and what matches
// is the Rust side's to decide: nothing is re-filtered here.

import * as backend from "../backend";
import { BackendError, type Unlisten } from "../backend";
import type { JournalEntry, JournalKind, Severity } from "../generated/protocol";
import type { ExportOutcome, JournalFilter, JournalPage, JournalSource } from "../generated/station";
import { LINK_STATE, PLANT_ALARM, PLANT_COMMAND, PLANT_NOTE } from "../generated/station/events";
import { JOURNAL_KINDS } from "../journal-format";
import { charCount } from "../shelving";
import { SEVERITIES } from "./plant.svelte";
import { parseLocal, toLocalInput } from "./trend.svelte";

/** Entries per page. */
export const PAGE_SIZE = 100;
/** The longest text searched for, in characters (brewdeck_protocol::JOURNAL_TEXT_MAX_CHARS). */
export const TEXT_MAX = 200;
/** Typing in the search box is applied once it pauses this long. */
export const TEXT_DEBOUNCE_MS = 300;
/** Events bring a refresh of the newest page at most this often. */
export const LIVE_DEBOUNCE_MS = 500;
/** New entries pushed on top past this many drop the oldest rows (they can be paged to again). */
export const MAX_ROWS = 1000;

const DAY = 24 * 3_600_000;

/** A filter's parts; those left out are not sent (the Rust side reads them as "none"). */
export interface FilterParts {
  fromMs?: number;
  toMs?: number;
  kinds?: JournalKind[];
  severities?: Severity[];
  text?: string;
  beforeSeq?: number;
  limit?: number;
  deskOnly?: boolean;
}

/** The `JournalFilter` for these parts. The generated type marks `fromMs`, `toMs` and
 * `beforeSeq` as required numbers (a ts-rs type override), but the Rust side takes each as
 * optional (`serde(default)`): a missing one is "no bound" and "the newest page". They are
 * left out rather than sent as 0, which would mean 1970 and "older than the first entry". */
export function makeFilter(parts: FilterParts): JournalFilter {
  return {
    kinds: parts.kinds ?? [],
    severities: parts.severities ?? [],
    deskOnly: parts.deskOnly ?? false,
    ...(parts.fromMs !== undefined && { fromMs: parts.fromMs }),
    ...(parts.toMs !== undefined && { toMs: parts.toMs }),
    ...(parts.text !== undefined && { text: parts.text }),
    ...(parts.beforeSeq !== undefined && { beforeSeq: parts.beforeSeq }),
    ...(parts.limit !== undefined && { limit: parts.limit }),
  } as JournalFilter;
}

/** The journal view's filter form, as typed. */
export interface JournalForm {
  /** `datetime-local`, local time; empty: no lower bound. */
  fromText: string;
  /** `datetime-local`, local time; empty: up to now, following new entries. */
  toText: string;
  /** The kinds ticked. */
  kinds: readonly JournalKind[];
  /** The severities ticked. */
  severities: readonly Severity[];
  text: string;
  deskOnly: boolean;
}

/** The form as a `JournalFilter` (without `beforeSeq`/`limit`), or what is wrong with it.
 * Everything ticked is sent as no filter at all: commands and notes have no severity, and a
 * severity filter leaves them out. */
export function formFilter(form: JournalForm): { filter: JournalFilter } | { error: string } {
  const fromMs = form.fromText === "" ? undefined : parseLocal(form.fromText);
  const toMs = form.toText === "" ? undefined : parseLocal(form.toText);
  if (fromMs === null) return { error: "The start is not a valid date and time." };
  if (toMs === null) return { error: "The end is not a valid date and time." };
  if (fromMs !== undefined && toMs !== undefined && toMs < fromMs) return { error: "The start must be before the end." };
  if (form.kinds.length === 0) return { error: "Tick at least one kind of entry." };
  if (form.severities.length === 0) return { error: "Tick at least one severity." };
  const text = form.text.trim();
  const n = charCount(text);
  if (n > TEXT_MAX) return { error: `The search is ${n} characters: at most ${TEXT_MAX}.` };
  const kinds = form.kinds.length === JOURNAL_KINDS.length ? [] : JOURNAL_KINDS.filter((k) => form.kinds.includes(k));
  const severities = form.severities.length === SEVERITIES.length ? [] : SEVERITIES.filter((s) => form.severities.includes(s));
  return {
    filter: makeFilter({
      // An open end is sent as none, not as now: an entry stamped by a plant clock a little
      // ahead of this desk's must not be left out.
      fromMs,
      toMs,
      kinds,
      severities,
      text: text === "" ? undefined : text,
      deskOnly: form.deskOnly,
    }),
  };
}

/** The same filter for another page. */
export function pageOf(filter: JournalFilter, beforeSeq: number | undefined, limit: number): JournalFilter {
  return { ...filter, limit, ...(beforeSeq !== undefined && { beforeSeq }) };
}

type LiveEvent = "alarm" | "command" | "note";

export interface FeedOptions {
  /** The filter for a page (`beforeSeq` set for an older one); null: nothing to ask (the
   * form is wrong, and says so). */
  build: (beforeSeq?: number) => JournalFilter | null;
  /** The newest page follows now: the events below may bring new entries to it. */
  follows: () => boolean;
  /** The plant events that may bring entries this feed shows. */
  events: readonly LiveEvent[];
  debounceMs?: number;
}

/** Pages of the journal, newest first: the first page, older ones appended on demand, and new
 * entries pushed on top while they may come. Nothing is asked while hidden; what happened
 * meanwhile is asked for when shown again. */
export class JournalFeed {
  entries = $state.raw<JournalEntry[]>([]);
  source = $state<JournalSource | null>(null);
  /** Why this desk's own record is shown rather than the plant's, when the Rust side says. */
  notice = $state<string | null>(null);
  /** Older entries match too. */
  more = $state(false);
  /** The first page is on its way. */
  loading = $state(false);
  loadingOlder = $state(false);
  error = $state<string | null>(null);
  /** A page has been shown. */
  loaded = $state(false);

  readonly #options: FeedOptions;
  #visible = false;
  /** Something may have changed while hidden: ask when shown. */
  #stale = true;
  /** Bumped by each new first page: answers to older asks are dropped. */
  #generation = 0;
  /** Requests on their way; a refresh waits for none. */
  #pending = 0;
  /** A refresh was wanted while one was on its way. */
  #again = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #unlisten: Unlisten[] = [];
  #stopped = false;

  constructor(options: FeedOptions) {
    this.#options = options;
  }

  /** Follows the plant's events (a connected link too: the plant's journal may be back). */
  async start(): Promise<void> {
    const poke = () => this.poke();
    const wanted = new Set(this.#options.events);
    const listening: Promise<Unlisten>[] = [
      backend.on(LINK_STATE, (s) => {
        if (s.state === "connected") poke();
      }),
    ];
    if (wanted.has("alarm")) listening.push(backend.on(PLANT_ALARM, poke));
    if (wanted.has("command")) listening.push(backend.on(PLANT_COMMAND, poke));
    if (wanted.has("note")) listening.push(backend.on(PLANT_NOTE, poke));
    try {
      const unlisten = await Promise.all(listening);
      if (this.#stopped) for (const u of unlisten) u();
      else this.#unlisten = unlisten;
    } catch (e) {
      this.error = `Could not follow the plant: ${BackendError.from("listen", e).message}`;
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#generation++;
    clearTimeout(this.#timer);
    for (const u of this.#unlisten) u();
    this.#unlisten = [];
  }

  /** Hidden: nothing asked. Shown: asks if anything changed meanwhile (or nothing was read). */
  setVisible(visible: boolean): void {
    if (visible === this.#visible) return;
    this.#visible = visible;
    if (!visible) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      return;
    }
    if (!this.#stale) return;
    this.#stale = false;
    if (this.loaded) void this.refresh();
    else void this.reload();
  }

  /** The filter changed: the first page anew, whatever was on its way. */
  async reload(): Promise<void> {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#visible) {
      this.#stale = true;
      this.loaded = false;
      return;
    }
    const filter = this.#options.build();
    const generation = ++this.#generation;
    if (!filter) {
      // Rows of another filter would be taken for this one's.
      this.loading = false;
      this.entries = [];
      this.more = false;
      return;
    }
    this.loading = true;
    this.#pending++;
    try {
      const page = await backend.journal(filter);
      if (generation !== this.#generation) return;
      this.#replace(page);
      this.error = null;
    } catch (e) {
      if (generation !== this.#generation) return;
      this.error = BackendError.from("journal", e).message;
    } finally {
      if (generation === this.#generation) this.loading = false;
      this.#settled();
    }
  }

  /** The next page back, appended. */
  async older(): Promise<void> {
    const last = this.entries.at(-1);
    if (!last || !this.more || this.loadingOlder || this.#stopped) return;
    const filter = this.#options.build(last.seq);
    if (!filter) return;
    const generation = this.#generation;
    this.loadingOlder = true;
    this.#pending++;
    try {
      const page = await backend.journal(filter);
      if (generation !== this.#generation) return;
      if (page.source !== this.source) {
        // The other journal answered (the plant went away or came back): its numbers are
        // not this one's. Start again from its newest page.
        void this.reload();
        return;
      }
      this.entries = [...this.entries, ...page.entries.filter((e) => e.seq < last.seq)];
      this.more = page.more;
      this.notice = page.notice;
      this.error = null;
    } catch (e) {
      if (generation !== this.#generation) return;
      this.error = BackendError.from("journal", e).message;
    } finally {
      this.loadingOlder = false;
      this.#settled();
    }
  }

  /** Something may have been added: the newest page is asked again soon (at most once per
   * `debounceMs`, never two at a time), or when shown again. */
  poke(): void {
    if (this.#stopped || !this.#options.follows()) return;
    if (!this.#visible) {
      this.#stale = true;
      return;
    }
    if (this.#timer !== undefined) return; // one is coming
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.refresh();
    }, this.#options.debounceMs ?? LIVE_DEBOUNCE_MS);
  }

  /** Asks for the newest page now and puts what is new on top. */
  async refresh(): Promise<void> {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#visible) {
      this.#stale = true;
      return;
    }
    if (!this.loaded && !this.loading) return this.reload();
    if (this.#pending > 0) {
      this.#again = true;
      return;
    }
    const filter = this.#options.build();
    if (!filter) return;
    const generation = this.#generation;
    this.#pending++;
    try {
      const page = await backend.journal(filter);
      if (generation !== this.#generation) return;
      this.#merge(page);
      this.error = null;
    } catch (e) {
      if (generation !== this.#generation) return;
      this.error = BackendError.from("journal", e).message;
    } finally {
      this.#settled();
    }
  }

  #settled(): void {
    this.#pending--;
    if (this.#pending === 0 && this.#again) {
      this.#again = false;
      this.poke();
    }
  }

  #replace(page: JournalPage): void {
    this.entries = page.entries;
    this.more = page.more;
    this.source = page.source;
    this.notice = page.notice;
    this.loaded = true;
  }

  /** The newest page on top of what is shown: only the entries newer than the top one. */
  #merge(page: JournalPage): void {
    const top = this.entries[0];
    if (!top || page.source !== this.source) {
      this.#generation++; // an older page on its way belongs to what is replaced
      this.#replace(page);
      return;
    }
    const newer = page.entries.filter((e) => e.seq > top.seq);
    if (newer.length === page.entries.length && page.more) {
      // More came than a page holds: what lies between is not known. Start from this page.
      this.#generation++;
      this.#replace(page);
      return;
    }
    this.notice = page.notice;
    if (newer.length === 0) return;
    const entries = [...newer, ...this.entries];
    if (entries.length > MAX_ROWS) {
      this.entries = entries.slice(0, MAX_ROWS);
      this.more = true;
    } else {
      this.entries = entries;
    }
  }
}

/** The journal view: its filters, the feed they choose, and the export. */
export class JournalState {
  fromText = $state("");
  toText = $state("");
  kinds = $state.raw<JournalKind[]>([...JOURNAL_KINDS]);
  severities = $state.raw<Severity[]>([...SEVERITIES]);
  /** As typed; applied TEXT_DEBOUNCE_MS after typing pauses. */
  text = $state("");
  deskOnly = $state(false);
  /** What is wrong with the filters; nothing is asked meanwhile. */
  formError = $state<string | null>(null);

  exporting = $state(false);
  exportResult = $state<string | null>(null);
  exportError = $state<string | null>(null);

  readonly feed: JournalFeed;
  /** The text the shown page was asked with. */
  #appliedText = "";
  #textTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(now: number = Date.now()) {
    this.fromText = toLocalInput(now - DAY);
    this.feed = new JournalFeed({
      build: (beforeSeq) => {
        const f = this.filter();
        return f && pageOf(f, beforeSeq, PAGE_SIZE);
      },
      follows: () => this.toText === "",
      events: ["alarm", "command", "note"],
    });
  }

  /** The form as it is (with the search text last applied). */
  form(): JournalForm {
    return {
      fromText: this.fromText,
      toText: this.toText,
      kinds: this.kinds,
      severities: this.severities,
      text: this.#appliedText,
      deskOnly: this.deskOnly,
    };
  }

  /** The filter for the form, or null (and `formError` says why). */
  filter(): JournalFilter | null {
    const result = formFilter(this.form());
    if ("error" in result) {
      this.formError = result.error;
      return null;
    }
    this.formError = null;
    return result.filter;
  }

  start(): Promise<void> {
    return this.feed.start();
  }

  stop(): void {
    clearTimeout(this.#textTimer);
    this.feed.stop();
  }

  setVisible(visible: boolean): void {
    this.feed.setVisible(visible);
  }

  setFrom(text: string): void {
    this.fromText = text;
    this.#apply();
  }

  setTo(text: string): void {
    this.toText = text;
    this.#apply();
  }

  /** The last 24 hours, up to now and following. */
  lastDay(now: number = Date.now()): void {
    this.fromText = toLocalInput(now - DAY);
    this.toText = "";
    this.#apply();
  }

  toggleKind(kind: JournalKind, on: boolean): void {
    const rest = this.kinds.filter((k) => k !== kind);
    this.kinds = on ? [...rest, kind] : rest;
    this.#apply();
  }

  toggleSeverity(severity: Severity, on: boolean): void {
    const rest = this.severities.filter((s) => s !== severity);
    this.severities = on ? [...rest, severity] : rest;
    this.#apply();
  }

  setDeskOnly(on: boolean): void {
    this.deskOnly = on;
    this.#apply();
  }

  /** Typed: asked once the typing pauses. */
  setText(text: string): void {
    this.text = text;
    clearTimeout(this.#textTimer);
    this.#textTimer = setTimeout(() => {
      if (this.#appliedText === this.text) return;
      this.#appliedText = this.text;
      this.#apply();
    }, TEXT_DEBOUNCE_MS);
  }

  #apply(): void {
    void this.feed.reload();
  }

  /** Every entry the filters match, as CSV where the operator chooses (a native dialog). */
  async exportCsv(): Promise<void> {
    const filter = this.filter();
    if (!filter) return;
    this.exporting = true;
    this.exportResult = null;
    this.exportError = null;
    try {
      const outcome: ExportOutcome = await backend.exportJournalCsv(filter);
      // Cancelled in the dialog: nothing to say.
      if (outcome.saved) {
        const n = outcome.rows;
        this.exportResult = `Saved ${n} ${n === 1 ? "entry" : "entries"} to ${outcome.fileName ?? "the file"}`;
      }
    } catch (e) {
      this.exportError = `Not exported: ${BackendError.from("export_journal_csv", e).message}`;
    } finally {
      this.exporting = false;
    }
  }
}
