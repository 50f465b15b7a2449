//! `bisik bench load --probe-parts`: where each member request's time went.
//!
//! The servers are started with `BISIK_BENCH_PARTS=1` (`web::timing`): each member API response
//! then says how long the server had the request and how long each of Bisik's traced functions
//! ran inside it (its own time, without the traced functions it called). The members' flows
//! send their requests themselves, noting when each was due, sent, answered and read, so a
//! request's whole latency splits into parts that add up to it:
//!
//! - *waiting to send*: from when it was due until it was sent (the client thread waking late);
//! - *loopback and scheduling*: sent until the answer's headers came, less the server's own
//!   time (the kernel, hyper, the server's threads getting the CPU);
//! - one part per traced function (its own time, summed if it ran more than once);
//! - *server, untraced*: the server's time outside every traced function (routing, the JSON);
//!   negative when traced functions ran at the same time (a fetch reads the case's notes while
//!   its audit entry goes to disk), so that the parts still add up;
//! - *reading the answer*: the body read and decoded.
//!
//! For the requests over [`SLOW_MS`], each part's excess over its own median says which part
//! made it slow.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Serialize;

use super::load::{FlowResult, Outcome, rank};
use super::load_stalls::epoch;
use crate::web::timing;

/// A request over this many milliseconds is "slow" (the members' p99 target).
pub const SLOW_MS: f64 = 10.0;

/// How many of the slowest requests are kept whole.
const SLOWEST: usize = 10;

pub const LATE: &str = "waiting to send";
pub const WIRE: &str = "loopback and scheduling";
pub const UNTRACED: &str = "server, untraced";
pub const READ: &str = "reading the answer";

/// One request's parts, in milliseconds; they add up to `total_ms`.
#[derive(Debug, Clone, Serialize)]
pub struct RequestParts {
    /// When it was due, in seconds since the first server was started.
    pub at_s: f64,
    pub total_ms: f64,
    /// In order: [`LATE`], [`WIRE`], the traced functions (in the order they were opened),
    /// [`UNTRACED`], [`READ`].
    pub parts: Vec<(String, f64)>,
}

/// One part over a flow's requests.
#[derive(Debug, Clone, Serialize)]
pub struct PartStat {
    pub name: String,
    /// Requests it was in.
    pub count: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Of the requests over [`SLOW_MS`], in how many this part was the one most over its own
    /// median.
    pub blamed: usize,
}

/// A flow's requests, part by part.
#[derive(Debug, Clone, Serialize)]
pub struct Parts {
    pub requests: usize,
    /// Requests over [`SLOW_MS`].
    pub slow: usize,
    pub parts: Vec<PartStat>,
    /// The [`SLOWEST`] slowest requests, slowest first.
    pub slowest: Vec<RequestParts>,
}

/// The requests of one flow, as the members' threads send them.
#[derive(Debug, Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<RequestParts>>>);

