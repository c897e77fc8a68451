// The Journal tab's views against a faked Rust side: the journal (filters as sent, rows,
// paging, the desk-source banner, export), the shift log (checks, write_note, refusals,
// live notes) and alarm health (rating, figures, lists, a short read said).

import { cleanup, fireEvent, render, screen, within } from "@testing-library/svelte";
import { afterEach, describe, expect, test, vi } from "vitest";
import type { DeskOperator } from "../generated/station";
import { PLANT_NOTE } from "../generated/station/events";
import { FakeBackend, settle, until } from "../testing/fake-backend";
import { CATALOG, HLT_LEVEL, HLT_TEMP, deskOperator, deskSnapshot, viewer } from "../testing/fixtures";
import { alarmHealth, entries, filterOf, journalEntry, journalPage, note, noteEntry } from "../testing/journal-fixtures";
import AlarmHealth from "./AlarmHealth.svelte";
import JournalView from "./JournalView.svelte";
import ShiftLog from "./ShiftLog.svelte";

const ENDPOINTS = new Map(CATALOG.map((e) => [e.id, e]));
const DAY = 24 * 3_600_000;

let fake: FakeBackend | undefined;

afterEach(() => {
  cleanup();
  fake?.uninstall();
  fake = undefined;
  vi.useRealTimers();
});

const asks = () => fake!.callsOf("journal").map((c) => filterOf(c.args));
const rows = () => screen.queryAllByTestId("journal-row");

function renderJournal(page: Parameters<FakeBackend["on"]>[1] = () => journalPage(entries(3, 30))) {
  fake = new FakeBackend(deskSnapshot());
  fake.on("journal", page);
  const view = render(JournalView, { props: { endpoints: ENDPOINTS, now: Date.now(), visible: true } });
  return { fake, view };
}

