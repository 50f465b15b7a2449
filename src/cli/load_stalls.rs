//! Where `bisik bench load`'s slow requests were: requests over [`STALL_MS`] grouped into
//! stalls on the bench's clock, and (`--probe-disk`) a probe that syncs a small write to the
//! data disk every 20 ms beside the server, so a stall can be laid beside the disk's own
//! latency at that moment.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::load::FlowResult;

/// A request slower than this counts towards a [`Stall`] (the members' p99 target is 10 ms).
pub const STALL_MS: f64 = 25.0;

/// Slow requests close together: those due within [`STALL_GAP`] of the end of the last one.
#[derive(Debug, Clone, Serialize)]
pub struct Stall {
    /// When the first slow request was due, in seconds since the first server was started
    /// (so stalls can be laid beside the server's periodic work).
    pub at_s: f64,
    /// From the first slow request's due time to the last one's answer.
    pub lasted_ms: f64,
    pub requests: usize,
    pub worst_ms: f64,
    /// With `--probe-disk`: the slowest of the probe's syncs that overlapped this stall.
    pub disk_sync_ms: Option<f64>,
    /// With `--probe-cpu`: how late the latest-waking of the CPU probe's naps that overlapped
    /// this stall woke (only naps noticeably late are kept: see `load_cpu`).
    pub woken_late_ms: Option<f64>,
    /// With `--probe-cpu`: the largest share of CPU time stolen by the hypervisor in a window
    /// that overlapped this stall.
    pub steal_pct: Option<f64>,
}

impl Stall {
    /// Whether something that began `from` and ended `to` (seconds on the bench's clock)
    /// overlapped this stall.
    pub(super) fn overlaps(&self, from: f64, to: f64) -> bool {
        from <= self.at_s + self.lasted_ms / 1e3 && to >= self.at_s
    }
}

/// A probe's thread beside the server: runs until told to stop, then hands back what it saw.
pub(super) struct Beside<T> {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<T>,
}

impl<T: Send + 'static> Beside<T> {
    /// Runs `probe` on its own thread; it should return soon after its flag is set.
    pub(super) fn start(
        probe: impl FnOnce(&std::sync::atomic::AtomicBool) -> T + Send + 'static,
    ) -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || probe(&flag));
        Self { stop, thread }
    }

    /// Stops the probe and returns what it saw; `what` names it if it panicked.
    pub(super) fn stop(self, what: &str) -> Result<T, String> {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread
            .join()
            .map_err(|_| format!("the {what} probe panicked"))
    }
}

/// Slow requests further apart than this are two stalls.
const STALL_GAP: Duration = Duration::from_millis(200);

/// The moment the first server was started: the bench's clock for [`Stall::at_s`].
static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

pub(super) fn epoch() -> Instant {
    *EPOCH.get_or_init(Instant::now)
}

/// Groups the slow ones of `(due, latency)` into stalls.
pub(super) fn stalls(mut timed: Vec<(Instant, Duration)>) -> Vec<Stall> {
    let slow = Duration::from_secs_f64(STALL_MS / 1e3);
    timed.retain(|(_, l)| *l > slow);
    timed.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    // Each stall with its first due time and its last answer.
    let mut out: Vec<(Stall, Instant, Instant)> = Vec::new();
    for (due, latency) in timed {
        let end = due + latency;
        match out.last_mut() {
            Some((s, first, last)) if due <= *last + STALL_GAP => {
                *last = (*last).max(end);
                s.requests += 1;
                s.worst_ms = s.worst_ms.max(ms(latency));
                s.lasted_ms = ms(*last - *first);
            }
            _ => out.push((
                Stall {
                    at_s: due.saturating_duration_since(epoch()).as_secs_f64(),
                    lasted_ms: ms(latency),
                    requests: 1,
                    worst_ms: ms(latency),
                    disk_sync_ms: None,
                    woken_late_ms: None,
                    steal_pct: None,
                },
                due,
                end,
            )),
        }
    }
    out.into_iter().map(|(s, ..)| s).collect()
}

