// What the operator types, checked before it goes to the Rust side, with messages that say
// what to do. The Rust side checks again (`save_settings` answers `invalid_input` with a
// message that starts with the field's name); these rules follow it (ServerUrl::parse,
// Settings::site_ca) so the form rarely has to show its error instead.

import type { Limits } from "./generated/protocol";
import type { Settings } from "./generated/station";

export type SettingsField = "serverUrl" | "siteCaFile";
export type FieldErrors = Partial<Record<SettingsField, string>>;

const LOOPBACK_NAMES = new Set(["localhost", "[::1]"]);

function isLoopback(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (LOOPBACK_NAMES.has(host)) return true;
  // 127.0.0.0/8
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** The server URL: empty (the demo plant), or wss://host[:port][/path], or ws:// to this
 * computer only. No credentials, no query, no fragment. Null when valid. */
export function validateServerUrl(text: string): string | null {
  const url = text.trim();
  if (url === "") return null;
  if (/\s/.test(url)) return "The server URL cannot contain spaces.";
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) return "Start the server URL with wss:// (for example wss://plant.example/ws).";
  if (scheme === "http" || scheme === "https") return "Use wss:// (or ws:// for this computer), not http:// or https://.";
  if (scheme !== "ws" && scheme !== "wss") return "The server URL must start with wss:// (or ws:// for this computer).";
  if (!url.slice(scheme.length + 1).startsWith("//")) return `Write ${scheme}://host, with two slashes.`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "This is not a valid URL: write wss://host[:port][/path].";
  }
  if (parsed.hostname === "") return "The server URL has no host.";
  if (parsed.username !== "" || parsed.password !== "" || /^[a-z]+:\/\/[^/]*@/i.test(url)) {
    return "Credentials in the URL are refused: set the token in the token field instead.";
  }
  if (parsed.search !== "" || url.includes("?")) return "A query string (?…) is refused: the token never goes in the URL.";
  if (parsed.hash !== "" || url.includes("#")) return "A fragment (#…) is not allowed in the server URL.";
  if (scheme === "ws" && !isLoopback(parsed.hostname)) {
    return "ws:// is unencrypted and allowed only to this computer (localhost, 127.0.0.1, [::1]): use wss://.";
  }
  return null;
}

/** An absolute path: /… on Linux and macOS, C:\… or \\server\… on Windows. */
export function isAbsolutePath(path: string): boolean {
  return path.startsWith("/") || /^[A-Za-z]:[\\/]/.test(path) || path.startsWith("\\\\");
}

/** The site CA file: empty, or a full path. Null when valid. */
export function validateCaFile(text: string): string | null {
  const path = text.trim();
  if (path === "") return null;
  if (!isAbsolutePath(path)) return "Give the full path of the CA file (for example /etc/ssl/site-ca.pem).";
  return null;
}

/** Every field's error; empty when the settings may be saved. */
export function validateSettings(settings: Pick<Settings, "serverUrl" | "siteCaFile">): FieldErrors {
  const errors: FieldErrors = {};
  const url = validateServerUrl(settings.serverUrl ?? "");
  if (url) errors.serverUrl = url;
  const ca = validateCaFile(settings.siteCaFile ?? "");
  if (ca) errors.siteCaFile = ca;
  return errors;
}

/** A Rust `invalid_input` message ("serverUrl: …") as the field it names, if it names one. */
export function fieldOfMessage(message: string): { field: SettingsField; text: string } | null {
  const m = /^(serverUrl|siteCaFile):\s*(.*)$/s.exec(message);
  if (!m) return null;
  return { field: m[1] as SettingsField, text: m[2] ?? "" };
}

export type SetpointCheck = { ok: true; value: number } | { ok: false; error: string };

function range(limits: Limits | undefined, unit: string | undefined): string {
  const u = unit ? ` ${unit}` : "";
  if (limits?.min !== undefined && limits.max !== undefined) return ` between ${limits.min} and ${limits.max}${u}`;
  if (limits?.min !== undefined) return ` of at least ${limits.min}${u}`;
  if (limits?.max !== undefined) return ` of at most ${limits.max}${u}`;
  return "";
}

/** A setpoint as typed, checked against the endpoint's `min`/`max`. */
export function validateSetpoint(text: string, limits: Limits | undefined, unit?: string): SetpointCheck {
  const trimmed = text.trim();
  if (trimmed === "") return { ok: false, error: `Enter a value${range(limits, unit)}.` };
  const value = Number(trimmed);
  if (!Number.isFinite(value)) return { ok: false, error: `"${trimmed}" is not a number.` };
  if (limits?.min !== undefined && value < limits.min) {
    return { ok: false, error: `${value} is below the minimum of ${limits.min}${unit ? ` ${unit}` : ""}.` };
  }
  if (limits?.max !== undefined && value > limits.max) {
    return { ok: false, error: `${value} is above the maximum of ${limits.max}${unit ? ` ${unit}` : ""}.` };
  }
  return { ok: true, value };
}

export type RetentionField = "minuteDays" | "sizeCapMib";

/** The record's retention, as `set_retention` checks it. Empty when valid. */
export function validateRetention(minuteDays: number | null, sizeCapMib: number | null): Partial<Record<RetentionField, string>> {
  const errors: Partial<Record<RetentionField, string>> = {};
  if (minuteDays === null || !Number.isInteger(minuteDays) || minuteDays < 1 || minuteDays > 3650) {
    errors.minuteDays = "Keep per-minute history for a whole number of days, 1 to 3650.";
  }
  if (sizeCapMib === null || !Number.isInteger(sizeCapMib) || sizeCapMib < 16 || sizeCapMib > 1_048_576) {
    errors.sizeCapMib = "Cap the record at a whole number of MiB, 16 to 1048576.";
  }
  return errors;
}
