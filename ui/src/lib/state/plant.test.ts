import { emit } from "@tauri-apps/api/event";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, test } from "vitest";
import type { LinkEvent, LinkState } from "../generated/link";
import type { Alarm, Endpoint } from "../generated/protocol";
import type { DeskSnapshot, ReadingBatch, TrendAnswer, TrendQuery } from "../generated/station";
import { DESK_RESYNC, DESK_STATUS, LINK_STATE, PLANT_ALARM, PLANT_READINGS } from "../generated/station/events";
import { PlantView } from "./plant.svelte";

const KETTLE: Endpoint = {
  id: "kettle.temperature",
  name: "Kettle temperature",
  area: "Boil kettle",
  kind: "temperature",
  unit: "°C",
  writable: false,
  critical: false,
  actions: [],
};

function deskSnapshot(temperature: number, link: LinkState, alarms: Alarm[] = []): DeskSnapshot {
  return {
    plant: {
      link,
      server: "demo",
      level: "level1",
      plant: "Demo brewery",
      catalog: [KETTLE],
      readings: [
        {
          endpointId: KETTLE.id,
          value: temperature,
          timestamp: "2025-01-01T10:00:00Z",
          quality: "good",
          ageMs: 0,
          stale: false,
        },
      ],
      alarms,
      commands: [],
      outbox: 0,
      subscriptions: [KETTLE.id],
      lastSeq: 10,
      missedEvents: null,
      counters: { badFrames: 0, oversizedFrames: 0, unknownMessages: 0, duplicates: 0, serverErrors: 0, connections: 1 },
      features: ["history"],
      operator: null,
    },
    desk: {
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
      staleAfterMs: 30000,
      version: "0.1.0",
    },
    operator: {
      name: null,
      role: null,
      command: { kind: "allowed" },
      acknowledge: { kind: "allowed" },
      shelve: { kind: "allowed" },
      unshelveOthers: { kind: "allowed" },
      note: { kind: "allowed" },
      shelveLimitMinutes: 480,
      shelvingIsLocal: true,
      notesAreLocal: true,
      journalIsLocal: true,
    },
  };
}

const ALARM: Alarm = {
  alarmId: 7,
  severity: "high",
  message: "Kettle over temperature",
  timestamp: "2025-01-01T10:00:01Z",
  endpointId: KETTLE.id,
  state: "active",
  acked: false,
  seq: 11,
};

/** A snapshot that answers only when the test says so. */
function pendingSnapshots() {
  const calls: Array<(snap: DeskSnapshot) => void> = [];
  mockIPC(
    (cmd) => {
      if (cmd === "snapshot") return new Promise<DeskSnapshot>((resolve) => calls.push(resolve));
      throw new Error(`unexpected command ${cmd}`);
    },
    { shouldMockEvents: true },
  );
  return calls;
}

