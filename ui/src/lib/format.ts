// How values, times and states are written for the operator. Pure functions, no state.

import type { ProtocolLevel } from "./generated/link";
import type { Endpoint, EndpointKind, Limits, Timestamp, Value } from "./generated/protocol";

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

/** "high" or "low" when a number is past its endpoint's alarm thresholds. */
export function outOfLimits(value: Value | undefined, limits: Limits | undefined): "high" | "low" | null {
  if (typeof value !== "number" || !limits) return null;
  if (limits.high !== undefined && value > limits.high) return "high";
  if (limits.low !== undefined && value < limits.low) return "low";
  return null;
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
