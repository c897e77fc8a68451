// The whole page against a faked Rust side (Tauri's IPC mocks): the snapshot-then-events flow
// with a reload in the middle, stale values and blocked controls while the link is down,
// commands in place and in the history, confirmation, alarms.

import { cleanup, render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, test } from "vitest";
import App from "./App.svelte";
import type { EndpointId } from "./lib/generated/protocol";
import type { DeskSnapshot } from "./lib/generated/station";
import {
  ALARM_SOUND,
  DESK_RESYNC,
  LINK_STATE,
  PLANT_ALARM,
  PLANT_COMMAND,
  PLANT_READINGS,
  RECORD_STATUS,
} from "./lib/generated/station/events";
import { FakeBackend, settle, until } from "./lib/testing/fake-backend";
import {
  CONNECTED,
  FILL_VALVE,
  GLYCOL_PUMP,
  HLT_HEATER,
  HLT_LEVEL,
  HLT_SETPOINT,
  HLT_TEMP,
  TRANSFER_PUMP,
  alarm,
  alarmSoundView,
  command,
  deskSnapshot,
  recordView,
} from "./lib/testing/fixtures";

let fake: FakeBackend | undefined;

afterEach(() => {
  // Unmount first: the page stops listening while the mocked runtime is still there.
  cleanup();
  fake?.uninstall();
  fake = undefined;
  document.documentElement.removeAttribute("data-theme");
});

function tile(id: EndpointId): HTMLElement {
  const el = document.querySelector<HTMLElement>(`[data-testid=tile][data-endpoint="${id}"]`);
  if (!el) throw new Error(`no tile for endpoint ${id}`);
  return el;
}

function valueOf(id: EndpointId): string {
  return within(tile(id)).getByTestId("tile-value").textContent ?? "";
}

async function renderLoaded(snapshot: DeskSnapshot) {
  fake = new FakeBackend(snapshot);
  const view = render(App);
  await until(() => document.querySelectorAll("[data-testid=tile]").length > 0, "the first snapshot");
  return { fake, view };
}

/** A snapshot that answers only when the test says so. */
function holdSnapshots(backend: FakeBackend): Array<(snap: DeskSnapshot) => void> {
  const pending: Array<(snap: DeskSnapshot) => void> = [];
  backend.on("snapshot", () => new Promise<DeskSnapshot>((resolve) => pending.push(resolve)));
  return pending;
}

