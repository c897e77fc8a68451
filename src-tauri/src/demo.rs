//! The demo plant: `brewdeck-plant` running inside the app on a loopback port, with a one-time
//! token that lives only in memory.

use brewdeck_link::ServerUrl;
use brewdeck_plant::{PlantConfig, RunningPlant};
use brewdeck_protocol::Token;
use std::path::Path;

/// The demo plant's history, inside the app's data folder: the demo has a past too.
pub const DEMO_DATA: &str = "demo-plant";

pub struct DemoPlant {
    plant: RunningPlant,
    pub url: ServerUrl,
    pub token: Token,
}

impl std::fmt::Debug for DemoPlant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoPlant")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl DemoPlant {
    pub async fn start(data_dir: &Path) -> Result<DemoPlant, crate::error::AppError> {
        let token = Token::new(uuid::Uuid::new_v4().simple().to_string())
            .ok_or_else(|| crate::error::AppError::Internal("no demo token".to_owned()))?;
        let mut config = PlantConfig::new(([127, 0, 0, 1], 0).into(), token.clone());
        config.name = "Demo brewery (simulated)".to_owned();
        config.data_dir = Some(data_dir.join(DEMO_DATA));
        let plant = match brewdeck_plant::start(config.clone()).await {
            // A demo whose history cannot be kept (a read-only folder, a store from a newer
            // Brewdeck) still runs, with its history in memory.
            Err(brewdeck_plant::PlantError::DataDir { reason, .. }) => {
                tracing::warn!(%reason, "the demo plant's history is kept in memory only");
                config.data_dir = None;
                brewdeck_plant::start(config).await?
            }
            started => started?,
        };
        let url = ServerUrl::parse(&plant.ws_url(), false)?;
        tracing::info!(%url, "demo plant started");
        Ok(DemoPlant { plant, url, token })
    }

    pub async fn stop(self) {
        self.plant.shutdown().await;
        tracing::info!("demo plant stopped");
    }
}
