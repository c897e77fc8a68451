//! [`Desk`]: the app's managed state. It owns the link handle, the token vault, the settings
//! file and the demo plant, and does what the commands ask. Commands stay one-line delegations;
//! the decisions (where to connect, whether a save moves, the keychain profile) are
//! `brewdeck-station`'s, this only carries them out.

use crate::cli::Launch;
use crate::demo::DemoPlant;
use crate::error::AppError;
use brewdeck_link::{CommandDraft, CommandView, Destination, Link, LinkConfig, ServerUrl};
use brewdeck_protocol::{EndpointId, Token, FEATURE_HISTORY};
use brewdeck_station::bridge::Bridge;
use brewdeck_station::keychain::KeychainEntry;
use brewdeck_station::record::view::{
    ExportOutcome, RecordView, Retention, TrendAnswer, TrendQuery,
};
use brewdeck_station::record::{self, DeskRecord, FillMemory};
use brewdeck_station::settings::{NotificationChoices, Settings, SettingsFile};
use brewdeck_station::status::{DeskSnapshot, DeskStatus};
use brewdeck_station::target::{self, Target};
use brewdeck_station::vault::{Keep, TokenSource, Vault};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::watch;

struct Current {
    settings: Settings,
    settings_problem: Option<String>,
    /// The server this run talks to; `None` while on the demo plant.
    server: Option<ServerUrl>,
    server_from_command_line: bool,
    demo: Option<DemoPlant>,
}

pub struct Desk {
    pub link: Link,
    vault: Vault,
    file: SettingsFile,
    /// The app identifier: the keychain's service name.
    keychain_service: String,
    pub log_dir: PathBuf,
    choices: watch::Sender<NotificationChoices>,
    /// The sound each severity makes, as the settings say.
    pub alarm_sounds: watch::Sender<brewdeck_station::annunciator::AlarmSounds>,
    /// The alarm sound's task, once started (`sound::start`).
    pub sounds: std::sync::OnceLock<brewdeck_station::alarm_sounds::AlarmSoundsHandle>,
    current: Mutex<Current>,
    /// Held by every command that changes the server or the token: they run one at a time,
    /// so two saves cannot interleave their moves.
    changes: tokio::sync::Mutex<()>,
    /// The record of readings (`brewdeck.sqlite3`), and what it is recorded under: `demo`, or
    /// the server's URL.
    pub record: DeskRecord,
    pub fills: FillMemory,
    pub source: watch::Sender<String>,
    config_dir: PathBuf,
    data_dir: PathBuf,
}

impl std::fmt::Debug for Desk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desk").finish_non_exhaustive()
    }
}

fn keychain_for(service: &str, server: &ServerUrl) -> Arc<dyn brewdeck_link::TokenStore> {
    Arc::new(KeychainEntry::for_server(service, server))
}

impl Desk {
    /// Reads the settings, picks the server (or starts the demo plant) and spawns the link,
    /// not yet connected. The bridge is created here so it sees the link's first sync.
    pub async fn start(
        launch: &Launch,
        config_dir: PathBuf,
        data_dir: PathBuf,
        log_dir: PathBuf,
        keychain_service: String,
    ) -> Result<(Desk, Bridge), AppError> {
        let file = SettingsFile::in_dir(&config_dir);
        let loaded = file.load();
        let settings = loaded.settings;
        let start = target::at_start(
            launch.demo,
            launch.server.as_ref(),
            settings.server(),
            settings.site_ca(),
        );
        let mut problem = start.problem.or(loaded.problem);

        let (vault, server, demo, url) = match start.target {
            Target::Demo => {
                let demo = DemoPlant::start(&data_dir).await?;
                let vault = Vault::new(demo.url.clone(), None);
                vault.use_for_session(demo.token.clone(), TokenSource::Demo);
                let url = demo.url.clone();
                (vault, None, Some(demo), url)
            }
            Target::Server(server) => {
                let vault = Vault::new(
                    server.clone(),
                    Some(keychain_for(&keychain_service, &server)),
                );
                if let Some(token) = &launch.env_token {
                    vault.use_for_session(token.clone(), TokenSource::Environment);
                }
                (vault, Some(server.clone()), None, server)
            }
        };
        let mut site_ca = start.site_ca;
        if let Some(ca) = site_ca.clone() {
            // A CA file that changed since it was saved must not keep the app from starting.
            let check = url.clone();
            let checked = tokio::task::spawn_blocking(move || Destination::new(check, Some(&ca)))
                .await
                .map_err(|_| AppError::Internal("checking the site CA file failed".to_owned()))?;
            if let Err(e) = checked {
                problem = Some(target::unusable_site_ca(e));
                site_ca = None;
            }
        }
        let mut config = LinkConfig::new(url);
        config.site_ca = site_ca;
        config.connect_on_start = false;
        let link = Link::spawn(config, Arc::new(vault.clone()))?;
        let (choices, choices_rx) = watch::channel(settings.notifications.clone());
        let alarm_sounds = watch::channel(settings.alarm_sounds).0;
        let bridge = Bridge::new(&link, choices_rx);
        link.follow_catalog(true).await?;
        tracing::info!(
            demo = demo.is_some(),
            server = %server.as_ref().map(|s| s.as_str()).unwrap_or("demo plant"),
            "desk started"
        );
        let source = target::record_source(server.as_ref());
        let retention = record::files::load_retention(&config_dir);
        let record_dir = data_dir.clone();
        let record = tokio::task::spawn_blocking(move || DeskRecord::open(&record_dir, retention))
            .await
            .map_err(|_| AppError::Internal("opening the record failed".to_owned()))?;
        let desk = Desk {
            record,
            fills: FillMemory::default(),
            source: watch::channel(source).0,
            config_dir,
            data_dir,
            link,
            vault,
            file,
            keychain_service,
            log_dir,
            choices,
            alarm_sounds,
            sounds: std::sync::OnceLock::new(),
            current: Mutex::new(Current {
                settings,
                settings_problem: problem,
                server_from_command_line: start.from_command_line,
                server,
                demo,
            }),
            changes: tokio::sync::Mutex::new(()),
        };
        Ok((desk, bridge))
    }

