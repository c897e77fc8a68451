// The journal's state against a faked Rust side: the filter form as the `JournalFilter` the
// Rust side reads, paging back with `beforeSeq`, and following the plant's events only while
// the newest page is on screen (debounced, one ask at a time, none while hidden).

import { afterEach, describe, expect, test, vi } from "vitest";
import type { JournalFilter } from "../generated/station";
import { PLANT_ALARM, PLANT_COMMAND, PLANT_NOTE } from "../generated/station/events";
import { FakeBackend, settle, until } from "../testing/fake-backend";
import { alarm, command, deskSnapshot } from "../testing/fixtures";
import { entries, filterOf, journalEntry, journalPage, note } from "../testing/journal-fixtures";
import { JournalState, PAGE_SIZE, formFilter, makeFilter, type JournalForm } from "./journal.svelte";

const DAY = 24 * 3_600_000;
/** On a whole minute, local time: the form's inputs hold minutes. */
const NOW = new Date(2025, 0, 2, 10, 0, 0).getTime();

let fake: FakeBackend | undefined;
let state: JournalState | undefined;

afterEach(() => {
  state?.stop();
  state = undefined;
  fake?.uninstall();
  fake = undefined;
  vi.useRealTimers();
});

const form = (overrides: Partial<JournalForm> = {}): JournalForm => ({
  fromText: "2025-01-01T10:00",
  toText: "",
  kinds: ["alarm_raised", "alarm_cleared", "alarm_acked", "alarm_shelved", "alarm_unshelved", "command", "note"],
  severities: ["critical", "high", "medium", "low"],
  text: "",
  deskOnly: false,
  ...overrides,
});

const asks = () => fake!.callsOf("journal").map((c) => filterOf(c.args));

describe("the filter form as a JournalFilter", () => {
  test("everything ticked and an open end: no kind, severity, text or end is sent", () => {
    const result = formFilter(form());
    expect(result).toEqual({
      filter: { fromMs: new Date(2025, 0, 1, 10, 0).getTime(), kinds: [], severities: [], deskOnly: false },
    });
    expect("toMs" in (result as { filter: JournalFilter }).filter).toBe(false);
    expect("beforeSeq" in (result as { filter: JournalFilter }).filter).toBe(false);
  });

  test("times in ms from local time, the kinds and severities ticked in their order, the text trimmed", () => {
    const result = formFilter(
      form({
        fromText: "2025-01-01T08:30",
        toText: "2025-01-01T20:15",
        kinds: ["note", "alarm_acked"],
        severities: ["low", "critical"],
        text: "  HLT pump ",
        deskOnly: true,
      }),
    );
    expect(result).toEqual({
      filter: {
        fromMs: new Date(2025, 0, 1, 8, 30).getTime(),
        toMs: new Date(2025, 0, 1, 20, 15).getTime(),
        kinds: ["alarm_acked", "note"],
        severities: ["critical", "low"],
        text: "HLT pump",
        deskOnly: true,
      },
    });
  });

  test("what cannot be asked says why", () => {
    expect(formFilter(form({ fromText: "2025-01-02T10:00", toText: "2025-01-01T10:00" }))).toEqual({
      error: "The start must be before the end.",
    });
    expect(formFilter(form({ fromText: "yesterday" }))).toEqual({ error: "The start is not a valid date and time." });
    expect(formFilter(form({ kinds: [] }))).toEqual({ error: "Tick at least one kind of entry." });
    expect(formFilter(form({ severities: [] }))).toEqual({ error: "Tick at least one severity." });
    expect(formFilter(form({ text: "x".repeat(201) }))).toEqual({ error: "The search is 201 characters: at most 200." });
    expect("filter" in formFilter(form({ text: "é".repeat(200) }))).toBe(true);
  });

  test("parts left out are not sent", () => {
    expect(makeFilter({ kinds: ["note"], limit: 500 })).toEqual({ kinds: ["note"], severities: [], deskOnly: false, limit: 500 });
  });
});

function started(now = NOW) {
  fake = new FakeBackend(deskSnapshot());
  state = new JournalState(now);
  return { fake, state };
}

