// The latest reading of each endpoint, with one signal per endpoint: a reading for one endpoint
// re-renders that endpoint's tile and nothing else. (A SvelteMap bumps a version shared by
// every reader of keys()/size on each set, so 500 endpoints × 20 batches/s would re-run
// everything that lists them.) The list of ids changes only when an endpoint appears or goes.

import type { EndpointId, Quality, Timestamp, Value } from "../generated/protocol";

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

class Cell {
  value = $state.raw<Reading | undefined>(undefined);
}

export class ReadingStore {
  #cells = new Map<EndpointId, Cell>();
  /** Bumped when an id is added or removed. */
  #keys = $state(0);

  /** The endpoint's latest reading (tracks only that endpoint, or the id list while it has none). */
  get(id: EndpointId): Reading | undefined {
    const cell = this.#cells.get(id);
    if (cell) return cell.value;
    void this.#keys;
    return undefined;
  }

  get size(): number {
    void this.#keys;
    return this.#cells.size;
  }

  /** Every endpoint with a reading, in the order they first came. */
  ids(): EndpointId[] {
    void this.#keys;
    return [...this.#cells.keys()];
  }

  set(reading: Reading): void {
    const cell = this.#cells.get(reading.endpointId);
    if (cell) {
      cell.value = reading;
      return;
    }
    const fresh = new Cell();
    fresh.value = reading;
    this.#cells.set(reading.endpointId, fresh);
    this.#keys++;
  }

  /** Replaces every reading (a snapshot). */
  reset(readings: Iterable<Reading>): void {
    const next = new Map<EndpointId, Reading>();
    for (const r of readings) next.set(r.endpointId, r);
    let changed = false;
    for (const [id, cell] of this.#cells) {
      const r = next.get(id);
      if (r) {
        cell.value = r;
        next.delete(id);
      } else {
        // Readers of this cell re-run, find no cell, and follow the id list instead.
        cell.value = undefined;
        this.#cells.delete(id);
        changed = true;
      }
    }
    for (const r of next.values()) {
      const cell = new Cell();
      cell.value = r;
      this.#cells.set(r.endpointId, cell);
      changed = true;
    }
    if (changed) this.#keys++;
  }
}
