// What the operator types when acknowledging and shelving alarms, checked as the Rust side
// checks it (brewdeck_protocol::check_ack_note, check_reason: characters, not UTF-16 units),
// and the shelving durations offered.

/** An acknowledgement note: optional, at most this many characters. */
export const ACK_NOTE_MAX = 500;
/** A shelving reason: required, at most this many characters. */
export const SHELVE_REASON_MAX = 200;
/** The durations a shelving is offered for, in minutes (only those within the role's limit). */
export const SHELVE_MINUTES: readonly number[] = [15, 30, 60, 120, 240, 480];

/** Characters as the Rust side counts them (code points). */
export function charCount(text: string): number {
  return [...text].length;
}

/** Why an acknowledgement note is refused; null when it is fine (empty included). */
export function validateAckNote(note: string): string | null {
  const n = charCount(note);
  return n > ACK_NOTE_MAX ? `The note is ${n} characters: at most ${ACK_NOTE_MAX}.` : null;
}

/** The note to send: null when there is none. */
export function ackNote(note: string): string | null {
  const trimmed = note.trim();
  return trimmed === "" ? null : trimmed;
}

/** Why a shelving reason is refused; null when it is fine. */
export function validateShelveReason(reason: string): string | null {
  if (reason.trim() === "") return "Give a reason for shelving.";
  const n = charCount(reason);
  return n > SHELVE_REASON_MAX ? `The reason is ${n} characters: at most ${SHELVE_REASON_MAX}.` : null;
}

/** The durations this operator may choose, shortest first. */
export function shelveChoices(limitMinutes: number): number[] {
  return SHELVE_MINUTES.filter((m) => m <= limitMinutes);
}

/** "15 min", "1 h", "1 h 30 min". */
export function formatMinutes(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h === 0) return `${m} min`;
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}

/** How long until a shelved alarm comes back, in whole minutes (rounded up), or null once
 * it is due. */
export function minutesLeft(until: string, now: number): number | null {
  const t = Date.parse(until);
  if (Number.isNaN(t) || t <= now) return null;
  return Math.ceil((t - now) / 60_000);
}

/** "25 min left", "2 h 5 min left", "due back now". */
export function timeLeftText(until: string, now: number): string {
  const left = minutesLeft(until, now);
  return left === null ? "due back now" : `${formatMinutes(left)} left`;
}