describe("JournalView", () => {
  test("asks for the last 24 h when shown and lists the entries, newest first", async () => {
    const before = Date.now();
    renderJournal(() =>
      journalPage([
        journalEntry({ seq: 12, kind: "alarm_shelved", by: "ana", text: "HLT over temperature", note: "sensor swap", until: "2025-01-01T12:00:00Z" }),
        journalEntry({ seq: 11, kind: "command", by: "sam", text: "HLT heater: on", severity: undefined, status: "rejected", reason: "interlock" }),
        journalEntry({ seq: 10, kind: "alarm_raised", severity: "critical" }),
      ]),
    );
    await until(() => rows().length === 3, "the rows");
    const f = asks()[0]!;
    // The form holds minutes: 24 h before now, to the minute.
    expect(f.fromMs).toBeGreaterThan(before - DAY - 60_000);
    expect(f.fromMs).toBeLessThanOrEqual(before - DAY);
    expect(f).toEqual({ fromMs: f.fromMs, kinds: [], severities: [], deskOnly: false, limit: 100 });

    expect(rows().map((r) => [r.dataset.kind, r.dataset.seq])).toEqual([
      ["alarm_shelved", "12"],
      ["command", "11"],
      ["alarm_raised", "10"],
    ]);
    const [shelved, cmd, raised] = rows();
    expect(within(shelved!).getByTestId("journal-by").textContent).toBe("ana");
    expect(within(shelved!).getByTestId("journal-text").textContent).toBe("HLT over temperature");
    expect(within(shelved!).getByTestId("journal-note").textContent).toBe("sensor swap");
    expect(shelved!.textContent).toContain("Alarm shelved");
    expect(shelved!.textContent).toContain(HLT_TEMP.name);
    expect(within(cmd!).getByTestId("journal-outcome").textContent).toBe("Rejected: interlock");
    // Severity in words, with its shape.
    expect(raised!.querySelector("[data-severity=critical]")!.textContent!.trim()).toBe("Critical");
    expect(raised!.querySelector("[data-severity=critical] svg polygon")).not.toBeNull();
    expect(screen.getAllByRole("columnheader").map((h) => h.textContent)).toEqual([
      "Time",
      "Kind",
      "Severity",
      "Who",
      "What",
      "Note / reason",
      "Until",
      "Outcome",
    ]);
    expect(screen.queryByTestId("journal-source-banner")).toBeNull();
  });

  test("the filters are sent as the Rust side's JournalFilter", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    renderJournal();
    await until(() => asks().length === 1, "the first ask");

    await fireEvent.change(screen.getByTestId("journal-from"), { target: { value: "2025-03-01T06:00" } });
    await fireEvent.change(screen.getByTestId("journal-to"), { target: { value: "2025-03-01T18:30" } });
    await until(() => asks().length === 3, "the asks for the range");
    expect(asks()[2]).toMatchObject({
      fromMs: new Date(2025, 2, 1, 6, 0).getTime(),
      toMs: new Date(2025, 2, 1, 18, 30).getTime(),
    });

    const kind = (k: string) => screen.getAllByTestId("journal-kind").find((el) => el.dataset.kind === k)!;
    const severity = (s: string) => screen.getAllByTestId("journal-severity").find((el) => el.dataset.severity === s)!;
    await fireEvent.click(kind("command"));
    await fireEvent.click(kind("note"));
    await fireEvent.click(severity("low"));
    await fireEvent.click(screen.getByTestId("journal-desk-only"));
    await until(() => asks().length === 7, "an ask per change");
    expect(screen.getByText(/commands and notes are left out/)).toBeTruthy();

    await fireEvent.input(screen.getByTestId("journal-text-filter"), { target: { value: "  over temp  " } });
    await vi.advanceTimersByTimeAsync(299);
    expect(asks()).toHaveLength(7);
    await vi.advanceTimersByTimeAsync(1);
    await until(() => asks().length === 8, "the search");
    expect(asks()[7]).toEqual({
      fromMs: new Date(2025, 2, 1, 6, 0).getTime(),
      toMs: new Date(2025, 2, 1, 18, 30).getTime(),
      kinds: ["alarm_raised", "alarm_cleared", "alarm_acked", "alarm_shelved", "alarm_unshelved"],
      severities: ["critical", "high", "medium"],
      text: "over temp",
      deskOnly: true,
      limit: 100,
    });
    expect(screen.getByTestId("journal-text-filter").getAttribute("maxlength")).toBe("200");

    // A start after the end is refused here: nothing asked, the reason shown.
    await fireEvent.change(screen.getByTestId("journal-from"), { target: { value: "2025-03-02T06:00" } });
    await settle();
    expect(asks()).toHaveLength(8);
    expect(screen.getByTestId("journal-form-error").textContent).toBe("The start must be before the end.");
  });

  test("Older entries asks with beforeSeq = the last entry's seq, while there are more", async () => {
    renderJournal((args) => {
      const f = filterOf(args);
      if (f.beforeSeq === undefined) return journalPage(entries(3, 30), { more: true });
      return journalPage(entries(2, f.beforeSeq - 1), { more: false });
    });
    await until(() => rows().length === 3, "the first page");
    await fireEvent.click(screen.getByTestId("journal-older"));
    await until(() => rows().length === 5, "the older page");
    expect(asks()[1]).toEqual({ ...asks()[0], beforeSeq: 28 });
    expect(rows().map((r) => r.dataset.seq)).toEqual(["30", "29", "28", "27", "26"]);
    expect(screen.queryByTestId("journal-older")).toBeNull();
  });

  test("this desk's own record is said in a banner, with the Rust side's reason", async () => {
    renderJournal(() =>
      journalPage(entries(1, 5), { source: "desk", notice: "not connected to the plant: showing this desk's own record" }),
    );
    await until(() => screen.queryByTestId("journal-source-banner") !== null, "the banner");
    expect(screen.getByTestId("journal-source-banner").textContent).toBe(
      "This desk's own record: not connected to the plant: showing this desk's own record",
    );
  });

  test("Export CSV sends the filter on screen and says what was saved; a cancel says nothing", async () => {
    const { fake } = renderJournal();
    await until(() => rows().length === 3, "the rows");
    fake.on("export_journal_csv", () => ({ saved: true, fileName: "journal.csv", rows: 42 }));
    await fireEvent.click(screen.getByTestId("journal-export"));
    await until(() => screen.queryByTestId("journal-export-result") !== null, "the result");
    const { limit: _limit, ...shown } = asks()[0]!;
    expect(fake.callsOf("export_journal_csv")[0]!.args).toEqual({ filter: shown });
    expect(screen.getByTestId("journal-export-result").textContent).toBe("Saved 42 entries to journal.csv");

    fake.on("export_journal_csv", () => ({ saved: false, fileName: null, rows: 0 }));
    await fireEvent.click(screen.getByTestId("journal-export"));
    await until(() => fake.callsOf("export_journal_csv").length === 2, "the second export");
    await settle();
    expect(screen.queryByTestId("journal-export-result")).toBeNull();

    fake.on("export_journal_csv", () => {
      throw { code: "internal", message: "disk full" };
    });
    await fireEvent.click(screen.getByTestId("journal-export"));
    await until(() => screen.queryByTestId("journal-export-error") !== null, "the error");
    expect(screen.getByTestId("journal-export-error").textContent).toBe("Not exported: disk full");
  });

  test("an error is shown plainly", async () => {
    renderJournal(() => {
      throw { code: "not_connected", message: "not connected to the plant" };
    });
    await until(() => screen.queryByTestId("journal-error") !== null, "the error");
    expect(screen.getByTestId("journal-error").textContent).toBe("Could not read the journal: not connected to the plant");
  });

  test("hidden: nothing is asked", async () => {
    fake = new FakeBackend(deskSnapshot());
    fake.on("journal", () => journalPage([]));
    const view = render(JournalView, { props: { endpoints: ENDPOINTS, now: Date.now(), visible: false } });
    await settle();
    expect(asks()).toHaveLength(0);
    await view.rerender({ visible: true });
    await until(() => asks().length === 1, "the ask on showing");
  });
});

