//! Where the desk connects: at start (`--demo`, `--server`, the saved settings) and after a
//! settings save (whether it moves the link). Pure decisions; the app does the moving.

use crate::error::StationError;
use brewdeck_link::ServerUrl;
use std::fmt::Display;
use std::path::PathBuf;

/// Where a run connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The demo plant, started in the app.
    Demo,
    Server(ServerUrl),
}

/// What a run starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Start {
    pub target: Target,
    /// The saved site CA file, for a server only (the demo plant is on loopback).
    pub site_ca: Option<PathBuf>,
    /// The server came from `--server`: the settings do not name it.
    pub from_command_line: bool,
    /// What the operator should be told about the saved settings. It replaces the problem of
    /// loading the file, if any: the later problem is the one shown.
    pub problem: Option<String>,
}

/// Where this run starts: `--demo` first, then `--server`, then the saved server; with none, or
/// one that is not usable, the demo plant. `saved_server` and `saved_ca` are the settings'
/// [`Settings::server`](crate::settings::Settings::server) and
/// [`Settings::site_ca`](crate::settings::Settings::site_ca).
pub fn at_start(
    demo: bool,
    command_line: Option<&ServerUrl>,
    saved_server: Result<Option<ServerUrl>, StationError>,
    saved_ca: Result<Option<PathBuf>, StationError>,
) -> Start {
    let mut problem = None;
    let target = if demo {
        Target::Demo
    } else if let Some(server) = command_line {
        Target::Server(server.clone())
    } else {
        match saved_server {
            Ok(Some(server)) => Target::Server(server),
            Ok(None) => Target::Demo,
            Err(e) => {
                problem = Some(format!(
                    "The saved server is not usable ({e}); the demo plant runs instead."
                ));
                Target::Demo
            }
        }
    };
    // A bad CA file is reported even on the demo plant: the settings still name it.
    let site_ca = saved_ca.unwrap_or_else(|e| {
        problem = Some(unusable_site_ca(e));
        None
    });
    Start {
        site_ca: match target {
            Target::Demo => None,
            Target::Server(_) => site_ca,
        },
        from_command_line: command_line.is_some() && !demo,
        target,
        problem,
    }
}

/// What the operator is told when the saved site CA file cannot be used.
/// What the desk's record keeps readings under: `demo` for the embedded demo plant (whose
/// loopback port changes every run, while its history stays), else the server's URL.
pub fn record_source(server: Option<&ServerUrl>) -> String {
    match server {
        Some(s) => s.as_str().to_owned(),
        None => DEMO_SOURCE.to_owned(),
    }
}

/// The record's name for the demo plant.
pub const DEMO_SOURCE: &str = "demo";

pub fn unusable_site_ca(reason: impl Display) -> String {
    format!("The saved site CA file is not usable: {reason}")
}

/// Where the link is now, as far as a settings save is concerned.
#[derive(Debug, Clone, Copy)]
pub struct Now<'a> {
    /// `None` while on the demo plant.
    pub server: Option<&'a ServerUrl>,
    pub demo: bool,
    /// The site CA file of the settings in use (as typed).
    pub site_ca_file: Option<&'a str>,
}

/// Whether saving settings naming `server` (`None`: the demo plant) and `site_ca_file` moves
/// the link: to another server, to the same server through another CA file, or between a
/// server and the demo plant. Anything else (notifications, theme) is saved in place.
pub fn save_moves(now: Now<'_>, server: Option<&ServerUrl>, site_ca_file: Option<&str>) -> bool {
    match server {
        Some(s) => now.server != Some(s) || now.site_ca_file != site_ca_file,
        None => !now.demo,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn url(text: &str) -> ServerUrl {
        ServerUrl::parse(text, false).unwrap()
    }

    fn bad(field: &'static str) -> StationError {
        StationError::InvalidSetting {
            field,
            reason: "broken".to_owned(),
        }
    }

    #[test]
    fn demo_wins_then_the_command_line_then_the_settings() {
        let a = url("wss://a.example/ws");
        let b = url("wss://b.example/ws");
        let ca = Some(PathBuf::from("/etc/site-ca.pem"));

        let s = at_start(true, Some(&a), Ok(Some(b.clone())), Ok(ca.clone()));
        assert_eq!(s.target, Target::Demo);
        assert!(!s.from_command_line);
        assert_eq!(s.site_ca, None, "the demo plant takes no site CA");

        let s = at_start(false, Some(&a), Ok(Some(b.clone())), Ok(ca.clone()));
        assert_eq!(s.target, Target::Server(a.clone()));
        assert!(s.from_command_line);
        assert_eq!(s.site_ca, ca);

        let s = at_start(false, None, Ok(Some(b.clone())), Ok(None));
        assert_eq!(s.target, Target::Server(b));
        assert!(!s.from_command_line);

        let s = at_start(false, None, Ok(None), Ok(ca));
        assert_eq!(s.target, Target::Demo);
        assert_eq!(s.site_ca, None);
        assert_eq!(s.problem, None);
    }

    #[test]
    fn an_unusable_saved_server_runs_the_demo_and_says_so() {
        let s = at_start(false, None, Err(bad("serverUrl")), Ok(None));
        assert_eq!(s.target, Target::Demo);
        assert_eq!(
            s.problem.as_deref(),
            Some(
                "The saved server is not usable (serverUrl: broken); the demo plant runs instead."
            )
        );
        // Not read when the command line decides.
        let a = url("wss://a.example/ws");
        let s = at_start(false, Some(&a), Err(bad("serverUrl")), Ok(None));
        assert_eq!(s.target, Target::Server(a));
        assert_eq!(s.problem, None);
    }

    #[test]
    fn an_unusable_ca_file_is_reported_last_and_dropped() {
        let a = url("wss://a.example/ws");
        let s = at_start(false, Some(&a), Ok(None), Err(bad("siteCaFile")));
        assert_eq!(s.target, Target::Server(a));
        assert_eq!(s.site_ca, None);
        assert_eq!(
            s.problem.as_deref(),
            Some("The saved site CA file is not usable: siteCaFile: broken")
        );
        // Of two problems the CA file's is shown, as before.
        let s = at_start(false, None, Err(bad("serverUrl")), Err(bad("siteCaFile")));
        assert_eq!(s.target, Target::Demo);
        assert!(s.problem.unwrap().starts_with("The saved site CA file"));
    }

    #[test]
    fn a_save_moves_only_when_the_destination_changes() {
        let a = url("wss://a.example/ws");
        let b = url("wss://b.example/ws");
        let on_a = Now {
            server: Some(&a),
            demo: false,
            site_ca_file: Some("/ca.pem"),
        };
        assert!(!save_moves(on_a, Some(&a), Some("/ca.pem")));
        assert!(save_moves(on_a, Some(&b), Some("/ca.pem")));
        assert!(save_moves(on_a, Some(&a), None), "another CA file");
        assert!(save_moves(on_a, Some(&a), Some("/other.pem")));
        assert!(save_moves(on_a, None, Some("/ca.pem")), "to the demo plant");
        // The same server however it is written: the URL is normalised when parsed.
        assert!(!save_moves(
            on_a,
            Some(&url("wss://a.example:443/ws")),
            Some("/ca.pem")
        ));

        let on_demo = Now {
            server: None,
            demo: true,
            site_ca_file: None,
        };
        assert!(!save_moves(on_demo, None, None));
        assert!(
            !save_moves(on_demo, None, Some("/ca.pem")),
            "no server, no CA"
        );
        assert!(save_moves(on_demo, Some(&a), None));
    }
}