describe("snapshot, then events", () => {
  test("events during the snapshot are applied on top of it; a reload starts again from a snapshot", async () => {
    fake = new FakeBackend(deskSnapshot());
    const pending = holdSnapshots(fake);
    const first = render(App);
    await until(() => pending.length === 1, "the snapshot request");
    expect(screen.getByText("Reading the plant…")).toBeTruthy();

    // The plant moves on while the snapshot is on its way.
    await fake.emit(LINK_STATE, { state: "reconnecting", attempt: 2, retryAt: "2025-01-01T10:00:09Z", retryInMs: 4000, lastError: "reset" });
    await fake.emit(PLANT_READINGS, { readings: [{ endpointId: HLT_TEMP.id, value: 160.5, timestamp: "2025-01-01T10:00:02Z" }] });
    await fake.emit(LINK_STATE, CONNECTED);
    expect(document.querySelectorAll("[data-testid=tile]")).toHaveLength(0);

    // The snapshot was taken before those events: older value, link still connecting.
    pending[0]!(deskSnapshot({ link: { state: "connecting", attempt: 1 } }));
    await until(() => document.querySelectorAll("[data-testid=tile]").length > 0, "the tiles");
    expect(valueOf(HLT_TEMP.id)).toBe("160.5");
    expect(screen.getByTestId("link-badge").dataset.state).toBe("connected");
    expect(tile(HLT_TEMP.id).dataset.stale).toBe("false");

    // Events after the snapshot apply at once.
    await fake.emit(PLANT_READINGS, { readings: [{ endpointId: HLT_TEMP.id, value: 161.5, timestamp: "2025-01-01T10:00:03Z" }] });
    expect(valueOf(HLT_TEMP.id)).toBe("161.5");

    // A reload: this page goes, a new one starts from nothing.
    first.unmount();
    render(App);
    await until(() => pending.length === 2, "the reloaded page's snapshot request");
    await fake.emit(PLANT_READINGS, { readings: [{ endpointId: HLT_TEMP.id, value: 170.5, timestamp: "2025-01-01T10:01:02Z" }] });
    await fake.emit(PLANT_ALARM, { kind: "alarm", alarm: alarm({ alarmId: 9, severity: "critical", message: "HLT dry" }), via: "live" });
    expect(document.querySelectorAll("[data-testid=tile]")).toHaveLength(0);

    pending[1]!(deskSnapshot({ values: { 1: 165.5 } }));
    await until(() => document.querySelectorAll("[data-testid=tile]").length > 0, "the reloaded tiles");
    // One page only (the old one stopped listening), drawn from the snapshot plus the held events.
    expect(document.querySelectorAll(`[data-testid=tile][data-endpoint="${HLT_TEMP.id}"]`)).toHaveLength(1);
    expect(valueOf(HLT_TEMP.id)).toBe("170.5");
    expect(screen.getAllByTestId("alarm-row").map((r) => r.dataset.alarm)).toEqual(["9"]);
    expect(within(screen.getByTestId("newest-critical")).getByText(/HLT dry/)).toBeTruthy();
  });

  test("DESK_RESYNC draws again from a fresh snapshot, holding the events meanwhile", async () => {
    const { fake } = await renderLoaded(deskSnapshot());
    const pending = holdSnapshots(fake);
    await fake.emit(DESK_RESYNC, null);
    await until(() => pending.length === 1, "the resync snapshot");
    await fake.emit(PLANT_READINGS, { readings: [{ endpointId: HLT_TEMP.id, value: 175.5, timestamp: "2025-01-01T10:05:00Z" }] });
    // Held until the snapshot is in: still the old value.
    expect(valueOf(HLT_TEMP.id)).toBe("152.5");
    pending[0]!(deskSnapshot({ values: { 1: 174.5 }, alarms: [alarm({ alarmId: 3 })] }));
    await until(() => valueOf(HLT_TEMP.id) === "175.5", "the held reading");
    expect(screen.getAllByTestId("alarm-row")).toHaveLength(1);
  });
});

describe("tiles", () => {
  test("grouped by area; a value past its limits is marked; quality, age and sparkline shown", async () => {
    const { fake } = await renderLoaded(deskSnapshot());
    expect(screen.getAllByTestId("area").map((a) => a.getAttribute("aria-label"))).toEqual(["Hot liquor tank", "Mash tun", "Glycol chiller"]);
    expect(tile(HLT_TEMP.id).dataset.limit).toBeUndefined();
    expect(within(tile(HLT_TEMP.id)).getByTestId("tile-quality").textContent).toBe("good quality");
    expect(within(tile(HLT_TEMP.id)).getByTestId("sparkline")).toBeTruthy();

    await fake.emit(PLANT_READINGS, {
      readings: [
        { endpointId: HLT_TEMP.id, value: 190.5, timestamp: "2025-01-01T10:00:02Z", quality: "uncertain" },
        { endpointId: HLT_LEVEL.id, value: 4, timestamp: "2025-01-01T10:00:02Z" },
        { endpointId: "legacy.flow", value: 12, timestamp: "2025-01-01T10:00:02Z" },
      ],
    });
    expect(tile(HLT_TEMP.id).dataset.limit).toBe("high");
    expect(within(tile(HLT_TEMP.id)).getByTestId("limit-tag").textContent).toMatch(/HIGH/);
    expect(within(tile(HLT_TEMP.id)).getByTestId("tile-quality").textContent).toBe("uncertain quality");
    expect(tile(HLT_LEVEL.id).dataset.limit).toBe("low");
    expect(within(tile(HLT_LEVEL.id)).getByTestId("limit-tag").textContent).toMatch(/LOW/);
    // An endpoint the catalog does not know (a level-0 server) is shown under "Other".
    const other = screen.getAllByTestId("area").find((a) => a.getAttribute("aria-label") === "Other")!;
    expect(within(other).getByTestId("tile-value").textContent).toBe("12");
  });
});