    fn current(&self) -> MutexGuard<'_, Current> {
        // Every update is a whole-field assignment: consistent even after a panic elsewhere.
        self.current.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn is_demo(&self) -> bool {
        self.current().demo.is_some()
    }

    /// What the webview may know of the app now.
    pub fn status(&self) -> DeskStatus {
        let c = self.current();
        DeskStatus {
            demo: c.demo.is_some(),
            server: match (&c.server, &c.demo) {
                (Some(s), _) => s.as_str().to_owned(),
                (None, Some(d)) => d.url.as_str().to_owned(),
                (None, None) => String::new(),
            },
            server_from_command_line: c.server_from_command_line,
            token: self.vault.presence(),
            settings: c.settings.clone(),
            settings_problem: c.settings_problem.clone(),
            stale_after_ms: u64::try_from(
                brewdeck_link::Timings::default().stale_after.as_millis(),
            )
            .unwrap_or(u64::MAX),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }

    /// Asks the keychain whether it holds this server's token (it may block on D-Bus).
    pub async fn probe_keychain(&self) -> DeskStatus {
        let vault = self.vault.clone();
        let _ = tokio::task::spawn_blocking(move || vault.probe()).await;
        self.status()
    }

    pub async fn snapshot(&self) -> Result<DeskSnapshot, AppError> {
        let plant = self.link.snapshot().await?;
        Ok(DeskSnapshot {
            operator: brewdeck_station::operator::DeskOperator::of(&plant),
            plant,
            desk: self.status(),
        })
    }

    pub async fn set_token(&self, token: String, remember: bool) -> Result<DeskStatus, AppError> {
        let token =
            Token::new(token).ok_or_else(|| AppError::Invalid("the token is empty".to_owned()))?;
        if self.is_demo() {
            return Err(AppError::Invalid(
                "the demo plant uses its own one-time token: set a server in the settings first"
                    .to_owned(),
            ));
        }
        let keep = if remember {
            Keep::Remember
        } else {
            Keep::SessionOnly
        };
        let _one_at_a_time = self.changes.lock().await;
        self.link
            .set_token(self.vault.writer(keep), self.vault.server(), Some(token))
            .await?;
        Ok(self.status())
    }

    pub async fn forget_token(&self) -> Result<DeskStatus, AppError> {
        if self.is_demo() {
            return Err(AppError::Invalid(
                "the demo plant's token is not stored anywhere".to_owned(),
            ));
        }
        let _one_at_a_time = self.changes.lock().await;
        self.link
            .set_token(self.vault.writer(Keep::Remember), self.vault.server(), None)
            .await?;
        Ok(self.status())
    }

    /// Checks, applies (moving to another server or the demo plant if it changed) and saves.
    /// Everything a move needs is checked before anything changes.
    pub async fn save_settings(&self, settings: Settings) -> Result<DeskStatus, AppError> {
        let _one_at_a_time = self.changes.lock().await;
        settings.validate()?;
        let server = settings.server()?;
        let site_ca = settings.site_ca()?;
        let moved = {
            let c = self.current();
            let now = target::Now {
                server: c.server.as_ref(),
                demo: c.demo.is_some(),
                site_ca_file: c.settings.site_ca_file.as_deref(),
            };
            target::save_moves(now, server.as_ref(), settings.site_ca_file.as_deref())
        };
        if moved {
            match server {
                Some(server) => {
                    // Reads and parses the CA file: a bad one stops the move here.
                    let destination = tokio::task::spawn_blocking(move || {
                        Destination::new(server, site_ca.as_deref())
                    })
                    .await
                    .map_err(|_| AppError::Internal("checking the server failed".to_owned()))??;
                    self.move_to_server(destination).await?;
                }
                None => self.move_to_demo().await?,
            }
            // A new server starts with no subscriptions: follow its whole catalog again.
            self.link.follow_catalog(true).await?;
            let _ = self.probe_keychain().await;
        }
        let file = self.file.clone();
        let to_save = settings.clone();
        tokio::task::spawn_blocking(move || file.save(&to_save))
            .await
            .map_err(|_| AppError::Internal("saving the settings failed".to_owned()))??;
        self.choices.send_replace(settings.notifications.clone());
        self.alarm_sounds.send_replace(settings.alarm_sounds);
        {
            let mut c = self.current();
            c.settings = settings;
            c.settings_problem = None;
        }
        Ok(self.status())
    }

    /// Moves the token source, then the link: a dial in between asks the vault for the old
    /// server's token, is refused, and the link dials again on the new server.
    async fn move_to_server(&self, destination: Destination) -> Result<(), AppError> {
        let server = destination.server().clone();
        self.vault.switch_profile(
            server.clone(),
            Some(keychain_for(&self.keychain_service, &server)),
            None,
        );
        self.source
            .send_replace(target::record_source(Some(&server)));
        let old_demo = {
            let mut c = self.current();
            c.server = Some(server);
            c.server_from_command_line = false;
            c.demo.take()
        };
        self.link.set_server(destination).await?;
        if let Some(demo) = old_demo {
            demo.stop().await;
        }
        Ok(())
    }

    async fn move_to_demo(&self) -> Result<(), AppError> {
        let demo = DemoPlant::start(&self.data_dir).await?;
        let url = demo.url.clone();
        let destination =
            match tokio::task::spawn_blocking(move || Destination::new(url, None)).await {
                Ok(Ok(d)) => d,
                failed => {
                    demo.stop().await;
                    return Err(match failed {
                        Ok(Err(e)) => e.into(),
                        _ => AppError::Internal("starting the demo plant failed".to_owned()),
                    });
                }
            };
        self.vault.switch_profile(
            demo.url.clone(),
            None,
            Some((demo.token.clone(), TokenSource::Demo)),
        );
        {
            let mut c = self.current();
            c.server = None;
            c.server_from_command_line = false;
            c.demo = Some(demo);
        }
        self.source.send_replace(target::record_source(None));
        self.link.set_server(destination).await?;
        Ok(())
    }

    pub async fn send_command(&self, draft: CommandDraft) -> Result<CommandView, AppError> {
        Ok(self.link.send_command(draft).await?)
    }

    pub async fn subscribe(&self, endpoints: Vec<EndpointId>) -> Result<(), AppError> {
        Ok(self.link.subscribe(endpoints).await?)
    }

    pub async fn unsubscribe(&self, endpoints: Vec<EndpointId>) -> Result<(), AppError> {
        Ok(self.link.unsubscribe(endpoints).await?)
    }

    /// Opens the log folder in the desktop's file manager.
    pub fn open_log_folder(&self) -> Result<(), AppError> {
        let opener = brewdeck_station::opener::folder_opener();
        brewdeck_station::opener::open_folder_with(opener, &self.log_dir)
            .map(|_| ())
            .map_err(|e| {
                AppError::Internal(format!(
                    "could not open {} ({opener}: {e})",
                    self.log_dir.display()
                ))
            })
    }

    /// Readings from the record; when it lacks part of the range and the plant may have it, a
    /// fill starts (`filling`), and `filled` is called once it is in.
    pub async fn trend(
        &self,
        query: TrendQuery,
        filled: impl FnOnce() + Send + 'static,
    ) -> Result<TrendAnswer, AppError> {
        // One trip off the runtime per trend (live trends ask every second): the answer, and
        // whether part of the range is worth asking of the plant.
        let (record, fills, q) = (self.record.clone(), self.fills.clone(), query.clone());
        let s = self.source.borrow().clone();
        let (answer, worth) = tokio::task::spawn_blocking(move || {
            let answer = record.trend(&s, &q)?;
            let worth =
                record::worth_asking(&record, &fills, &s, q.from_ms, q.to_ms, &q.endpoint_ids);
            Ok::<_, AppError>((answer, worth))
        })
        .await
        .map_err(|_| AppError::Internal("reading the record failed".to_owned()))??;
        let mut answer = answer;
        let (from, to) = (query.from_ms, query.to_ms);
        if worth && self.link.state().is_connected() {
            let plant = self.link.snapshot().await?;
            // A server that does not list `history` is never asked (a level-0 one included).
            if !plant.features.iter().any(|f| f == FEATURE_HISTORY) {
                return Ok(answer);
            }
            let catalog = plant.catalog.into_iter().map(|e| e.id).collect();
            answer.filling = record::start_fill(
                self.link.clone(),
                self.record.clone(),
                self.fills.clone(),
                self.source.subscribe(),
                from,
                to,
                query.endpoint_ids,
                catalog,
                move |imported| {
                    if imported {
                        filled();
                    }
                },
            )
            .await;
        }
        Ok(answer)
    }

    /// The record's health, size and retention (reads the file's size).
    pub async fn record_status(&self) -> Result<RecordView, AppError> {
        let record = self.record.clone();
        tokio::task::spawn_blocking(move || record.view())
            .await
            .map_err(|_| AppError::Internal("reading the record failed".to_owned()))
    }

    /// Checks, applies and saves how long the record keeps what.
    pub async fn set_retention(&self, retention: Retention) -> Result<RecordView, AppError> {
        let (record, dir) = (self.record.clone(), self.config_dir.clone());
        tokio::task::spawn_blocking(move || {
            record.set_retention(retention)?;
            record::files::save_retention(&dir, &retention)?;
            Ok::<_, AppError>(record.view())
        })
        .await
        .map_err(|_| AppError::Internal("saving the retention failed".to_owned()))?
    }

    /// The trend's buckets as CSV, where the operator chooses.
    pub async fn export_trend_csv<R: tauri::Runtime>(
        &self,
        app: &tauri::AppHandle<R>,
        query: TrendQuery,
    ) -> Result<ExportOutcome, AppError> {
        let source = self.source.borrow().clone();
        let record = self.record.clone();
        let answer = tokio::task::spawn_blocking(move || record.trend(&source, &query))
            .await
            .map_err(|_| AppError::Internal("reading the record failed".to_owned()))??;
        let catalog = self.link.snapshot().await?.catalog;
        let (text, rows) = record::csv::render(&answer, &catalog);
        self.export(app, "csv", "CSV", text.into_bytes(), rows)
            .await
    }

    /// The chart the webview drew, as PNG, where the operator chooses.
    pub async fn export_trend_png<R: tauri::Runtime>(
        &self,
        app: &tauri::AppHandle<R>,
        png_base64: String,
    ) -> Result<ExportOutcome, AppError> {
        let bytes = record::files::png_from_base64(&png_base64)?;
        self.export(app, "png", "PNG image", bytes, 0).await
    }

    /// Asks where to save (a native dialog: the webview never names a path) and writes.
    pub(crate) async fn export<R: tauri::Runtime>(
        &self,
        app: &tauri::AppHandle<R>,
        extension: &str,
        kind: &str,
        bytes: Vec<u8>,
        rows: u64,
    ) -> Result<ExportOutcome, AppError> {
        let proposed = crate::export::proposed_name(extension);
        let Some(path) = crate::export::ask_path(app, &proposed, kind, extension).await else {
            return Ok(ExportOutcome {
                saved: false,
                file_name: None,
                rows: 0,
            });
        };
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        tokio::task::spawn_blocking(move || record::files::write_export(&path, &bytes))
            .await
            .map_err(|_| AppError::Internal("writing the export failed".to_owned()))??;
        tracing::info!(file = ?file_name, rows, "exported");
        Ok(ExportOutcome {
            saved: true,
            file_name,
            rows,
        })
    }

    /// Stops the demo plant (if any) and the link.
    pub async fn shutdown(&self) {
        self.link.shutdown().await;
        // What the last half second recorded reaches the disk.
        let record = self.record.clone();
        let _ = tokio::task::spawn_blocking(move || record.close()).await;
        let demo = self.current().demo.take();
        if let Some(demo) = demo {
            demo.stop().await;
        }
    }
}
