//! `bisik bench stats`: what public statistics cost over many cases, and what a flood of them
//! does to receipt checks (BENCHMARKS.md E). Part of the `bench` feature, like the load
//! generator it drives the server with.

use std::time::{Duration, Instant};

/// One server configuration measured by [`run`].
#[derive(Debug, serde::Serialize)]
pub struct StatsRun {
    /// "uncached" (`stats.cache_secs = 0`), "cached" (the default), or "as built".
    pub mode: &'static str,
    pub seeded_cases: usize,
    /// The first `/stats.json` after start (nothing cached yet).
    pub first_ms: f64,
    /// Sequential `/stats.json` requests, one client.
    pub alone_p50_ms: f64,
    pub alone_p95_ms: f64,
    pub flood: super::load::FlowResult,
    /// Receipt checks (production Argon2id) one after another: before the flood, and during it.
    pub check_alone_p50_ms: f64,
    pub check_flood_p50_ms: f64,
    pub check_flood_p95_ms: f64,
    pub checks_during_flood: usize,
    pub server_peak_rss_kib: Option<u64>,
}

/// Seeds `seed` cases once, then for each server configuration: start `bisik serve`, file one
/// report (for a receipt), time `/stats.json` alone and under `clients` concurrent clients while
/// one more client checks the receipt in a loop.
pub fn run(
    seed: usize,
    clients: usize,
    seconds: u64,
    server_bin: Option<std::path::PathBuf>,
) -> Result<Vec<StatsRun>, String> {
    use super::load::{self, Outcome};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    super::demo::create(dir.path()).map_err(|e| e.to_string())?;
    let config_path = dir.path().join("bisik.toml");
    let base_text = std::fs::read_to_string(&config_path).map_err(|e| e.to_string())?;
    let old_rates = "[rate]\nsubmissions_per_minute = 10000000\nsubmission_burst = 10000000\n\
                     status_checks_per_minute = 10000000\nstatus_check_burst = 10000000\n";
    let new_rates = "stats_per_minute = 10000000\nstats_burst = 10000000\n\
                     per_circuit_stats_per_minute = 10000000\nper_circuit_stats_burst = 10000000\n";
    let modes: Vec<(&'static str, String)> = match &server_bin {
        Some(_) => vec![("as built", format!("\n{old_rates}"))],
        None => vec![
            (
                "uncached",
                format!("\n{old_rates}{new_rates}[stats]\ncache_secs = 0\n"),
            ),
            ("cached", format!("\n{old_rates}{new_rates}")),
        ],
    };
    std::fs::write(&config_path, format!("{base_text}{}", modes[0].1))
        .map_err(|e| e.to_string())?;
    if seed > 0 {
        eprintln!("seeding {seed} cases…");
        super::load_seed::seed(&config_path, seed, false)?;
    }
    let exe = match server_bin {
        Some(p) => p,
        None => std::env::current_exe().map_err(|e| e.to_string())?,
    };
    let time_one = |url: &str| -> Result<Duration, String> {
        let start = Instant::now();
        let mut res = load::agent().get(url).call().map_err(|e| e.to_string())?;
        let _ = res.body_mut().read_to_string();
        if res.status().as_u16() != 200 {
            return Err(format!("{url} answered {}", res.status()));
        }
        Ok(start.elapsed())
    };
    let mut runs = Vec::new();
    for (mode, tail) in modes {
        std::fs::write(&config_path, format!("{base_text}{tail}")).map_err(|e| e.to_string())?;
        let (server, base) = load::spawn_server(&exe, &config_path)?;
        eprintln!("{mode}: filing one report for a receipt…");
        let mut res = load::agent()
            .post(format!("{base}/report?lang=en"))
            .header("content-type", "application/x-www-form-urlencoded")
            .send(load::form(load::REPORT))
            .map_err(|e| e.to_string())?;
        let page = res.body_mut().read_to_string().unwrap_or_default();
        let receipt = load::element(&page, "receipt").ok_or("no receipt")?;
        let check = {
            let (base, receipt) = (base.clone(), receipt.clone());
            move || {
                load::post_expecting_page(
                    format!("{base}/status?lang=en"),
                    &[("receipt", &receipt)],
                    "id=\"report-title\"",
                )
            }
        };
        let mut alone_checks = Vec::new();
        for _ in 0..5 {
            let start = Instant::now();
            if check() == Outcome::Ok {
                alone_checks.push(start.elapsed());
            }
        }
        alone_checks.sort();
        let url = format!("{base}/stats.json");
        eprintln!("{mode}: /stats.json alone…");
        let first = time_one(&url)?;
        let mut alone = (0..20)
            .map(|_| time_one(&url))
            .collect::<Result<Vec<_>, _>>()?;
        alone.sort();
        eprintln!("{mode}: {clients} clients for {seconds} s, with receipt checks…");
        let stop = Arc::new(AtomicBool::new(false));
        let checker = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut times = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let start = Instant::now();
                    if check() == Outcome::Ok {
                        times.push(start.elapsed());
                    }
                }
                times
            })
        };
        let flood_url = url.clone();
        let flood = load::run_flow(
            clients,
            seconds,
            "stats.json",
            move |_, _| match load::agent().get(&flood_url).call() {
                Ok(mut r) => {
                    let _ = r.body_mut().read_to_string();
                    (r.status().as_u16() == 200).into()
                }
                Err(_) => Outcome::Failed,
            },
        );
        stop.store(true, Ordering::Relaxed);
        let mut during = checker.join().unwrap_or_default();
        during.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        runs.push(StatsRun {
            mode,
            seeded_cases: seed,
            first_ms: ms(first),
            alone_p50_ms: load::percentile(&alone, 0.5),
            alone_p95_ms: load::percentile(&alone, 0.95),
            flood,
            check_alone_p50_ms: load::percentile(&alone_checks, 0.5),
            check_flood_p50_ms: load::percentile(&during, 0.5),
            check_flood_p95_ms: load::percentile(&during, 0.95),
            checks_during_flood: during.len(),
            server_peak_rss_kib: load::peak_rss_kib(server.0.id()),
        });
        drop(server);
    }
    Ok(runs)
}
