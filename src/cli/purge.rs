//! `bisik purge --config FILE [--dry-run]`: retention by hand (the server also purges on its own
//! housekeeping rounds). Safe to run next to a live server.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use crate::config::Config;
use crate::domain::clock::SystemClock;
use crate::server::open_app;
use crate::service::retention;

#[derive(Debug, Args)]
pub struct PurgeArgs {
    #[arg(long, short, env = "BISIK_CONFIG")]
    config: PathBuf,
    /// Only show what would be deleted.
    #[arg(long)]
    dry_run: bool,
}

pub fn run(args: PurgeArgs) -> Result<(), String> {
    let config = Config::load(&args.config).map_err(|e| e.to_string())?;
    super::runtime()?.block_on(async {
        let app = open_app(config, Arc::new(SystemClock), false)
            .await
            .map_err(|e| e.to_string())?;
        let plans = if args.dry_run {
            retention::plan(&app)
                .await
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(|(p, _)| p)
                .collect()
        } else {
            retention::purge(&app).await.map_err(|e| e.to_string())?
        };
        if plans.is_empty() {
            println!("nothing to purge");
        }
        for p in &plans {
            println!(
                "{} {}: {} cases and {} files closed or archived more than {} days ago",
                if args.dry_run {
                    "would purge"
                } else {
                    "purged"
                },
                super::one(&p.institution),
                p.cases.len(),
                p.blobs,
                p.retention_days
            );
            for c in &p.cases {
                println!("  {}", super::one(c));
            }
        }
        app.store.close().await;
        Ok(())
    })
}
