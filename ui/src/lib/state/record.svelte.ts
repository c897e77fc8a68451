// The desk's record as this page shows it: health, size, retention, and whether it was found
// damaged and moved aside. Kept current by RECORD_STATUS; asked once at start. The Rust side
// decides all of it; here it is only held, and the moved-aside notice can be dismissed.

import * as backend from "../backend";
import { BackendError, RECORD_STATUS, type Unlisten } from "../backend";
import type { RecordView, Retention } from "../generated/station";

/** What the banner says while the record is not recording; null while it is. */
export function notRecordingText(view: RecordView | null): string | null {
  if (!view || view.health === "recording") return null;
  const reason = view.reason ?? (view.health === "paused" ? "the record is paused" : "the record is unavailable");
  return `Not recording: ${reason}. The live view carries on; recording resumes by itself.`;
}

/** What the banner says after a damaged record was moved aside; null otherwise. */
export function movedAsideText(movedAside: string | null): string | null {
  if (!movedAside) return null;
  return `The record was damaged. It was moved aside to ${movedAside} and a new one was begun.`;
}

export function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

export class RecordStatus {
  view = $state.raw<RecordView | null>(null);
  /** Why the status could not be read. */
  problem = $state<string | null>(null);
  /** The moved-aside path the operator dismissed (a later, different one shows again). */
  dismissed = $state<string | null>(null);

  notRecording = $derived(notRecordingText(this.view));
  movedAside = $derived(this.view?.movedAside && this.view.movedAside !== this.dismissed ? movedAsideText(this.view.movedAside) : null);

  #unlisten: Unlisten | null = null;
  #stopped = false;
  /** Counts the views received: an answer older than an event is not applied over it. */
  #received = 0;

  async start(): Promise<void> {
    try {
      const unlisten = await backend.on(RECORD_STATUS, (view) => this.#apply(view));
      if (this.#stopped) {
        unlisten();
        return;
      }
      this.#unlisten = unlisten;
    } catch (e) {
      this.problem = BackendError.from("listen", e).message;
      return;
    }
    const before = this.#received;
    try {
      const view = await backend.recordStatus();
      if (this.#received === before && !this.#stopped) this.#apply(view);
    } catch (e) {
      this.problem = BackendError.from("record_status", e).message;
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#unlisten?.();
    this.#unlisten = null;
  }

  dismissMovedAside(): void {
    this.dismissed = this.view?.movedAside ?? null;
  }

  /** Rejects with a BackendError (`invalid_input` names the field). */
  async setRetention(retention: Retention): Promise<void> {
    this.#apply(await backend.setRetention(retention));
  }

  #apply(view: RecordView): void {
    this.#received++;
    this.view = view;
    this.problem = null;
  }
}
