//! `bisik desk`: the officers' web interface on this computer (see `desk`).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::desk::{self, DeskOptions};
use crate::web::i18n::Lang;

#[derive(Debug, Args)]
pub struct DeskArgs {
    /// The Bisik server.
    #[arg(long, env = "BISIK_SERVER", default_value = "http://127.0.0.1:8080")]
    server: String,
    /// Your age identity file (plain, or protected with `age -p`).
    #[arg(long, short, env = "BISIK_IDENTITY")]
    identity: PathBuf,
    /// Reach the server through this proxy, e.g. socks5h://127.0.0.1:9050 for an onion service.
    #[arg(long)]
    proxy: Option<String>,
    /// Where the desk listens: loopback only; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: std::net::SocketAddr,
    /// Lock (drop the identity and every decrypted text) after this many idle minutes.
    #[arg(long, default_value_t = 15)]
    idle_lock_minutes: u64,
    /// The idle time in seconds instead (overrides the minutes; for trying the lock out).
    #[arg(long)]
    idle_lock_seconds: Option<u64>,
    /// Language of the pages: id (Bahasa Indonesia) or en.
    #[arg(long, default_value = "id")]
    lang: String,
    /// Do not open a browser; only print the address.
    #[arg(long)]
    no_browser: bool,
}

pub fn run(args: DeskArgs) -> Result<(), String> {
    super::init_logging();
    let opts = DeskOptions {
        server: args.server,
        identity_path: args.identity,
        proxy: args.proxy,
        listen: args.listen,
        idle_lock: Duration::from_secs(
            args.idle_lock_seconds
                .unwrap_or(args.idle_lock_minutes.saturating_mul(60))
                .max(1),
        ),
        lang: Lang::from_code(&args.lang).ok_or("--lang is id or en")?,
    };
    let no_browser = args.no_browser;
    super::runtime()?.block_on(desk::run(opts, |url| {
        println!("Bisik desk: open {url}");
        println!("(this address works once, in one browser; stop the desk with Ctrl-C)");
        if !no_browser {
            // The browser is the officer's own; if none can be started, the address is printed.
            let _ = std::process::Command::new("xdg-open")
                .arg(url)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn();
        }
    }))
}
