//! `bisik bench load --probe-cpu`: was the machine running us when a stall happened?
//!
//! A thread beside the server sleeps 1 ms in a loop and notes how late it wakes, and every
//! 250 ms it reads the kernel's count of *steal* time (`/proc/stat`): time this virtual
//! machine's vCPUs were ready to run but the hypervisor ran someone else. A stall that a late
//! wake-up or a window of steal overlapped was (at least partly) the machine's, not the
//! server's. A late wake-up alone also counts the bench's own busy threads; steal does not.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::load::FlowResult;
use super::load_stalls::{Beside, epoch};

/// How long the probe sleeps between wake-ups.
const NAP: Duration = Duration::from_millis(1);
/// A wake-up this late (past the nap) is noted with its time.
const NOTED_LATE_MS: f64 = 5.0;
/// A wake-up this late counts as one that overlapped a stall.
const LATE_MS: f64 = 10.0;
/// How often steal time is read.
const STEAL_WINDOW: Duration = Duration::from_millis(250);
/// A steal window over this share counts as one that overlapped a stall.
const STEAL_PCT: f64 = 20.0;

/// What the scheduler probe saw.
#[derive(Debug, Clone, Serialize)]
pub struct CpuProbe {
    pub wakeups: usize,
    pub late_p50_ms: f64,
    pub late_p99_ms: f64,
    pub late_max_ms: f64,
    /// Steal as a share of all CPU time over the run; `None` where the kernel does not say.
    pub steal_pct: Option<f64>,
    /// Steal windows read. `stolen.len()` of these is the share of moments beside a window
    /// over [`STEAL_PCT`]; a stall spans one or more windows, so chance would put a somewhat
    /// larger share of stalls beside one.
    pub windows: usize,
    /// Windows of [`STEAL_WINDOW`] with more than [`STEAL_PCT`] stolen: start (seconds on the
    /// bench's clock) and share.
    pub stolen: Vec<(f64, f64)>,
    /// Stalls (all flows), those a wake-up [`LATE_MS`] late overlapped, those a steal window
    /// overlapped, and those either did.
    pub stalls: usize,
    pub stalls_with_late_wakeup: usize,
    pub stalls_with_steal: usize,
    pub stalls_with_either: usize,
}

/// The `cpu` line of `/proc/stat`: (steal, all) in clock ticks. Guest time is already counted
/// in user time, so it is left out of the sum.
fn steal_and_total(proc_stat: &str) -> Option<(u64, u64)> {
    let line = proc_stat.lines().find(|l| l.starts_with("cpu "))?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    // user nice system idle iowait irq softirq steal
    let steal = *ticks.get(7)?;
    Some((steal, ticks.iter().sum()))
}

fn read_steal() -> Option<(u64, u64)> {
    steal_and_total(&std::fs::read_to_string("/proc/stat").ok()?)
}

/// What the probe's thread collects.
#[derive(Default)]
struct Samples {
    /// Every wake-up's lateness in microseconds (four bytes each: about 12 MB for an hour).
    late_us: Vec<u32>,
    /// Wake-ups over [`NOTED_LATE_MS`]: when the nap began, and how late it ended.
    noted: Vec<(Instant, Duration)>,
    /// Steal windows: start, end, steal ticks, all ticks.
    windows: Vec<(Instant, Instant, u64, u64)>,
}

pub(super) struct CpuProber(Beside<Samples>);

impl CpuProber {
    pub(super) fn start() -> Self {
        Self(Beside::start(|stopped| {
            let mut s = Samples::default();
            let mut last = (Instant::now(), read_steal());
            while !stopped.load(std::sync::atomic::Ordering::Relaxed) {
                let t = Instant::now();
                std::thread::sleep(NAP);
                let late = t.elapsed().saturating_sub(NAP);
                s.late_us
                    .push(u32::try_from(late.as_micros()).unwrap_or(u32::MAX));
                if late.as_secs_f64() * 1e3 > NOTED_LATE_MS {
                    s.noted.push((t, late));
                }
                // Windows run from one reading to the next: the last, partial one is left out,
                // and so a stall in the run's last quarter-second has no steal beside it.
                if last.0.elapsed() >= STEAL_WINDOW {
                    let now = (Instant::now(), read_steal());
                    if let (Some((s0, t0)), Some((s1, t1))) = (last.1, now.1) {
                        s.windows.push((
                            last.0,
                            now.0,
                            s1.saturating_sub(s0),
                            t1.saturating_sub(t0),
                        ));
                    }
                    last = now;
                }
            }
            s
        }))
    }

