// The rules behind acknowledging and shelving, on their own: the limits as the Rust side
// counts them, the durations offered, the time left, who may unshelve, and which alarms
// demand attention.

import { describe, expect, test } from "vitest";
import { failureText, unshelvePermission, whyNot } from "./permission";
import { BackendError } from "./backend";
import { ackNote, formatMinutes, shelveChoices, timeLeftText, validateAckNote, validateShelveReason } from "./shelving";
import { demandsAttention } from "./state/plant.svelte";
import { alarm, deskOperator, operator, shelving, supervisor, viewer } from "./testing/fixtures";

describe("limits, counted in characters as the Rust side counts them", () => {
  test("an acknowledgement note: optional, at most 500", () => {
    expect(validateAckNote("")).toBeNull();
    expect(validateAckNote("é".repeat(500))).toBeNull();
    // 500 characters, 1000 UTF-16 units: fine.
    expect(validateAckNote("🍺".repeat(500))).toBeNull();
    expect(validateAckNote("x".repeat(501))).toBe("The note is 501 characters: at most 500.");
    expect(ackNote("   ")).toBeNull();
    expect(ackNote(" checked ")).toBe("checked");
  });

  test("a shelving reason: required, at most 200", () => {
    expect(validateShelveReason("")).toBe("Give a reason for shelving.");
    expect(validateShelveReason("  ")).toBe("Give a reason for shelving.");
    expect(validateShelveReason("r")).toBeNull();
    expect(validateShelveReason("r".repeat(200))).toBeNull();
    expect(validateShelveReason("r".repeat(201))).toBe("The reason is 201 characters: at most 200.");
  });
});

describe("durations", () => {
  test("only those within the role's limit", () => {
    expect(shelveChoices(0)).toEqual([]);
    expect(shelveChoices(60)).toEqual([15, 30, 60]);
    expect(shelveChoices(100)).toEqual([15, 30, 60]);
    expect(shelveChoices(480)).toEqual([15, 30, 60, 120, 240, 480]);
    expect([15, 60, 90, 480].map(formatMinutes)).toEqual(["15 min", "1 h", "1 h 30 min", "8 h"]);
  });

  test("the time left, in whole minutes rounded up", () => {
    const until = "2025-01-01T10:30:00Z";
    const at = (iso: string) => Date.parse(iso);
    expect(timeLeftText(until, at("2025-01-01T10:05:00Z"))).toBe("25 min left");
    expect(timeLeftText(until, at("2025-01-01T10:05:01Z"))).toBe("25 min left");
    expect(timeLeftText(until, at("2025-01-01T08:00:00Z"))).toBe("2 h 30 min left");
    expect(timeLeftText(until, at("2025-01-01T10:30:00Z"))).toBe("due back now");
  });
});

describe("who may unshelve", () => {
  const anas = shelving("ana", "probe fouled", 30);
  const bobs = shelving("bob", "known slow sparge", 30);

  test("one's own with shelve; another's only with unshelveOthers", () => {
    expect(unshelvePermission(operator("ana"), anas)).toEqual({ kind: "allowed" });
    expect(unshelvePermission(operator("ana"), bobs).kind).toBe("denied");
    expect(unshelvePermission(supervisor("sam"), bobs)).toEqual({ kind: "allowed" });
    expect(unshelvePermission(viewer("ana"), anas).kind).toBe("denied");
  });

  test("a desk whose server names no one has no shelving of its own: unshelveOthers decides", () => {
    const unnamed = deskOperator({ name: null, unshelveOthers: { kind: "denied", reason: "no" } });
    expect(unshelvePermission(unnamed, anas)).toEqual({ kind: "denied", reason: "no" });
  });

  test("the role's refusal before the link's", () => {
    expect(whyNot({ kind: "denied", reason: "viewer" }, "Blocked: offline")).toBe("Not allowed: viewer");
    expect(whyNot({ kind: "allowed" }, "Blocked: offline")).toBe("Blocked: offline");
    expect(whyNot({ kind: "allowed" }, null)).toBeNull();
  });

  test("a forbidden failure is said plainly", () => {
    expect(failureText("Not shelved", new BackendError("forbidden", "viewer", "shelve_alarm"))).toBe("Not allowed: viewer");
    expect(failureText("Not shelved", new BackendError("refused", "unknown alarm", "shelve_alarm"))).toBe("Not shelved: unknown alarm");
  });
});

test("shelved alarms do not demand attention", () => {
  expect(demandsAttention(alarm({ alarmId: 1 }))).toBe(true);
  expect(demandsAttention(alarm({ alarmId: 1, acked: true }))).toBe(true);
  expect(demandsAttention(alarm({ alarmId: 1, shelved: shelving("ana", "why", 15) }))).toBe(false);
});
