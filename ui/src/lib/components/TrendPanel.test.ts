// The trend panel with uPlot replaced by a recorder (jsdom has no canvas): which endpoints it
// charts, on which scales, over which range, and that new history reaches the chart.

import { cleanup, render, screen } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import type uPlot from "uplot";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { History } from "../state/history.svelte";
import { until } from "../testing/fake-backend";
import { CATALOG, HLT_LEVEL, HLT_TEMP, MASH_TEMP } from "../testing/fixtures";
import TrendPanel from "./TrendPanel.svelte";

const { charts } = vi.hoisted(() => ({ charts: [] as FakeChart[] }));

interface FakeChart {
  opts: uPlot.Options;
  data: uPlot.AlignedData;
  width: number;
  setDataCalls: number;
  scales: Record<string, { min: number; max: number }>;
  destroyed: boolean;
}

vi.mock("uplot", () => {
  class FakeUPlot implements FakeChart {
    opts: uPlot.Options;
    data: uPlot.AlignedData;
    width: number;
    setDataCalls = 0;
    scales: Record<string, { min: number; max: number }> = {};
    destroyed = false;
    constructor(opts: uPlot.Options, data: uPlot.AlignedData, target: HTMLElement) {
      this.opts = opts;
      this.data = data;
      this.width = opts.width;
      target.appendChild(document.createElement("canvas"));
      charts.push(this);
    }
    batch(fn: () => void) {
      fn();
    }
    setData(data: uPlot.AlignedData) {
      this.data = data;
      this.setDataCalls++;
    }
    setScale(key: string, limits: { min: number; max: number }) {
      this.scales[key] = limits;
    }
    setSize() {}
    destroy() {
      this.destroyed = true;
    }
  }
  return { default: FakeUPlot };
});

// Frames and the clock advance only when a test says so (timeouts stay real for user-event).
beforeEach(() => {
  vi.useFakeTimers({ toFake: ["requestAnimationFrame", "cancelAnimationFrame", "Date"] });
});

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  charts.length = 0;
});

const live = () => charts.filter((c) => !c.destroyed);

function renderPanel(history = new History()) {
  render(TrendPanel, { props: { history, catalog: CATALOG, connected: true, theme: "light" } });
  return history;
}

describe("TrendPanel", () => {
  test("charts the first temperature by default, from the history", async () => {
    const history = new History();
    const now = Date.now();
    history.record([{ endpointId: HLT_TEMP.id, value: 150 }], now - 10_000);
    history.record([{ endpointId: HLT_TEMP.id, value: 151 }], now - 5_000);
    renderPanel(history);
    await until(() => live().length === 1, "the chart");
    const chart = live()[0]!;
    expect(chart.opts.series.slice(1).map((s) => s.label)).toEqual(["HLT temperature (°F)"]);
    const values = (chart.data[1] as (number | null | undefined)[]).filter((v) => v !== undefined);
    expect(values.slice(0, 2)).toEqual([150, 151]);
    expect(screen.getByTestId("trend-chart").dataset.series).toBe(String(HLT_TEMP.id));
  });

  test("several endpoints together, one scale per unit", async () => {
    const user = userEvent.setup();
    renderPanel();
    await until(() => live().length === 1, "the chart");
    await user.click(screen.getByRole("checkbox", { name: HLT_LEVEL.name }));
    await user.click(screen.getByRole("checkbox", { name: MASH_TEMP.name }));
    await until(() => live()[0]?.opts.series.length === 4, "the chart of three");
    expect(live()).toHaveLength(1); // the older charts were destroyed
    const chart = live()[0]!;
    expect(chart.opts.series.slice(1).map((s) => [s.label, s.scale])).toEqual([
      ["HLT temperature (°F)", "°F"],
      ["HLT level (%)", "%"],
      ["Mash tun temperature (°F)", "°F"],
    ]);
    expect(chart.opts.axes!.map((a) => a.scale ?? "x")).toEqual(["x", "°F", "%"]);

    await user.click(screen.getByRole("checkbox", { name: HLT_TEMP.name }));
    await until(() => live()[0]?.opts.series.length === 3, "the chart of two");
  });

  test("the range sets the time axis, and new history reaches the chart on the next frame", async () => {
    const user = userEvent.setup();
    const history = renderPanel();
    await until(() => live().length === 1, "the chart");
    const chart = live()[0]!;

    await user.click(screen.getByRole("button", { name: "60 min" }));
    expect(screen.getByRole("button", { name: "60 min" }).getAttribute("aria-pressed")).toBe("true");
    vi.advanceTimersToNextFrame();
    expect(chart.scales.x!.max - chart.scales.x!.min).toBeCloseTo(3600, 0);

    // Nothing new: the next frames draw nothing (60 min over 640 px: a pixel is 5.6 s).
    const calls = chart.setDataCalls;
    vi.advanceTimersToNextFrame();
    vi.advanceTimersToNextFrame();
    expect(chart.setDataCalls).toBe(calls);

    history.record([{ endpointId: HLT_TEMP.id, value: 177 }], Date.now());
    vi.advanceTimersToNextFrame();
    expect(chart.setDataCalls).toBe(calls + 1);
    expect(chart.data[1]).toContain(177);

    await user.click(screen.getByRole("button", { name: "5 min" }));
    vi.advanceTimersToNextFrame();
    expect(chart.scales.x!.max - chart.scales.x!.min).toBeCloseTo(300, 0);
  });

  test("the endpoint list can be filtered; chosen ones stay listed", async () => {
    const user = userEvent.setup();
    renderPanel();
    await user.type(screen.getByTestId("trend-filter"), "level");
    const listed = (screen.getAllByTestId("trend-pick") as HTMLInputElement[]).map((b) => b.dataset.endpoint);
    expect(listed).toEqual([String(HLT_TEMP.id), String(HLT_LEVEL.id)]);
  });

  test("at most six endpoints at once", async () => {
    const user = userEvent.setup();
    renderPanel();
    const boxes = () => screen.getAllByTestId("trend-pick") as HTMLInputElement[];
    for (const box of boxes().slice(1, 6)) await user.click(box);
    expect(boxes().filter((b) => b.checked)).toHaveLength(6);
    expect(boxes().filter((b) => !b.checked).every((b) => b.disabled)).toBe(true);
  });
});
