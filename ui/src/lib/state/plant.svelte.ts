// The plant and the desk as this webview knows them: drawn from `snapshot()`, then kept up to
// date by the app's events. On DESK_RESYNC (events were lost on the way), on a new server,
// and on every page load it starts again from a snapshot.
//
// Listening starts before the snapshot is asked for; events that arrive while it is pending
// are held and applied, in order, on top of it. Every event carries a whole state (a link
// state, an alarm, a command, the latest reading of an endpoint), so replaying them in order
// ends on the newest state whether or not the snapshot already had them.

import { PENDING_PHASES } from "../generated/link/phases";
import { isClosed } from "../generated/protocol/rules";
import { SvelteMap } from "svelte/reactivity";
import * as backend from "../backend";
import { BackendError, type Unlisten } from "../backend";
import { blockedReason } from "../format";
import type { CommandDraft, CommandView, LinkState, MissedEvents, ProtocolLevel } from "../generated/link";
import type { Alarm, AlarmId, CommandId, Endpoint, EndpointId, Severity, Telemetry } from "../generated/protocol";
import type { AckAllOutcome, DeskOperator, DeskSnapshot, DeskStatus, Settings } from "../generated/station";
import {
  DESK_RESYNC,
  DESK_STATUS,
  LINK_STATE,
  PLANT_ALARM,
  PLANT_COMMAND,
  PLANT_NOTICE,
  PLANT_READINGS,
  REPORTED_ON_CHANGE,
} from "../generated/station/events";
import { History } from "./history.svelte";
import { ReadingStore, type Reading } from "./readings.svelte";

export type { Reading } from "./readings.svelte";

/** A reading older than this is stale even while connected, until the desk status says
 * otherwise (`DeskStatus.staleAfterMs`, the link's `stale_after`). */
export const STALE_AFTER_MS = 30_000;
/** How long to wait before asking again for a snapshot that failed. */
const RESYNC_RETRY_MS = 2_000;
/** Endpoints per `trend` query when seeding the sparklines (the command's limit). */
const SEED_CHUNK = 50;
/** Points per endpoint asked for: one a second over the history's hour. */
const SEED_POINTS = 3600;
/** Ended commands kept for display; the oldest go first. */
const MAX_COMMANDS = 200;

export const SEVERITIES: readonly Severity[] = ["critical", "high", "medium", "low"];

/** A notice from the plant worth showing until the next one. */
export interface PlantNotice {
  tone: "info" | "warning";
  text: string;
}

/** A new alarm, to be read out by screen readers. */
export interface AlarmAnnouncement {
  /** Counts up, so the same text twice is still a change. */
  n: number;
  severity: Severity;
  text: string;
}

/** Whether an alarm still wants an operator's acknowledgement (level 0 sends no `acked`). */
export function unacknowledged(alarm: Alarm): boolean {
  return alarm.acked !== true;
}

/** Whether an alarm demands the operator's attention: it is counted in the banner, listed with
 * the active alarms, announced and acknowledged by "Acknowledge all". A shelved alarm does not,
 * until it comes back (the plant, or this desk when shelving is local, takes `shelved` off);
 * as the Rust side judges (brewdeck_station::notices). The one place this rule lives. */
export function demandsAttention(alarm: Alarm): boolean {
  return alarm.shelved === undefined || alarm.shelved === null;
}

const NOT_YET = { kind: "denied", reason: "the plant's state is not read yet" } as const;

/** Who this desk is before the first snapshot says: no one, offered nothing. */
export const UNKNOWN_OPERATOR: DeskOperator = {
  name: null,
  role: null,
  command: NOT_YET,
  acknowledge: NOT_YET,
  shelve: NOT_YET,
  unshelveOthers: NOT_YET,
  note: NOT_YET,
  shelveLimitMinutes: 0,
  shelvingIsLocal: false,
  notesAreLocal: false,
  journalIsLocal: false,
};

/** The plant and the desk as this page shows them. */
export class PlantView {
  /** The first snapshot has been applied. */
  loaded = $state(false);
  /** Why the latest snapshot could not be taken (it is retried). */
  problem = $state<string | null>(null);