describe("link down: stale values, blocked controls", () => {
  test("every value is stale and every control blocked with the reason until the link is back", async () => {
    const { fake } = await renderLoaded(deskSnapshot({ alarms: [alarm({ alarmId: 1 })] }));
    const tiles = screen.getAllByTestId("tile");
    expect(tiles.every((t) => t.dataset.stale === "false")).toBe(true);
    const controls = () => screen.getAllByTestId("controls").flatMap((c) => [...c.querySelectorAll<HTMLButtonElement | HTMLInputElement>("button, input")]);
    expect(controls().length).toBeGreaterThan(5);
    expect(controls().every((c) => !c.disabled)).toBe(true);
    expect(screen.queryByTestId("offline-banner")).toBeNull();

    await fake.emit(LINK_STATE, { state: "reconnecting", attempt: 3, retryAt: "2030-01-01T00:00:00Z", retryInMs: 8000, lastError: "connection reset" });

    expect(screen.getAllByTestId("tile").every((t) => t.dataset.stale === "true")).toBe(true);
    expect(screen.getAllByTestId("stale-tag")).toHaveLength(tiles.length);
    expect(controls().every((c) => c.disabled)).toBe(true);
    const reasons = screen.getAllByTestId("blocked-reason").map((r) => r.textContent);
    expect(reasons.length).toBeGreaterThanOrEqual(screen.getAllByTestId("controls").length);
    expect(new Set(reasons)).toEqual(new Set(["Blocked: reconnecting (attempt 3)"]));
    const heaterOn = within(tile(HLT_HEATER.id)).getByRole("button", { name: /Start/ });
    expect(heaterOn.title).toBe("Blocked: reconnecting (attempt 3)");
    expect(heaterOn.getAttribute("aria-disabled")).toBe("true");
    expect((screen.getByTestId("ack-all") as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByTestId("offline-banner").textContent).toMatch(/every value shown is stale/);

    // Clicking a blocked control sends nothing.
    await userEvent.click(heaterOn);
    expect(fake.callsOf("send_command")).toHaveLength(0);

    await fake.emit(LINK_STATE, { state: "unauthorized", reason: "401" });
    expect(screen.getAllByTestId("blocked-reason")[0]!.textContent).toBe("Blocked: token rejected");

    await fake.emit(LINK_STATE, CONNECTED);
    expect(screen.getAllByTestId("tile").every((t) => t.dataset.stale === "false")).toBe(true);
    expect(controls().every((c) => !c.disabled)).toBe(true);
    expect(screen.queryByTestId("blocked-reason")).toBeNull();
  });

  test("a reading older than the desk's staleAfterMs is stale even while connected", async () => {
    await renderLoaded(deskSnapshot({ ageMs: 6_000, desk: { staleAfterMs: 5_000 } }));
    expect(tile(HLT_TEMP.id).dataset.stale).toBe("true");
    // (The page's clock ticks each second: it may still be a little behind the snapshot.)
    expect(within(tile(HLT_TEMP.id)).getByTestId("tile-age").textContent).toMatch(/^[56] s ago$/);
    cleanup();
    fake!.uninstall();
    await renderLoaded(deskSnapshot({ ageMs: 6_000, desk: { staleAfterMs: 60_000 } }));
    expect(tile(HLT_TEMP.id).dataset.stale).toBe("false");
  });

  test("states sent only on change (heater, setpoint, valve, pump) stay current while connected", async () => {
    await renderLoaded(deskSnapshot({ ageMs: 6_000, desk: { staleAfterMs: 5_000 } }));
    for (const e of [HLT_HEATER, HLT_SETPOINT, FILL_VALVE, TRANSFER_PUMP]) {
      expect(tile(e.id).dataset.stale, e.name).toBe("false");
    }
    expect(tile(HLT_LEVEL.id).dataset.stale).toBe("true");
  });

  test("token rejected: the badge links to the token field in the settings", async () => {
    await renderLoaded(deskSnapshot({ link: { state: "unauthorized", reason: "401 Unauthorized" } }));
    expect(screen.getByTestId("link-badge").textContent).toMatch(/Token rejected: set a new token/);
    expect(document.getElementById("panel-settings")!.hidden).toBe(true);
    await userEvent.click(screen.getByTestId("set-token-link"));
    await settle();
    expect(document.activeElement).toBe(screen.getByTestId("token-input"));
    expect(screen.getByTestId("tab-settings").getAttribute("aria-selected")).toBe("true");
  });
});

describe("commands", () => {
  test("a command's lifecycle is shown in place and in the history panel", async () => {
    const user = userEvent.setup();
    const { fake } = await renderLoaded(deskSnapshot());
    await user.click(within(tile(FILL_VALVE.id)).getByRole("button", { name: /Open/ }));
    await until(() => fake.callsOf("send_command").length === 1, "send_command");
    expect(fake.callsOf("send_command")[0]!.args).toEqual({ draft: { endpointId: FILL_VALVE.id, action: "open" } });

    const chip = () => within(tile(FILL_VALVE.id)).getByTestId("command-phase");
    await until(() => within(tile(FILL_VALVE.id)).queryByTestId("command-phase") !== null, "the phase chip");
    expect(chip().dataset.phase).toBe("queued");

    const sent = command({ commandId: "cmd-1", endpointId: FILL_VALVE.id, action: "open" });
    for (const [i, phase] of (["sent", "acked", "succeeded"] as const).entries()) {
      const view = { ...sent, phase, revision: sent.revision + i };
      await fake.emit(PLANT_COMMAND, { kind: "command", command: view, via: "live" });
      expect(chip().dataset.phase).toBe(phase);
    }
    expect(chip().textContent).toMatch(/Succeeded/);

    // The other way: the plant's interlock refuses.
    await user.click(within(tile(FILL_VALVE.id)).getByRole("button", { name: /Close/ }));
    await until(() => fake.callsOf("send_command").length === 2, "the second send_command");
    await fake.emit(PLANT_COMMAND, {
      kind: "command",
      command: { ...sent, commandId: "cmd-2", action: "close", phase: "rejected", reason: "interlock: HLT heater on" },
      via: "live",
    });
    expect(chip().dataset.phase).toBe("rejected");
    expect(chip().textContent).toMatch(/Rejected: interlock: HLT heater on/);

    // This desktop's commands, newest first, with their results.
    await user.click(screen.getByTestId("tab-commands"));
    const rows = within(screen.getByTestId("command-history")).getAllByTestId("command-row");
    expect(rows.map((r) => r.dataset.phase)).toEqual(["rejected", "succeeded"]);
    expect(rows[0]!.textContent).toMatch(/HLT fill valve/);
    expect(rows[0]!.textContent).toMatch(/close/i);
    expect(rows[0]!.textContent).toMatch(/Rejected: interlock: HLT heater on/);
  });

  test("critical equipment asks for confirmation; Escape cancels, Enter confirms", async () => {
    const user = userEvent.setup();
    const { fake } = await renderLoaded(deskSnapshot());
    const start = within(tile(HLT_HEATER.id)).getByRole("button", { name: /Start/ });

    await user.click(start);
    const dialog = screen.getByRole("alertdialog");
    expect(dialog.textContent).toMatch(/Start HLT heater\?/);
    expect(document.activeElement?.textContent).toBe("Start"); // focus in the dialog, on Confirm
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("alertdialog")).toBeNull();
    expect(fake.callsOf("send_command")).toHaveLength(0);
    expect(document.activeElement).toBe(start); // focus back where it was

    await user.click(start);
    // Focus stays in the dialog: Confirm, Cancel, Confirm again.
    await user.tab();
    expect(document.activeElement?.textContent).toBe("Cancel");
    await user.tab();
    expect(document.activeElement?.textContent).toBe("Start");
    await user.tab({ shift: true });
    expect(document.activeElement?.textContent).toBe("Cancel");
    await user.tab({ shift: true });
    expect(screen.getByRole("alertdialog").contains(document.activeElement)).toBe(true);
    await user.keyboard("{Enter}");
    await until(() => fake.callsOf("send_command").length === 1, "send_command");
    expect(fake.callsOf("send_command")[0]!.args).toEqual({ draft: { endpointId: HLT_HEATER.id, action: "on" } });
    expect(screen.queryByRole("alertdialog")).toBeNull();
    expect(document.activeElement).toBe(start);

    // A transfer pump is critical too; the glycol pump is not.
    await user.click(within(tile(TRANSFER_PUMP.id)).getByRole("button", { name: /Start/ }));
    expect(screen.getByRole("alertdialog")).toBeTruthy();
    await user.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "Cancel" }));
    expect(fake.callsOf("send_command")).toHaveLength(1);
    await user.click(within(tile(GLYCOL_PUMP.id)).getByRole("button", { name: /Stop/ }));
    expect(screen.queryByRole("alertdialog")).toBeNull();
    await until(() => fake.callsOf("send_command").length === 2, "the glycol pump's command");
    expect(fake.callsOf("send_command")[1]!.args).toEqual({ draft: { endpointId: GLYCOL_PUMP.id, action: "off" } });
  });

  test("a refused send_command is shown in place", async () => {
    const user = userEvent.setup();
    const { fake } = await renderLoaded(deskSnapshot());
    fake.on("send_command", () => {
      throw { code: "refused", message: "the plant is read-only for this token" };
    });
    await user.click(within(tile(FILL_VALVE.id)).getByRole("button", { name: /Open/ }));
    await until(() => within(tile(FILL_VALVE.id)).queryByTestId("command-error") !== null, "the error");
    expect(within(tile(FILL_VALVE.id)).getByTestId("command-error").textContent).toBe("Not sent: the plant is read-only for this token");
  });
});

