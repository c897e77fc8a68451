// uPlot replaced by a recorder for tests (jsdom has no canvas): what it was built with, what
// it was fed, and hooks to fire as a user's drag would. Use from a test file with
//   vi.mock("uplot", () => import("../testing/fake-uplot"));

import type uPlot from "uplot";

export const charts: FakeUPlot[] = [];

export class FakeUPlot {
  opts: uPlot.Options;
  data: uPlot.AlignedData;
  width: number;
  setDataCalls = 0;
  scales: Record<string, { min: number; max: number }> = {};
  select = { left: 0, top: 0, width: 0, height: 0 };
  cursor: { idx: number | null } = { idx: null };
  destroyed = false;
  readonly ctx: { canvas: HTMLCanvasElement };

  constructor(opts: uPlot.Options, data: uPlot.AlignedData, target: HTMLElement) {
    this.opts = opts;
    this.data = data;
    this.width = opts.width;
    const canvas = document.createElement("canvas");
    canvas.width = opts.width;
    canvas.height = opts.height;
    target.appendChild(canvas);
    this.ctx = { canvas };
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

  setSelect(select: { left: number; top: number; width: number; height: number }) {
    this.select = select;
  }

  /** Linear over the x scale, as uPlot does for a time axis. */
  posToVal(left: number, key: string) {
    const s = this.scales[key]!;
    return s.min + (left / this.width) * (s.max - s.min);
  }

  destroy() {
    this.destroyed = true;
  }

  /** As a drag from `left` over `width` pixels would. */
  drag(left: number, width: number) {
    this.select = { left, top: 0, width, height: 100 };
    for (const hook of this.opts.hooks?.setSelect ?? []) hook?.(this as unknown as uPlot);
  }

  /** As the cursor moving over data index `idx` would. */
  hover(idx: number | null) {
    this.cursor.idx = idx;
    for (const hook of this.opts.hooks?.setCursor ?? []) hook?.(this as unknown as uPlot);
  }
}

export default FakeUPlot;

export const liveCharts = () => charts.filter((c) => !c.destroyed);