describe("ShiftLog", () => {
  function renderLog(operator: DeskOperator = deskOperator(), notes = [noteEntry("Swapped the HLT probe", [HLT_TEMP.id], { seq: 40 })]) {
    fake = new FakeBackend(deskSnapshot({ operator }));
    let shown = notes;
    fake.on("journal", () => journalPage(shown));
    fake.on("write_note", () => null);
    const view = render(ShiftLog, {
      props: { operator, blocked: null, catalog: CATALOG, endpoints: ENDPOINTS, now: Date.now(), visible: true },
    });
    return { fake, view, setNotes: (n: typeof notes) => (shown = n) };
  }

  const input = () => screen.getByTestId("note-input") as HTMLTextAreaElement;
  const noteRows = () => screen.queryAllByTestId("note-row");

  test("lists the recent notes, newest first, from the journal's notes", async () => {
    renderLog();
    await until(() => noteRows().length === 1, "the notes");
    expect(asks()[0]).toEqual({ kinds: ["note"], severities: [], deskOnly: false, limit: 50 });
    expect(noteRows()[0]!.textContent).toContain("Swapped the HLT probe");
    expect(noteRows()[0]!.textContent).toContain(`about ${HLT_TEMP.name}`);
  });

  test("refuses an empty note and one of 2001 characters; sends one within, with its endpoints", async () => {
    const { fake } = renderLog();
    await until(() => noteRows().length === 1, "the notes");

    await fireEvent.click(screen.getByTestId("note-submit"));
    expect(screen.getByTestId("note-error").textContent).toBe("Write the note first.");
    await fireEvent.input(input(), { target: { value: "   " } });
    await fireEvent.click(screen.getByTestId("note-submit"));
    expect(screen.getByTestId("note-error").textContent).toBe("Write the note first.");

    await fireEvent.input(input(), { target: { value: "x".repeat(2001) } });
    expect(screen.getByTestId("note-count").textContent).toBe("2001 / 2000 characters");
    await fireEvent.click(screen.getByTestId("note-submit"));
    expect(screen.getByTestId("note-error").textContent).toBe("The note is 2001 characters: at most 2000.");
    await settle();
    expect(fake.callsOf("write_note")).toHaveLength(0);

    await fireEvent.input(input(), { target: { value: " Glycol topped up \n" } });
    expect(screen.queryByTestId("note-error")).toBeNull();
    const pick = (id: number) => screen.getAllByTestId("note-pick").find((el) => el.dataset.endpoint === String(id))!;
    await fireEvent.click(pick(HLT_LEVEL.id as number));
    await fireEvent.click(screen.getByTestId("note-submit"));
    await until(() => fake.callsOf("write_note").length === 1, "write_note");
    expect(fake.callsOf("write_note")[0]!.args).toEqual({ text: "Glycol topped up", endpointIds: [HLT_LEVEL.id] });
    await until(() => screen.queryByTestId("note-saved") !== null, "saved");
    expect(input().value).toBe("");
    // Asked again at once (a note kept on this desk brings no event).
    await until(() => asks().length === 2, "the notes asked again");
  });

  test("the Rust side's refusal is shown as it says it", async () => {
    const { fake } = renderLog();
    fake.on("write_note", () => {
      throw { code: "forbidden", message: "your role (viewer) may not write notes" };
    });
    await fireEvent.input(input(), { target: { value: "hello" } });
    await fireEvent.click(screen.getByTestId("note-submit"));
    await until(() => screen.queryByTestId("note-error") !== null, "the refusal");
    expect(screen.getByTestId("note-error").textContent).toBe("Not allowed: your role (viewer) may not write notes");
  });

  test("a role that may not write notes: the form is disabled and says why", async () => {
    renderLog(viewer());
    await settle();
    expect(input().disabled).toBe(true);
    expect((screen.getByTestId("note-submit") as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByTestId("note-denied").textContent).toBe(
      "Not allowed: your role (viewer) may not write notes: ask an operator or a supervisor",
    );
  });

  test("notes kept on this desk only are said so", async () => {
    renderLog(deskOperator({ notesAreLocal: true }));
    await settle();
    expect(screen.getByTestId("note-local").textContent).toContain("Notes are kept on this desk only");
    expect(input().disabled).toBe(false);
  });

  test("a new note from the plant brings the list again", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const { fake, setNotes } = renderLog();
    await until(() => noteRows().length === 1, "the notes");
    setNotes([noteEntry("Yeast pitched", [], { seq: 41, by: "sam" }), noteEntry("Swapped the HLT probe", [HLT_TEMP.id], { seq: 40 })]);
    await fake.emit(PLANT_NOTE, { kind: "note", note: note({ text: "Yeast pitched", endpointIds: [] }), via: "live" });
    await vi.advanceTimersByTimeAsync(500);
    await until(() => noteRows().length === 2, "the new note");
    expect(noteRows()[0]!.textContent).toContain("Yeast pitched");
  });
});