  desk = $state.raw<DeskStatus | null>(null);
  link = $state.raw<LinkState>({ state: "idle" });
  server = $state("");
  level = $state<ProtocolLevel | null>(null);
  plantName = $state<string | null>(null);
  catalog = $state.raw<Endpoint[]>([]);
  /** Latest value per endpoint. */
  readonly readings = new ReadingStore();
  /** Recent values per endpoint (sparklines, trends). */
  readonly history = new History();
  /** Active or unacknowledged, newest first; shelved ones included (see `activeAlarms`). */
  alarms = $state.raw<Alarm[]>([]);
  /** Who this desk is on the plant and what its role lets it do (from each snapshot: the
   * Rust side decides, the page only reads it). */
  operator = $state.raw<DeskOperator>(UNKNOWN_OPERATOR);
  /** By id, oldest first. */
  readonly commands = new SvelteMap<CommandId, CommandView>();
  outbox = $state(0);
  missedEvents = $state.raw<MissedEvents | null>(null);
  notice = $state.raw<PlantNotice | null>(null);
  /** The newest alarm raised since the page drew, for screen readers. */
  announcement = $state.raw<AlarmAnnouncement | null>(null);

  connected = $derived(this.link.state === "connected");
  /** Why commands and acknowledgements are blocked; null while connected. */
  blocked = $derived(blockedReason(this.link));
  staleAfterMs = $derived(this.desk?.staleAfterMs ?? STALE_AFTER_MS);
  endpoints = $derived(new Map<EndpointId, Endpoint>(this.catalog.map((e) => [e.id, e])));
  /** Endpoints with readings that the catalog does not describe (a level-0 server has none). */
  uncataloged = $derived.by((): EndpointId[] => {
    const known = this.endpoints;
    return this.readings.ids().filter((id) => !known.has(id));
  });
  /** This desktop's newest command per endpoint. */
  latestByEndpoint = $derived.by(() => {
    const latest = new Map<EndpointId, CommandView>();
    for (const c of this.commands.values()) if (c.mine) latest.set(c.endpointId, c);
    return latest;
  });
  /** This desktop's commands, newest first. */
  myCommands = $derived([...this.commands.values()].filter((c) => c.mine).reverse());
  /** The alarms that demand attention (not shelved), newest first. */
  activeAlarms = $derived(this.alarms.filter(demandsAttention));
  /** The shelved alarms, newest first. */
  shelvedAlarms = $derived(this.alarms.filter((a) => !demandsAttention(a)));
  /** Alarms demanding attention by severity (shelved ones are not counted). */
  alarmCounts = $derived.by(() => {
    const counts: Record<Severity, number> = { critical: 0, high: 0, medium: 0, low: 0 };
    for (const a of this.activeAlarms) counts[a.severity]++;
    return counts;
  });
  /** Alarms demanding attention and not yet acknowledged. */
  unacknowledgedCount = $derived(this.activeAlarms.filter(unacknowledged).length);

  #unlisten: Unlisten[] = [];
  #started = false;
  #stopped = false;
  /** Events held while a snapshot is pending. */
  #held: Array<() => void> | null = null;
  /** Bumped by each snapshot asked for: only the latest one is applied. */
  #generation = 0;
  #retry: ReturnType<typeof setTimeout> | undefined;

