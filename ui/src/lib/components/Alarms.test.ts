// The operator's identity and the alarms against a faked Rust side (Tauri's IPC mocks): who I
// am in the header, what my role does not allow disabled with the reason beside it,
// acknowledging with a note, shelving (the dialog, its limits, its reason) and the shelved
// alarms apart, out of the counts.

import { cleanup, render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, test } from "vitest";
import App from "../../App.svelte";
import type { Alarm } from "../generated/protocol";
import type { DeskSnapshot } from "../generated/station";
import { PLANT_ALARM } from "../generated/station/events";
import { FakeBackend, settle, until } from "../testing/fake-backend";
import {
  FILL_VALVE,
  HLT_HEATER,
  HLT_SETPOINT,
  alarm,
  deskOperator,
  deskSnapshot,
  operator,
  shelving,
  supervisor,
  viewer,
} from "../testing/fixtures";
import ShelvedList from "./ShelvedList.svelte";

let fake: FakeBackend | undefined;

afterEach(() => {
  cleanup();
  fake?.uninstall();
  fake = undefined;
});

async function renderLoaded(snapshot: DeskSnapshot) {
  fake = new FakeBackend(snapshot);
  render(App);
  await until(() => document.querySelectorAll("[data-testid=tile]").length > 0, "the first snapshot");
  return fake;
}

function row(id: number): HTMLElement {
  const el = document.querySelector<HTMLElement>(`[data-testid=alarm-row][data-alarm-id="${id}"]`);
  if (!el) throw new Error(`no alarm row ${id}`);
  return el;
}

function controlsOf(id: number): HTMLElement {
  const el = document.querySelector<HTMLElement>(`[data-testid=controls][data-endpoint="${id}"]`);
  if (!el) throw new Error(`no controls for endpoint ${id}`);
  return el;
}

const HIGH = alarm({ alarmId: 2, severity: "high", message: "HLT over temperature", timestamp: "2025-01-01T10:00:02Z" });
const CRITICAL = alarm({ alarmId: 3, severity: "critical", message: "Glycol too warm", timestamp: "2025-01-01T10:00:03Z", endpointId: 8 });

describe("who I am", () => {
  test("the header names the operator and their role", async () => {
    await renderLoaded(deskSnapshot({ operator: operator("ana") }));
    expect(screen.getByTestId("operator-badge").textContent).toBe("ana · operator");
  });

  test("nothing when the server names no one", async () => {
    await renderLoaded(deskSnapshot({ operator: deskOperator({ name: null }) }));
    expect(screen.queryByTestId("operator-badge")).toBeNull();
  });
});

