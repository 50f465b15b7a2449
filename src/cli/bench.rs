//! `bisik bench kdf`: how long one receipt check's Argon2id takes on this machine, and how many
//! fit in a second using every core — the ceiling that receipt checks and submissions can reach.
//! The load generator and the other benchmarks (`bisik bench load|stats|desk`, modules `load`,
//! `bench_stats`, `bench_desk`) are built only with the `bench` feature (on by default, so
//! `bisik bench` works as BENCHMARKS.md documents; a production build can leave them out with
//! `--no-default-features`). `bench kdf` is always there: operators calibrate Argon2id with it.

use std::time::{Duration, Instant};

use clap::{Args, Subcommand};

use crate::config::Config;
use crate::crypto::kdf::{KdfParams, Scratch, derive_reporter_identity_with, new_salt};
use crate::service::kdf::KdfPool;

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Drive a real server on loopback with concurrent citizens and members (see BENCHMARKS.md).
    #[cfg(feature = "bench")]
    Load {
        /// Concurrent clients, one run each, e.g. 1,4,16,64.
        #[arg(long, value_delimiter = ',', default_value = "1,4,16")]
        clients: Vec<usize>,
        /// Seconds per flow and concurrency.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Seed the store with this many cases first.
        #[arg(long, default_value_t = 0)]
        seed: usize,
        /// Attach a file of this many KiB to every submission.
        #[arg(long, default_value_t = 0)]
        attachment_kib: u64,
        /// Argon2id memory (KiB) and passes for the run (default: production).
        #[arg(long)]
        kdf_memory_kib: Option<u32>,
        #[arg(long)]
        kdf_iterations: Option<u32>,
        /// The server's `rate.max_waiting_submissions` (production default 4); by default
        /// enough that no submission is shed, to measure throughput.
        #[arg(long)]
        max_waiting: Option<usize>,
        /// Give every member a post-quantum key, so every envelope is sealed post-quantum.
        #[arg(long)]
        pq: bool,
        /// Run on this PostgreSQL database (`postgres://…`, an empty one the bench may fill)
        /// instead of a SQLite file.
        #[arg(long)]
        database_url: Option<String>,
        /// Start this many `bisik serve` instances on the one database (PostgreSQL); clients
        /// are spread over them.
        #[arg(long, default_value_t = 1)]
        instances: usize,
        /// Only the members' list and fetch flows (no Argon2id-bound flows).
        #[arg(long)]
        members_only: bool,
        /// Leave the seed's citizens' actions waiting for the audit chain: the server moves
        /// them itself when it starts, while the flows run (a server back after days down).
        #[arg(long)]
        leave_backlog: bool,
        /// Each member sends one request every this many milliseconds (an open loop, as officers
        /// click) instead of the next as soon as the last is answered; latencies count from
        /// when a request was due, so a server that falls behind shows its queue.
        #[arg(long)]
        member_pace_ms: Option<u64>,
        /// With --member-pace-ms, only the paced member flows: none back to back just before
        /// them (the disk may still be writing back what those wrote when the paced ones begin)
        #[arg(long, requires = "member_pace_ms")]
        paced_only: bool,
        /// Run in this folder and keep it: created and seeded the first time, reused as it is
        /// (seed included) by later runs with the same --seed, --database-url and --pq.
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
        /// Beside the server, write 4 KiB and fdatasync it in the data folder every 20 ms, and
        /// say which slow stretches a slow sync of the disk overlapped.
        #[arg(long)]
        probe_disk: bool,
        /// Beside the server, sleep 1 ms in a loop and note late wake-ups, read the
        /// hypervisor's steal time every 250 ms, and say which slow stretches either overlapped.
        #[arg(long)]
        probe_cpu: bool,
        /// Split each member request's time into its parts: waiting to send, loopback and
        /// scheduling, each of the server's traced functions, the rest of the server's time,
        /// and reading the answer (the servers send their parts in a Server-Timing header).
        #[arg(long)]
        probe_parts: bool,
    },
    /// `/stats.json` over many seeded cases: counted for every request, then cached; alone and
    /// under concurrent clients, with receipt checks running meanwhile (see BENCHMARKS.md).
    #[cfg(feature = "bench")]
    Stats {
        /// Seed the store with this many cases first.
        #[arg(long, default_value_t = 100_000)]
        seed: usize,
        /// Concurrent clients fetching `/stats.json` in the flood.
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Seconds of flood.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Serve with this `bisik` binary instead (e.g. an older build, to compare); it is run
        /// without the settings it may not know (`[stats]`, `rate.stats_*`), once.
        #[arg(long)]
        server_bin: Option<std::path::PathBuf>,
    },
    /// The officers' desk over many sealed cases: inbox titles decrypted on the desk's side and
    /// a search over every decrypted case (see BENCHMARKS.md).
    #[cfg(feature = "bench")]
    Desk {
        /// Seed this many cases (sealed to the health office's readers).
        #[arg(long, default_value_t = 10_000)]
        cases: usize,
    },
    /// Envelope size and the time to seal and open one, classic and post-quantum, per number
    /// of recipients (one core, in-process).
    Envelope {
        /// Seals per measurement.
        #[arg(long, default_value_t = 200)]
        rounds: u32,
    },
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
        #[cfg(feature = "bench")]
        BenchCommand::Load {
            clients,
            seconds,
            seed,
            attachment_kib,
            kdf_memory_kib,
            kdf_iterations,
            max_waiting,
            pq,
            database_url,
            instances,
            members_only,
            leave_backlog,
            member_pace_ms,
            paced_only,
            dir,
            probe_disk,
            probe_cpu,
            probe_parts,
        } => {
            if instances > 1 && database_url.is_none() {
                return Err(
                    "--instances needs --database-url (several instances share PostgreSQL)".into(),
                );
            }
            let d = KdfParams::default();
            let kdf = KdfParams {
                memory_kib: kdf_memory_kib.unwrap_or(d.memory_kib),
                iterations: kdf_iterations.unwrap_or(d.iterations),
                parallelism: d.parallelism,
            };
            kdf.validate().map_err(|e| e.to_string())?;
            let opts = super::load::LoadOptions {
                clients,
                seconds: seconds.max(1),
                seed,
                attachment_kib,
                kdf,
                max_waiting,
                pq,
                database_url,
                instances: instances.max(1),
                members_only,
                leave_backlog,
                member_pace: member_pace_ms
                    .filter(|&ms| ms > 0)
                    .map(Duration::from_millis),
                paced_only,
                dir,
                probe_disk,
                probe_cpu,
                probe_parts,
            };
            super::load::print(&super::load::run(&opts)?);
            Ok(())
        }
        #[cfg(feature = "bench")]
        BenchCommand::Stats {
            seed,
            clients,
            seconds,
            server_bin,
        } => {
            let runs = super::bench_stats::run(seed, clients.max(1), seconds.max(1), server_bin)?;
            for r in &runs {
                println!(
                    "{:<10} first {:>8.1} ms | alone p50 {:>8.1} p95 {:>8.1} ms | {} clients: {:>8.1}/s p50 {:>8.1} p95 {:>8.1} ms | receipt check alone p50 {:>7.1} ms, during flood p50 {:>7.1} p95 {:>7.1} ms ({} checks) | server peak {:.0} MiB",
                    r.mode,
                    r.first_ms,
                    r.alone_p50_ms,
                    r.alone_p95_ms,
                    r.flood.clients,
                    r.flood.per_second,
                    r.flood.p50_ms,
                    r.flood.p95_ms,
                    r.check_alone_p50_ms,
                    r.check_flood_p50_ms,
                    r.check_flood_p95_ms,
                    r.checks_during_flood,
                    r.server_peak_rss_kib.unwrap_or(0) as f64 / 1024.0
                );
            }
            println!("{}", serde_json::to_string(&runs).unwrap_or_default());
            Ok(())
        }
        #[cfg(feature = "bench")]
        BenchCommand::Desk { cases } => {
            let r = super::bench_desk::run(cases.max(1))?;
            println!(
                "{} cases | inbox first page: cold {:.0} ms, warm {:.1} ms | newest 1,000 titles (20 pages) cold {:.0} ms | search over all: cold {:.0} ms, warm {:.1} ms ({} hits on the first page) | desk peak memory {:.0} MiB",
                r.cases,
                r.inbox_first_page_cold_ms,
                r.inbox_first_page_warm_ms,
                r.inbox_1000_titles_cold_ms,
                r.search_cold_ms,
                r.search_warm_ms,
                r.search_hits,
                r.desk_peak_rss_kib.unwrap_or(0) as f64 / 1024.0
            );
            println!("{}", serde_json::to_string(&r).unwrap_or_default());
            Ok(())
        }
        BenchCommand::Envelope { rounds } => {
            let rows = super::bench_envelope::run(rounds)?;
            super::bench_envelope::print(&rows, super::bench_envelope::reporter_pq_key_us(rounds));
            Ok(())
        }
        BenchCommand::Kdf { config, rounds } => {
            let params = match config {
                Some(p) => Config::load(&p).map_err(|e| e.to_string())?.kdf,
                None => KdfParams::default(),
            };
            kdf(params, rounds.max(1))
        }
    }
}

