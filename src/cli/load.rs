//! `bisik bench load`: a load generator against a real server on loopback. It creates a
//! throw-away demo folder, optionally seeds it with many cases, starts `bisik serve` as a child
//! process (so its peak memory can be read), and drives N concurrent simulated citizens and
//! members through each flow for a fixed time. It prints a table and JSON, and compares the
//! Argon2id-bound flows to the ceiling measured on this machine with the same parameters.

use std::path::Path;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::load_cpu::{CpuProbe, CpuProber};
use super::load_parts::Parts;
use super::load_stalls::{DiskProbe, Prober, Stall, epoch, stalls};
use crate::crypto::kdf::KdfParams;

/// One flow at one concurrency.
#[derive(Debug, Clone, Serialize)]
pub struct FlowResult {
    pub clients: usize,
    pub flow: &'static str,
    pub requests: usize,
    pub ok: usize,
    /// Turned away at once because too many were waiting for Argon2id.
    pub busy: usize,
    /// Successful requests per second; the percentiles are over successful requests.
    pub per_second: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    /// Throughput over the Argon2id ceiling (the higher of the measurements just before and just
    /// after this flow), for flows that run one derivation per request.
    pub ratio_to_ceiling: Option<f64>,
    /// When the flow started, in seconds since the first server was started.
    pub started_s: f64,
    /// Stretches in which requests took over [`STALL_MS`], in order.
    pub stalls: Vec<Stall>,
    /// With `--probe-parts`, the members' flows: where their requests' time went.
    pub parts: Option<Parts>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CeilingAt {
    pub clients: usize,
    /// Before submit, after submit, after status, after reply.
    pub measured: Vec<f64>,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub kdf: KdfParams,
    /// Derivations per second on all cores, measured around each Argon2id-bound flow.
    pub ceilings: Vec<CeilingAt>,
    /// One derivation's p50; `None` when not measured (`--members-only`).
    pub kdf_p50_ms: Option<f64>,
    pub seeded_cases: usize,
    /// `bisik serve` instances the clients were spread over.
    pub instances: usize,
    pub attachment_kib: u64,
    pub max_waiting_submissions: Option<usize>,
    pub server_peak_rss_kib: Option<u64>,
    /// The paced member flows' interval per member (`--member-pace-ms`).
    pub member_pace_ms: Option<u128>,
    /// The data disk's sync latency beside the server (`--probe-disk`).
    pub disk_probe: Option<DiskProbe>,
    /// Late wake-ups and steal time beside the server (`--probe-cpu`).
    pub cpu_probe: Option<CpuProbe>,
    pub results: Vec<FlowResult>,
}

#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub clients: Vec<usize>,
    pub seconds: u64,
    pub seed: usize,
    pub attachment_kib: u64,
    pub kdf: KdfParams,
    /// `rate.max_waiting_submissions` for the server; default: enough that nothing is shed.
    pub max_waiting: Option<usize>,
    /// Every member has a post-quantum key: every case is sealed post-quantum.
    pub pq: bool,
    /// PostgreSQL instead of SQLite.
    pub database_url: Option<String>,
    /// `bisik serve` instances on the one database; clients spread over them.
    pub instances: usize,
    /// Only the members' flows.
    pub members_only: bool,
    /// The server, not the seeder, moves the seed's citizens' actions into the audit chain.
    pub leave_backlog: bool,
    /// Members send one request per this interval (open loop) instead of back to back.
    pub member_pace: Option<Duration>,
    /// With a pace, only the paced member flows: none back to back just before them.
    pub paced_only: bool,
    /// Run in this folder and keep it (with its seed) for the next run, instead of a
    /// throw-away one.
    pub dir: Option<std::path::PathBuf>,
    /// Sync a small write to the data folder's disk every 20 ms while the flows run.
    pub probe_disk: bool,
    /// Note late wake-ups of a 1 ms sleep and the hypervisor's steal while the flows run.
    pub probe_cpu: bool,
    /// Split each member request's time into its parts (`web::timing`).
    pub probe_parts: bool,
}