describe("what the role does not allow is disabled, with the reason beside it", () => {
  const VIEWER_COMMANDS = "Not allowed: your role (viewer) may not send commands: ask an operator or a supervisor";

  test("a viewer's command buttons and setpoint entry", async () => {
    const user = userEvent.setup();
    const fake = await renderLoaded(deskSnapshot({ operator: viewer() }));
    expect(screen.getByTestId("operator-badge").textContent).toBe("val · viewer");

    for (const endpoint of [HLT_HEATER, FILL_VALVE, HLT_SETPOINT]) {
      const controls = controlsOf(endpoint.id as number);
      const reason = within(controls).getByTestId("command-denied-reason");
      expect(reason.textContent).toBe(VIEWER_COMMANDS);
      for (const control of controls.querySelectorAll<HTMLButtonElement | HTMLInputElement>("button, input")) {
        expect(control.disabled, control.outerHTML).toBe(true);
        expect(control.getAttribute("aria-describedby")).toContain(reason.id);
      }
      // The link is fine: no "blocked" reason on top of the role's.
      expect(within(controls).queryByTestId("blocked-reason")).toBeNull();
    }
    await user.click(within(controlsOf(FILL_VALVE.id as number)).getByRole("button", { name: /Open/ }));
    await settle();
    expect(fake.callsOf("send_command")).toHaveLength(0);
  });

  test("a viewer's Acknowledge, Acknowledge all and Shelve", async () => {
    await renderLoaded(deskSnapshot({ operator: viewer(), alarms: [CRITICAL, HIGH] }));
    const ackAll = screen.getByTestId("ack-all") as HTMLButtonElement;
    expect(ackAll.disabled).toBe(true);
    const ackReason = screen.getByTestId("ack-denied-reason");
    expect(ackReason.textContent).toBe("Not allowed: your role (viewer) may not acknowledge alarms: ask an operator or a supervisor");
    const shelveReason = screen.getByTestId("shelve-denied-reason");
    expect(shelveReason.textContent).toBe("Not allowed: your role (viewer) may not shelve alarms: ask an operator or a supervisor");
    expect(ackAll.getAttribute("aria-describedby")).toBe(ackReason.id);
    for (const id of [2, 3]) {
      const ack = within(row(id)).getByTestId("ack-submit") as HTMLButtonElement;
      const shelve = within(row(id)).getByTestId("shelve-button") as HTMLButtonElement;
      expect(ack.disabled).toBe(true);
      expect(ack.getAttribute("aria-describedby")).toBe(ackReason.id);
      expect(shelve.disabled).toBe(true);
      expect(shelve.getAttribute("aria-describedby")).toBe(shelveReason.id);
      // No note to type when it cannot be sent.
      expect(within(row(id)).queryByTestId("ack-note-input")).toBeNull();
    }
  });

  test("a forbidden refusal is shown plainly", async () => {
    const user = userEvent.setup();
    const fake = await renderLoaded(deskSnapshot({ alarms: [HIGH] }));
    fake.on("send_command", () => {
      throw { code: "forbidden", message: "your role (viewer) may not send commands" };
    });
    fake.on("acknowledge_alarm", () => {
      throw { code: "forbidden", message: "your role (viewer) may not acknowledge alarms" };
    });
    await user.click(within(controlsOf(FILL_VALVE.id as number)).getByRole("button", { name: /Open/ }));
    await until(() => screen.queryByTestId("command-error") !== null, "the command's refusal");
    expect(screen.getByTestId("command-error").textContent).toBe("Not allowed: your role (viewer) may not send commands");

    await user.click(within(row(2)).getByTestId("ack-submit"));
    await until(() => within(screen.getByTestId("alarm-list")).queryByRole("alert") !== null, "the acknowledgement's refusal");
    expect(within(screen.getByTestId("alarm-list")).getByRole("alert").textContent).toBe(
      "Not allowed: your role (viewer) may not acknowledge alarms",
    );
  });
});

describe("acknowledging", () => {
  test("with a note: Enter sends acknowledge_alarm with the alarm and the note, then clears it", async () => {
    const user = userEvent.setup();
    const fake = await renderLoaded(deskSnapshot({ alarms: [CRITICAL, HIGH] }));
    const input = within(row(2)).getByTestId("ack-note-input") as HTMLInputElement;
    expect(input.labels?.[0]?.textContent).toMatch(/Acknowledgement note for high alarm: HLT over temperature/);
    await user.type(input, "  probe checked, reading true  {Enter}");
    await until(() => fake.callsOf("acknowledge_alarm").length === 1, "acknowledge_alarm");
    expect(fake.callsOf("acknowledge_alarm")[0]!.args).toEqual({ alarmId: 2, note: "probe checked, reading true" });
    await until(() => input.value === "", "the note to clear");

    // The plant says who, when and with what note.
    await fake.emit(PLANT_ALARM, {
      kind: "alarm",
      alarm: { ...HIGH, acked: true, ackedBy: "ana", ackedAt: "2025-01-01T10:00:09Z", ackNote: "probe checked, reading true" },
      via: "live",
    });
    expect(within(row(2)).getByTestId("alarm-acked-by").textContent).toBe("ana");
    expect(within(row(2)).getByTestId("alarm-acked-at").getAttribute("datetime")).toBe("2025-01-01T10:00:09Z");
    expect(within(row(2)).getByTestId("alarm-ack-note").textContent).toBe("probe checked, reading true");
    expect(within(row(2)).queryByTestId("ack-submit")).toBeNull();
  });

  test("the note is counted and refused past 500 characters", async () => {
    const user = userEvent.setup();
    const fake = await renderLoaded(deskSnapshot({ alarms: [HIGH] }));
    const input = within(row(2)).getByTestId("ack-note-input") as HTMLInputElement;
    const submit = within(row(2)).getByTestId("ack-submit") as HTMLButtonElement;
    input.focus();
    await user.paste("x".repeat(501));
    expect(within(row(2)).getByTestId("ack-note-input-count").textContent).toMatch(/501\/500/);
    expect(input.getAttribute("aria-invalid")).toBe("true");
    expect(submit.disabled).toBe(true);
    await user.keyboard("{Enter}");
    await user.keyboard("{Backspace}{Enter}");
    await until(() => fake.callsOf("acknowledge_alarm").length === 1, "acknowledge_alarm");
    expect((fake.callsOf("acknowledge_alarm")[0]!.args.note as string).length).toBe(500);
  });

  test("Acknowledge all takes one note", async () => {
    const user = userEvent.setup();
    const fake = await renderLoaded(deskSnapshot({ alarms: [CRITICAL, HIGH] }));
    await user.type(screen.getByTestId("ack-all-note-input"), "shift handover");
    await user.click(screen.getByTestId("ack-all"));
    await until(() => fake.callsOf("acknowledge_all").length === 1, "acknowledge_all");
    expect(fake.callsOf("acknowledge_all")[0]!.args).toEqual({ note: "shift handover" });
    expect(fake.callsOf("acknowledge_alarm")).toHaveLength(0);
  });
});

