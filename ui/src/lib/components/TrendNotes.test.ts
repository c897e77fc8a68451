// The shift log's notes on the trend, against a faked Rust side with uPlot replaced by a
// recorder: a note about a charted endpoint within the range is marked (and listed), another
// endpoint's is not; notes are asked per range (not per frame), and PLANT_NOTE adds one.

import { cleanup, render, screen } from "@testing-library/svelte";
import { afterEach, describe, expect, test, vi } from "vitest";
import type { JournalFilter, TrendQuery } from "../generated/station";
import { PLANT_NOTE } from "../generated/station/events";
import { NOTES_MIN_INTERVAL_MS, notesOn, type NoteMark } from "../state/trend-notes.svelte";
import { FakeBackend, settle, until } from "../testing/fake-backend";
import { charts, liveCharts } from "../testing/fake-uplot";
import { CATALOG, HLT_TEMP, MASH_TEMP, deskSnapshot, trendAnswer } from "../testing/fixtures";
import { filterOf, journalPage, note, noteEntry } from "../testing/journal-fixtures";
import TrendTool from "./TrendTool.svelte";

vi.mock("uplot", () => import("../testing/fake-uplot"));

const MIN = 60_000;
let fake: FakeBackend | undefined;

afterEach(() => {
  cleanup();
  fake?.uninstall();
  fake = undefined;
  charts.length = 0;
  vi.useRealTimers();
});

const trendAsks = () => fake!.callsOf("trend").map((c) => c.args.query as TrendQuery);
const noteAsks = (): JournalFilter[] => fake!.callsOf("journal").map((c) => filterOf(c.args));
const markers = () => screen.queryAllByTestId("trend-note-marker");

function renderTool() {
  fake = new FakeBackend(deskSnapshot());
  fake.on("trend", (args) => trendAnswer(args.query as TrendQuery));
  const at = (ago: number) => new Date(Date.now() - ago).toISOString();
  fake.on("journal", () =>
    journalPage([
      noteEntry("Probe recalibrated", [HLT_TEMP.id], { seq: 21, noteId: 2, at: at(10 * MIN) }),
      noteEntry("Mash stuck", [MASH_TEMP.id], { seq: 20, noteId: 1, at: at(20 * MIN) }),
    ]),
  );
  const view = render(TrendTool, { props: { catalog: CATALOG, theme: "light" } });
  return { fake, view };
}

describe("notes on the trend", () => {
  test("a note about a charted endpoint is marked and listed; another endpoint's is not", async () => {
    renderTool();
    await until(() => liveCharts().length === 1 && markers().length === 1, "the marker");
    const q = trendAsks()[0]!;
    expect(noteAsks()[0]).toEqual({ fromMs: q.fromMs, toMs: q.toMs, kinds: ["note"], severities: [], deskOnly: false, limit: 500 });
    const marker = markers()[0]!;
    expect(marker.dataset.note).toBe("note-2");
    expect(marker.getAttribute("aria-label")).toMatch(/^Note by ana at .+: Probe recalibrated$/);
    // Placed by time: 10 min before the end of an hour.
    expect(Number.parseFloat(marker.parentElement!.style.left)).toBeCloseTo(((q.toMs - q.fromMs - 10 * MIN) / (q.toMs - q.fromMs)) * 100, 0);
    const items = screen.getAllByTestId("trend-note-item");
    expect(items).toHaveLength(1);
    expect(items[0]!.textContent).toContain("Probe recalibrated");
    expect(screen.queryByText(/Mash stuck/)).toBeNull();
  });

  test("charting the other endpoint marks its note without asking again", async () => {
    renderTool();
    await until(() => markers().length === 1, "the marker");
    const asked = noteAsks().length;
    screen.getByRole("checkbox", { name: MASH_TEMP.name }).click();
    await until(() => markers().length === 2, "both markers");
    expect(markers().map((m) => m.dataset.note)).toEqual(["note-1", "note-2"]);
    // A new answer brings a new range: asked again, but not more than that.
    expect(noteAsks().length).toBeLessThanOrEqual(asked + 1);
  });

  test("PLANT_NOTE about a charted endpoint is marked at once; about another, not", async () => {
    const { fake } = renderTool();
    await until(() => markers().length === 1, "the marker");
    const asked = noteAsks().length;
    const at = new Date(Date.now() - 5 * MIN).toISOString();
    await fake.emit(PLANT_NOTE, { kind: "note", note: note({ noteId: 3, at, text: "Steam valve cracked", endpointIds: [MASH_TEMP.id] }), via: "live" });
    await settle();
    expect(markers()).toHaveLength(1);
    await fake.emit(PLANT_NOTE, { kind: "note", note: note({ noteId: 4, at, text: "Heater cycled", endpointIds: [HLT_TEMP.id] }), via: "live" });
    await until(() => markers().length === 2, "the new marker");
    expect(noteAsks()).toHaveLength(asked);
  });

  test("the journal is asked at most once a second while the range moves", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const { fake } = renderTool();
    await until(() => noteAsks().length === 1, "the first ask");
    // Three answers in quick succession (live with a 1 s bucket would do this).
    for (const key of ["15m", "1h", "8h"]) {
      screen.getByTestId(`trend-range-${key}`).click();
      await until(() => trendAsks().at(-1)!.toMs - trendAsks().at(-1)!.fromMs === { "15m": 15, "1h": 60, "8h": 480 }[key]! * MIN, key);
      await settle();
    }
    expect(noteAsks()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(NOTES_MIN_INTERVAL_MS);
    await until(() => noteAsks().length === 2, "the throttled ask");
    const last = trendAsks().at(-1)!;
    expect(noteAsks()[1]).toMatchObject({ fromMs: last.fromMs, toMs: last.toMs });
    await vi.advanceTimersByTimeAsync(5 * NOTES_MIN_INTERVAL_MS);
    expect(fake.callsOf("journal").length).toBeLessThanOrEqual(3);
  });

  test("notesOn picks the charted endpoints' notes in the range, oldest first", () => {
    const mark = (key: string, atMs: number, endpointIds: NoteMark["endpointIds"]): NoteMark => ({ key, atMs, by: "a", text: key, endpointIds });
    const all = [mark("late", 300, [1]), mark("early", 100, ["1"]), mark("other", 200, [2]), mark("out", 900, [1]), mark("none", 150, [])];
    expect(notesOn(all, [1], 0, 500).map((m) => m.key)).toEqual(["early", "late"]);
    expect(notesOn(all, [], 0, 500)).toEqual([]);
  });
});
