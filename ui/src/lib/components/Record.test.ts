// The record's settings and notices against a faked Rust side: what record_status and
// RECORD_STATUS say is shown as said; retention is checked, then saved through set_retention.

import { cleanup, render, screen } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, test } from "vitest";
import { RECORD_STATUS } from "../generated/station/events";
import { RecordStatus } from "../state/record.svelte";
import { FakeBackend, settle, until } from "../testing/fake-backend";
import { deskSnapshot, recordView } from "../testing/fixtures";
import RecordNotice from "./RecordNotice.svelte";
import RecordSettings from "./RecordSettings.svelte";

let fake: FakeBackend | undefined;
let record: RecordStatus | undefined;

afterEach(() => {
  cleanup();
  record?.stop();
  record = undefined;
  fake?.uninstall();
  fake = undefined;
});

async function started(view = recordView()) {
  fake = new FakeBackend(deskSnapshot());
  fake.record = view;
  record = new RecordStatus();
  await record.start();
  return { fake, record };
}

const notices = () => screen.queryAllByTestId("record-notice");

describe("record settings", () => {
  test("shows the record as the desk reports it", async () => {
    const { record } = await started(recordView({ bytes: 25 * 1024 * 1024, written: 1200, dropped: 3 }));
    render(RecordSettings, { props: { record } });
    expect(screen.getByTestId("record-settings")).toBeTruthy();
    expect(screen.getByTestId("record-path").textContent).toBe("/home/op/.local/share/brewdeck/record.sqlite");
    expect(screen.getByTestId("record-size").textContent).toBe("25.0 MiB");
    expect(screen.getByTestId("record-health").textContent).toBe("Recording");
    expect(screen.getByTestId("record-counts").textContent).toMatch(/1,?200 written, 3 dropped/);
    expect((screen.getByTestId("record-minute-days") as HTMLInputElement).value).toBe("35");
    expect((screen.getByTestId("record-size-cap") as HTMLInputElement).value).toBe("2048");

    await fake!.emit(RECORD_STATUS, recordView({ health: "paused", reason: "the disk is full" }));
    expect(screen.getByTestId("record-health").textContent).toBe("Paused: the disk is full");
  });

  test("retention out of bounds is refused here; within, it is saved", async () => {
    const user = userEvent.setup();
    const { fake, record } = await started();
    render(RecordSettings, { props: { record } });
    const days = screen.getByTestId("record-minute-days") as HTMLInputElement;
    const cap = screen.getByTestId("record-size-cap") as HTMLInputElement;

    await user.clear(days);
    await user.type(days, "0");
    await user.clear(cap);
    await user.type(cap, "8");
    await user.click(screen.getByTestId("record-save"));
    expect(screen.getByText(/1 to 3650/)).toBeTruthy();
    expect(screen.getByText(/16 to 1048576/)).toBeTruthy();
    expect(fake.callsOf("set_retention")).toHaveLength(0);

    await user.clear(days);
    await user.type(days, "90");
    await user.clear(cap);
    await user.type(cap, "4096");
    await user.click(screen.getByTestId("record-save"));
    await until(() => fake.callsOf("set_retention").length === 1, "set_retention");
    expect(fake.callsOf("set_retention")[0]!.args).toEqual({ retention: { minuteDays: 90, sizeCapMib: 4096 } });
    await until(() => screen.queryByText("Record settings saved.") !== null, "saved");
    expect(record.view?.retention).toEqual({ minuteDays: 90, sizeCapMib: 4096 });
  });

  test("the Rust side's refusal is shown as it says it", async () => {
    const user = userEvent.setup();
    const { fake, record } = await started();
    fake.on("set_retention", () => {
      throw { code: "invalid_input", message: "sizeCapMib: smaller than the record already is" };
    });
    render(RecordSettings, { props: { record } });
    await user.click(screen.getByTestId("record-save"));
    await until(() => screen.queryByTestId("record-save-error") !== null, "the refusal");
    expect(screen.getByTestId("record-save-error").textContent).toBe("Not saved: sizeCapMib: smaller than the record already is");
  });
});

describe("record notices", () => {
  test("none while recording; a banner while paused or unavailable, kept current", async () => {
    const { record } = await started();
    render(RecordNotice, { props: { record } });
    expect(notices()).toHaveLength(0);

    await fake!.emit(RECORD_STATUS, recordView({ health: "unavailable", reason: "the record's folder is read-only" }));
    expect(notices().map((n) => n.textContent?.trim())).toEqual([
      "Not recording: the record's folder is read-only. The live view carries on; recording resumes by itself.",
    ]);
    await fake!.emit(RECORD_STATUS, recordView());
    expect(notices()).toHaveLength(0);
  });

  test("a record moved aside is told once, until dismissed; a later one is told again", async () => {
    const user = userEvent.setup();
    const { record } = await started(recordView({ movedAside: "/data/record.sqlite.damaged-1" }));
    render(RecordNotice, { props: { record } });
    expect(notices()).toHaveLength(1);
    expect(notices()[0]!.textContent).toContain(
      "The record was damaged. It was moved aside to /data/record.sqlite.damaged-1 and a new one was begun.",
    );
    await user.click(screen.getByTestId("record-notice-dismiss"));
    expect(notices()).toHaveLength(0);
    await fake!.emit(RECORD_STATUS, recordView({ movedAside: "/data/record.sqlite.damaged-1", bytes: 1 }));
    expect(notices()).toHaveLength(0);
    await fake!.emit(RECORD_STATUS, recordView({ movedAside: "/data/record.sqlite.damaged-2" }));
    expect(notices()).toHaveLength(1);
  });

  test("a status event newer than the answer to record_status wins", async () => {
    fake = new FakeBackend(deskSnapshot());
    let answer: ((v: unknown) => void) | undefined;
    fake.on("record_status", () => new Promise((resolve) => (answer = resolve)));
    record = new RecordStatus();
    const starting = record.start();
    await until(() => answer !== undefined, "record_status");
    await fake.emit(RECORD_STATUS, recordView({ health: "paused", reason: "disk full" }));
    answer!(recordView());
    await starting;
    await settle();
    expect(record.view?.health).toBe("paused");
  });
});
