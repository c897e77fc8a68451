//! The command line and environment of one run: `--server URL`, `--demo`, `BREWDECK_TOKEN`.
//! None of them changes the saved settings.

use brewdeck_link::ServerUrl;
use brewdeck_protocol::Token;
use clap::Parser;
use std::path::PathBuf;

/// The variable a kiosk or a test puts the server's token in, for this run only.
pub const TOKEN_VARIABLE: &str = "BREWDECK_TOKEN";

#[derive(Debug, Parser)]
#[command(
    name = "brewdeck",
    version,
    about = "Brewdeck: the brewery operator's control panel"
)]
struct Cli {
    /// Connect to this plant server for this run (the saved settings are unchanged).
    #[arg(long, value_name = "URL", conflicts_with = "demo")]
    server: Option<String>,
    /// Run on the embedded demo plant, whatever the settings say.
    #[arg(long)]
    demo: bool,
}

/// How this run starts.
#[derive(Debug, Clone, Default)]
pub struct Launch {
    /// `--server`, checked.
    pub server: Option<ServerUrl>,
    pub demo: bool,
    /// From `BREWDECK_TOKEN`: used for this run only, never stored.
    pub env_token: Option<Token>,
    /// Tray, single instance, hide-on-close and alarm sounds: the real desktop, not
    /// `tauri::test`.
    pub desktop_shell: bool,
    /// Overrides of the app's folders (tests).
    pub config_dir: Option<PathBuf>,
    pub log_dir: Option<PathBuf>,
    /// Where the record (`brewdeck.sqlite3`) and the demo plant's history are kept.
    pub data_dir: Option<PathBuf>,
    /// Overrides the release channel's address (tests).
    pub update_endpoint: Option<tauri::Url>,
}

impl Launch {
    /// Reads the command line and takes `BREWDECK_TOKEN` out of the environment, so no child
    /// process (the webview's among them) inherits it. Call before any thread starts.
    pub fn from_process() -> Result<Launch, clap::Error> {
        let env_token = std::env::var(TOKEN_VARIABLE).ok();
        std::env::remove_var(TOKEN_VARIABLE);
        Launch::parse_from(std::env::args_os(), env_token)
    }

    /// The launch these arguments and token variable ask for.
    pub fn parse_from(
        args: impl IntoIterator<Item = impl Into<std::ffi::OsString> + Clone>,
        env_token: Option<String>,
    ) -> Result<Launch, clap::Error> {
        let cli = Cli::try_parse_from(args)?;
        let server = match cli.server {
            Some(text) => Some(ServerUrl::parse(&text, false).map_err(|e| {
                clap::Error::raw(
                    clap::error::ErrorKind::ValueValidation,
                    format!("--server: {e}\n"),
                )
            })?),
            None => None,
        };
        let env_token = env_token.and_then(|t| Token::new(t.trim()));
        Ok(Launch {
            server,
            demo: cli.demo,
            env_token,
            desktop_shell: true,
            config_dir: None,
            log_dir: None,
            data_dir: None,
            update_endpoint: None,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn server_and_token_are_for_this_run() {
        let l = Launch::parse_from(
            ["brewdeck", "--server", "wss://plant.example"],
            Some(" secret \n".into()),
        )
        .unwrap();
        assert_eq!(l.server.unwrap().as_str(), "wss://plant.example:443/ws");
        assert_eq!(l.env_token.unwrap().expose(), "secret");
        assert!(!l.demo);
        assert!(l.desktop_shell);
    }

    #[test]
    fn bad_arguments_are_clear_errors() {
        let e = Launch::parse_from(["brewdeck", "--server", "http://plant"], None).unwrap_err();
        assert!(e.to_string().contains("--server"), "{e}");
        let e =
            Launch::parse_from(["brewdeck", "--server", "ws://remote.example"], None).unwrap_err();
        assert!(e.to_string().contains("--server"), "{e}");
        assert!(Launch::parse_from(["brewdeck", "--demo", "--server", "wss://a"], None).is_err());
        assert!(Launch::parse_from(["brewdeck", "--bogus"], None).is_err());
        let l = Launch::parse_from(["brewdeck", "--demo"], Some("".into())).unwrap();
        assert!(l.demo);
        assert!(l.env_token.is_none(), "an empty variable is no token");
    }
}