    /// Stops the probe and lays what it saw beside every flow's stalls.
    pub(super) fn finish(self, results: &mut [FlowResult]) -> Result<CpuProbe, String> {
        Ok(cpu_probe(self.0.stop("CPU")?, results))
    }
}

fn cpu_probe(mut s: Samples, results: &mut [FlowResult]) -> CpuProbe {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let at = |t: Instant| t.saturating_duration_since(epoch()).as_secs_f64();
    let pct = |steal: u64, all: u64| {
        if all == 0 {
            0.0
        } else {
            steal as f64 * 100.0 / all as f64
        }
    };
    let (mut stalls, mut with_late, mut with_steal, mut with_either) = (0, 0, 0, 0);
    for stall in results.iter_mut().flat_map(|r| r.stalls.iter_mut()) {
        stall.woken_late_ms = s
            .noted
            .iter()
            .filter(|(t, late)| stall.overlaps(at(*t), at(*t) + (NAP + *late).as_secs_f64()))
            .map(|(_, late)| ms(*late))
            .reduce(f64::max);
        stall.steal_pct = s
            .windows
            .iter()
            .filter(|(a, b, ..)| stall.overlaps(at(*a), at(*b)))
            .map(|&(_, _, steal, all)| pct(steal, all))
            .reduce(f64::max);
        let late = stall.woken_late_ms.is_some_and(|l| l >= LATE_MS);
        let stolen = stall.steal_pct.is_some_and(|p| p > STEAL_PCT);
        stalls += 1;
        with_late += usize::from(late);
        with_steal += usize::from(stolen);
        with_either += usize::from(late || stolen);
    }
    s.late_us.sort_unstable();
    let late_ms = |q: f64| {
        let i = super::load::rank(s.late_us.len(), q);
        s.late_us.get(i).map_or(0.0, |&us| f64::from(us) / 1e3)
    };
    let (steal, all) = s
        .windows
        .iter()
        .fold((0, 0), |(a, b), w| (a + w.2, b + w.3));
    CpuProbe {
        wakeups: s.late_us.len(),
        late_p50_ms: late_ms(0.5),
        late_p99_ms: late_ms(0.99),
        late_max_ms: late_ms(1.0),
        steal_pct: (all > 0).then(|| pct(steal, all)),
        windows: s.windows.len(),
        stolen: s
            .windows
            .iter()
            .filter(|w| pct(w.2, w.3) > STEAL_PCT)
            .map(|w| (at(w.0), pct(w.2, w.3)))
            .collect(),
        stalls,
        stalls_with_late_wakeup: with_late,
        stalls_with_steal: with_steal,
        stalls_with_either: with_either,
    }
}

pub(super) fn print_cpu(probe: &CpuProbe) {
    let stolen: Vec<String> = probe
        .stolen
        .iter()
        .take(20)
        .map(|(at, pct)| format!("{at:.1} s {pct:.0} %"))
        .collect();
    let more = probe.stolen.len().saturating_sub(20);
    println!(
        "cpu probe (a 1 ms sleep in a loop beside the server): {} wake-ups, late p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms; steal {} of the run; {} of {} windows of {} ms over {STEAL_PCT} % stolen: {}{}",
        probe.wakeups,
        probe.late_p50_ms,
        probe.late_p99_ms,
        probe.late_max_ms,
        probe
            .steal_pct
            .map_or_else(|| "unknown".into(), |p| format!("{p:.1} %")),
        probe.stolen.len(),
        probe.windows,
        STEAL_WINDOW.as_millis(),
        if stolen.is_empty() {
            "none".into()
        } else {
            stolen.join(", ")
        },
        if more > 0 {
            format!("; {more} more")
        } else {
            String::new()
        }
    );
    println!(
        "stalls a wake-up {LATE_MS} ms late overlapped: {} of {}; stalls beside steal over {STEAL_PCT} %: {}; either: {}",
        probe.stalls_with_late_wakeup,
        probe.stalls,
        probe.stalls_with_steal,
        probe.stalls_with_either
    );
}

