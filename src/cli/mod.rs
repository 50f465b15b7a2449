//! The `bisik` command line: parse → call → print. One file per command group.

pub mod audit;
pub mod bench;
#[cfg(feature = "bench")]
pub mod bench_desk;
pub mod bench_envelope;
#[cfg(feature = "bench")]
pub mod bench_stats;
pub mod case;
pub mod demo;
pub mod desk;
pub mod digest;
pub mod keygen;
#[cfg(feature = "bench")]
pub mod load;
#[cfg(feature = "bench")]
pub mod load_cpu;
#[cfg(feature = "bench")]
pub mod load_members;
#[cfg(feature = "bench")]
pub mod load_parts;
#[cfg(feature = "bench")]
pub mod load_seed;
#[cfg(feature = "bench")]
pub mod load_stalls;
pub mod purge;
pub mod serve;
pub mod webhooks;

use std::borrow::Cow;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::domain::text::{Lines, for_terminal};

#[derive(Debug, Parser)]
#[command(
    name = "bisik",
    version,
    about = "Bisik: encrypted public complaints and whistleblowing"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the service with a configuration file.
    Serve {
        /// The TOML configuration (see bisik.example.toml).
        #[arg(long, short, env = "BISIK_CONFIG")]
        config: PathBuf,
    },
    /// Run a demo: SQLite in a local folder, fresh demo member identities, demo institutions.
    Demo(demo::DemoArgs),
    /// Make a new age identity for a member (on their own computer); `--pq` for a post-quantum one.
    Keygen(keygen::KeygenArgs),
    /// Log in with your age identity; the session is cached (readable only by you).
    Login(case::MemberArgs),
    /// End your session on the server and forget it here.
    Logout(case::MemberArgs),
    /// Member commands: list, read, answer and move cases (decrypted on this machine).
    Case(Box<case::CaseArgs>),
    /// The officers' desk: a web interface on this computer (loopback only), decrypting here.
    Desk(desk::DeskArgs),
    /// Identity custodians: decide requests to reveal a confidential reporter's identity.
    Custody(Box<case::CustodyArgs>),
    /// Delete closed and archived cases past their institution's retention period.
    Purge(purge::PurgeArgs),
    /// Operator commands on the audit chain.
    Audit(audit::AuditArgs),
    /// Operator commands on webhook deliveries to institutions' systems.
    Webhooks(webhooks::WebhooksArgs),
    /// Operator commands on officers' digests by e-mail: who gets one, a test mail.
    Digest(digest::DigestArgs),
    /// Measurements (see BENCHMARKS.md).
    Bench(bench::BenchArgs),
}

/// Logs go to stderr; `BISIK_LOG` sets the filter (default `info`). No request data is logged
/// anywhere in the code, whatever the level.
pub fn init_logging() {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let filter = tracing_subscriber::EnvFilter::try_from_env("BISIK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"))
        // tower-http's debug/trace events include request paths; a mistyped URL could hold
        // anything, so they stay off whatever BISIK_LOG says.
        .add_directive("tower_http=warn".parse().unwrap_or_default());
    // `bisik bench load --probe-parts` times the spans of each member request (`web::timing`):
    // the filter then applies to the log alone, so that the timing layer sees Bisik's spans.
    #[cfg(feature = "bench")]
    if crate::web::timing::enabled() {
        use tracing_subscriber::Layer as _;
        let _ = tracing_subscriber::registry()
            .with(log_layer().with_filter(filter))
            .with(crate::web::timing::SpanTimes::layer())
            .try_init();
        return;
    }
    // Otherwise as ever: one filter for the whole subscriber.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(log_layer())
        .try_init();
}

/// The log's lines: to stderr, coloured on a terminal, without module names.
fn log_layer<S>() -> impl tracing_subscriber::Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve { config } => serve::run(&config),
        Command::Demo(args) => demo::run(args),
        Command::Keygen(args) => keygen::run(args),
        Command::Login(args) => case::login(args),
        Command::Logout(args) => case::logout(args),
        Command::Case(args) => case::run(*args),
        Command::Audit(args) => audit::run(args),
        Command::Purge(args) => purge::run(args),
        Command::Custody(args) => case::custody(*args),
        Command::Desk(args) => desk::run(args),
        Command::Webhooks(args) => webhooks::run(args),
        Command::Digest(args) => digest::run(args),
        Command::Bench(args) => bench::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bisik: {}", many(&message));
            ExitCode::FAILURE
        }
    }
}

/// Text from the server, a citizen or another member, made safe to print on one line: control
/// and format characters (ESC, CR, C1, bidi overrides, newlines…) shown as escapes.
pub(crate) fn one(text: &str) -> Cow<'_, str> {
    for_terminal(text, Lines::One)
}

/// The same for a text that may span lines (a report body, a message): newlines and tabs kept.
pub(crate) fn many(text: &str) -> Cow<'_, str> {
    for_terminal(text, Lines::Many)
}

/// A tokio runtime for the server commands.
fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))
}
