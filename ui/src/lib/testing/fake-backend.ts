// The Rust side, faked through Tauri's own IPC mocks: every `invoke` the UI makes lands in
// `calls` and is answered by a handler (the defaults answer like the app does), and events are
// emitted through the mocked event system, so the UI runs exactly its real code path
// (backend.ts → @tauri-apps/api → window.__TAURI_INTERNALS__).

import { tick } from "svelte";
import { emit } from "@tauri-apps/api/event";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import type { BackendEvent, BackendEvents } from "../backend";
import type { CommandName } from "../generated/app/commands";
import type { CommandDraft, CommandView } from "../generated/link";
import type {
  AckAllOutcome,
  AlarmSoundView,
  DeskSnapshot,
  DeskStatus,
  ExportOutcome,
  Failure,
  RecordView,
  Retention,
  Settings,
  TrendQuery,
} from "../generated/station";
import { emptyTrend, recordView } from "./fixtures";

export interface Call {
  cmd: string;
  args: Record<string, unknown>;
}

export type Handler = (args: Record<string, unknown>) => unknown;

export class FakeBackend {
  readonly calls: Call[] = [];
  snapshot: DeskSnapshot;
  /** What record_status answers (set_retention changes its retention). */
  record: RecordView = recordView();
  /** What alarm_sound answers: null, as a desk that plays no sound (tests). */
  sound: AlarmSoundView | null = null;
  #handlers = new Map<string, Handler>();
  #commands = 0;

  constructor(snapshot: DeskSnapshot) {
    this.snapshot = snapshot;
    mockIPC((cmd, args) => this.#invoke(cmd, (args ?? {}) as Record<string, unknown>), { shouldMockEvents: true });
  }

  /** Answers `cmd` with `handler` from now on (throw a `Failure` to refuse). */
  on(cmd: CommandName, handler: Handler): this {
    this.#handlers.set(cmd, handler);
    return this;
  }

  /** The calls made to one command. */
  callsOf(cmd: CommandName): Call[] {
    return this.calls.filter((c) => c.cmd === cmd);
  }

  /** Emits an app event, as the Rust side would, and lets Svelte draw it. */
  async emit<E extends BackendEvent>(event: E, payload: BackendEvents[E]): Promise<void> {
    await emit(event, payload);
    await tick();
  }

  uninstall(): void {
    clearMocks();
  }

  #desk(patch: Partial<DeskStatus>): DeskStatus {
    this.snapshot = { ...this.snapshot, desk: { ...this.snapshot.desk, ...patch } };
    return this.snapshot.desk;
  }

  #invoke(cmd: string, args: Record<string, unknown>): unknown {
    this.calls.push({ cmd, args });
    const handler = this.#handlers.get(cmd);
    if (handler) return handler(args);
    // Typed, so a command renamed in the table is a type error here too.
    switch (cmd as CommandName) {
      case "snapshot":
        return structuredClone(this.snapshot);
      case "send_command": {
        const draft = args.draft as CommandDraft;
        const view: CommandView = {
          commandId: `cmd-${++this.#commands}`,
          endpointId: draft.endpointId,
          action: draft.action,
          value: draft.value ?? null,
          phase: "queued",
          reason: null,
          actualValue: null,
          issuedAt: new Date().toISOString(),
          expiresAt: new Date(Date.now() + 30_000).toISOString(),
          completedAt: null,
          mine: true,
          seq: null,
          revision: 0,
        };
        return view;
      }
      case "acknowledge_all": {
        // Every unacknowledged alarm not shelved, as the Rust side picks them.
        const acknowledged = this.snapshot.plant.alarms.filter((a) => a.acked !== true && a.shelved == null).length;
        return { acknowledged, refused: null } satisfies AckAllOutcome;
      }
      case "acknowledge_alarm":
      case "silence_alarms":
      case "shelve_alarm":
      case "unshelve_alarm":
      case "connect":
      case "disconnect":
      case "retry_now":
      case "subscribe":
      case "unsubscribe":
      case "open_log_folder":
        return null;
      case "set_token":
        return this.#desk({
          token: { source: args.remember ? "keychain" : "session", keychain: this.snapshot.desk.token.keychain },
        });
      case "forget_token":
        return this.#desk({ token: { source: "none", keychain: this.snapshot.desk.token.keychain } });
      case "save_settings":
        return this.#desk({ settings: args.settings as Settings });
      case "trend":
        // An empty record: answer with the range and no readings.
        return emptyTrend(args.query as TrendQuery);
      case "alarm_sound":
        return structuredClone(this.sound);
      case "record_status":
        return structuredClone(this.record);
      case "set_retention":
        this.record = { ...this.record, retention: args.retention as Retention };
        return structuredClone(this.record);
      case "export_trend_csv":
        return { saved: true, fileName: "trend.csv", rows: 0 } satisfies ExportOutcome;
      case "export_trend_png":
        return { saved: true, fileName: "trend.png", rows: 0 } satisfies ExportOutcome;
      default:
        throw { code: "internal", message: `unexpected command ${cmd}` } satisfies Failure;
    }
  }
}

/** Lets pending promises run (no timers: works with fake timers too) until `done()` holds. */
export async function until(done: () => boolean, what = "the condition"): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (done()) {
      await tick();
      return;
    }
    await Promise.resolve();
  }
  throw new Error(`${what} did not happen`);
}

/** Lets every pending promise and Svelte update run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await Promise.resolve();
  await tick();
}