  /** Listens, then draws from a snapshot. Resolves once the first snapshot was tried.
   * One use: after `stop()`, make a new one. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    // Hold from the first event on: the snapshot is not there yet.
    this.#held = [];
    let unlisten: Unlisten[];
    try {
      unlisten = await Promise.all(this.#listen());
    } catch (e) {
      this.problem = `Could not follow the plant: ${BackendError.from("listen", e).message}`;
      return;
    }
    if (this.#stopped) {
      for (const u of unlisten) quietly(u);
      return;
    }
    this.#unlisten = unlisten;
    await this.resync();
  }

  #listen(): Promise<Unlisten>[] {
    return [
      backend.on(LINK_STATE, (state) => this.#deliver(() => this.#applyLink(state))),
      backend.on(PLANT_READINGS, (batch) => {
        const receivedAt = Date.now();
        this.#deliver(() => this.#applyReadings(batch.readings, receivedAt));
      }),
      backend.on(PLANT_ALARM, (e) => this.#deliver(() => this.#applyAlarm(e.alarm))),
      backend.on(PLANT_COMMAND, (e) => this.#deliver(() => this.#applyCommand(e.command))),
      backend.on(PLANT_NOTICE, (e) => this.#deliver(() => this.#applyNotice(e))),
      backend.on(DESK_STATUS, (status) => this.#deliver(() => this.#applyDesk(status))),
      backend.on(DESK_RESYNC, () => void this.resync()),
    ];
  }

  /** Stops listening (a component unmounting, a test ending). */
  stop(): void {
    this.#stopped = true;
    this.#generation++;
    clearTimeout(this.#retry);
    for (const u of this.#unlisten) quietly(u);
    this.#unlisten = [];
    this.#held = null;
  }

  /** Draws again from a fresh snapshot, holding the events that arrive meanwhile. */
  async resync(): Promise<void> {
    if (this.#stopped) return;
    const generation = ++this.#generation;
    clearTimeout(this.#retry);
    this.#held ??= [];
    let snap: DeskSnapshot;
    try {
      snap = await backend.snapshot();
    } catch (e) {
      if (generation !== this.#generation) return;
      this.problem = `Could not read the plant's state: ${BackendError.from("snapshot", e).message}`;
      // Keep what is drawn, with the events on top, and ask again soon.
      this.#release();
      this.#retry = setTimeout(() => void this.resync(), RESYNC_RETRY_MS);
      return;
    }
    if (generation !== this.#generation) return; // a newer snapshot is on its way
    this.#applySnapshot(snap, Date.now());
    this.problem = null;
    this.loaded = true;
    this.#release();
    void this.#seedHistory(generation);
  }

  /** Fills the sparklines' last hour from the desk's record, so they survive a restart: once
   * per snapshot, every endpoint of the catalog in chunks the `trend` command takes. Live
   * readings keep appending meanwhile; the record's points go before them. */
  async #seedHistory(generation: number): Promise<void> {
    const ids = this.catalog.map((e) => e.id);
    const toMs = Date.now();
    const fromMs = toMs - this.history.spanMs;
    const chunks: EndpointId[][] = [];
    for (let i = 0; i < ids.length; i += SEED_CHUNK) chunks.push(ids.slice(i, i + SEED_CHUNK));
    await Promise.all(
      chunks.map(async (endpointIds) => {
        let answer;
        try {
          answer = await backend.trend({ endpointIds, fromMs, toMs, maxPoints: SEED_POINTS });
        } catch {
          return; // no record to read: the sparklines start from the live readings
        }
        if (generation !== this.#generation) return; // a newer snapshot seeds again
        for (const s of answer.series) this.history.seed(s.endpointId, s.t, s.last, answer.bucketMs);
      }),
    );
  }

  /** Whether a reading can no longer be trusted to be current. States a server sends only
   * when they change (a pump's on/off, a setpoint) stay current while the link is up;
   * measurements arrive every step, so an old one is stale. The link judges the same way. */
  isStale(reading: Reading | undefined, now: number, endpoint?: Endpoint): boolean {
    if (!reading || !this.connected) return true;
    if (endpoint && (REPORTED_ON_CHANGE as readonly string[]).includes(endpoint.kind)) return false;
    return now - reading.receivedAt > this.staleAfterMs;
  }

  /** The newest command of this desktop for an endpoint. */
  latestCommand(endpointId: EndpointId): CommandView | undefined {
    return this.latestByEndpoint.get(endpointId);
  }

  // ---- What the operator does (each rejects with a BackendError) ----

  async sendCommand(draft: CommandDraft): Promise<CommandView> {
    const view = await backend.sendCommand(draft);
    this.#applyCommand(view);
    return view;
  }

  /** With an optional note (≤ 500 characters); the alarm's event says when it is done. */
  acknowledge(alarmId: AlarmId, note: string | null = null): Promise<null> {
    return backend.acknowledgeAlarm(alarmId, note);
  }

  /** Every unacknowledged alarm not shelved, with one note (the Rust side picks them). */
  acknowledgeAll(note: string | null = null): Promise<AckAllOutcome> {
    return backend.acknowledgeAll(note);
  }

  /** Within `operator.shelveLimitMinutes`, for a reason of 1 to 200 characters. */
  shelve(alarmId: AlarmId, minutes: number, reason: string): Promise<null> {
    return backend.shelveAlarm(alarmId, minutes, reason);
  }

  unshelve(alarmId: AlarmId): Promise<null> {
    return backend.unshelveAlarm(alarmId);
  }

  retryNow(): Promise<null> {
    return backend.retryNow();
  }

  connect(): Promise<null> {
    return backend.connect();
  }

  async setToken(token: string, remember: boolean): Promise<void> {
    this.#applyDesk(await backend.setToken(token, remember));
  }

  async forgetToken(): Promise<void> {
    this.#applyDesk(await backend.forgetToken());
  }

  async saveSettings(settings: Settings): Promise<void> {
    this.#applyDesk(await backend.saveSettings(settings));
  }

  openLogFolder(): Promise<null> {
    return backend.openLogFolder();
  }

  // ---- Applying what comes ----

  #deliver(apply: () => void): void {
    if (this.#held) this.#held.push(apply);
    else apply();
  }

  /** Applies the held events in the order they came, then lets new ones through. */
  #release(): void {
    const held = this.#held ?? [];
    this.#held = null;
    for (const apply of held) apply();
  }

  #applySnapshot({ plant, desk, operator }: DeskSnapshot, now: number): void {
    if (this.link.state === "connected" && plant.link.state !== "connected") this.history.gap(now);
    if (this.desk !== null && this.desk.server !== desk.server) this.history.clear();
    this.desk = desk;
    this.operator = operator;
    this.link = plant.link;
    this.server = plant.server;
    this.level = plant.level;
    this.plantName = plant.plant;
    this.catalog = plant.catalog;
    this.alarms = plant.alarms;
    this.outbox = plant.outbox;
    this.missedEvents = plant.missedEvents;
    const readings: Reading[] = plant.readings.map((r) => ({
      endpointId: r.endpointId,
      value: r.value,
      timestamp: r.timestamp,
      quality: r.quality,
      receivedAt: now - r.ageMs,
    }));
    this.readings.reset(readings);
    // Values the link had while this page was not looking: one point each, when received.
    for (const r of readings) this.history.record([r], r.receivedAt);
    this.commands.clear();
    for (const c of plant.commands) this.commands.set(c.commandId, c);
  }

  #applyLink(state: LinkState): void {
    // Nothing is known while the link is down: the trend lines break here.
    if (this.link.state === "connected" && state.state !== "connected") this.history.gap(Date.now());
    this.link = state;
    if (state.state === "connected") {
      this.level = state.level;
      this.plantName = state.plant ?? this.plantName;
    }
  }

  #applyReadings(readings: Telemetry[], now: number): void {
    for (const t of readings) {
      this.readings.set({
        endpointId: t.endpointId,
        value: t.value,
        timestamp: t.timestamp,
        quality: t.quality ?? "good",
        receivedAt: now,
      });
    }
    this.history.record(readings, now);
  }

  #applyAlarm(alarm: Alarm): void {
    const was = this.alarms.find((a) => a.alarmId === alarm.alarmId);
    // Back from the shelf: it demands attention again, as if new.
    const unshelved = was !== undefined && !demandsAttention(was) && demandsAttention(alarm);
    const others = this.alarms.filter((a) => a.alarmId !== alarm.alarmId);
    // Gone once it is both cleared and acknowledged, as in the link's model.
    const done = isClosed(alarm);
    this.alarms = done ? others : [alarm, ...others].sort(newestFirst);
    if ((was === undefined || unshelved) && !done && alarm.state !== "cleared" && unacknowledged(alarm) && demandsAttention(alarm)) {
      const where = alarm.endpointId !== undefined ? this.endpoints.get(alarm.endpointId)?.name : undefined;
      this.announcement = {
        n: (this.announcement?.n ?? 0) + 1,
        severity: alarm.severity,
        text: `${unshelved ? "Back from the shelf: " : "New "}${alarm.severity} alarm${where ? ` on ${where}` : ""}: ${alarm.message}`,
      };
    }
  }

  #applyCommand(command: CommandView): void {
    // The reply to send_command and the command's events race: a fast rejection can arrive
    // before the reply that says "queued". The link numbers each change of a view (and alone
    // decides which phase may follow which): the higher revision is the newer.
    const known = this.commands.get(command.commandId);
    if (known && known.revision >= command.revision) return;
    this.commands.set(command.commandId, command);
    if (this.commands.size <= MAX_COMMANDS) return;
    for (const [id, c] of this.commands) {
      if (this.commands.size <= MAX_COMMANDS) break;
      if (!PENDING_PHASES.has(c.phase)) this.commands.delete(id);
    }
  }

