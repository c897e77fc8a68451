// An endpoint's controls on their own: every phase of a command shown in place, setpoint
// entry checked against the limits and sent with Enter, and blocking.

import { cleanup, render, screen } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, test } from "vitest";
import * as backend from "../backend";
import type { CommandView } from "../generated/link";
import { FakeBackend, until } from "../testing/fake-backend";
import { FILL_VALVE, HLT_SETPOINT, command, deskSnapshot } from "../testing/fixtures";
import EndpointControls from "./EndpointControls.svelte";

let fake: FakeBackend | undefined;

afterEach(() => {
  cleanup();
  fake?.uninstall();
  fake = undefined;
});

describe("a command's lifecycle, in place", () => {
  const base = command({ commandId: "c-9", endpointId: FILL_VALVE.id, action: "open" });
  const cases: Array<[string, Partial<CommandView>, RegExp]> = [
    ["queued", { phase: "queued" }, /open:\s*Queued/],
    ["sent", { phase: "sent" }, /Sent, waiting for the plant/],
    ["acked", { phase: "acked" }, /Accepted by the plant/],
    ["succeeded", { phase: "succeeded", completedAt: "2025-01-01T10:00:07Z" }, /Succeeded/],
    ["failed", { phase: "failed", reason: "valve stuck" }, /Failed: valve stuck/],
    ["rejected", { phase: "rejected", reason: "interlock: HLT level low" }, /Rejected: interlock: HLT level low/],
    ["expired", { phase: "failed", reason: "expired" }, /Expired: not carried out before its deadline/],
    ["unknown", { phase: "unknown" }, /Unknown: the link dropped before the plant answered; check the equipment/],
  ];

  test.each(cases)("%s", async (_name, patch, text) => {
    const view = render(EndpointControls, {
      props: { endpoint: FILL_VALVE, latest: undefined, blocked: null, onSend: async () => base },
    });
    expect(screen.queryByTestId("command-phase")).toBeNull();
    await view.rerender({ latest: { ...base, ...patch } });
    const chip = screen.getByTestId("command-phase");
    expect(chip.textContent).toMatch(text);
    expect(chip.dataset.phase).toBe(patch.phase);
    // Only what went wrong stands out.
    const bad = ["failed", "rejected", "unknown"].includes(patch.phase!);
    expect(chip.classList.contains("bad")).toBe(bad);
    expect(chip.dataset.expired).toBe(String(patch.reason === "expired"));
  });

  test("the chip follows the same command through its phases without being replaced", async () => {
    const view = render(EndpointControls, {
      props: { endpoint: FILL_VALVE, latest: { ...base, phase: "queued" }, blocked: null, onSend: async () => base },
    });
    const chip = screen.getByTestId("command-phase");
    await view.rerender({ latest: { ...base, phase: "sent" } });
    await view.rerender({ latest: { ...base, phase: "rejected", reason: "interlock: pump running" } });
    expect(screen.getByTestId("command-phase")).toBe(chip);
    expect(chip.textContent).toMatch(/Rejected: interlock: pump running/);
  });
});

describe("setpoint entry", () => {
  function renderSetpoint() {
    fake = new FakeBackend(deskSnapshot());
    render(EndpointControls, {
      props: { endpoint: HLT_SETPOINT, latest: undefined, blocked: null, onSend: (d) => backend.sendCommand(d) },
    });
    return screen.getByLabelText("New value for HLT setpoint") as HTMLInputElement;
  }

  test("the input carries the endpoint's limits", () => {
    const input = renderSetpoint();
    expect(input.type).toBe("number");
    expect(input.min).toBe("40");
    expect(input.max).toBe("212");
  });

  test.each([
    ["", /Enter a value between 40 and 212 °F/],
    ["39.5", /39.5 is below the minimum of 40 °F/],
    ["250", /250 is above the maximum of 212 °F/],
  ])("%j is refused before sending", async (typed, message) => {
    const user = userEvent.setup();
    const input = renderSetpoint();
    input.focus();
    if (typed) await user.type(input, typed);
    await user.keyboard("{Enter}");
    expect(screen.getByTestId("setpoint-error").textContent).toMatch(message);
    expect(input.getAttribute("aria-invalid")).toBe("true");
    expect(fake!.callsOf("send_command")).toHaveLength(0);
  });

  test("Enter sends a set with the value, then clears the field", async () => {
    const user = userEvent.setup();
    const input = renderSetpoint();
    await user.type(input, "168.5{Enter}");
    await until(() => fake!.callsOf("send_command").length === 1, "send_command");
    expect(fake!.callsOf("send_command")[0]!.args).toEqual({ draft: { endpointId: HLT_SETPOINT.id, action: "set", value: 168.5 } });
    await until(() => input.value === "", "the field to clear");
    expect(screen.queryByTestId("setpoint-error")).toBeNull();
  });

  test("blocked: nothing can be typed or sent, and the reason is shown", async () => {
    fake = new FakeBackend(deskSnapshot());
    render(EndpointControls, {
      props: { endpoint: HLT_SETPOINT, latest: undefined, blocked: "Blocked: offline", onSend: (d) => backend.sendCommand(d) },
    });
    const input = screen.getByLabelText("New value for HLT setpoint") as HTMLInputElement;
    expect(input.disabled).toBe(true);
    expect((screen.getByRole("button", { name: /Set/ }) as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByTestId("blocked-reason").textContent).toBe("Blocked: offline");
    expect(input.getAttribute("aria-describedby")).toContain(screen.getByTestId("blocked-reason").id);
  });
});

describe("the role", () => {
  test("a viewer's buttons are disabled, with the reason beside them; nothing is sent", async () => {
    const sent: unknown[] = [];
    render(EndpointControls, {
      props: {
        endpoint: FILL_VALVE,
        latest: undefined,
        blocked: "Blocked: offline",
        command: { kind: "denied", reason: "your role (viewer) may not send commands: ask an operator or a supervisor" },
        onSend: async (d) => {
          sent.push(d);
          return command({ endpointId: FILL_VALVE.id });
        },
      },
    });
    const open = screen.getByRole("button", { name: /Open/ }) as HTMLButtonElement;
    const reason = screen.getByTestId("command-denied-reason");
    expect(reason.textContent).toBe("Not allowed: your role (viewer) may not send commands: ask an operator or a supervisor");
    expect(open.disabled).toBe(true);
    expect(open.getAttribute("aria-describedby")).toBe(reason.id);
    expect(open.title).toBe(reason.textContent);
    // The role's reason, not the link's on top of it.
    expect(screen.queryByTestId("blocked-reason")).toBeNull();
    await userEvent.click(open);
    expect(sent).toHaveLength(0);
  });
});