describe("alarms", () => {
  const alarms = [
    alarm({ alarmId: 3, severity: "critical", message: "Glycol too warm", timestamp: "2025-01-01T10:00:03Z", endpointId: 8 }),
    alarm({ alarmId: 2, severity: "high", message: "HLT over temperature", timestamp: "2025-01-01T10:00:02Z" }),
    alarm({ alarmId: 1, severity: "low", message: "HLT level low", timestamp: "2025-01-01T10:00:01Z", acked: true, ackedBy: "op-2", ackedAt: "2025-01-01T10:00:04Z" }),
  ];

  test("the banner counts by severity and shows the newest unacknowledged critical alarm", async () => {
    await renderLoaded(deskSnapshot({ alarms }));
    const counts = Object.fromEntries(screen.getAllByTestId("alarm-count").map((c) => [c.dataset.severity, c.dataset.count]));
    expect(counts).toEqual({ critical: "1", high: "1", medium: "0", low: "1" });
    expect(screen.getAllByTestId("alarm-count").filter((c) => c.classList.contains("nonzero")).map((c) => c.dataset.severity)).toEqual([
      "critical",
      "high",
      "low",
    ]);
    expect(screen.getByTestId("unacked-count").textContent).toBe("2 unacknowledged");
    expect(screen.getByTestId("newest-critical").textContent).toMatch(/Glycol too warm · Glycol pump/);
    // The list: acknowledged by whom.
    const row = screen.getAllByTestId("alarm-row").find((r) => r.dataset.alarm === "1")!;
    expect(within(row).getByTestId("alarm-acked-by").textContent).toBe("op-2");
    expect(row.textContent).toMatch(/acknowledged by op-2 at/);
    expect(within(row).queryByRole("button", { name: /Acknowledge/ })).toBeNull();
  });

  test("Acknowledge sends acknowledge_alarm for that alarm; Acknowledge all sends acknowledge_all", async () => {
    const user = userEvent.setup();
    const { fake } = await renderLoaded(deskSnapshot({ alarms }));
    await user.click(screen.getByRole("button", { name: "Acknowledge high alarm: HLT over temperature" }));
    await until(() => fake.callsOf("acknowledge_alarm").length === 1, "acknowledge_alarm");
    expect(fake.callsOf("acknowledge_alarm")[0]!.args).toEqual({ alarmId: 2, note: null });

    expect(screen.getByTestId("ack-all").textContent).toMatch(/Acknowledge all \(2\)/);
    await user.click(screen.getByTestId("ack-all"));
    // One command: the Rust side picks the unacknowledged alarms that are not shelved.
    await until(() => fake.callsOf("acknowledge_all").length === 1, "acknowledge all");
    expect(fake.callsOf("acknowledge_all")[0]!.args).toEqual({ note: null });

    // The plant confirms: the rows say so, and the button has nothing left to do.
    await fake.emit(PLANT_ALARM, { kind: "alarm", alarm: { ...alarms[0]!, acked: true, ackedBy: "desk-1" }, via: "live" });
    await fake.emit(PLANT_ALARM, { kind: "alarm", alarm: { ...alarms[1]!, acked: true, ackedBy: "desk-1" }, via: "live" });
    expect((screen.getByTestId("ack-all") as HTMLButtonElement).disabled).toBe(true);
    expect(screen.queryByTestId("newest-critical")).toBeNull();
  });

  test("a failed acknowledgement is reported", async () => {
    const user = userEvent.setup();
    const { fake } = await renderLoaded(deskSnapshot({ alarms }));
    fake.on("acknowledge_all", () => ({ acknowledged: 1, refused: "alarm 3: the plant refused" }));
    await user.click(screen.getByTestId("ack-all"));
    await until(() => screen.queryByRole("alert") !== null, "the error");
    expect(screen.getByRole("alert").textContent).toBe("Not all acknowledged (1 done): alarm 3: the plant refused");

    fake.on("acknowledge_alarm", () => {
      throw { code: "not_supported", message: "this server cannot acknowledge alarms" };
    });
    await user.click(screen.getByRole("button", { name: "Acknowledge high alarm: HLT over temperature" }));
    await until(() => screen.queryByRole("alert")?.textContent?.startsWith("Not acknowledged") === true, "the second error");
    expect(screen.getByRole("alert").textContent).toBe("Not acknowledged: this server cannot acknowledge alarms");
  });

  test("new alarms are announced: critical ones assertively, others politely", async () => {
    const { fake } = await renderLoaded(deskSnapshot());
    const assertive = screen.getByTestId("announce-assertive");
    const polite = screen.getByTestId("announce-polite");
    expect(assertive.getAttribute("aria-live")).toBe("assertive");
    expect(polite.getAttribute("aria-live")).toBe("polite");

    await fake.emit(PLANT_ALARM, { kind: "alarm", alarm: alarm({ alarmId: 11, severity: "medium", message: "Mash tun slow" }), via: "live" });
    expect(polite.textContent).toMatch(/New medium alarm on HLT temperature: Mash tun slow/);
    expect(assertive.textContent?.trim()).toBe("");

    await fake.emit(PLANT_ALARM, { kind: "alarm", alarm: alarm({ alarmId: 12, severity: "critical", message: "HLT dry fire" }), via: "live" });
    expect(assertive.textContent).toMatch(/New critical alarm on HLT temperature: HLT dry fire/);

    // An update of a known alarm is not news.
    await fake.emit(PLANT_ALARM, { kind: "alarm", alarm: alarm({ alarmId: 11, severity: "medium", message: "Mash tun slow", acked: true }), via: "live" });
    expect(assertive.textContent).toMatch(/HLT dry fire/);
    expect(polite.textContent?.trim()).toBe("");
  });
});

