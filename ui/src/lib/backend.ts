// The one door to the Rust side: every command the webview may invoke and every event it may
// listen to, typed with the bindings generated from Rust. Nothing else imports @tauri-apps/api.

import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { CommandName, Commands } from "./generated/app/commands";
import type { CommandDraft, LinkEvent, LinkState } from "./generated/link";
import type { AlarmId, EndpointId } from "./generated/protocol";
import type {
  AlarmSoundView,
  DeskStatus,
  Failure,
  FailureCode,
  JournalFilter,
  ReadingBatch,
  RecordView,
  Retention,
  Settings,
  TrendQuery,
} from "./generated/station";
import {
  ALARM_SOUND,
  DESK_RESYNC,
  DESK_STATUS,
  FAILURE_CODES,
  LINK_STATE,
  PLANT_ALARM,
  PLANT_COMMAND,
  PLANT_NOTE,
  PLANT_NOTICE,
  PLANT_READINGS,
  RECORD_FILLED,
  RECORD_STATUS,
} from "./generated/station/events";

/** A command refused by the Rust side: its `Failure`, as an Error the UI can branch on. */
export class BackendError extends Error {
  override readonly name = "BackendError";
  readonly code: FailureCode;
  /** The command that failed, for the log. */
  readonly command: string;

  constructor(code: FailureCode, message: string, command: string) {
    super(message);
    this.code = code;
    this.command = command;
  }

  /** A command's rejection, whatever its shape (a `Failure`, or a bare string from Tauri
   * itself, such as a command the capability does not allow). */
  static from(command: string, e: unknown): BackendError {
    if (e instanceof BackendError) return e;
    if (isFailure(e)) return new BackendError(e.code, e.message, command);
    const message = e instanceof Error ? e.message : typeof e === "string" ? e : JSON.stringify(e);
    return new BackendError("internal", message, command);
  }
}

function isFailure(e: unknown): e is Failure {
  if (typeof e !== "object" || e === null) return false;
  const { code, message } = e as Record<string, unknown>;
  return typeof message === "string" && (FAILURE_CODES as readonly string[]).includes(code as string);
}

/** What `call` takes after the name: the command's arguments, if it has any. */
type ArgsOf<C extends CommandName> = Commands[C]["args"] extends undefined ? [] : [args: Commands[C]["args"]];

/** Invokes `command` with the arguments and result the command table gives it (generated from
 * src-tauri/src/command_table.rs): a renamed command or argument does not type-check. */
async function call<C extends CommandName>(command: C, ...args: ArgsOf<C>): Promise<Commands[C]["returns"]> {
  try {
    return await invoke<Commands[C]["returns"]>(command, args[0]);
  } catch (e) {
    throw BackendError.from(command, e);
  }
}

// ---- Commands (what each does: generated/app/commands.ts) ----

export const snapshot = () => call("snapshot");
export const connect = () => call("connect");
export const disconnect = () => call("disconnect");
export const retryNow = () => call("retry_now");
/** `remember: false` keeps the token for this session only (no keychain). Rejects with
 * `keychain_unavailable` when the keychain is locked or missing. */