/// One derivation as the server runs it: memory kept from the previous one (wiped in between).
fn one(scratch: &mut Scratch, params: &KdfParams) -> Result<Duration, String> {
    let salt = new_salt().map_err(|e| e.to_string())?;
    let start = Instant::now();
    derive_reporter_identity_with(scratch, b"1234567890123456", &salt, params)
        .map_err(|e| e.to_string())?;
    Ok(start.elapsed())
}

/// What Argon2id costs on this machine with some parameters.
#[derive(Debug, Clone, Copy)]
pub struct Ceiling {
    pub cores: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    /// Derivations per second with every core busy: the most any Argon2id-bound flow can do.
    pub per_second: f64,
}

/// One derivation at a time on one core: (p50, p95) in milliseconds.
pub fn latency(params: KdfParams, rounds: u32) -> Result<(f64, f64), String> {
    let mut scratch = Scratch::new();
    one(&mut scratch, &params)?; // warm up
    let mut times: Vec<Duration> = (0..rounds.max(1))
        .map(|_| one(&mut scratch, &params))
        .collect::<Result<_, _>>()?;
    times.sort();
    let p = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3;
    Ok((p(0.5), p(0.95)))
}

/// Derivations per second through the server's own [`KdfPool`] (one per core at a time, on
/// the blocking pool) with twice as many callers as cores, for a fixed window. Each caller's
/// rate is its completions over the time they took, so a caller descheduled at the end of
/// the window does not understate the ceiling.
pub fn throughput(params: KdfParams, window: Duration) -> Result<f64, String> {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let pool = KdfPool::new(params, 1);
    super::runtime()?.block_on(async {
        let start = Instant::now();
        let callers: Vec<_> = (0..cores * 2)
            .map(|_| {
                let pool = pool.clone();
                tokio::spawn(async move {
                    let salt = new_salt().map_err(|e| e.to_string())?;
                    let mut n = 0u32;
                    while n == 0 || start.elapsed() < window {
                        pool.derive(b"1234567890123456", &salt, params)
                            .await
                            .map_err(|e| e.to_string())?;
                        n += 1;
                    }
                    Ok::<_, String>(f64::from(n) / start.elapsed().as_secs_f64())
                })
            })
            .collect();
        let mut sum = 0.0;
        for c in callers {
            sum += c.await.map_err(|e| e.to_string())??;
        }
        Ok(sum)
    })
}

