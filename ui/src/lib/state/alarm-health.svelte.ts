// Alarm health (ISA-18.2) as the Rust side measures it over the last 24 hours. Asked when the
// view opens and when the operator asks again: never on a timer.

import * as backend from "../backend";
import { BackendError } from "../backend";
import type { AlarmHealth } from "../generated/station";

/** ISA-18.2's benchmarks, in alarms per 10 minutes (brewdeck_station::journal::health). */
export const ACCEPTABLE = 1;
export const MANAGEABLE = 2;
export const FLOOD = 10;

export class AlarmHealthView {
  health = $state.raw<AlarmHealth | null>(null);
  /** When the figures shown were read (ms). */
  readAt = $state<number | null>(null);
  loading = $state(false);
  error = $state<string | null>(null);
  #seq = 0;

  async refresh(): Promise<void> {
    const seq = ++this.#seq;
    this.loading = true;
    try {
      const health = await backend.alarmHealth();
      if (seq !== this.#seq) return;
      this.health = health;
      this.readAt = Date.now();
      this.error = null;
    } catch (e) {
      if (seq !== this.#seq) return;
      this.error = BackendError.from("alarm_health", e).message;
    } finally {
      if (seq === this.#seq) this.loading = false;
    }
  }

  /** Answers still on their way are dropped. */
  stop(): void {
    this.#seq++;
  }
}