describe("AlarmHealth", () => {
  function renderHealth(health = alarmHealth(), visible = true) {
    fake = new FakeBackend(deskSnapshot());
    fake.on("alarm_health", () => health);
    const view = render(AlarmHealth, { props: { endpoints: ENDPOINTS, visible } });
    return { fake, view };
  }

  test("the rating in words, the figures, the bars and every list", async () => {
    renderHealth();
    await until(() => screen.queryByTestId("alarm-health-rating") !== null, "the figures");
    expect(screen.getByTestId("alarm-health-rating").textContent!.trim()).toBe(
      "Acceptable: about 1 alarm per 10 minutes or fewer.",
    );
    expect(screen.getByTestId("alarm-health-average").textContent).toBe("0.4 alarms per 10 minutes");
    expect(screen.getByTestId("alarm-health-peak").textContent).toBe("12 in 10 minutes");
    expect(screen.getByTestId("alarm-health-flood").textContent!.trim()).toBe("10 min");
    const bars = screen.getByTestId("alarm-health-bars");
    expect(bars.querySelectorAll("rect")).toHaveLength(15);
    expect(bars.querySelectorAll("rect.flood")).toHaveLength(1);
    expect(bars.querySelectorAll("line.benchmark")).toHaveLength(3);

    const frequent = screen.getAllByTestId("alarm-health-frequent-row");
    const cells = (r: HTMLElement) => [...r.querySelectorAll("td")].map((td) => td.textContent!.trim()).join(" | ");
    expect(frequent.map(cells)).toEqual([
      `HLT over temperature | High | ${HLT_TEMP.name} | 14`,
      `HLT level low | Medium | ${HLT_LEVEL.name} | 6`,
    ]);
    expect(screen.getAllByTestId("alarm-health-chattering-row")[0]!.textContent).toContain("5");
    expect(screen.getAllByTestId("alarm-health-stale-row")[0]!.textContent).toContain("Glycol pump fault");
    const shelved = screen.getAllByTestId("alarm-health-shelved-row")[0]!.textContent!;
    expect(shelved).toContain("Mash tun slow");
    expect(shelved).toContain("sam");
    expect(shelved).toContain("sensor being replaced");
    expect(screen.queryByTestId("alarm-health-incomplete")).toBeNull();
  });

  test("overloaded, and a journal read that does not reach back 24 h, are said", async () => {
    renderHealth(alarmHealth({ rating: "overloaded", averagePerTenMinutes: 3.25, complete: false, chattering: [], stale: [], shelved: [] }));
    await until(() => screen.queryByTestId("alarm-health-rating") !== null, "the figures");
    expect(screen.getByTestId("alarm-health-rating").dataset.rating).toBe("overloaded");
    expect(screen.getByTestId("alarm-health-rating").textContent).toContain("Overloaded");
    expect(screen.getByTestId("alarm-health-incomplete").textContent).toContain("The journal read does not reach back 24 h");
    expect(screen.getAllByText("None.")).toHaveLength(3);
  });

  test("read when shown and on Refresh; not while hidden", async () => {
    const { fake, view } = renderHealth(alarmHealth(), false);
    await settle();
    expect(fake.callsOf("alarm_health")).toHaveLength(0);
    await view.rerender({ visible: true });
    await until(() => fake.callsOf("alarm_health").length === 1, "the read on showing");
    await until(() => !(screen.getByTestId("alarm-health-refresh") as HTMLButtonElement).disabled, "the read done");
    await fireEvent.click(screen.getByTestId("alarm-health-refresh"));
    await until(() => fake.callsOf("alarm_health").length === 2, "the read on Refresh");
  });
});
