// The alarm sound as this page shows it: whether a sound repeats now (the Silence button), how
// many silenced alarms still wait for an acknowledgement, and whether the desk can make a sound
// at all. The Rust side plays the sound and decides all of it; here it is only held, kept
// current by ALARM_SOUND, asked once at start. Silencing acknowledges nothing (ISA-18.2).

import * as backend from "../backend";
import { ALARM_SOUND, BackendError, type Unlisten } from "../backend";
import type { AlarmSoundView } from "../generated/station";

/** The shortcut that silences, anywhere in the window (as `aria-keyshortcuts` spells it). */
export const SILENCE_SHORTCUT = "Control+Shift+S";
/** The same, as the screen shows it. */
export const SILENCE_SHORTCUT_LABEL = "Ctrl+Shift+S";

/** Whether `event` is the silence shortcut: Ctrl+Shift+S, whatever the keyboard's layout
 * (the physical S key when the layout has no Latin letters). */
export function isSilenceShortcut(event: KeyboardEvent): boolean {
  if (!event.ctrlKey || !event.shiftKey || event.altKey || event.metaKey) return false;
  const key = event.key.toLowerCase();
  return key === "s" || (!/^[a-z]$/.test(key) && event.code === "KeyS");
}

/** What the quiet note says after a silence; null when no silenced alarm waits. */
export function silencedText(silenced: number): string | null {
  if (silenced <= 0) return null;
  return `Sound silenced: ${silenced} ${silenced === 1 ? "alarm" : "alarms"} still unacknowledged`;
}

export class AlarmSound {
  /** Null: not known yet, or this desk plays no sound (`alarm_sound` answered null). */
  view = $state.raw<AlarmSoundView | null>(null);
  /** Why the sound's state could not be read. */
  problem = $state<string | null>(null);
  /** Why the last silence failed. */
  silenceError = $state<string | null>(null);

  // Each part on its own, so that a change of one redraws only what shows it.
  sounding = $derived(this.view?.annunciator.sounding ?? false);
  playing = $derived(this.view?.annunciator.playing ?? null);
  silenced = $derived(this.view?.annunciator.silenced ?? 0);
  /** Why the desk cannot make a sound; null when it can (or is still checking). */
  unavailable = $derived(this.view?.device.state === "unavailable" ? this.view.device.reason : null);

  #unlisten: Unlisten | null = null;
  #stopped = false;
  /** Counts the views received: an answer older than an event is not applied over it. */
  #received = 0;

  async start(): Promise<void> {
    try {
      const unlisten = await backend.on(ALARM_SOUND, (view) => this.#apply(view));
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
      const view = await backend.alarmSound();
      if (this.#received === before && !this.#stopped) this.#apply(view);
    } catch (e) {
      this.problem = BackendError.from("alarm_sound", e).message;
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#unlisten?.();
    this.#unlisten = null;
  }

  /** Stops the sound; acknowledges nothing. ALARM_SOUND then tells the new state. */
  async silence(): Promise<void> {
    this.silenceError = null;
    try {
      await backend.silenceAlarms();
    } catch (e) {
      this.silenceError = BackendError.from("silence_alarms", e).message;
    }
  }

  #apply(view: AlarmSoundView | null): void {
    this.#received++;
    this.view = view;
    this.problem = null;
  }
}
