// How the journal's entries and the alarm health figures are worded for the operator. Pure
// functions, no state (the Rust side decides what each entry and figure is).

import type { CommandState, JournalEntry, JournalKind, Severity } from "./generated/protocol";
import type { HealthRating } from "./generated/station";

/** Every kind an entry may be, in the order the filter lists them. */
export const JOURNAL_KINDS: readonly JournalKind[] = [
  "alarm_raised",
  "alarm_cleared",
  "alarm_acked",
  "alarm_shelved",
  "alarm_unshelved",
  "command",
  "note",
];

const KIND_LABELS: Record<JournalKind, string> = {
  alarm_raised: "Alarm raised",
  alarm_cleared: "Alarm cleared",
  alarm_acked: "Alarm acknowledged",
  alarm_shelved: "Alarm shelved",
  alarm_unshelved: "Alarm unshelved",
  command: "Command",
  note: "Note",
};

export function kindLabel(kind: JournalKind): string {
  return KIND_LABELS[kind];
}

const SEVERITY_LABELS: Record<Severity, string> = {
  critical: "Critical",
  high: "High",
  medium: "Medium",
  low: "Low",
};

export function severityLabel(severity: Severity): string {
  return SEVERITY_LABELS[severity];
}

const STATE_LABELS: Record<CommandState, string> = {
  queued: "Queued",
  sent: "Sent",
  acked: "Accepted",
  succeeded: "Succeeded",
  failed: "Failed",
  rejected: "Rejected",
};

/** A command entry's outcome in words, with its reason ("Rejected: interlock"); null for
 * entries that are not commands. */
export function commandOutcome(entry: Pick<JournalEntry, "kind" | "status" | "reason">): string | null {
  if (entry.kind !== "command") return null;
  const status = entry.status ? STATE_LABELS[entry.status] : null;
  if (status && entry.reason) return `${status}: ${entry.reason}`;
  return status ?? entry.reason ?? null;
}

/** What the rating means, against ISA-18.2's benchmarks. */
export function ratingText(rating: HealthRating): string {
  switch (rating) {
    case "acceptable":
      return "Acceptable: about 1 alarm per 10 minutes or fewer";
    case "manageable":
      return "Manageable: up to about 2 alarms per 10 minutes, the most an operator can handle";
    case "overloaded":
      return "Overloaded: more than 2 alarms per 10 minutes";
  }
}

/** "0 min", "40 min", "2 h 10 min". */
export function minutesText(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h === 0) return `${m} min`;
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}

/** A rate with one decimal ("1.3"), a whole number as is ("2"). */
export function rateText(rate: number): string {
  if (!Number.isFinite(rate)) return String(rate);
  return Number.isInteger(rate) ? String(rate) : rate.toFixed(1);
}
