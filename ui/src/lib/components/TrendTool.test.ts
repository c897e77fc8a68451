// The trend tool against a faked record, with uPlot replaced by a recorder (jsdom has no
// canvas): what it asks and when, what the chart is given, ranges, zoom, pan, exports.

import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, test, vi } from "vitest";
import type { TrendAnswer, TrendQuery } from "../generated/station";
import { RECORD_FILLED } from "../generated/station/events";
import { FakeBackend, settle, until } from "../testing/fake-backend";
import { charts, liveCharts } from "../testing/fake-uplot";
import { CATALOG, GLYCOL_PUMP, HLT_LEVEL, HLT_TEMP, MASH_TEMP, deskSnapshot, trendAnswer } from "../testing/fixtures";
import { lastColumn } from "../state/trend-data";
import { toLocalInput } from "../state/trend.svelte";
import TrendTool from "./TrendTool.svelte";

vi.mock("uplot", () => import("../testing/fake-uplot"));

const HOUR = 3_600_000;
let fake: FakeBackend | undefined;

afterEach(() => {
  cleanup();
  fake?.uninstall();
  fake = undefined;
  charts.length = 0;
  vi.restoreAllMocks();
});

function renderTool(answer: (q: TrendQuery) => TrendAnswer | Promise<TrendAnswer> = (q) => trendAnswer(q)) {
  fake = new FakeBackend(deskSnapshot());
  fake.on("trend", (args) => answer(args.query as TrendQuery));
  const view = render(TrendTool, { props: { catalog: CATALOG, theme: "light" } });
  return { fake, view };
}

const queries = () => fake!.callsOf("trend").map((c) => c.args.query as TrendQuery);
const chart = () => liveCharts()[0]!;
const pressed = (id: string) => screen.getByTestId(id).getAttribute("aria-pressed");