describe("shelving", () => {
  function options(): number[] {
    const select = screen.getByTestId("shelve-minutes") as HTMLSelectElement;
    return [...select.options].map((o) => Number(o.value));
  }

  test("the dialog offers only the durations within the role's limit", async () => {
    const user = userEvent.setup();
    await renderLoaded(deskSnapshot({ operator: operator(), alarms: [HIGH] }));
    await user.click(within(row(2)).getByTestId("shelve-button"));
    expect(options()).toEqual([15, 30, 60]);
    expect([...(screen.getByTestId("shelve-minutes") as HTMLSelectElement).options].map((o) => o.textContent)).toEqual([
      "15 min",
      "30 min",
      "1 h",
    ]);
    await user.keyboard("{Escape}");
    cleanup();
    fake!.uninstall();

    await renderLoaded(deskSnapshot({ operator: supervisor(), alarms: [HIGH] }));
    await user.click(within(row(2)).getByTestId("shelve-button"));
    expect(options()).toEqual([15, 30, 60, 120, 240, 480]);
  });

  test("a reason is required, 1 to 200 characters; Escape cancels and gives focus back", async () => {
    const user = userEvent.setup();
    const fake = await renderLoaded(deskSnapshot({ operator: operator(), alarms: [HIGH] }));
    const shelveButton = within(row(2)).getByTestId("shelve-button");
    await user.click(shelveButton);
    const dialog = screen.getByTestId("shelve-dialog");
    expect(dialog.getAttribute("role")).toBe("dialog");
    expect(dialog.getAttribute("aria-modal")).toBe("true");
    expect(document.getElementById(dialog.getAttribute("aria-labelledby")!)!.textContent).toBe("Shelve alarm");
    expect(screen.getByRole("dialog", { name: "Shelve alarm" })).toBe(dialog);
    const reason = screen.getByTestId("shelve-reason") as HTMLInputElement;
    const confirm = screen.getByTestId("shelve-confirm") as HTMLButtonElement;
    expect(document.activeElement).toBe(reason);

    // Empty: refused.
    expect(confirm.disabled).toBe(true);
    await user.keyboard("{Enter}");
    expect(screen.getByTestId("shelve-reason-error").textContent).toBe("Give a reason for shelving.");
    // Blank is empty too.
    await user.type(reason, "   ");
    expect(confirm.disabled).toBe(true);
    await user.clear(reason);

    // 201 characters: refused, and counted.
    await user.paste("r".repeat(201));
    expect(screen.getByTestId("shelve-reason-count").textContent).toMatch(/201\/200/);
    expect(confirm.disabled).toBe(true);
    expect(screen.getByTestId("shelve-reason-error").textContent).toBe("The reason is 201 characters: at most 200.");
    await user.keyboard("{Enter}");
    expect(fake.callsOf("shelve_alarm")).toHaveLength(0);

    // 200: fine.
    await user.keyboard("{Backspace}");
    expect(confirm.disabled).toBe(false);
    expect(screen.queryByTestId("shelve-reason-error")).toBeNull();

    // Focus stays inside; Escape cancels, sends nothing, and focus goes back.
    for (let i = 0; i < 5; i++) {
      await user.tab();
      expect(dialog.contains(document.activeElement)).toBe(true);
    }
    await user.keyboard("{Escape}");
    expect(screen.queryByTestId("shelve-dialog")).toBeNull();
    expect(fake.callsOf("shelve_alarm")).toHaveLength(0);
    expect(document.activeElement).toBe(shelveButton);
  });

  test("Shelve sends shelve_alarm with the duration and the reason", async () => {
    const user = userEvent.setup();
    const fake = await renderLoaded(deskSnapshot({ operator: operator(), alarms: [HIGH] }));
    await user.click(within(row(2)).getByTestId("shelve-button"));
    await user.selectOptions(screen.getByTestId("shelve-minutes"), "30");
    await user.type(screen.getByTestId("shelve-reason"), " probe being replaced {Enter}");
    await until(() => fake.callsOf("shelve_alarm").length === 1, "shelve_alarm");
    expect(fake.callsOf("shelve_alarm")[0]!.args).toEqual({ alarmId: 2, minutes: 30, reason: "probe being replaced" });
    await until(() => screen.queryByTestId("shelve-dialog") === null, "the dialog to close");
  });

  test("a refusal keeps the dialog open and says why", async () => {
    const user = userEvent.setup();
    const fake = await renderLoaded(deskSnapshot({ operator: operator(), alarms: [HIGH] }));
    fake.on("shelve_alarm", () => {
      throw { code: "forbidden", message: "your role (operator) may shelve for at most 60 minutes" };
    });
    await user.click(within(row(2)).getByTestId("shelve-button"));
    await user.type(screen.getByTestId("shelve-reason"), "nuisance");
    await user.click(screen.getByTestId("shelve-confirm"));
    await until(() => screen.queryByTestId("shelve-error") !== null, "the refusal");
    expect(screen.getByTestId("shelve-error").textContent).toBe("Not allowed: your role (operator) may shelve for at most 60 minutes");
    expect(screen.getByTestId("shelve-dialog")).toBeTruthy();
  });

  test("local shelving is said so in the dialog and the Shelved section", async () => {
    const user = userEvent.setup();
    await renderLoaded(deskSnapshot({ operator: deskOperator({ shelvingIsLocal: true }), alarms: [HIGH] }));
    const local = "Shelving here is local to this desk: the plant server does not serve shelving";
    await user.click(within(row(2)).getByTestId("shelve-button"));
    expect(screen.getByTestId("shelve-dialog").textContent).toContain(local);
    await user.keyboard("{Escape}");
    await user.click(screen.getByTestId("alarms-filter-shelved"));
    expect(screen.getByTestId("shelved-list").textContent).toContain(local);
  });
});