/// Where the slow requests were: up to ten stalls per flow (the JSON has them all).
pub(super) fn print_stalls(results: &[FlowResult]) {
    for r in results.iter().filter(|r| !r.stalls.is_empty()) {
        let shown: Vec<String> = r
            .stalls
            .iter()
            .take(10)
            .map(|s| {
                let beside: Vec<String> = [
                    s.disk_sync_ms.map(|d| format!("disk sync {d:.0} ms")),
                    s.woken_late_ms.map(|l| format!("woken {l:.0} ms late")),
                    s.steal_pct.map(|p| format!("steal {p:.0} %")),
                ]
                .into_iter()
                .flatten()
                .collect();
                let beside = if beside.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", beside.join(", "))
                };
                format!(
                    "{:.1} s: {} over {:.0} ms, worst {:.0} ms{beside}",
                    s.at_s, s.requests, s.lasted_ms, s.worst_ms
                )
            })
            .collect();
        let more = r.stalls.len().saturating_sub(10);
        println!(
            "  requests over {STALL_MS} ms in {} × {} (started at {:.1} s): {}{}",
            r.clients,
            r.flow,
            r.started_s,
            shown.join("; "),
            if more > 0 {
                format!("; {more} more")
            } else {
                String::new()
            }
        );
    }
}

/// A sync slower than this is a slow one for the report.
const SLOW_SYNC_MS: f64 = 10.0;

/// What the disk probe saw (`--probe-disk`).
#[derive(Debug, Clone, Serialize)]
pub struct DiskProbe {
    pub syncs: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Syncs over [`SLOW_SYNC_MS`]: when each started (seconds on the bench's clock) and took.
    pub slow: Vec<(f64, f64)>,
    /// Stalls (all flows) and how many of them a slow sync overlapped.
    pub stalls: usize,
    pub stalls_with_slow_sync: usize,
}

/// Writes 4 KiB and `fdatasync`s it every 20 ms in `dir` (the data folder's disk) until
/// stopped: what a commit's durable write costs on this disk at each moment, measured by a
/// process that is not the server.
pub(super) struct Prober(Beside<std::io::Result<Vec<(Instant, Duration)>>>);

impl Prober {
    pub(super) fn start(dir: &std::path::Path) -> std::io::Result<Self> {
        use std::io::{Seek as _, Write as _};
        let mut file = std::fs::File::create(dir.join("bench-disk-probe"))?;
        Ok(Self(Beside::start(move |stopped| {
            let block = [0x5a_u8; 4096];
            let mut syncs = Vec::new();
            while !stopped.load(std::sync::atomic::Ordering::Relaxed) {
                let t = Instant::now();
                file.seek(std::io::SeekFrom::Start((syncs.len() % 256) as u64 * 4096))?;
                file.write_all(&block)?;
                file.sync_data()?;
                syncs.push((t, t.elapsed()));
                std::thread::sleep(Duration::from_millis(20));
            }
            Ok(syncs)
        })))
    }

