// How values, times and states are written for the operator. Pure functions, no state.

import type { CommandView, LinkState, ProtocolLevel } from "./generated/link";
import type { Action, Endpoint, EndpointKind, Limits, Timestamp, Value } from "./generated/protocol";

const ON_OFF_KINDS: ReadonlySet<EndpointKind> = new Set(["pump", "heater", "switch"]);

/** A value as a tile shows it, without its unit. */
export function formatValue(value: Value | undefined, kind: EndpointKind | undefined): string {
  if (value === undefined) return "—";
  if (typeof value === "boolean") {
    if (kind === "valve") return value ? "OPEN" : "CLOSED";
    if (kind && ON_OFF_KINDS.has(kind)) return value ? "ON" : "OFF";
    return value ? "ON" : "OFF";
  }
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return String(value);
    return Number.isInteger(value) ? String(value) : value.toFixed(1);
  }
  return value;
}

/** "high" or "low" when a number is past its endpoint's alarm thresholds (`high`/`low`) or
 * outside its range (`max`/`min`). */
export function outOfLimits(value: Value | undefined, limits: Limits | undefined): "high" | "low" | null {
  if (typeof value !== "number" || !limits) return null;
  if (limits.high !== undefined && value > limits.high) return "high";
  if (limits.max !== undefined && value > limits.max) return "high";
  if (limits.low !== undefined && value < limits.low) return "low";
  if (limits.min !== undefined && value < limits.min) return "low";
  return null;
}

/** An action as its button says it. */
export function actionLabel(action: Action, kind?: EndpointKind): string {
  switch (action) {
    case "on":
      return kind === "pump" || kind === "heater" ? "Start" : "On";
    case "off":
      return kind === "pump" || kind === "heater" ? "Stop" : "Off";
    case "open":
      return "Open";
    case "close":
      return "Close";
    case "set":
      return "Set";
  }
}

/** What a command asked, in words: "on", "set 152 °F". */
export function commandSummary(action: Action, value: Value | null | undefined, unit?: string): string {
  if (action === "set") {
    const v = value === null || value === undefined ? "" : ` ${formatValue(value, undefined)}${unit ? ` ${unit}` : ""}`;
    return `set${v}`;
  }
  return action;
}

/** A command's phase in words, with its reason: what the chip beside a control says. */
export function phaseText(command: Pick<CommandView, "phase" | "reason">): string {
  const { phase, reason } = command;
  if (reason === "expired" && (phase === "failed" || phase === "rejected" || phase === "unknown")) {
    return "Expired: not carried out before its deadline";
  }
  switch (phase) {
    case "queued":
      return "Queued";
    case "sent":
      return "Sent, waiting for the plant";
    case "acked":
      return "Accepted by the plant";
    case "succeeded":
      return "Succeeded";
    case "failed":
      return reason ? `Failed: ${reason}` : "Failed";
    case "rejected":
      return reason ? `Rejected: ${reason}` : "Rejected";
    case "unknown":
      return "Unknown: the link dropped before the plant answered; check the equipment";
  }
}

/** Whether a command is expired (a failure whose reason is "expired"). */
export function isExpired(command: Pick<CommandView, "phase" | "reason">): boolean {
  return command.reason === "expired";
}

/** Why the plant's controls are blocked while the link is not connected; null when connected. */
export function blockedReason(link: LinkState): string | null {
  switch (link.state) {
    case "connected":
      return null;
    case "connecting":
      return `Blocked: connecting (attempt ${link.attempt})`;
    case "reconnecting":
      return `Blocked: reconnecting (attempt ${link.attempt})`;
    case "unauthorized":
      return "Blocked: token rejected";
    case "failed":
      return `Blocked: link failed (${link.reason})`;
    case "idle":
    case "stopped":
      return "Blocked: offline";
  }
}

/** "4 s", "3 min", "2 h": how long ago. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h`;
  return `${Math.floor(h / 24)} d`;
}

/** A plant timestamp as a local time (with the date when it is not today). */
export function formatTime(ts: Timestamp, now: number = Date.now()): string {
  const t = Date.parse(ts);
  if (Number.isNaN(t)) return ts;
  const d = new Date(t);
  const time = d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  return new Date(now).toDateString() === d.toDateString() ? time : `${d.toLocaleDateString()} ${time}`;
}

export function formatLevel(level: ProtocolLevel): string {
  return level === "level1" ? "level 1" : "level 0";
}

/** An endpoint's name, or its id when the catalog does not know it (a level-0 server). */
export function endpointName(endpoint: Endpoint | undefined, id: Endpoint["id"]): string {
  return endpoint?.name ?? String(id);
}
