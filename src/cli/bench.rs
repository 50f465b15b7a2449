//! `bisik bench kdf`: how long one receipt check's Argon2id takes on this machine, and how many
//! fit in a second using every core — the ceiling that receipt checks and submissions can reach.

use std::time::{Duration, Instant};

use clap::{Args, Subcommand};

use crate::config::Config;
use crate::crypto::kdf::{KdfParams, derive_reporter_identity, new_salt};

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Argon2id latency (one core) and throughput (all cores) with the configured parameters.
    Kdf {
        /// Read the parameters from this config file (default: the built-in defaults).
        #[arg(long)]
        config: Option<std::path::PathBuf>,
        /// Derivations per measurement.
        #[arg(long, default_value_t = 20)]
        rounds: u32,
    },
}

pub fn run(args: BenchArgs) -> Result<(), String> {
    match args.command {
        BenchCommand::Kdf { config, rounds } => {
            let params = match config {
                Some(p) => Config::load(&p).map_err(|e| e.to_string())?.kdf,
                None => KdfParams::default(),
            };
            kdf(params, rounds.max(1))
        }
    }
}

fn one(params: &KdfParams) -> Result<Duration, String> {
    let salt = new_salt().map_err(|e| e.to_string())?;
    let start = Instant::now();
    derive_reporter_identity(b"1234567890123456", &salt, params).map_err(|e| e.to_string())?;
    Ok(start.elapsed())
}

fn kdf(params: KdfParams, rounds: u32) -> Result<(), String> {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    one(&params)?; // warm up
    let mut times: Vec<Duration> = (0..rounds)
        .map(|_| one(&params))
        .collect::<Result<_, _>>()?;
    times.sort();
    let p = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    let start = Instant::now();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..cores)
            .map(|_| s.spawn(|| (0..rounds).try_for_each(|_| one(&params).map(|_| ()))))
            .collect();
        handles
            .into_iter()
            .try_for_each(|h| h.join().map_err(|_| "a thread panicked".to_owned())?)
    })?;
    let per_sec = f64::from(rounds) * cores as f64 / start.elapsed().as_secs_f64();
    let (p50, p95) = (p(0.5).as_secs_f64() * 1e3, p(0.95).as_secs_f64() * 1e3);
    let KdfParams {
        memory_kib: m,
        iterations: t,
        parallelism: par,
    } = params;
    println!(
        "argon2id m={m} KiB t={t} p={par}: one core p50 {p50:.1} ms, p95 {p95:.1} ms; {cores} cores: {per_sec:.2} derivations/s"
    );
    println!(
        "{{\"memory_kib\":{m},\"iterations\":{t},\"parallelism\":{par},\"p50_ms\":{p50:.2},\"p95_ms\":{p95:.2},\"cores\":{cores},\"per_second\":{per_sec:.2}}}"
    );
    Ok(())
}
