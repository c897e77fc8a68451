// The app's commands: the only ones the webview may call. One list, included by `build.rs`
// (the app manifest, so each gets an `allow-*` permission) and by the crate (a test checks that
// `capabilities/main.json` grants exactly these).
pub const COMMAND_NAMES: &[&str] = &[
    "snapshot",
    "connect",
    "disconnect",
    "retry_now",
    "set_token",
    "forget_token",
    "save_settings",
    "send_command",
    "acknowledge_alarm",
    "subscribe",
    "unsubscribe",
    "open_log_folder",
    "check_for_updates",
    "install_update",
];