pub fn measure(params: KdfParams, rounds: u32) -> Result<Ceiling, String> {
    let (p50_ms, p95_ms) = latency(params, rounds)?;
    let window = Duration::from_secs_f64((p50_ms / 1e3 * f64::from(rounds)).max(1.0));
    Ok(Ceiling {
        cores: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        p50_ms,
        p95_ms,
        per_second: throughput(params, window)?,
    })
}

fn kdf(params: KdfParams, rounds: u32) -> Result<(), String> {
    let Ceiling {
        cores,
        p50_ms: p50,
        p95_ms: p95,
        per_second: per_sec,
    } = measure(params, rounds)?;
    let KdfParams {
        memory_kib: m,
        iterations: t,
        parallelism: par,
    } = params;
    let implementation = crate::crypto::kdf::implementation();
    println!("implementation: {implementation}");
    println!(
        "argon2id m={m} KiB t={t} p={par}: one core p50 {p50:.1} ms, p95 {p95:.1} ms; {cores} cores: {per_sec:.2} derivations/s"
    );
    println!(
        "{}",
        serde_json::json!({
            "implementation": implementation,
            "backend": argon2_rust::detected_backend().name(),
            "cpu_features": crate::crypto::kdf::cpu_features(),
            "memory_kib": m,
            "iterations": t,
            "parallelism": par,
            "p50_ms": (p50 * 100.0).round() / 100.0,
            "p95_ms": (p95 * 100.0).round() / 100.0,
            "cores": cores,
            "per_second": (per_sec * 100.0).round() / 100.0,
        })
    );
    Ok(())
}
