// The operator's record for tests: journal entries and pages, notes and alarm health, in the
// shapes the Rust side sends.

import type { JournalEntry, Note } from "../generated/protocol";
import type { AlarmHealth, JournalFilter, JournalPage } from "../generated/station";

let seq = 1000;

/** An entry; each one made is newer (a higher seq) than the last unless told. */
export function journalEntry(overrides: Partial<JournalEntry> = {}): JournalEntry {
  return {
    seq: ++seq,
    at: "2025-01-01T10:00:00Z",
    by: "plant",
    kind: "alarm_raised",
    text: "HLT over temperature",
    severity: "high",
    alarmId: 7,
    endpointIds: [1],
    ...overrides,
  };
}

/** A note's entry, about these endpoints. */
export function noteEntry(text: string, endpointIds: JournalEntry["endpointIds"], overrides: Partial<JournalEntry> = {}): JournalEntry {
  const { severity: _severity, alarmId: _alarmId, ...entry } = journalEntry({ kind: "note", by: "ana", text, endpointIds, ...overrides });
  return entry;
}

/** A note as PLANT_NOTE carries it. */
export function note(overrides: Partial<Note> = {}): Note {
  return { noteId: 1, seq: ++seq, at: new Date().toISOString(), by: "ana", text: "Topped up the HLT", endpointIds: [1], ...overrides };
}

export function journalPage(entries: JournalEntry[], overrides: Partial<JournalPage> = {}): JournalPage {
  return { source: "plant", entries, more: false, notice: null, ...overrides };
}

/** `count` entries, newest first, seq from `top` down. */
export function entries(count: number, top: number, overrides: Partial<JournalEntry> = {}): JournalEntry[] {
  return Array.from({ length: count }, (_, i) => journalEntry({ seq: top - i, ...overrides }));
}

/** The filter a `journal` or `export_journal_csv` call carried. */
export function filterOf(args: Record<string, unknown>): JournalFilter {
  return args.filter as JournalFilter;
}

export function alarmHealth(overrides: Partial<AlarmHealth> = {}): AlarmHealth {
  const perTenMinutes = Array.from({ length: 144 }, (_, i) => (i === 100 ? 12 : i % 10 === 0 ? 2 : 0));
  return {
    fromMs: Date.parse("2025-01-01T00:00:00Z"),
    perTenMinutes,
    averagePerTenMinutes: 0.41,
    peakPerTenMinutes: 12,
    rating: "acceptable",
    floodMinutes: 10,
    raised: 40,
    mostFrequent: [
      { message: "HLT over temperature", severity: "high", endpointIds: [1], count: 14 },
      { message: "HLT level low", severity: "medium", endpointIds: [2], count: 6 },
    ],
    chattering: [{ message: "HLT over temperature", severity: "high", endpointIds: [1], count: 5 }],
    stale: [{ alarmId: 3, message: "Glycol pump fault", severity: "critical", since: "2024-12-30T08:00:00Z" }],
    shelved: [
      {
        alarmId: 9,
        message: "Mash tun slow",
        severity: "low",
        shelved: { by: "sam", reason: "sensor being replaced", until: "2025-01-01T14:00:00Z" },
      },
    ],
    complete: true,
    ...overrides,
  };
}
