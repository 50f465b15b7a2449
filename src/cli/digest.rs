//! `bisik digest list|test --config FILE`: the operator's view of officers' digests — who gets
//! one, the last scheduled time each was sent, how much waits for each now (counts only) — and a
//! test mail through `[mail]` to check the relay settings. Safe to run next to a live server.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand};

use crate::config::Config;
use crate::domain::clock::SystemClock;
use crate::domain::digest::MailLang;
use crate::server::open_app;
use crate::service::digest;

#[derive(Debug, Args)]
pub struct DigestArgs {
    /// The server's configuration.
    #[arg(long, short, global = true, env = "BISIK_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: DigestCommand,
}

#[derive(Debug, Subcommand)]
enum DigestCommand {
    /// Members who get digests: address, language, the last scheduled time sent, and how many
    /// things wait for them now.
    List,
    /// Send a test mail (no case data) to ADDRESS through `[mail]`, and say what the relay said.
    Test {
        /// Where the test mail goes.
        address: String,
    },
}

pub fn run(args: DigestArgs) -> Result<(), String> {
    let path = args
        .config
        .ok_or("pass --config FILE (or set BISIK_CONFIG)")?;
    let config = Config::load(&path).map_err(|e| e.to_string())?;
    if config.mail.is_none() {
        return Err(format!(
            "{} has no [mail] section: no digest is sent",
            path.display()
        ));
    }
    super::runtime()?.block_on(async {
        let app = open_app(config, Arc::new(SystemClock), false)
            .await
            .map_err(|e| e.to_string())?;
        let result = match args.command {
            DigestCommand::List => list(&app).await,
            DigestCommand::Test { address } => test(&app, &address).await,
        };
        app.store.close().await;
        result
    })
}

async fn list(app: &crate::service::App) -> Result<(), String> {
    if app.digests.is_empty() {
        println!("no member has [members.digest] in the keys files");
        return Ok(());
    }
    println!(
        "{:<32} {:<36} {:<4} {:<18} waiting now",
        "member", "address", "lang", "last sent"
    );
    let today = app.clock.today();
    for to in &app.digests {
        let key = to.scope.member_key();
        let last = app
            .store
            .digest_slot(&key)
            .await
            .map_err(|e| e.to_string())?
            .unwrap_or_else(|| "-".into());
        let counts = digest::waiting(app, to, today)
            .await
            .map_err(|e| e.to_string())?;
        println!(
            "{:<32} {:<36} {:<4} {:<18} {}",
            super::one(&key),
            super::one(to.email.as_ref()),
            match to.lang {
                MailLang::Id => "id",
                MailLang::En => "en",
            },
            super::one(&last),
            counts.total()
        );
    }
    Ok(())
}

async fn test(app: &crate::service::App, address: &str) -> Result<(), String> {
    let Some(mail) = app.config.mail.clone() else {
        return Err("no [mail] section".into());
    };
    let to: lettre::Address = address
        .parse()
        .map_err(|_| format!("{:?} is not an e-mail address", super::one(address)))?;
    let message = crate::notify::mail::test_message(&mail, to).map_err(|e| e.to_string())?;
    let transport = crate::notify::mail::transport(&mail).map_err(|e| e.to_string())?;
    let sent = tokio::task::spawn_blocking(move || lettre::Transport::send(&transport, &message))
        .await
        .map_err(|e| e.to_string())?;
    match sent {
        Ok(r) => {
            println!(
                "sent: the relay {}:{} answered {}",
                super::one(&mail.smtp_host),
                mail.smtp_port,
                super::one(&r.message().collect::<Vec<_>>().join(" "))
            );
            Ok(())
        }
        Err(e) => Err(format!(
            "not sent through {}:{}: {e}",
            mail.smtp_host, mail.smtp_port
        )),
    }
}