export const setToken = (token: string, remember: boolean) => call("set_token", { token, remember });
export const forgetToken = () => call("forget_token");
/** Rejects with `invalid_input` and a message naming the field. */
export const saveSettings = (settings: Settings) => call("save_settings", { settings });
export const sendCommand = (draft: CommandDraft) => call("send_command", { draft });
/** With a note when the plant keeps them; rejects with `forbidden` for a viewer. */
export const acknowledgeAlarm = (alarmId: AlarmId, note: string | null = null) => call("acknowledge_alarm", { alarmId, note });
/** Every unacknowledged alarm not shelved, with one note. */
export const acknowledgeAll = (note: string | null = null) => call("acknowledge_all", { note });
/** Within the role's limit (`DeskOperator.shelveLimitMinutes`), reason 1 to 200 characters. */
export const shelveAlarm = (alarmId: AlarmId, minutes: number, reason: string) => call("shelve_alarm", { alarmId, minutes, reason });
export const unshelveAlarm = (alarmId: AlarmId) => call("unshelve_alarm", { alarmId });
/** A note for the shift's log (1 to 2000 characters), about these endpoints (≤ 20). */
export const writeNote = (text: string, endpointIds: EndpointId[] = []) => call("write_note", { text, endpointIds });
/** A page of the journal, newest first: the plant's when it keeps one, else this desk's own. */
export const journal = (filter: JournalFilter) => call("journal", { filter });
/** Rust opens a native save dialog and writes the matching entries as CSV. */
export const exportJournalCsv = (filter: JournalFilter) => call("export_journal_csv", { filter });
/** ISA-18.2's alarm figures over the last 24 hours. */
export const alarmHealth = () => call("alarm_health");
/** Stops the alarm sound; acknowledges nothing (ISA-18.2 keeps them apart). */
export const silenceAlarms = () => call("silence_alarms");
/** Whether an alarm sounds now and whether the desk can sound at all (null: no sound here). */
export const alarmSound = () => call("alarm_sound");
export const subscribe = (endpoints: EndpointId[]) => call("subscribe", { endpoints });
export const unsubscribe = (endpoints: EndpointId[]) => call("unsubscribe", { endpoints });
export const openLogFolder = () => call("open_log_folder");
/** Asks the release channel for a newer, signed version. */
export const checkForUpdates = () => call("check_for_updates");
/** Installs the update the last check found, then the app restarts. */
export const installUpdate = () => call("install_update");
/** Readings from the desk's record (≤ 50 endpoints, maxPoints ≤ 5000). `filling`: parts are
 * being asked of the plant; RECORD_FILLED follows, then ask again. */
export const trend = (query: TrendQuery) => call("trend", { query });
export const recordStatus = () => call("record_status");
/** Rejects with `invalid_input` naming the field. */
export const setRetention = (retention: Retention) => call("set_retention", { retention });
/** Rust opens a native save dialog; the webview never names a path. `saved: false`: cancelled. */
export const exportTrendCsv = (query: TrendQuery) => call("export_trend_csv", { query });
/** The chart as PNG, base64 without the `data:` prefix; saved through a native dialog. */
export const exportTrendPng = (pngBase64: string) => call("export_trend_png", { pngBase64 });

// ---- Events ----

/** Each event's payload, by name. */
export interface BackendEvents {
  [LINK_STATE]: LinkState;
  [PLANT_ALARM]: Extract<LinkEvent, { kind: "alarm" }>;
  [PLANT_COMMAND]: Extract<LinkEvent, { kind: "command" }>;
  [PLANT_NOTE]: Extract<LinkEvent, { kind: "note" }>;
  [PLANT_NOTICE]: Extract<LinkEvent, { kind: "synced" | "events_may_be_missing" | "server_error" }>;
  [PLANT_READINGS]: ReadingBatch;
  [DESK_STATUS]: DeskStatus;
  [DESK_RESYNC]: null;
  [RECORD_STATUS]: RecordView;
  [RECORD_FILLED]: null;
  [ALARM_SOUND]: AlarmSoundView;
}

export type BackendEvent = keyof BackendEvents;
export type Unlisten = UnlistenFn;

/** Calls `handler` with each payload of `event` until the returned function is called. */
export function on<E extends BackendEvent>(event: E, handler: (payload: BackendEvents[E]) => void): Promise<Unlisten> {
  return listen<BackendEvents[E]>(event, (e) => handler(e.payload));
}

export {
  ALARM_SOUND,
  DESK_RESYNC,
  DESK_STATUS,
  LINK_STATE,
  PLANT_ALARM,
  PLANT_COMMAND,
  PLANT_NOTE,
  PLANT_NOTICE,
  PLANT_READINGS,
  RECORD_FILLED,
  RECORD_STATUS,
};
