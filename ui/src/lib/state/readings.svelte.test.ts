// The reading store's promise: a reading re-runs only what reads that endpoint, and the list
// of endpoints changes only when one appears or goes (so 500 tiles at 20 batches/s do not all
// redraw for each reading).

import { flushSync } from "svelte";
import { describe, expect, test } from "vitest";
import { ReadingStore, type Reading } from "./readings.svelte";

function reading(endpointId: number, value: number): Reading {
  return { endpointId, value, timestamp: "2025-01-01T10:00:00Z", quality: "good", receivedAt: 0 };
}

describe("ReadingStore", () => {
  test("per-endpoint signals", () => {
    const store = new ReadingStore();
    store.reset([reading(1, 10), reading(2, 20)]);
    let runs1 = 0;
    let runsIds = 0;
    let seen: number | undefined;
    const stop = $effect.root(() => {
      $effect(() => {
        seen = store.get(1)?.value as number | undefined;
        runs1++;
      });
      $effect(() => {
        void store.ids();
        runsIds++;
      });
    });
    flushSync();
    expect([runs1, runsIds, seen]).toEqual([1, 1, 10]);

    for (let i = 0; i < 100; i++) store.set(reading(2, i));
    flushSync();
    expect([runs1, runsIds]).toEqual([1, 1]); // endpoint 2 changed: nothing here re-ran

    store.set(reading(1, 11));
    flushSync();
    expect([runs1, runsIds, seen]).toEqual([2, 1, 11]);

    store.set(reading(3, 30));
    flushSync();
    expect(runsIds).toBe(2); // a new endpoint
    expect(store.size).toBe(3);
    stop();
  });

  test("a reader of an endpoint without a reading sees it arrive, and sees it go on reset", () => {
    const store = new ReadingStore();
    let seen: unknown = "not run";
    const stop = $effect.root(() => {
      $effect(() => {
        seen = store.get(5)?.value;
      });
    });
    flushSync();
    expect(seen).toBeUndefined();
    store.set(reading(5, 1));
    flushSync();
    expect(seen).toBe(1);
    store.reset([reading(6, 2)]);
    flushSync();
    expect(seen).toBeUndefined();
    expect(store.ids()).toEqual([6]);
    store.set(reading(5, 3));
    flushSync();
    expect(seen).toBe(3);
    stop();
  });
});