describe("TrendTool", () => {
  test("asks the record at once for the first temperature, live over the last hour, sized to the chart", async () => {
    renderTool();
    await until(() => liveCharts().length === 1 && chart().data[0].length === 5, "the chart with data");
    expect(queries()).toHaveLength(1);
    const q = queries()[0]!;
    expect(q.endpointIds).toEqual([HLT_TEMP.id]);
    expect(q.toMs - q.fromMs).toBe(HOUR);
    expect(q.maxPoints).toBe(640); // jsdom lays nothing out: the default width
    expect(pressed("trend-range-1h")).toBe("true");
    expect(pressed("trend-live")).toBe("true");
    expect(chart().data[lastColumn(0)]).toEqual([100, 101, 102, 103, 104]);
    expect(chart().scales.x).toEqual({ min: q.fromMs, max: q.toMs });
    expect(screen.getByTestId("trend-stats").textContent).toBe(`points=5 bucketMs=6000 from=${q.fromMs} to=${q.toMs}`);
  });

  test("one axis per unit, a faint min/max band under each line", async () => {
    const user = userEvent.setup();
    renderTool();
    await until(() => liveCharts().length === 1, "the chart");
    await user.click(screen.getByRole("checkbox", { name: HLT_LEVEL.name }));
    await user.click(screen.getByRole("checkbox", { name: MASH_TEMP.name }));
    await user.click(screen.getByRole("checkbox", { name: GLYCOL_PUMP.name }));
    await until(() => liveCharts()[0]?.opts.series.length === 13, "the chart of four");
    expect(liveCharts()).toHaveLength(1); // the older charts were destroyed
    const opts = chart().opts;
    expect(opts.axes!.map((a) => a.scale ?? "x")).toEqual(["x", "°F", "%", "state"]);
    expect(opts.series.filter((_, i) => i > 0 && i % 3 === 0).map((s) => [s.label, s.scale])).toEqual([
      ["HLT temperature", "°F"],
      ["HLT level", "%"],
      ["Mash tun temperature", "°F"],
      ["Glycol pump", "state"],
    ]);
    expect(opts.bands!.map((b) => b.series)).toEqual([
      [2, 1],
      [5, 4],
      [8, 7],
      [11, 10],
    ]);
    await until(() => queries().at(-1)?.endpointIds.length === 4, "the ask for four");
    expect(queries().at(-1)!.endpointIds).toEqual([HLT_TEMP.id, HLT_LEVEL.id, MASH_TEMP.id, GLYCOL_PUMP.id]);
  });

  test("ranges, pan and drag-to-zoom leave live; Live follows now again", async () => {
    const user = userEvent.setup();
    renderTool();
    await until(() => liveCharts().length === 1 && queries().length === 1, "the chart");

    await user.click(screen.getByTestId("trend-range-24h"));
    await until(() => queries().length === 2, "the 24 h ask");
    expect(queries()[1]!.toMs - queries()[1]!.fromMs).toBe(24 * HOUR);
    expect(pressed("trend-range-24h")).toBe("true");

    await user.click(screen.getByTestId("trend-pan-back"));
    await until(() => queries().length === 3, "the panned ask");
    const panned = queries()[2]!;
    expect(Math.abs(panned.toMs - (queries()[1]!.toMs - 12 * HOUR))).toBeLessThan(2000);
    expect(pressed("trend-live")).toBe("false");
    expect(pressed("trend-range-24h")).toBe("false");

    // A drag over the middle half of the 640-pixel plot.
    await until(() => chart().scales.x?.max === panned.toMs, "the panned range drawn");
    chart().drag(160, 320);
    await until(() => queries().length === 4, "the zoomed ask");
    const zoomed = queries()[3]!;
    expect(zoomed.fromMs).toBe(Math.round(panned.fromMs + (panned.toMs - panned.fromMs) / 4));
    expect(zoomed.toMs).toBe(Math.round(panned.fromMs + ((panned.toMs - panned.fromMs) * 3) / 4));
    expect(chart().select.width).toBe(0); // the selection is cleared once used

    await user.click(screen.getByTestId("trend-live"));
    await until(() => queries().length === 5, "the live ask");
    expect(pressed("trend-live")).toBe("true");
    expect(Date.now() - queries()[4]!.toMs).toBeLessThan(2000);
    expect(queries()[4]!.toMs - queries()[4]!.fromMs).toBe(zoomed.toMs - zoomed.fromMs);
  });

  test("asks again when the record filled what it was fetching; the note shows meanwhile", async () => {
    let filling = true;
    renderTool((q) => trendAnswer(q, { filling }));
    await until(() => screen.queryByTestId("trend-filling") !== null, "the filling note");
    expect(screen.getByTestId("trend-filling").textContent).toBe("Fetching history from the plant…");
    filling = false;
    await fake!.emit(RECORD_FILLED, null);
    await until(() => queries().length === 2, "the ask after RECORD_FILLED");
    await until(() => screen.queryByTestId("trend-filling") === null, "the note gone");
  });

  test("custom dates are checked before they are asked for", async () => {
    const user = userEvent.setup();
    renderTool();
    await until(() => queries().length === 1, "the first ask");
    await user.click(screen.getByTestId("trend-range-custom"));
    const from = screen.getByTestId("trend-custom-from") as HTMLInputElement;
    const to = screen.getByTestId("trend-custom-to") as HTMLInputElement;
    const start = Date.parse("2025-02-01T08:00:00");
    const end = Date.parse("2025-02-01T20:00:00");

    await fireEvent.input(from, { target: { value: toLocalInput(end) } });
    await fireEvent.input(to, { target: { value: toLocalInput(start) } });
    await user.click(screen.getByTestId("trend-custom-apply"));
    expect(screen.getByTestId("trend-custom-error").textContent).toBe("The start must be before the end.");
    await fireEvent.input(to, { target: { value: "" } });
    await user.click(screen.getByTestId("trend-custom-apply"));
    expect(screen.getByTestId("trend-custom-error").textContent).toBe("Enter both the start and the end.");
    await settle();
    expect(queries()).toHaveLength(1);

    await fireEvent.input(from, { target: { value: toLocalInput(start) } });
    await fireEvent.input(to, { target: { value: toLocalInput(end) } });
    await user.click(screen.getByTestId("trend-custom-apply"));
    await until(() => queries().length === 2, "the custom ask");
    expect(queries()[1]).toMatchObject({ fromMs: start, toMs: end });
    expect(screen.queryByTestId("trend-custom-error")).toBeNull();
    expect(pressed("trend-live")).toBe("false");
  });

  test("Export CSV sends the query on screen and says what was saved; a cancel says nothing", async () => {
    const user = userEvent.setup();
    const { fake } = renderTool();
    await until(() => queries().length === 1 && screen.getByTestId("trend-stats").textContent!.startsWith("points=5"), "the answer");
    fake.on("export_trend_csv", () => ({ saved: true, fileName: "hlt.csv", rows: 42 }));
    await user.click(screen.getByTestId("trend-export-csv"));
    await until(() => screen.queryByTestId("trend-export-result") !== null, "the result");
    expect(fake.callsOf("export_trend_csv")[0]!.args).toEqual({ query: queries()[0] });
    expect(screen.getByTestId("trend-export-result").textContent).toBe("Saved hlt.csv (42 rows)");

    fake.on("export_trend_csv", () => ({ saved: false, fileName: null, rows: 0 }));
    await user.click(screen.getByTestId("trend-export-csv"));
    await until(() => fake.callsOf("export_trend_csv").length === 2, "the second export");
    await settle();
    expect(screen.queryByTestId("trend-export-result")).toBeNull();

    fake.on("export_trend_csv", () => {
      throw { code: "internal", message: "disk full" };
    });
    await user.click(screen.getByTestId("trend-export-csv"));
    await until(() => screen.queryByTestId("trend-export-error") !== null, "the error");
    expect(screen.getByTestId("trend-export-error").textContent).toBe("disk full");
  });

  test("Export PNG sends the chart, under a title, as base64 without the data: prefix", async () => {
    const user = userEvent.setup();
    const drawn: string[] = [];
    const ctx = {
      fillRect: () => undefined,
      fillText: (text: string) => void drawn.push(text),
      measureText: (text: string) => ({ width: text.length * 7 }),
      drawImage: () => undefined,
      fillStyle: "",
      font: "",
      textBaseline: "",
    };
    vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(ctx as unknown as CanvasRenderingContext2D);
    vi.spyOn(HTMLCanvasElement.prototype, "toDataURL").mockReturnValue("data:image/png;base64,iVBORw0KGgo=");
    const { fake } = renderTool();
    await until(() => liveCharts().length === 1 && queries().length === 1, "the chart");
    await user.click(screen.getByTestId("trend-export-png"));
    await until(() => fake.callsOf("export_trend_png").length === 1, "export_trend_png");
    expect(fake.callsOf("export_trend_png")[0]!.args).toEqual({ pngBase64: "iVBORw0KGgo=" });
    expect(drawn[0]).toBe("HLT temperature (°F)");
    await until(() => screen.queryByTestId("trend-export-result") !== null, "the result");
    expect(screen.getByTestId("trend-export-result").textContent).toBe("Saved trend.png");
  });

  test("the legend shows the values under the cursor, the newest without one", async () => {
    renderTool();
    await until(() => liveCharts().length === 1 && chart().data[0].length === 5, "the chart with data");
    const legend = () => screen.getByTestId("trend-legend").textContent!.replace(/\s+/g, " ");
    expect(legend()).toContain("Newest values HLT temperature (°F) 104 min–max 103 … 105");
    chart().hover(1);
    await settle();
    expect(legend()).toContain("HLT temperature (°F) 101 min–max 100 … 102");
  });

  test("hidden: nothing asked, nothing drawn; shown again: asked and drawn", async () => {
    const { view } = renderTool();
    await until(() => liveCharts().length === 1 && chart().data[0].length === 5, "the chart with data");
    const drawn = chart().setDataCalls;
    await view.rerender({ visible: false });
    await fake!.emit(RECORD_FILLED, null);
    await settle();
    expect(queries()).toHaveLength(1);
    expect(chart().setDataCalls).toBe(drawn);
    await view.rerender({ visible: true });
    await until(() => queries().length === 2, "the ask on showing");
    await until(() => chart().setDataCalls === drawn + 1, "the redraw");
  });

  test("a catalog that comes late brings the first temperature", async () => {
    fake = new FakeBackend(deskSnapshot());
    const view = render(TrendTool, { props: { catalog: [], theme: "light" } });
    await settle();
    expect(queries()).toHaveLength(0);
    await view.rerender({ catalog: CATALOG });
    await until(() => queries().length === 1, "the ask");
    expect(queries()[0]!.endpointIds).toEqual([HLT_TEMP.id]);
  });
});
