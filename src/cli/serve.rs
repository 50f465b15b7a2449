//! `bisik serve --config FILE`.

use std::path::Path;

use crate::config::Config;
use crate::server;

pub fn run(config_path: &Path) -> Result<(), String> {
    super::init_logging();
    let config = Config::load(config_path).map_err(|e| e.to_string())?;
    super::runtime()?.block_on(async {
        server::serve(config, |addr| tracing::info!(%addr, "listening"))
            .await
            .map_err(|e| e.to_string())
    })
}