pub(super) struct ServerChild(pub(super) Child);

impl Drop for ServerChild {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(super) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into()
}

/// Starts `exe serve --config config` on a free loopback port (quiet) and waits until it
/// answers; returns the running child (killed when dropped) and its base URL.
pub(super) fn spawn_server(exe: &Path, config: &Path) -> Result<(ServerChild, String), String> {
    spawn_server_with(exe, config, &[])
}

/// [`spawn_server`], with these variables in the server's environment.
fn spawn_server_with(
    exe: &Path,
    config: &Path,
    env: &[(&str, &str)],
) -> Result<(ServerChild, String), String> {
    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    epoch();
    // `BISIK_BENCH_SERVER_LOG=FILE`: the servers' logs (at `BISIK_LOG`, default `info`) are
    // appended to FILE, to see what a server was doing during a slow stretch.
    let (log, level) = match std::env::var_os("BISIK_BENCH_SERVER_LOG") {
        Some(path) => (
            std::process::Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| format!("server log: {e}"))?,
            ),
            std::env::var("BISIK_LOG").unwrap_or_else(|_| "info".into()),
        ),
        None => (std::process::Stdio::null(), "warn".into()),
    };
    let child = Command::new(exe)
        .args(["serve", "--config"])
        .arg(config)
        .env("BISIK_LISTEN", format!("127.0.0.1:{port}"))
        .env("BISIK_LOG", level)
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| e.to_string())?;
    let server = ServerChild(child);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while agent().get(format!("{base}/healthz")).call().is_err() {
        if std::time::Instant::now() > deadline {
            return Err("the server did not start".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok((server, base))
}

pub(super) fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

pub(super) fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

pub(super) fn percentile(sorted: &[Duration], q: f64) -> f64 {
    sorted
        .get(rank(sorted.len(), q))
        .map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

/// The index of quantile `q` among `len` sorted values (nearest rank).
pub(super) fn rank(len: usize, q: f64) -> usize {
    (len.saturating_sub(1) as f64 * q).round() as usize
}

pub(super) fn element(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let start = at + html[at..].find('>')? + 1;
    let end = start + html[start..].find('<')?;
    Some(html[start..end].to_owned())
}

pub(super) fn form(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

/// A citizen's form post that must answer with a 200 page containing `marker`.
pub(super) fn post_expecting_page(url: String, pairs: &[(&str, &str)], marker: &str) -> Outcome {
    let Ok(mut res) = agent()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .send(form(pairs))
    else {
        return Outcome::Failed;
    };
    let page = res.body_mut().read_to_string().unwrap_or_default();
    (res.status().as_u16() == 200 && page.contains(marker)).into()
}

pub(super) const REPORT: &[(&str, &str)] = &[
    ("kind", "complaint"),
    ("institution", "health"),
    ("category", "health"),
    ("title", "Load test report"),
    ("body", "A report written by the load generator."),
    ("privacy", "anonymous"),
];

/// What one request came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    Ok,
    /// Turned away at once with the "busy, nothing saved" page (load shedding).
    Busy,
    Failed,
}

impl From<bool> for Outcome {
    fn from(ok: bool) -> Self {
        if ok { Self::Ok } else { Self::Failed }
    }
}

/// Runs `work` from `clients` threads for `seconds`. Latencies are those of successful
/// requests; a client turned away busy waits 50 ms before it tries again, as a person would
/// (much longer, in truth).
pub(super) fn run_flow(
    clients: usize,
    seconds: u64,
    flow: &'static str,
    work: impl Fn(usize, usize) -> Outcome + Send + Sync + 'static,
) -> FlowResult {
    run_paced_flow(clients, seconds, None, flow, work)
}

/// [`run_flow`], and with `pace` each client sends a request every `pace` (the clients' first
/// requests spread evenly over one interval) rather than the next as soon as the last is
/// answered. A request's latency is then counted from when it was due, not from when it could
/// be sent: a server that falls behind shows the whole wait (no coordinated omission).
pub(super) fn run_paced_flow(
    clients: usize,
    seconds: u64,
    pace: Option<Duration>,
    flow: &'static str,
    work: impl Fn(usize, usize) -> Outcome + Send + Sync + 'static,
) -> FlowResult {
    run_flow_due(clients, seconds, pace, flow, move |c, n, _| work(c, n))
}

/// [`run_paced_flow`], telling `work` when its request was due (with a pace) or started.
pub(super) fn run_flow_due(
    clients: usize,
    seconds: u64,
    pace: Option<Duration>,
    flow: &'static str,
    work: impl Fn(usize, usize, Instant) -> Outcome + Send + Sync + 'static,
) -> FlowResult {
    let work = Arc::new(work);
    let stop = Arc::new(AtomicBool::new(false));
    let latencies: Arc<Mutex<Vec<(Instant, Duration)>>> = Arc::default();
    let (requests, busy) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let started = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let (work, stop, latencies, requests, busy) = (
                work.clone(),
                stop.clone(),
                latencies.clone(),
                requests.clone(),
                busy.clone(),
            );
            std::thread::spawn(move || {
                let mut n = 0;
                let mut mine = Vec::new();
                // With a pace: when this client's next request is due, and the pace.
                let mut due = pace.map(|p| (started + p.mul_f64(c as f64 / clients as f64), p));
                while !stop.load(Ordering::Relaxed) {
                    let t = match &mut due {
                        Some((due, p)) => {
                            let at = *due;
                            *due += *p;
                            std::thread::sleep(at.saturating_duration_since(Instant::now()));
                            if stop.load(Ordering::Relaxed) {
                                break;
                            }
                            at
                        }
                        None => Instant::now(),
                    };
                    match work(c, n, t) {
                        Outcome::Ok => mine.push((t, t.elapsed())),
                        Outcome::Busy => {
                            busy.fetch_add(1, Ordering::Relaxed);
                            std::thread::sleep(Duration::from_millis(50));
                        }
                        Outcome::Failed => {}
                    }
                    requests.fetch_add(1, Ordering::Relaxed);
                    n += 1;
                }
                latencies.lock().map(|mut l| l.extend(mine)).ok();
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let timed = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    let mut l: Vec<Duration> = timed.iter().map(|(_, l)| *l).collect();
    l.sort();
    let ok = l.len();
    let per_second = ok as f64 / elapsed;
    FlowResult {
        clients,
        flow,
        requests: requests.load(Ordering::Relaxed),
        ok,
        busy: busy.load(Ordering::Relaxed),
        per_second,
        p50_ms: percentile(&l, 0.5),
        p95_ms: percentile(&l, 0.95),
        p99_ms: percentile(&l, 0.99),
        ratio_to_ceiling: None,
        started_s: started.saturating_duration_since(epoch()).as_secs_f64(),
        stalls: stalls(timed),
        parts: None,
    }
}

pub fn run(opts: &LoadOptions) -> Result<Report, String> {
    let temp;
    let dir = match &opts.dir {
        Some(dir) => dir.as_path(),
        None => {
            temp = tempfile::tempdir().map_err(|e| e.to_string())?;
            temp.path()
        }
    };
    let seeded_cases = super::load_seed::prepare(dir, opts)?;
    let config_path = dir.join("bisik.toml");

    let kdf_p50_ms = if opts.members_only {
        0.0
    } else {
        eprintln!("measuring one Argon2id derivation…");
        super::bench::latency(opts.kdf, 10)?.0
    };
    // The ceiling is measured right before and right after each Argon2id-bound flow, and the
    // higher of the two is used: shared cloud cores drift by ±15% within minutes, and a ceiling
    // measured once at the start can flatter (or wrong) the server.
    let window = Duration::from_secs_f64((kdf_p50_ms / 1e3 * 12.0).max(1.0));
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut servers = Vec::new();
    let mut bases = Vec::new();
    let env: &[(&str, &str)] = if opts.probe_parts {
        &[(crate::web::timing::ENV, "1")]
    } else {
        &[]
    };
    for _ in 0..opts.instances.max(1) {
        let (server, base) = spawn_server_with(&exe, &config_path, env)?;
        servers.push(server);
        bases.push(base);
    }
    let bases = Arc::new(bases);
    let prober = opts
        .probe_disk
        .then(|| Prober::start(dir))
        .transpose()
        .map_err(|e| format!("disk probe: {e}"))?;
    let cpu_prober = opts.probe_cpu.then(CpuProber::start);

    let attachment: Arc<Vec<u8>> = Arc::new(
        (0..opts.attachment_kib * 1024)
            .map(|i| (i % 251) as u8)
            .collect(),
    );
    let receipts: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut results = Vec::new();
    let mut ceilings = Vec::new();
    for &n in &opts.clients {
        eprintln!("{n} clients…");
        if opts.members_only {
            results.extend(super::load_members::member_flows(
                n,
                opts,
                &dir.join("identities"),
                &bases,
            )?);
            continue;
        }
        // Measured before the first Argon2id-bound flow and after each of them.
        let mut measured = vec![super::bench::throughput(opts.kdf, window)?];
        let first = results.len();
        let (bs, r, a) = (bases.clone(), receipts.clone(), attachment.clone());
        results.push(run_flow(n, opts.seconds, "submit",  move |c, _| {
            let b = &bs[c % bs.len()];
            let res = if a.is_empty() {
                agent().post(format!("{b}/report?lang=en")).header("content-type", "application/x-www-form-urlencoded").send(form(REPORT))
            } else {
                let boundary = "----bisik-load";
                let mut body = Vec::new();
                for (k, v) in REPORT {
                    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
                }
                body.extend_from_slice(
                    format!("--{boundary}\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"f.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
                );
                body.extend_from_slice(&a);
                body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
                agent()
                    .post(format!("{b}/report?lang=en"))
                    .header("content-type", format!("multipart/form-data; boundary={boundary}"))
                    .send(&body[..])
            };
            let Ok(mut res) = res else { return Outcome::Failed };
            let html = res.body_mut().read_to_string().unwrap_or_default();
            match element(&html, "receipt") {
                Some(receipt) => {
                    r.lock().map(|mut v| v.push(receipt)).ok();
                    Outcome::Ok
                }
                None if html.contains("very busy") => Outcome::Busy,
                None => Outcome::Failed,
            }
        }));
        measured.push(super::bench::throughput(opts.kdf, window)?);
        let known: Arc<Vec<String>> =
            Arc::new(receipts.lock().map(|v| v.clone()).unwrap_or_default());
        if known.is_empty() {
            return Err("no submission succeeded".into());
        }
        let (bs, k) = (bases.clone(), known.clone());
        results.push(run_flow(n, opts.seconds, "status", move |c, i| {
            let b = &bs[c % bs.len()];
            let receipt = &k[(c * 7919 + i) % k.len()];
            post_expecting_page(
                format!("{b}/status?lang=en"),
                &[("receipt", receipt)],
                "id=\"report-title\"",
            )
        }));
        measured.push(super::bench::throughput(opts.kdf, window)?);
        let (bs, k) = (bases.clone(), known.clone());
        results.push(run_flow(n, opts.seconds, "reply", move |c, i| {
            let b = &bs[c % bs.len()];
            let receipt = &k[(c * 104_729 + i) % k.len()];
            post_expecting_page(
                format!("{b}/status/reply?lang=en"),
                &[
                    ("receipt", receipt),
                    ("message", "A reply from the load generator."),
                ],
                "Your message is saved.",
            )
        }));
        measured.push(super::bench::throughput(opts.kdf, window)?);
        for (i, r) in results[first..].iter_mut().enumerate() {
            r.ratio_to_ceiling = Some(r.per_second / measured[i].max(measured[i + 1]));
        }
        ceilings.push(CeilingAt {
            clients: n,
            measured,
        });
        results.extend(super::load_members::member_flows(
            n,
            opts,
            &dir.join("identities"),
            &bases,
        )?);
    }
    let server_peak_rss_kib = servers.iter().filter_map(|s| peak_rss_kib(s.0.id())).max();
    let disk_probe = prober.map(|p| p.finish(&mut results)).transpose()?;
    let cpu_probe = cpu_prober.map(|p| p.finish(&mut results)).transpose()?;
    drop(servers);
    Ok(Report {
        kdf: opts.kdf,
        ceilings,
        kdf_p50_ms: (!opts.members_only).then_some(kdf_p50_ms),
        seeded_cases,
        instances: opts.instances,
        attachment_kib: opts.attachment_kib,
        max_waiting_submissions: opts.max_waiting,
        server_peak_rss_kib,
        member_pace_ms: opts.member_pace.map(|p| p.as_millis()),
        disk_probe,
        cpu_probe,
        results,
    })
}

pub fn print(report: &Report) {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    if let Some(kdf_p50_ms) = report.kdf_p50_ms {
        println!(
            "Argon2id m={} KiB t={} p={}: {:.1} ms per derivation (p50, one core), {cores} cores; seeded cases: {}; instances: {}; attachment: {} KiB",
            report.kdf.memory_kib,
            report.kdf.iterations,
            report.kdf.parallelism,
            kdf_p50_ms,
            report.seeded_cases,
            report.instances,
            report.attachment_kib
        );
    } else {
        println!(
            "members' flows only (Argon2id not measured), {cores} cores; seeded cases: {}; instances: {}",
            report.seeded_cases, report.instances
        );
    }
    if let Some(ms) = report.member_pace_ms {
        println!("paced member flows: each member sends one request every {ms} ms");
    }
    for c in &report.ceilings {
        let m: Vec<String> = c.measured.iter().map(|x| format!("{x:.2}")).collect();
        println!(
            "ceiling at {:>2} clients, derivations/s before submit | status | reply | after: {}",
            c.clients,
            m.join(" | ")
        );
    }
    println!(
        "{:>7}  {:<19} {:>8} {:>8} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "clients",
        "flow",
        "requests",
        "ok",
        "busy",
        "ok/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "ceiling"
    );
    for r in &report.results {
        println!(
            "{:>7}  {:<19} {:>8} {:>8} {:>6} {:>9.2} {:>9.1} {:>9.1} {:>9.1} {:>9}",
            r.clients,
            r.flow,
            r.requests,
            r.ok,
            r.busy,
            r.per_second,
            r.p50_ms,
            r.p95_ms,
            r.p99_ms,
            r.ratio_to_ceiling
                .map_or_else(|| "-".into(), |x| format!("{:.0}%", x * 100.0))
        );
    }
    for r in report.results.iter().filter(|r| r.parts.is_some()) {
        println!("{} clients, {}:", r.clients, r.flow);
        super::load_parts::print(r);
    }
    super::load_stalls::print_stalls(&report.results);
    if let Some(probe) = &report.disk_probe {
        super::load_stalls::print_disk(probe);
    }
    if let Some(probe) = &report.cpu_probe {
        super::load_cpu::print_cpu(probe);
    }
    if let Some(kib) = report.server_peak_rss_kib {
        println!("server peak memory (VmHWM): {:.1} MiB", kib as f64 / 1024.0);
    }
    println!("{}", serde_json::to_string(report).unwrap_or_default());
}
