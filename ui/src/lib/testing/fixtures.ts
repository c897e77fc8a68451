// A small plant for tests (and the dev preview): the same shapes the Rust side sends, the
// demo plant's areas and kinds, ids as numbers like the demo's.

import type { CommandView, LinkState } from "../generated/link";
import type { Alarm, Endpoint, EndpointId, Shelved, Value } from "../generated/protocol";
import type {
  AlarmSoundView,
  AnnunciatorView,
  DeskOperator,
  DeskSnapshot,
  DeskStatus,
  Permission,
  RecordView,
  TrendAnswer,
  TrendQuery,
  TrendSeries,
} from "../generated/station";

export const HLT_TEMP: Endpoint = {
  id: 1,
  name: "HLT temperature",
  area: "Hot liquor tank",
  kind: "temperature",
  unit: "°F",
  writable: false,
  critical: false,
  actions: [],
  limits: { high: 185 },
};

export const HLT_LEVEL: Endpoint = {
  id: 2,
  name: "HLT level",
  area: "Hot liquor tank",
  kind: "level",
  unit: "%",
  writable: false,
  critical: false,
  actions: [],
  limits: { low: 10 },
};

export const HLT_HEATER: Endpoint = {
  id: 3,
  name: "HLT heater",
  area: "Hot liquor tank",
  kind: "heater",
  writable: true,
  critical: true,
  actions: ["on", "off"],
};

export const HLT_SETPOINT: Endpoint = {
  id: 4,
  name: "HLT setpoint",
  area: "Hot liquor tank",
  kind: "setpoint",
  unit: "°F",
  writable: true,
  critical: false,
  actions: ["set"],
  limits: { min: 40, max: 212 },
};

export const FILL_VALVE: Endpoint = {
  id: 5,
  name: "HLT fill valve",
  area: "Hot liquor tank",
  kind: "valve",
  writable: true,
  critical: false,
  actions: ["open", "close"],
};

export const TRANSFER_PUMP: Endpoint = {
  id: 6,
  name: "HLT → mash tun pump",
  area: "Mash tun",
  kind: "pump",
  writable: true,
  critical: true,
  actions: ["on", "off"],
};

export const MASH_TEMP: Endpoint = {
  id: 7,
  name: "Mash tun temperature",
  area: "Mash tun",
  kind: "temperature",
  unit: "°F",
  writable: false,
  critical: false,
  actions: [],
};

export const GLYCOL_PUMP: Endpoint = {
  id: 8,
  name: "Glycol pump",
  area: "Glycol chiller",
  kind: "pump",
  writable: true,
  critical: false,
  actions: ["on", "off"],
};

export const CATALOG: Endpoint[] = [HLT_TEMP, HLT_LEVEL, HLT_HEATER, HLT_SETPOINT, FILL_VALVE, TRANSFER_PUMP, MASH_TEMP, GLYCOL_PUMP];

export const VALUES: Record<number, Value> = {
  1: 152.5,
  2: 80,
  3: false,
  4: 152,
  5: false,
  6: false,
  7: 148.2,
  8: true,
};

export const CONNECTED: LinkState = { state: "connected", level: "level1", plant: "Demo brewery", since: "2025-01-01T10:00:00Z" };

export function deskStatus(overrides: Partial<DeskStatus> = {}): DeskStatus {
  return {
    demo: true,
    server: "demo",
    serverFromCommandLine: false,
    token: { source: "demo", keychain: { state: "available" } },
    settings: {
      serverUrl: null,
      siteCaFile: null,
      notifications: { severities: ["critical"], commandCompletions: true },
      theme: "system",
      alarmSounds: { critical: "repeat", high: "once", medium: "off", low: "off" },
    },
    settingsProblem: null,
    staleAfterMs: 30_000,
    version: "0.1.0",
    ...overrides,
  };
}

const ALLOWED: Permission = { kind: "allowed" };

/** What the desk offers an operator; by default a server that names no one and lets this desk
 * do everything (as the demo plant). */
export function deskOperator(overrides: Partial<DeskOperator> = {}): DeskOperator {
  return {
    name: null,
    role: null,
    command: ALLOWED,
    acknowledge: ALLOWED,
    shelve: ALLOWED,
    unshelveOthers: ALLOWED,
    note: ALLOWED,
    shelveLimitMinutes: 480,
    shelvingIsLocal: false,
    notesAreLocal: false,
    journalIsLocal: false,
    ...overrides,
  };
}

/** A viewer, as the Rust side words its refusals (brewdeck_station::operator). */
export function viewer(name = "val"): DeskOperator {
  const denied = (what: string): Permission => ({
    kind: "denied",
    reason: `your role (viewer) may not ${what}: ask an operator or a supervisor`,
  });
  return deskOperator({
    name,
    role: "viewer",
    command: denied("send commands"),
    acknowledge: denied("acknowledge alarms"),
    shelve: denied("shelve alarms"),
    unshelveOthers: denied("unshelve alarms"),
    note: denied("write notes"),
    shelveLimitMinutes: 0,
  });
}

/** An operator: shelves up to an hour, unshelves only their own. */
export function operator(name = "ana"): DeskOperator {
  return deskOperator({
    name,
    role: "operator",
    unshelveOthers: { kind: "denied", reason: "your role (operator) may unshelve only what you shelved: ask a supervisor" },
    shelveLimitMinutes: 60,
  });
}

