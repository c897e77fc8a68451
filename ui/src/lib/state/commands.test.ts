// A command's view never goes back to an earlier phase, whatever order the reply to
// send_command and the command's events arrive in.

import { afterEach, describe, expect, test } from "vitest";
import { PLANT_COMMAND } from "../generated/station/events";
import { FakeBackend, settle } from "../testing/fake-backend";
import { TRANSFER_PUMP, command, deskSnapshot } from "../testing/fixtures";
import { PlantState, supersedes } from "./plant.svelte";

let fake: FakeBackend | undefined;
let plant: PlantState | undefined;

afterEach(() => {
  plant?.stop();
  plant = undefined;
  fake?.uninstall();
  fake = undefined;
});

describe("command phases", () => {
  test("a rejection that arrives before send_command's reply stays rejected", async () => {
    fake = new FakeBackend(deskSnapshot());
    const queued = command({ commandId: "c-race", endpointId: TRANSFER_PUMP.id, phase: "queued" });
    const rejected = { ...queued, phase: "rejected" as const, reason: "interlock: valve closed" };
    fake.on("send_command", async () => {
      // The plant refuses at once: the event overtakes the reply.
      await fake!.emit(PLANT_COMMAND, { kind: "command", command: rejected, via: "live" });
      return queued;
    });
    plant = new PlantState();
    await plant.start();
    await plant.sendCommand({ endpointId: TRANSFER_PUMP.id, action: "on" });
    await settle();
    const shown = plant.latestCommand(TRANSFER_PUMP.id);
    expect(shown?.phase).toBe("rejected");
    expect(shown?.reason).toBe("interlock: valve closed");
  });

  test("phases only move forward; an ended command stays ended; unknown can still end", () => {
    expect(supersedes("queued", "sent")).toBe(true);
    expect(supersedes("acked", "queued")).toBe(false);
    expect(supersedes("rejected", "queued")).toBe(false);
    expect(supersedes("succeeded", "failed")).toBe(false);
    expect(supersedes("unknown", "succeeded")).toBe(true);
    expect(supersedes("sent", "sent")).toBe(true);
  });
});
