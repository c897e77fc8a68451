// The app's commands: the only ones the webview may call. One row each: the name, the arguments
// (the webview sends them in camelCase: `alarm_id` is `alarmId`) and what it returns. Written
// once, here; everything else comes from it:
// - `build.rs` includes this file for the names: the app manifest, so each gets an `allow-*`
//   permission (a test checks that `capabilities/main.json` grants exactly these);
// - the crate makes the Tauri commands with exactly these arguments, their handler and
//   `COMMAND_NAMES` (`commands.rs`), and the webview's `ui/src/lib/generated/app/commands.ts`
//   (`bindings.rs`; the `bindings` test fails when it drifts).
//
// `with_command_table!(then)` expands to `then! { rows }`, so each reader takes what it needs.
// Plain Rust with no imports: the types are resolved only where the rows are used.
macro_rules! with_command_table {
    ($then:ident) => {
        $then! {
            /// Everything needed to draw from nothing.
            snapshot() -> DeskSnapshot;
            connect() -> ();
            disconnect() -> ();
            /// Skips the reconnect delay.
            retry_now() -> ();
            /// `remember: false` keeps the token for this session only (no keychain). Rejects
            /// with `keychain_unavailable` when the keychain is locked or missing.
            set_token(token: String, remember: bool) -> DeskStatus;
            forget_token() -> DeskStatus;
            /// Rejects with `invalid_input` and a message naming the field.
            save_settings(settings: Settings) -> DeskStatus;
            send_command(draft: CommandDraft) -> CommandView;
            /// With a note when the plant keeps them (feature `shelving`); rejects with
            /// `forbidden` for a viewer.
            acknowledge_alarm(alarm_id: AlarmId, note: Option<String>) -> ();
            /// Every unacknowledged alarm not shelved, with one note.
            acknowledge_all(note: Option<String>) -> AckAllOutcome;
            /// Within the role's limit, with a reason of 1 to 200 characters.
            shelve_alarm(alarm_id: AlarmId, minutes: u32, reason: String) -> ();
            unshelve_alarm(alarm_id: AlarmId) -> ();
            /// A note for the shift's log, about these endpoints (none: about the plant).
            write_note(text: String, endpoint_ids: Vec<EndpointId>) -> ();
            /// A page of the journal: the plant's when it keeps one, else this desk's own.
            journal(filter: JournalFilter) -> JournalPage;
            /// Asks where to save (a native dialog) and writes the matching entries as CSV.
            export_journal_csv(filter: JournalFilter) -> ExportOutcome;
            /// ISA-18.2's alarm figures over the last 24 hours.
            alarm_health() -> AlarmHealth;
            /// Stops the alarm sound without acknowledging anything.
            silence_alarms() -> ();
            /// Whether an alarm sounds now, and whether the desk can sound at all.
            alarm_sound() -> Option<AlarmSoundView>;
            subscribe(endpoints: Vec<EndpointId>) -> ();
            unsubscribe(endpoints: Vec<EndpointId>) -> ();
            /// Opens the log folder in the desktop's file manager.
            open_log_folder() -> ();
            /// Asks the release channel for a newer, signed version.
            check_for_updates() -> UpdateCheck;
            /// Installs the update the last check found, then the app restarts.
            install_update() -> ();
            /// Readings from the desk's record; ranges it did not see are asked of the plant.
            trend(query: TrendQuery) -> TrendAnswer;
            /// The record's health, size and retention.
            record_status() -> RecordView;
            /// Rejects with `invalid_input` naming the field.
            set_retention(retention: Retention) -> RecordView;
            /// Asks where to save (a native dialog) and writes the query's buckets as CSV.
            export_trend_csv(query: TrendQuery) -> ExportOutcome;
            /// Asks where to save (a native dialog) and writes the chart as PNG (base64 from the webview).
            export_trend_png(png_base64: String) -> ExportOutcome;
        }
    };
}