export function supervisor(name = "sam"): DeskOperator {
  return deskOperator({ name, role: "supervisor", shelveLimitMinutes: 480 });
}

export interface SnapshotOptions {
  link?: LinkState;
  catalog?: Endpoint[];
  values?: Record<number, Value>;
  alarms?: Alarm[];
  commands?: CommandView[];
  desk?: Partial<DeskStatus>;
  /** Who the desk is (default: `deskOperator()`). */
  operator?: DeskOperator;
  /** Age of every reading, in ms. */
  ageMs?: number;
}

export function deskSnapshot(options: SnapshotOptions = {}): DeskSnapshot {
  const catalog = options.catalog ?? CATALOG;
  const values = options.values ?? VALUES;
  const link = options.link ?? CONNECTED;
  const who = options.operator ?? deskOperator();
  return {
    plant: {
      link,
      server: "demo",
      level: "level1",
      plant: "Demo brewery",
      catalog,
      readings: catalog
        .filter((e) => values[e.id as number] !== undefined)
        .map((e) => ({
          endpointId: e.id,
          value: values[e.id as number]!,
          timestamp: "2025-01-01T10:00:00Z",
          quality: "good" as const,
          ageMs: options.ageMs ?? 0,
          stale: link.state !== "connected",
        })),
      alarms: options.alarms ?? [],
      commands: options.commands ?? [],
      outbox: 0,
      subscriptions: catalog.map((e) => e.id),
      lastSeq: 10,
      missedEvents: null,
      counters: { badFrames: 0, oversizedFrames: 0, unknownMessages: 0, duplicates: 0, serverErrors: 0, connections: 1 },
      features: who.shelvingIsLocal ? ["history", "operators"] : ["history", "operators", "shelving"],
      operator: who.name !== null && who.role !== null ? { name: who.name, role: who.role } : null,
    },
    desk: deskStatus(options.desk),
    operator: who,
  };
}

let alarmSeq = 100;

export function alarm(overrides: Partial<Alarm> & Pick<Alarm, "alarmId">): Alarm {
  return {
    severity: "high",
    message: "HLT over temperature",
    timestamp: "2025-01-01T10:00:01Z",
    endpointId: HLT_TEMP.id,
    state: "active",
    acked: false,
    seq: alarmSeq++,
    ...overrides,
  };
}

/** An alarm's shelving: by whom, why, until `minutes` after `from`. */
export function shelving(by: string, reason: string, minutes: number, from = Date.now()): Shelved {
  return { by, reason, until: new Date(from + minutes * 60_000).toISOString() };
}

let commandRevision = 1;

/** A command view; each one made is a newer revision than the last, as the link numbers them. */
export function command(overrides: Partial<CommandView> & { endpointId: EndpointId }): CommandView {
  return {
    commandId: "c-1",
    action: "on",
    value: null,
    phase: "queued",
    reason: null,
    actualValue: null,
    issuedAt: "2025-01-01T10:00:05Z",
    expiresAt: "2025-01-01T10:00:35Z",
    completedAt: null,
    mine: true,
    seq: null,
    revision: commandRevision++,
    ...overrides,
  };
}

/** The alarm sound: quiet, on a desk that can sound. */
export function alarmSoundView(annunciator: Partial<AnnunciatorView> = {}, device: AlarmSoundView["device"] = { state: "ready" }): AlarmSoundView {
  return { annunciator: { sounding: false, playing: null, silenced: 0, ...annunciator }, device };
}

export function recordView(overrides: Partial<RecordView> = {}): RecordView {
  return {
    health: "recording",
    reason: null,
    path: "/home/op/.local/share/brewdeck/record.sqlite",
    bytes: 12.5 * 1024 * 1024,
    retention: { minuteDays: 35, sizeCapMib: 2048 },
    movedAside: null,
    written: 123_456,
    dropped: 0,
    oldestMs: Date.parse("2025-01-01T08:00:00Z"),
    ...overrides,
  };
}

/** The bucket the record would use for a query: whole seconds, at most maxPoints of them. */
export function bucketFor(query: TrendQuery): number {
  return Math.max(1000, Math.ceil((query.toMs - query.fromMs) / query.maxPoints / 1000) * 1000);
}

/** An answer with no readings at all. */
export function emptyTrend(query: TrendQuery): TrendAnswer {
  return { fromMs: query.fromMs, toMs: query.toMs, bucketMs: bucketFor(query), series: [], filling: false };
}

/** A series from (t, last) pairs; min and max one below and above. */
export function trendSeries(endpointId: EndpointId, points: Array<[number, number]>): TrendSeries {
  return {
    endpointId,
    t: points.map(([t]) => t),
    last: points.map(([, v]) => v),
    min: points.map(([, v]) => v - 1),
    max: points.map(([, v]) => v + 1),
  };
}

/** A full answer: every endpoint asked for has a reading in each of the last `count` buckets. */
export function trendAnswer(query: TrendQuery, options: { count?: number; filling?: boolean } = {}): TrendAnswer {
  const bucketMs = bucketFor(query);
  const last = Math.floor(query.toMs / bucketMs) * bucketMs;
  const count = options.count ?? 5;
  const series = query.endpointIds.map((id, k) =>
    trendSeries(
      id,
      Array.from({ length: count }, (_, i): [number, number] => [last - (count - 1 - i) * bucketMs, 100 + k * 10 + i]),
    ),
  );
  return { fromMs: query.fromMs, toMs: query.toMs, bucketMs, series, filling: options.filling ?? false };
}
