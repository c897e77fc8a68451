// The plant and the desk as this webview knows them: drawn from `snapshot()`, then kept up to
// date by the app's events. On DESK_RESYNC (events were lost on the way), on a new server,
// and on every page load it starts again from a snapshot.
//
// Listening starts before the snapshot is asked for; events that arrive while it is pending
// are held and applied, in order, on top of it. Every event carries a whole state (a link
// state, an alarm, a command, the latest reading of an endpoint), so replaying them in order
// ends on the newest state whether or not the snapshot already had them.

import { SvelteMap } from "svelte/reactivity";
import * as backend from "../backend";
import { BackendError, type Unlisten } from "../backend";
import type { CommandDraft, CommandView, LinkState, MissedEvents, ProtocolLevel } from "../generated/link";
import type { Alarm, AlarmId, CommandId, Endpoint, EndpointId, Quality, Telemetry, Timestamp, Value } from "../generated/protocol";
import type { DeskSnapshot, DeskStatus, Settings } from "../generated/station";
import {
  DESK_RESYNC,
  DESK_STATUS,
  LINK_STATE,
  PLANT_ALARM,
  PLANT_COMMAND,
  PLANT_NOTICE,
  PLANT_READINGS,
} from "../generated/station/events";

/** A reading older than this is stale even while connected (the link's default `stale_after`). */
export const STALE_AFTER_MS = 30_000;
/** How long to wait before asking again for a snapshot that failed. */
const RESYNC_RETRY_MS = 2_000;
/** Ended commands kept for display; the oldest go first. */
const MAX_COMMANDS = 200;

/** Phases after which a command changes no more. */
export const FINAL_PHASES: ReadonlySet<CommandView["phase"]> = new Set(["succeeded", "failed", "rejected", "unknown"]);

/** The latest value of one endpoint. */
export interface Reading {
  endpointId: EndpointId;
  value: Value;
  /** As the plant stamped it. */
  timestamp: Timestamp;
  quality: Quality;
  /** When the link received it, on this computer's clock (ms since the epoch). */
  receivedAt: number;
}

/** A notice from the plant worth showing until the next one. */
export interface PlantNotice {
  tone: "info" | "warning";
  text: string;
}

export class PlantState {
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
  readonly readings = new SvelteMap<EndpointId, Reading>();
  /** Active or unacknowledged, newest first. */
  alarms = $state.raw<Alarm[]>([]);
  /** By id, oldest first. */
  readonly commands = new SvelteMap<CommandId, CommandView>();
  outbox = $state(0);
  missedEvents = $state.raw<MissedEvents | null>(null);
  notice = $state.raw<PlantNotice | null>(null);

  connected = $derived(this.link.state === "connected");

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
      for (const u of unlisten) u();
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
    for (const u of this.#unlisten) u();
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
  }

  /** Whether a reading can no longer be trusted to be current. */
  isStale(reading: Reading | undefined, now: number): boolean {
    return !reading || !this.connected || now - reading.receivedAt > STALE_AFTER_MS;
  }

  /** The newest command of this desktop for an endpoint (commands are kept oldest first). */
  latestCommand(endpointId: EndpointId): CommandView | undefined {
    let latest: CommandView | undefined;
    for (const c of this.commands.values()) {
      if (c.endpointId === endpointId && c.mine) latest = c;
    }
    return latest;
  }

  // ---- What the operator does (each rejects with a BackendError) ----

  async sendCommand(draft: CommandDraft): Promise<CommandView> {
    const view = await backend.sendCommand(draft);
    this.#applyCommand(view);
    return view;
  }

  acknowledge(alarmId: AlarmId): Promise<null> {
    return backend.acknowledgeAlarm(alarmId);
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

  #applySnapshot({ plant, desk }: DeskSnapshot, now: number): void {
    this.desk = desk;
    this.link = plant.link;
    this.server = plant.server;
    this.level = plant.level;
    this.plantName = plant.plant;
    this.catalog = plant.catalog;
    this.alarms = plant.alarms;
    this.outbox = plant.outbox;
    this.missedEvents = plant.missedEvents;
    this.readings.clear();
    for (const r of plant.readings) {
      this.readings.set(r.endpointId, {
        endpointId: r.endpointId,
        value: r.value,
        timestamp: r.timestamp,
        quality: r.quality,
        receivedAt: now - r.ageMs,
      });
    }
    this.commands.clear();
    for (const c of plant.commands) this.commands.set(c.commandId, c);
  }

  #applyLink(state: LinkState): void {
    this.link = state;
    if (state.state === "connected") {
      this.level = state.level;
      this.plantName = state.plant ?? this.plantName;
    }
  }

  #applyReadings(readings: Telemetry[], now: number): void {
    for (const t of readings) {
      this.readings.set(t.endpointId, {
        endpointId: t.endpointId,
        value: t.value,
        timestamp: t.timestamp,
        quality: t.quality ?? "good",
        receivedAt: now,
      });
    }
  }

  #applyAlarm(alarm: Alarm): void {
    const others = this.alarms.filter((a) => a.alarmId !== alarm.alarmId);
    // Gone once it is both cleared and acknowledged, as in the link's model.
    const done = alarm.state === "cleared" && alarm.acked === true;
    this.alarms = done ? others : [alarm, ...others].sort(newestFirst);
  }

  #applyCommand(command: CommandView): void {
    this.commands.set(command.commandId, command);
    if (this.commands.size <= MAX_COMMANDS) return;
    for (const [id, c] of this.commands) {
      if (this.commands.size <= MAX_COMMANDS) break;
      if (FINAL_PHASES.has(c.phase)) this.commands.delete(id);
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
    // Another server: another catalog, alarms and commands.
    if (serverChanged && this.loaded) void this.resync();
  }
}

function newestFirst(a: Alarm, b: Alarm): number {
  return Date.parse(b.timestamp) - Date.parse(a.timestamp) || 0;
}