  #applyNotice(e: backend.BackendEvents[typeof PLANT_NOTICE]): void {
    switch (e.kind) {
      case "synced":
        // A (new) catalog and alarm list: only a snapshot carries them.
        this.notice = null;
        void this.resync();
        break;
      case "events_may_be_missing":
        this.notice = {
          tone: "warning",
          text: `Some plant events may be missing (seq ${e.fromSeq}–${e.toSeq}): what is shown was re-read from the plant.`,
        };
        void this.resync();
        break;
      case "server_error":
        this.notice = { tone: "warning", text: `Plant server: ${e.message}` };
        break;
    }
  }

  #applyDesk(status: DeskStatus): void {
    const serverChanged = this.desk !== null && this.desk.server !== status.server;
    this.desk = status;
    if (serverChanged) this.history.clear();
    // Another server: another catalog, alarms and commands.
    if (serverChanged && this.loaded) void this.resync();
  }
}

/** Stops a listener, ignoring a runtime already gone (a reload, a window closing): the
 * listener dies with the page anyway. */
function quietly(unlisten: Unlisten): void {
  try {
    const done: unknown = unlisten();
    if (done instanceof Promise) done.catch(() => undefined);
  } catch {
    // nothing left to stop
  }
}

function newestFirst(a: Alarm, b: Alarm): number {
  return Date.parse(b.timestamp) - Date.parse(a.timestamp) || 0;
}
