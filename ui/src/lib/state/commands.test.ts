// A command's view never goes back, whatever order the reply to send_command and the
// command's events arrive in: the link numbers each change (revision), the newer wins.

import { afterEach, describe, expect, test } from "vitest";
import { PLANT_COMMAND } from "../generated/station/events";
import { FakeBackend, settle } from "../testing/fake-backend";
import { TRANSFER_PUMP, command, deskSnapshot } from "../testing/fixtures";
import type { CommandPhase } from "../generated/link";
import { PlantView } from "./plant.svelte";

let fake: FakeBackend | undefined;
let plant: PlantView | undefined;

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
    const rejected = {
      ...queued,
      phase: "rejected" as const,
      reason: "interlock: valve closed",
      revision: queued.revision + 1,
    };
    fake.on("send_command", async () => {
      // The plant refuses at once: the event overtakes the reply.
      await fake!.emit(PLANT_COMMAND, { kind: "command", command: rejected, via: "live" });
      return queued;
    });
    plant = new PlantView();
    await plant.start();
    await plant.sendCommand({ endpointId: TRANSFER_PUMP.id, action: "on" });
    await settle();
    const shown = plant.latestCommand(TRANSFER_PUMP.id);
    expect(shown?.phase).toBe("rejected");
    expect(shown?.reason).toBe("interlock: valve closed");
  });

  test("the newer revision wins, whatever the order views arrive in", async () => {
    fake = new FakeBackend(deskSnapshot());
    plant = new PlantView();
    await plant.start();
    const id = "c-rev";
    const view = (phase: CommandPhase, revision: number) =>
      command({ commandId: id, endpointId: TRANSFER_PUMP.id, phase, revision });
    await fake.emit(PLANT_COMMAND, { kind: "command", command: view("succeeded", 3), via: "live" });
    await fake.emit(PLANT_COMMAND, { kind: "command", command: view("sent", 2), via: "live" });
    await settle();
    expect(plant.latestCommand(TRANSFER_PUMP.id)?.phase).toBe("succeeded");
    // "unknown" then an outcome: the link said it later, so it shows.
    await fake.emit(PLANT_COMMAND, { kind: "command", command: view("unknown", 4), via: "local" });
    await fake.emit(PLANT_COMMAND, { kind: "command", command: view("failed", 5), via: "live" });
    await settle();
    expect(plant.latestCommand(TRANSFER_PUMP.id)?.phase).toBe("failed");
  });
});
