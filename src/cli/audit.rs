//! `bisik audit verify|show --config FILE`: the operator's view of the member audit chain,
//! read straight from the database.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::config::Config;
use crate::domain::audit::verify_chain;

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The server's configuration (to find the database).
    #[arg(long, short, global = true, env = "BISIK_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Recompute the hash chain; name the first entry that does not fit.
    Verify,
    /// List audit entries, all or for one case.
    Show {
        #[arg(long)]
        case: Option<String>,
    },
}

pub fn run(args: AuditArgs) -> Result<(), String> {
    let path = args
        .config
        .ok_or("pass --config FILE (or set BISIK_CONFIG)")?;
    let config = Config::load(&path).map_err(|e| e.to_string())?;
    super::runtime()?.block_on(async {
        let store = config.open_store().await.map_err(|e| e.to_string())?;
        let result = match args.command {
            AuditCommand::Verify => {
                let entries = store.audit_entries().await.map_err(|e| e.to_string())?;
                match verify_chain(&entries) {
                    Ok(()) => {
                        println!("audit log intact: {} entries", entries.len());
                        Ok(())
                    }
                    Err(b) => Err(format!("audit log BROKEN at {b}")),
                }
            }
            AuditCommand::Show { case } => {
                let entries = match &case {
                    Some(id) => store.audit_entries_for_case(id).await,
                    None => store.audit_entries().await,
                }
                .map_err(|e| e.to_string())?;
                for e in entries {
                    println!(
                        "{:>6}  {:<25} {:<32} {:<22} {}",
                        e.seq,
                        super::one(&e.at),
                        super::one(&e.actor),
                        super::one(&e.action),
                        super::one(e.case_id.as_deref().unwrap_or("-"))
                    );
                }
                Ok(())
            }
        };
        store.close().await;
        result
    })
}