describe("the alarm sound", () => {
  const alarms = [alarm({ alarmId: 3, severity: "critical", message: "Glycol too warm", endpointId: 8 })];

  test("Silence sits in the alarm banner while the sound repeats; it acknowledges nothing", async () => {
    const user = userEvent.setup();
    fake = new FakeBackend(deskSnapshot({ alarms }));
    render(App);
    await until(() => fake!.callsOf("alarm_sound").length === 1, "alarm_sound");
    expect(screen.queryByTestId("silence-button")).toBeNull();

    await fake.emit(ALARM_SOUND, alarmSoundView({ sounding: true, playing: "critical" }));
    const silence = within(screen.getByTestId("alarm-banner")).getByTestId("silence-button");
    await user.click(silence);
    await until(() => fake!.callsOf("silence_alarms").length === 1, "silence_alarms");
    expect(fake.callsOf("acknowledge_alarm")).toHaveLength(0);
    expect(fake.callsOf("acknowledge_all")).toHaveLength(0);

    await fake.emit(ALARM_SOUND, alarmSoundView({ sounding: false, silenced: 1 }));
    expect(screen.queryByTestId("silence-button")).toBeNull();
    expect(screen.getByTestId("silenced-note").textContent).toBe("Sound silenced: 1 alarm still unacknowledged");
    // Still waiting for an acknowledgement.
    expect(screen.getByTestId("unacked-count").textContent).toBe("1 unacknowledged");
  });

  test("Ctrl+Shift+S silences with the focus in a text field; the other keys work as before", async () => {
    const user = userEvent.setup();
    const { fake } = await renderLoaded(deskSnapshot({ alarms }));
    await fake.emit(ALARM_SOUND, alarmSoundView({ sounding: true, playing: "critical" }));
    await user.click(screen.getByTestId("tab-settings"));
    const field = screen.getByLabelText("Server URL") as HTMLInputElement;
    await user.click(field);
    await user.keyboard("{Control>}{Shift>}S{/Shift}{/Control}");
    await until(() => fake.callsOf("silence_alarms").length === 1, "silence_alarms");
    expect(field.value).toBe("");
    expect(fake.callsOf("acknowledge_alarm")).toHaveLength(0);

    // The tabs' arrows are untouched.
    screen.getByTestId("tab-settings").focus();
    await user.keyboard("{Home}");
    expect(screen.getByTestId("tab-alarms").getAttribute("aria-selected")).toBe("true");
    expect(fake.callsOf("silence_alarms")).toHaveLength(1);
  });

  test("a desk that cannot sound says so in the banner", async () => {
    fake = new FakeBackend(deskSnapshot());
    fake.sound = alarmSoundView({}, { state: "unavailable", reason: "no audio output device" });
    render(App);
    await until(() => screen.queryByTestId("sound-unavailable") !== null, "the notice");
    expect(within(screen.getByTestId("alarm-banner")).getByTestId("sound-unavailable").textContent?.trim()).toBe(
      "Alarm sounds cannot play: no audio output device",
    );
  });
});

