//! `bisik serve --config FILE`.

use std::path::Path;

use crate::config::Config;
use crate::server;

pub fn run(config_path: &Path) -> Result<(), String> {
    super::init_logging();
    let config = Config::load(config_path).map_err(|e| e.to_string())?;
    let runtime = super::runtime()?;
    let result = runtime.block_on(async {
        server::serve(config, |addr| tracing::info!(%addr, "listening"))
            .await
            .map_err(|e| e.to_string())
    });
    // A key derivation still running on the blocking pool (its request already answered or
    // cancelled) must not hold the exit: nothing it computes is kept.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    result
}