#[cfg(test)]
mod tests {
    use super::super::load_stalls::three_stalls;
    use super::*;

    #[test]
    fn steal_is_read_from_the_cpu_line() {
        let stat = "cpu  100 5 50 800 10 1 2 32 7 0\ncpu0 50 2 25 400 5 0 1 16 0 0\nintr 1\n";
        // The guest columns (7, 0) are left out: they are already in user time.
        assert_eq!(steal_and_total(stat), Some((32, 1000)));
        assert_eq!(steal_and_total("cpu0 1 2 3\n"), None);
        assert_eq!(steal_and_total("cpu  1 2 x 4 5 6 7 8\n"), None);
        // An old kernel without the steal column.
        assert_eq!(steal_and_total("cpu  1 2 3 4 5 6 7\n"), None);
    }

    #[test]
    fn a_stall_is_laid_beside_late_wake_ups_and_steal() {
        let t0 = epoch();
        let ms = Duration::from_millis;
        let mut results = vec![three_stalls()];
        // 98 naps on time, then 1, 6 and 30 ms late: p50 0, p99 6 ms (the 100th of 101).
        let mut late_us = vec![0; 98];
        late_us.extend([30_000, 1_000, 6_000]);
        let samples = Samples {
            late_us,
            noted: vec![
                // Woke 30 ms late inside the first stall.
                (t0 + ms(1020), ms(30)),
                // Began before the second stall and woke inside it, 6 ms late: noted, but
                // not late enough to count.
                (t0 + ms(4995), ms(6)),
            ],
            windows: vec![
                // The first stall is beside steal as well as a late wake-up: counted once in
                // "either".
                (t0 + ms(750), t0 + ms(1000), 0, 50),
                (t0 + ms(1000), t0 + ms(1250), 12, 50),
                // Exactly 20 % is not over 20 %.
                (t0 + ms(5000), t0 + ms(5250), 10, 50),
                // The third stall lies in a window with 15 of 50 ticks stolen.
                (t0 + ms(8750), t0 + ms(9000), 2, 50),
                (t0 + ms(9000), t0 + ms(9250), 15, 50),
            ],
        };
        let probe = cpu_probe(samples, &mut results);
        let whole = |x: Option<f64>| x.map(|x| x.round() as i64);
        let got: Vec<(Option<i64>, Option<i64>)> = results[0]
            .stalls
            .iter()
            .map(|s| (whole(s.woken_late_ms), whole(s.steal_pct)))
            .collect();
        assert_eq!(
            got,
            [(Some(30), Some(24)), (Some(6), Some(20)), (None, Some(30))]
        );
        assert_eq!(
            (
                probe.stalls,
                probe.stalls_with_late_wakeup,
                probe.stalls_with_steal,
                probe.stalls_with_either
            ),
            (3, 1, 2, 2)
        );
        assert_eq!(probe.wakeups, 101);
        assert_eq!(
            (probe.late_p50_ms, probe.late_p99_ms, probe.late_max_ms),
            (0.0, 6.0, 30.0)
        );
        // 39 of 250 ticks stolen over the run; two windows over 20 %.
        assert_eq!(whole(probe.steal_pct.map(|p| p * 10.0)), Some(156));
        assert_eq!((probe.stolen.len(), probe.windows), (2, 5));
        let starts: Vec<Option<i64>> = probe
            .stolen
            .iter()
            .map(|w| whole(Some(w.0 * 1e3)))
            .collect();
        assert_eq!(starts, [Some(1000), Some(9000)]);
    }
}
