// A clock for what is drawn relative to now (ages, countdowns): one timer for the whole page.

export class Clock {
  /** Milliseconds since the epoch, updated every `everyMs`. */
  now = $state(Date.now());
  #timer: ReturnType<typeof setInterval> | undefined;

  start(everyMs = 1000): void {
    this.stop();
    this.now = Date.now();
    this.#timer = setInterval(() => (this.now = Date.now()), everyMs);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