/** Lets pending promise callbacks run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

let plant: PlantView | undefined;

afterEach(() => {
  plant?.stop();
  plant = undefined;
  clearMocks();
});

describe("PlantView", () => {
  test("events that arrive while the snapshot is pending are applied after it, in order", async () => {
    const snapshots = pendingSnapshots();
    plant = new PlantView();
    const started = plant.start();
    await settle();
    expect(snapshots).toHaveLength(1);

    // The link moves on while the snapshot is on its way.
    const connected: LinkState = { state: "connected", level: "level1", plant: "Demo brewery", since: "2025-01-01T10:00:00Z" };
    await emit(LINK_STATE, connected);
    await emit(PLANT_READINGS, { readings: [{ endpointId: KETTLE.id, value: 64.5, timestamp: "2025-01-01T10:00:02Z" }] } satisfies ReadingBatch);
    await emit(PLANT_ALARM, { kind: "alarm", alarm: ALARM, via: "live" } satisfies LinkEvent);
    await emit(PLANT_READINGS, { readings: [{ endpointId: KETTLE.id, value: 65, timestamp: "2025-01-01T10:00:03Z" }] } satisfies ReadingBatch);

    // Nothing is drawn before the snapshot.
    expect(plant.loaded).toBe(false);
    expect(plant.readings.size).toBe(0);
    expect(plant.alarms).toEqual([]);

    // The snapshot was taken before those events: older values, link still connecting.
    snapshots[0]!(deskSnapshot(60, { state: "connecting", attempt: 1 }));
    await started;

    expect(plant.loaded).toBe(true);
    expect(plant.catalog.map((e) => e.id)).toEqual([KETTLE.id]);
    expect(plant.link).toEqual(connected);
    expect(plant.connected).toBe(true);
    expect(plant.readings.get(KETTLE.id)?.value).toBe(65);
    expect(plant.alarms.map((a) => a.alarmId)).toEqual([7]);
    expect(plant.desk?.demo).toBe(true);

    // Once drawn, events apply at once.
    await emit(PLANT_ALARM, { kind: "alarm", alarm: { ...ALARM, state: "cleared", acked: true, seq: 12 }, via: "live" } satisfies LinkEvent);
    expect(plant.alarms).toEqual([]);
  });

  test("DESK_RESYNC starts again from a fresh snapshot, holding events meanwhile", async () => {
    const snapshots = pendingSnapshots();
    plant = new PlantView();
    const started = plant.start();
    await settle();
    snapshots[0]!(deskSnapshot(60, { state: "connected", level: "level1", plant: null, since: "2025-01-01T10:00:00Z" }));
    await started;
    expect(plant.readings.get(KETTLE.id)?.value).toBe(60);

    await emit(DESK_RESYNC, null);
    await settle();
    expect(snapshots).toHaveLength(2);
    await emit(PLANT_READINGS, { readings: [{ endpointId: KETTLE.id, value: 70, timestamp: "2025-01-01T10:05:01Z" }] } satisfies ReadingBatch);
    // Held: still the old snapshot's value.
    expect(plant.readings.get(KETTLE.id)?.value).toBe(60);

    snapshots[1]!(deskSnapshot(69, { state: "connected", level: "level1", plant: null, since: "2025-01-01T10:00:00Z" }, [ALARM]));
    await settle();
    expect(plant.readings.get(KETTLE.id)?.value).toBe(70);
    expect(plant.alarms.map((a) => a.alarmId)).toEqual([7]);
  });
});

describe("PlantView history", () => {
  test("readings feed the history; the lines break when the link drops; another server starts afresh", async () => {
    const snapshots = pendingSnapshots();
    plant = new PlantView();
    const started = plant.start();
    await settle();
    const connected: LinkState = { state: "connected", level: "level1", plant: null, since: "2025-01-01T10:00:00Z" };
    snapshots[0]!(deskSnapshot(60, connected));
    await started;
    await emit(PLANT_READINGS, { readings: [{ endpointId: KETTLE.id, value: 61, timestamp: "2025-01-01T10:00:02Z" }] } satisfies ReadingBatch);
    const before = plant.history.points(KETTLE.id, 0).v;
    expect(before.at(-1)).toBe(61);

    await emit(LINK_STATE, { state: "reconnecting", attempt: 1, retryAt: "2025-01-01T10:00:05Z", retryInMs: 1000, lastError: "reset" } satisfies LinkState);
    const after = plant.history.points(KETTLE.id, 0).v;
    expect(after).toHaveLength(before.length + 1);
    expect(Number.isNaN(after.at(-1))).toBe(true);

    await emit(DESK_STATUS, { ...deskSnapshot(60, connected).desk, server: "wss://other.example/ws" });
    expect(plant.history.has(KETTLE.id)).toBe(false);
  });
});

describe("PlantView seeds the sparklines from the record", () => {
  test("once per snapshot: every endpoint of the catalog over the last hour, at most 50 per ask", async () => {
    const catalog: Endpoint[] = Array.from({ length: 120 }, (_, i) => ({ ...KETTLE, id: `e${i}`, name: `E ${i}` }));
    const snap = { ...deskSnapshot(60, { state: "connected", level: "level1", plant: null, since: "2025-01-01T10:00:00Z" }) };
    snap.plant = { ...snap.plant, catalog, readings: [] };
    const asked: TrendQuery[] = [];
    mockIPC(
      (cmd, args) => {
        if (cmd === "snapshot") return structuredClone(snap);
        if (cmd === "trend") {
          const query = (args as { query: TrendQuery }).query;
          asked.push(query);
          return {
            fromMs: query.fromMs,
            toMs: query.toMs,
            bucketMs: 1000,
            series: query.endpointIds.map((id) => ({ endpointId: id, t: [query.toMs - 2000, query.toMs - 1000], min: [1, 2], max: [1, 2], last: [1, 2] })),
            filling: false,
          } satisfies TrendAnswer;
        }
        throw new Error(`unexpected command ${cmd}`);
      },
      { shouldMockEvents: true },
    );
    plant = new PlantView();
    await plant.start();
    await settle();
    expect(asked.map((q) => q.endpointIds.length)).toEqual([50, 50, 20]);
    expect(asked.flatMap((q) => q.endpointIds)).toEqual(catalog.map((e) => e.id));
    for (const q of asked) {
      expect(q.toMs - q.fromMs).toBe(3_600_000);
      expect(q.maxPoints).toBe(3600);
    }
    expect(plant.history.points("e119", 0).v).toEqual([1, 2]);

    // A reading does not seed again; a resync does.
    await emit(PLANT_READINGS, { readings: [{ endpointId: "e1", value: 3, timestamp: "2025-01-01T10:00:02Z" }] } satisfies ReadingBatch);
    await settle();
    expect(asked).toHaveLength(3);
    await emit(DESK_RESYNC, null);
    await settle();
    expect(asked).toHaveLength(6);
  });

  test("without a record (an older desk), the sparklines start from the live readings", async () => {
    const snapshots = pendingSnapshots();
    plant = new PlantView();
    const started = plant.start();
    await settle();
    snapshots[0]!(deskSnapshot(60, { state: "connected", level: "level1", plant: null, since: "2025-01-01T10:00:00Z" }));
    await started;
    await settle();
    expect(plant.loaded).toBe(true);
    expect(plant.problem).toBeNull();
    expect(plant.history.points(KETTLE.id, 0).v).toEqual([60]);
  });
});