describe("JournalState", () => {
  test("nothing is asked until shown; then the last 24 h, newest page", async () => {
    const { fake, state } = started();
    fake.on("journal", () => journalPage(entries(3, 50)));
    await state.start();
    await settle();
    expect(asks()).toHaveLength(0);
    state.setVisible(true);
    await until(() => state.feed.loaded, "the first page");
    expect(asks()).toEqual([{ fromMs: NOW - DAY, kinds: [], severities: [], deskOnly: false, limit: PAGE_SIZE }]);
    expect(state.feed.entries.map((e) => e.seq)).toEqual([50, 49, 48]);
  });

  test("older entries are asked with beforeSeq = the last entry's seq, and appended", async () => {
    const { fake, state } = started();
    fake.on("journal", (args) => {
      const f = filterOf(args);
      return f.beforeSeq === undefined ? journalPage(entries(3, 50), { more: true }) : journalPage(entries(2, f.beforeSeq - 1));
    });
    await state.start();
    state.setVisible(true);
    await until(() => state.feed.loaded, "the first page");
    expect(state.feed.more).toBe(true);
    await state.feed.older();
    expect(asks()[1]).toEqual({ ...asks()[0], beforeSeq: 48 });
    expect(state.feed.entries.map((e) => e.seq)).toEqual([50, 49, 48, 47, 46]);
    expect(state.feed.more).toBe(false);
  });

  test("events bring the newest page once per 500 ms, one ask at a time; new entries go on top", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const { fake, state } = started();
    let top = 50;
    fake.on("journal", () => journalPage(entries(3, top)));
    await state.start();
    state.setVisible(true);
    await until(() => state.feed.loaded, "the first page");

    top = 52;
    await fake.emit(PLANT_ALARM, { kind: "alarm", alarm: alarm({ alarmId: 1 }), via: "live" });
    await fake.emit(PLANT_COMMAND, { kind: "command", command: command({ endpointId: 3 }), via: "live" });
    await fake.emit(PLANT_NOTE, { kind: "note", note: note(), via: "live" });
    await vi.advanceTimersByTimeAsync(499);
    expect(asks()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await until(() => asks().length === 2, "the refresh");
    await settle();
    expect(asks()[1]).toEqual(asks()[0]);
    expect(state.feed.entries.map((e) => e.seq)).toEqual([52, 51, 50, 49, 48]);

    // An ask on its way: the next waits for it.
    let release: (() => void) | null = null;
    fake.on("journal", () => new Promise((resolve) => (release = () => resolve(journalPage(entries(3, 53))))));
    await fake.emit(PLANT_ALARM, { kind: "alarm", alarm: alarm({ alarmId: 2 }), via: "live" });
    await vi.advanceTimersByTimeAsync(500);
    await until(() => release !== null, "the slow refresh");
    await fake.emit(PLANT_ALARM, { kind: "alarm", alarm: alarm({ alarmId: 3 }), via: "live" });
    await vi.advanceTimersByTimeAsync(500);
    expect(asks()).toHaveLength(3);
    const first = release!;
    release = null;
    first();
    await vi.advanceTimersByTimeAsync(500);
    await until(() => asks().length === 4, "the refresh after it");
  });

  test("hidden: events ask nothing; shown again: one ask", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const { fake, state } = started();
    fake.on("journal", () => journalPage(entries(3, 50)));
    await state.start();
    state.setVisible(true);
    await until(() => state.feed.loaded, "the first page");
    state.setVisible(false);
    await fake.emit(PLANT_ALARM, { kind: "alarm", alarm: alarm({ alarmId: 1 }), via: "live" });
    await fake.emit(PLANT_ALARM, { kind: "alarm", alarm: alarm({ alarmId: 2 }), via: "live" });
    await vi.advanceTimersByTimeAsync(5000);
    expect(asks()).toHaveLength(1);
    state.setVisible(true);
    await until(() => asks().length === 2, "the ask on showing");
    await vi.advanceTimersByTimeAsync(5000);
    expect(asks()).toHaveLength(2);
  });

  test("a range that ends in the past is not followed", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const { fake, state } = started();
    fake.on("journal", () => journalPage([journalEntry()]));
    await state.start();
    state.setVisible(true);
    await until(() => state.feed.loaded, "the first page");
    state.setTo("2025-01-02T09:00");
    await until(() => asks().length === 2, "the ask for the new range");
    expect(asks()[1]!.toMs).toBe(new Date(2025, 0, 2, 9, 0).getTime());
    await fake.emit(PLANT_ALARM, { kind: "alarm", alarm: alarm({ alarmId: 1 }), via: "live" });
    await vi.advanceTimersByTimeAsync(2000);
    expect(asks()).toHaveLength(2);
  });

  test("the search is applied 300 ms after typing pauses", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const { fake, state } = started();
    fake.on("journal", () => journalPage([]));
    await state.start();
    state.setVisible(true);
    await until(() => state.feed.loaded, "the first page");
    state.setText("p");
    await vi.advanceTimersByTimeAsync(200);
    state.setText("pump");
    await vi.advanceTimersByTimeAsync(299);
    expect(asks()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await until(() => asks().length === 2, "the search");
    expect(asks()[1]!.text).toBe("pump");
  });

  test("a wrong form asks nothing and empties the table", async () => {
    const { fake, state } = started();
    fake.on("journal", () => journalPage(entries(2, 10)));
    await state.start();
    state.setVisible(true);
    await until(() => state.feed.loaded, "the first page");
    state.toggleKind("note", false);
    await until(() => asks().length === 2, "the ask without notes");
    expect(asks()[1]!.kinds).toEqual(["alarm_raised", "alarm_cleared", "alarm_acked", "alarm_shelved", "alarm_unshelved", "command"]);
    const left = [...state.kinds];
    for (const k of left.slice(0, -1)) state.toggleKind(k, false);
    await until(() => asks().length === 7, "an ask per kind unticked");
    state.toggleKind(left.at(-1)!, false);
    await settle();
    expect(state.formError).toBe("Tick at least one kind of entry.");
    expect(state.feed.entries).toEqual([]);
    expect(asks()).toHaveLength(7);
  });
});