    /// Stops the probe and lays its syncs beside every flow's stalls.
    pub(super) fn finish(self, results: &mut [FlowResult]) -> Result<DiskProbe, String> {
        let syncs = self
            .0
            .stop("disk")?
            .map_err(|e| format!("disk probe: {e}"))?;
        Ok(disk_probe(&syncs, results))
    }
}

fn disk_probe(syncs: &[(Instant, Duration)], results: &mut [FlowResult]) -> DiskProbe {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let at = |t: Instant| t.saturating_duration_since(epoch()).as_secs_f64();
    let mut stalls = 0;
    let mut with_slow = 0;
    for stall in results.iter_mut().flat_map(|r| r.stalls.iter_mut()) {
        stall.disk_sync_ms = syncs
            .iter()
            .filter(|(t, d)| stall.overlaps(at(*t), at(*t) + d.as_secs_f64()))
            .map(|(_, d)| ms(*d))
            .reduce(f64::max);
        stalls += 1;
        with_slow += usize::from(stall.disk_sync_ms.is_some_and(|d| d >= SLOW_SYNC_MS));
    }
    let mut sorted: Vec<Duration> = syncs.iter().map(|(_, d)| *d).collect();
    sorted.sort();
    DiskProbe {
        syncs: sorted.len(),
        p50_ms: super::load::percentile(&sorted, 0.5),
        p99_ms: super::load::percentile(&sorted, 0.99),
        max_ms: sorted.last().map_or(0.0, |d| ms(*d)),
        slow: syncs
            .iter()
            .filter(|(_, d)| ms(*d) >= SLOW_SYNC_MS)
            .map(|(t, d)| (at(*t), ms(*d)))
            .collect(),
        stalls,
        stalls_with_slow_sync: with_slow,
    }
}

pub(super) fn print_disk(probe: &DiskProbe) {
    let slow: Vec<String> = probe
        .slow
        .iter()
        .map(|(at, ms)| format!("{at:.1} s {ms:.0} ms"))
        .collect();
    println!(
        "disk probe (4 KiB + fdatasync every 20 ms beside the server): {} syncs, p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms; over {SLOW_SYNC_MS} ms: {}",
        probe.syncs,
        probe.p50_ms,
        probe.p99_ms,
        probe.max_ms,
        if slow.is_empty() {
            "none".into()
        } else {
            slow.join(", ")
        }
    );
    println!(
        "stalls a slow disk sync overlapped: {} of {}",
        probe.stalls_with_slow_sync, probe.stalls
    );
}

/// A paced flow with three stalls: 100 ms at 1 s, 40 ms at 5 s and 40 ms at 9 s on the bench's
/// clock (for the probes' tests).
#[cfg(test)]
pub(super) fn three_stalls() -> FlowResult {
    let t0 = epoch();
    let ms = Duration::from_millis;
    FlowResult {
        clients: 16,
        flow: "member fetch, paced",
        requests: 0,
        ok: 0,
        busy: 0,
        per_second: 0.0,
        p50_ms: 0.0,
        p95_ms: 0.0,
        p99_ms: 0.0,
        ratio_to_ceiling: None,
        started_s: 0.0,
        stalls: stalls(vec![
            (t0 + ms(1000), ms(100)),
            (t0 + ms(5000), ms(40)),
            (t0 + ms(9000), ms(40)),
        ]),
        parts: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_requests_close_together_are_one_stall() {
        let t0 = epoch();
        let ms = Duration::from_millis;
        let timed = vec![
            (t0 + ms(1300), ms(30)),
            (t0 + ms(1000), ms(5)),
            (t0 + ms(1000), ms(100)),
            (t0 + ms(1050), ms(60)),
            (t0 + ms(5000), ms(40)),
            (t0 + ms(6000), ms(25)),
        ];
        let s = stalls(timed);
        assert_eq!(s.len(), 2, "{s:?}");
        // 1,300 ms is due within 200 ms of the answer at 1,110 ms: the same stall.
        assert_eq!((s[0].at_s, s[0].requests), (1.0, 3));
        assert!((s[0].worst_ms - 100.0).abs() < 1e-9);
        assert!((s[0].lasted_ms - 330.0).abs() < 1e-9);
        assert_eq!((s[1].at_s, s[1].requests), (5.0, 1));
        // Exactly the threshold is not slow.
        assert!(s.iter().all(|s| s.at_s < 6.0));
    }

    #[test]
    fn a_stall_is_laid_beside_the_disk_syncs_that_overlapped_it() {
        let t0 = epoch();
        let ms = Duration::from_millis;
        let mut results = vec![three_stalls()];
        let syncs = [
            (t0 + ms(500), ms(2)),
            (t0 + ms(1050), ms(40)),
            (t0 + ms(1080), ms(3)),
            // Began before the stall and still running when it began.
            (t0 + ms(4990), ms(12)),
            (t0 + ms(9010), ms(1)),
        ];
        let probe = disk_probe(&syncs, &mut results);
        // Whole milliseconds: the values went through f64 seconds.
        let whole = |x: f64| (x * 1e3).round() as i64;
        let disk: Vec<Option<i64>> = results[0]
            .stalls
            .iter()
            .map(|s| s.disk_sync_ms.map(|d| whole(d / 1e3)))
            .collect();
        assert_eq!(disk, [Some(40), Some(12), Some(1)]);
        assert_eq!((probe.stalls, probe.stalls_with_slow_sync), (3, 2));
        assert_eq!(probe.syncs, 5);
        let slow: Vec<(i64, i64)> = probe
            .slow
            .iter()
            .map(|&(at, ms)| (whole(at), whole(ms / 1e3)))
            .collect();
        assert_eq!(slow, [(1050, 40), (4990, 12)]);
        assert_eq!(whole(probe.max_ms / 1e3), 40);
    }
}