describe("shelved alarms", () => {
  const now = Date.now();
  const MINE: Alarm = alarm({
    alarmId: 4,
    severity: "critical",
    message: "Kettle boil-over",
    timestamp: "2025-01-01T10:00:04Z",
    shelved: shelving("ana", "level probe fouled", 25, now),
  });
  const BOBS: Alarm = alarm({
    alarmId: 5,
    severity: "medium",
    message: "Mash tun slow",
    timestamp: "2025-01-01T10:00:05Z",
    shelved: shelving("bob", "known slow sparge", 90, now),
  });

  test("apart, out of the banner's counts; by whom, why, until when and the time left", async () => {
    const user = userEvent.setup();
    await renderLoaded(deskSnapshot({ operator: operator("ana"), alarms: [BOBS, MINE, CRITICAL, HIGH] }));

    // Active: only what demands attention.
    expect(screen.getAllByTestId("alarm-row").map((r) => r.dataset.alarmId)).toEqual(["3", "2"]);
    const counts = Object.fromEntries(screen.getAllByTestId("alarm-count").map((c) => [c.dataset.severity, c.dataset.count]));
    expect(counts).toEqual({ critical: "1", high: "1", medium: "0", low: "0" });
    expect(screen.getByTestId("unacked-count").textContent).toBe("2 unacknowledged");
    expect(screen.getByTestId("newest-critical").textContent).toMatch(/Glycol too warm/);
    expect(screen.getByTestId("shelved-count").textContent).toBe("2 shelved");
    expect(screen.getByTestId("ack-all").textContent).toMatch(/Acknowledge all \(2\)/);
    expect(screen.getByTestId("tab-alarms").textContent).toMatch(/Alarms \(2\)/);

    const filter = screen.getByTestId("alarms-filter-shelved");
    expect(filter.textContent).toBe("Shelved (2)");
    await user.click(filter);
    expect(filter.getAttribute("aria-pressed")).toBe("true");
    const rows = screen.getAllByTestId("shelved-row");
    expect(rows.map((r) => r.dataset.alarmId)).toEqual(["5", "4"]);
    const mine = rows[1]!;
    expect(mine.textContent).toMatch(/shelved/i);
    expect(within(mine).getByTestId("shelved-by").textContent).toBe("ana");
    expect(within(mine).getByTestId("shelved-reason").textContent).toBe("level probe fouled");
    expect(within(mine).getByTestId("shelved-until").getAttribute("datetime")).toBe(MINE.shelved!.until);
    expect(within(mine).getByTestId("shelved-left").textContent).toMatch(/^2[45] min left$/);
    expect(within(rows[0]!).getByTestId("shelved-left").textContent).toMatch(/^1 h (29|30) min left$/);

    // One's own: Unshelve. Another's, without unshelveOthers: disabled, with the reason.
    expect((within(mine).getByTestId("unshelve-button") as HTMLButtonElement).disabled).toBe(false);
    const bobs = within(rows[0]!).getByTestId("unshelve-button") as HTMLButtonElement;
    expect(bobs.disabled).toBe(true);
    const why = within(rows[0]!).getByTestId("unshelve-denied-reason");
    expect(why.textContent).toBe("Not allowed: your role (operator) may unshelve only what you shelved: ask a supervisor");
    expect(bobs.getAttribute("aria-describedby")).toBe(why.id);

    await user.click(within(mine).getByTestId("unshelve-button"));
    await until(() => fake!.callsOf("unshelve_alarm").length === 1, "unshelve_alarm");
    expect(fake!.callsOf("unshelve_alarm")[0]!.args).toEqual({ alarmId: 4 });

    // Back from the shelf: counted again, and announced.
    await fake!.emit(PLANT_ALARM, { kind: "alarm", alarm: { ...MINE, shelved: undefined }, via: "live" });
    expect(screen.getAllByTestId("shelved-row").map((r) => r.dataset.alarmId)).toEqual(["5"]);
    expect(screen.getByTestId("unacked-count").textContent).toBe("3 unacknowledged");
    expect(screen.getByTestId("announce-assertive").textContent).toMatch(/Back from the shelf: critical alarm on HLT temperature: Kettle boil-over/);
    await user.click(screen.getByTestId("alarms-filter-active"));
    expect(screen.getAllByTestId("alarm-row").map((r) => r.dataset.alarmId)).toEqual(["4", "3", "2"]);
  });

  test("a supervisor may unshelve another's shelving", async () => {
    const user = userEvent.setup();
    await renderLoaded(deskSnapshot({ operator: supervisor("sam"), alarms: [BOBS] }));
    await user.click(screen.getByTestId("alarms-filter-shelved"));
    expect((screen.getByTestId("unshelve-button") as HTMLButtonElement).disabled).toBe(false);
    expect(screen.queryByTestId("unshelve-denied-reason")).toBeNull();
  });

  test("the time left follows the page's clock, a minute at a time", async () => {
    const view = render(ShelvedList, {
      props: {
        alarms: [MINE],
        endpoints: new Map(),
        now,
        operator: operator("ana"),
        blocked: null,
        onUnshelve: async () => null,
      },
    });
    const left = screen.getByTestId("shelved-left");
    expect(left.textContent).toBe("25 min left");
    await view.rerender({ now: now + 30_000 });
    expect(left.textContent).toBe("25 min left");
    await view.rerender({ now: now + 61_000 });
    expect(screen.getByTestId("shelved-left")).toBe(left);
    expect(left.textContent).toBe("24 min left");
    await view.rerender({ now: now + 25 * 60_000 });
    expect(left.textContent).toBe("due back now");
  });
});
