//! `bisik webhooks log|retry --config FILE`: the operator's view of webhook deliveries to
//! institutions' systems (docs/integration.md). Safe to run next to a live server.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand};

use crate::config::Config;
use crate::domain::clock::{SystemClock, day_string};
use crate::server::open_app;
use crate::service::webhooks;

#[derive(Debug, Args)]
pub struct WebhooksArgs {
    /// The server's configuration.
    #[arg(long, short, global = true, env = "BISIK_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: WebhooksCommand,
}

#[derive(Debug, Subcommand)]
enum WebhooksCommand {
    /// The delivery log, newest day first: id, institution, event, case, status, attempts, last
    /// HTTP status (or why there was no answer), day.
    Log {
        /// Only deliveries that failed for good.
        #[arg(long)]
        failed: bool,
        #[arg(long, default_value_t = 200)]
        limit: u32,
    },
    /// Send a delivery again at once (its attempts start over). A citizen-caused delivery still
    /// waiting for its daily release stays held.
    Retry {
        /// The delivery's id (`evt_…`, the `webhook-id` header).
        id: String,
    },
}

pub fn run(args: WebhooksArgs) -> Result<(), String> {
    let path = args
        .config
        .ok_or("pass --config FILE (or set BISIK_CONFIG)")?;
    let config = Config::load(&path).map_err(|e| e.to_string())?;
    super::runtime()?.block_on(async {
        let app = open_app(config, Arc::new(SystemClock), false)
            .await
            .map_err(|e| e.to_string())?;
        let result = match args.command {
            WebhooksCommand::Log { failed, limit } => {
                let rows = webhooks::log(&app, failed, limit)
                    .await
                    .map_err(|e| e.to_string())?;
                println!(
                    "{:<36} {:<16} {:<18} {:<24} {:<9} {:>8} {:<14} day",
                    "id", "institution", "event", "case", "status", "attempts", "last"
                );
                for d in &rows {
                    let last = match (d.last_status, &d.last_error) {
                        (Some(s), _) => s.to_string(),
                        (None, Some(e)) => e.clone(),
                        (None, None) => "-".into(),
                    };
                    println!(
                        "{:<36} {:<16} {:<18} {:<24} {:<9} {:>8} {:<14} {}",
                        super::one(&d.id),
                        super::one(&d.institution),
                        d.event.as_str(),
                        super::one(&d.case_id),
                        d.status.as_str(),
                        d.attempts,
                        super::one(&last),
                        day_string(d.day)
                    );
                }
                if rows.is_empty() {
                    println!("no deliveries");
                }
                Ok(())
            }
            WebhooksCommand::Retry { id } => {
                if webhooks::retry(&app, &id)
                    .await
                    .map_err(|e| e.to_string())?
                {
                    println!("{} will be sent again", super::one(&id));
                    Ok(())
                } else {
                    Err(format!(
                        "no delivery {} to retry (unknown, or held until its daily release)",
                        super::one(&id)
                    ))
                }
            }
        };
        app.store.close().await;
        result
    })
}