describe("keyboard and theme", () => {
  test("the panels are tabs reachable with the keyboard (arrows move between them)", async () => {
    const user = userEvent.setup();
    await renderLoaded(deskSnapshot());
    const alarmsTab = screen.getByTestId("tab-alarms");
    alarmsTab.focus();
    await user.keyboard("{ArrowRight}");
    expect(document.activeElement).toBe(screen.getByTestId("tab-commands"));
    expect(screen.getByTestId("tab-commands").getAttribute("aria-selected")).toBe("true");
    expect(screen.getByTestId("command-history")).toBeTruthy();
    await user.keyboard("{End}");
    expect(screen.getByTestId("tab-settings").getAttribute("aria-selected")).toBe("true");
    expect(screen.getByTestId("settings")).toBeTruthy();
  });

  test("the settings' theme is applied to <html>", async () => {
    await renderLoaded(deskSnapshot({ desk: { settings: { ...deskSnapshot().desk.settings, theme: "dark" } } }));
    expect(document.documentElement.dataset.theme).toBe("dark");
  });
});

describe("the desk's record", () => {
  test("a record that is not recording is told in a banner, kept current; its settings are in Settings", async () => {
    fake = new FakeBackend(deskSnapshot());
    fake.record = recordView({ health: "paused", reason: "the disk is full" });
    render(App);
    await until(() => screen.queryByTestId("record-notice") !== null, "the record notice");
    expect(screen.getByTestId("record-notice").textContent).toBe(
      "Not recording: the disk is full. The live view carries on; recording resumes by itself.",
    );
    await fake.emit(RECORD_STATUS, recordView());
    expect(screen.queryByTestId("record-notice")).toBeNull();
    expect(within(screen.getByTestId("record-settings")).getByTestId("record-size").textContent).toBe("12.5 MiB");
  });

  test("the sparklines are seeded from the record's last hour of every endpoint", async () => {
    const { fake } = await renderLoaded(deskSnapshot());
    await until(() => fake.callsOf("trend").length === 1, "the seeding");
    const query = fake.callsOf("trend")[0]!.args.query as { endpointIds: EndpointId[]; maxPoints: number };
    expect(query.endpointIds).toHaveLength(8);
    expect(query.maxPoints).toBe(3600);
  });
});