impl Recorder {
    /// Sends `GET url` through `agent` (the member's own, which keeps its connection as the
    /// member client's does) with the member's `token`, due at `due`; reads the server's parts
    /// and decodes the body as `T`, and keeps the request's parts.
    pub(super) fn get<T: serde::de::DeserializeOwned>(
        &self,
        agent: &ureq::Agent,
        url: &str,
        token: &str,
        due: Instant,
    ) -> Outcome {
        let sent = Instant::now();
        let Ok(mut res) = agent
            .get(url)
            .header("Authorization", &format!("Bearer {token}"))
            .call()
        else {
            return Outcome::Failed;
        };
        let answered = Instant::now();
        let server = res
            .headers()
            .get(timing::HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(timing::parse_header);
        let ok = res.status().is_success() && res.body_mut().read_json::<T>().is_ok();
        let done = Instant::now();
        let Some(server) = server.filter(|_| ok) else {
            return Outcome::Failed;
        };
        let parts = split(due, sent, answered, done, &server);
        if let Ok(mut v) = self.0.lock() {
            v.push(RequestParts {
                at_s: due.saturating_duration_since(epoch()).as_secs_f64(),
                total_ms: ms(done - due),
                parts,
            });
        }
        Outcome::Ok
    }

    /// The flow's summary, and a fresh recorder for the next flow.
    pub(super) fn finish(&self, flow: &mut FlowResult) {
        let requests = self
            .0
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default();
        flow.parts = Some(summarise(requests));
    }
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// A request's parts from its four instants and the server's `total` and spans (ms).
fn split(
    due: Instant,
    sent: Instant,
    answered: Instant,
    done: Instant,
    server: &[(String, f64)],
) -> Vec<(String, f64)> {
    let total = server
        .iter()
        .find(|(n, _)| n == "total")
        .map_or(0.0, |(_, d)| *d);
    let mut spans: Vec<(String, f64)> = Vec::new();
    for (name, d) in server.iter().filter(|(n, _)| n != "total") {
        match spans.iter_mut().find(|(n, _)| n == name) {
            Some((_, sum)) => *sum += d,
            None => spans.push((name.clone(), *d)),
        }
    }
    let traced: f64 = spans.iter().map(|(_, d)| d).sum();
    let mut parts = vec![
        (LATE.to_owned(), ms(sent.saturating_duration_since(due))),
        (WIRE.to_owned(), ms(answered - sent) - total),
    ];
    parts.extend(spans);
    parts.push((UNTRACED.to_owned(), total - traced));
    parts.push((READ.to_owned(), ms(done - answered)));
    parts
}

/// Each part's percentiles over the flow, and which part made each slow request slow.
pub fn summarise(mut requests: Vec<RequestParts>) -> Parts {
    let mut by_part: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    // The parts in the order they first appear (the order of a request's life).
    let mut order: Vec<String> = Vec::new();
    for r in &requests {
        for (name, d) in &r.parts {
            if !order.contains(name) {
                order.push(name.clone());
            }
            by_part.entry(name).or_default().push(*d);
        }
    }
    for v in by_part.values_mut() {
        v.sort_by(f64::total_cmp);
    }
    let at = |v: &[f64], q: f64| v.get(rank(v.len(), q)).copied().unwrap_or(0.0);
    let median: BTreeMap<&str, f64> = by_part.iter().map(|(n, v)| (*n, at(v, 0.5))).collect();
    let mut blamed: BTreeMap<&str, usize> = BTreeMap::new();
    let mut slow = 0;
    for r in requests.iter().filter(|r| r.total_ms > SLOW_MS) {
        slow += 1;
        let most = r.parts.iter().max_by(|(a, da), (b, db)| {
            (da - median.get(a.as_str()).unwrap_or(&0.0))
                .total_cmp(&(db - median.get(b.as_str()).unwrap_or(&0.0)))
        });
        if let Some((name, _)) = most {
            *blamed.entry(name).or_default() += 1;
        }
    }
    let parts = order
        .iter()
        .map(|name| {
            let v = &by_part[name.as_str()];
            PartStat {
                name: name.clone(),
                count: v.len(),
                p50_ms: at(v, 0.5),
                p99_ms: at(v, 0.99),
                max_ms: v.last().copied().unwrap_or(0.0),
                blamed: blamed.get(name.as_str()).copied().unwrap_or(0),
            }
        })
        .collect();
    let n = requests.len();
    requests.sort_by(|a, b| b.total_ms.total_cmp(&a.total_ms));
    requests.truncate(SLOWEST);
    Parts {
        requests: n,
        slow,
        parts,
        slowest: requests,
    }
}

/// Prints a flow's parts under its row of the table.
pub fn print(flow: &FlowResult) {
    let Some(p) = &flow.parts else { return };
    println!(
        "    parts of {} requests (ms: p50 / p99 / max; over {SLOW_MS} ms: {}, most of their extra time in):",
        p.requests, p.slow
    );
    for s in &p.parts {
        println!(
            "      {:<36} {:>7.2} {:>7.2} {:>7.2}   {}",
            s.name, s.p50_ms, s.p99_ms, s.max_ms, s.blamed
        );
    }
    for r in p.slowest.iter().filter(|r| r.total_ms > SLOW_MS) {
        let parts: Vec<String> = r
            .parts
            .iter()
            .filter(|(_, d)| d.abs() >= 0.05)
            .map(|(n, d)| format!("{n} {d:.1}"))
            .collect();
        println!(
            "      at {:.1} s, {:.1} ms: {}",
            r.at_s,
            r.total_ms,
            parts.join(", ")
        );
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn request(total: f64, parts: &[(&str, f64)]) -> RequestParts {
        RequestParts {
            at_s: 0.0,
            total_ms: total,
            parts: parts.iter().map(|(n, d)| ((*n).to_owned(), *d)).collect(),
        }
    }

    #[test]
    fn a_requests_parts_add_up_to_its_latency() {
        let due = Instant::now();
        let sent = due + Duration::from_micros(300);
        let answered = sent + Duration::from_micros(5_000);
        let done = answered + Duration::from_micros(700);
        let server = [
            ("total".to_owned(), 4.0),
            ("authenticate".to_owned(), 0.5),
            ("append_audit_seen".to_owned(), 2.0),
            ("authenticate".to_owned(), 0.25),
        ];
        let parts = split(due, sent, answered, done, &server);
        let names: Vec<&str> = parts.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                LATE,
                WIRE,
                "authenticate",
                "append_audit_seen",
                UNTRACED,
                READ
            ]
        );
        let near = |a: f64, b: f64| (a - b).abs() < 1e-6;
        let v: Vec<f64> = parts.iter().map(|(_, d)| *d).collect();
        assert!(
            near(v[0], 0.3) && near(v[1], 1.0) && near(v[2], 0.75),
            "{v:?}"
        );
        assert!(
            near(v[3], 2.0) && near(v[4], 1.25) && near(v[5], 0.7),
            "{v:?}"
        );
        assert!(near(v.iter().sum(), ms(done - due)));
    }

    #[test]
    fn a_slow_request_is_blamed_on_the_part_most_over_its_median() {
        let mut requests: Vec<RequestParts> = (0..8)
            .map(|_| request(3.0, &[(WIRE, 0.5), ("query", 2.0), (READ, 0.5)]))
            .collect();
        // The query is the largest part of this slow request, but no slower than usual: the
        // wire's 9 ms over its median made it slow.
        requests.push(request(12.0, &[(WIRE, 9.5), ("query", 2.0), (READ, 0.5)]));
        requests.push(request(21.0, &[(WIRE, 0.5), ("query", 20.0), (READ, 0.5)]));
        // Exactly at the line: not slow.
        requests.push(request(
            SLOW_MS,
            &[(WIRE, 0.5), ("query", 9.0), (READ, 0.5)],
        ));
        let p = summarise(requests);
        assert_eq!((p.requests, p.slow), (11, 2));
        let blamed: Vec<(&str, usize)> = p
            .parts
            .iter()
            .map(|s| (s.name.as_str(), s.blamed))
            .collect();
        assert_eq!(blamed, [(WIRE, 1), ("query", 1), (READ, 0)]);
        let query = &p.parts[1];
        assert_eq!((query.p50_ms, query.max_ms), (2.0, 20.0));
        assert_eq!(p.slowest[0].total_ms, 21.0);
        assert_eq!(p.slowest.len(), SLOWEST);
    }
}
