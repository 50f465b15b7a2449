//! `bisik bench envelope`: what sealing to post-quantum keys costs next to classic ones — the
//! size of an envelope and the time to seal and open one, per number of recipients, and what
//! the reporter's second (post-quantum) key adds to a receipt's derivation. In-process, one
//! core, no server: the figures BENCHMARKS.md compares with the Argon2id ceiling.

use std::time::{Duration, Instant};

use crate::crypto::envelope;
use crate::crypto::keys::{Identity, KeyKind, Recipient};
use crate::crypto::pq::HybridIdentity;

/// One row: sealing a padded 1 KiB report to `recipients` keys of `kind`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EnvelopeRow {
    pub kind: &'static str,
    pub recipients: usize,
    pub bytes: usize,
    pub header_bytes: usize,
    pub seal_p50_us: f64,
    pub open_p50_us: f64,
}

fn median(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1e6
}

fn identity(kind: KeyKind) -> Identity {
    match kind {
        KeyKind::X25519 => age::x25519::Identity::generate().into(),
        KeyKind::Hybrid => HybridIdentity::generate().into(),
    }
}

/// Seals a 1 KiB report to 1, 3, 5 and 10 recipients of each kind, `rounds` times each; opens
/// it with the last recipient's key (the one age tries last).
pub fn run(rounds: u32) -> Result<Vec<EnvelopeRow>, String> {
    let rounds = rounds.max(3);
    let plaintext = vec![b'x'; 1000];
    let mut rows = Vec::new();
    for kind in [KeyKind::X25519, KeyKind::Hybrid] {
        for n in [1usize, 3, 5, 10] {
            let ids: Vec<Identity> = (0..n).map(|_| identity(kind)).collect();
            let to: Vec<Recipient> = ids.iter().map(Identity::to_public).collect();
            let mut seal_times = Vec::new();
            let mut open_times = Vec::new();
            let mut sealed = Vec::new();
            for _ in 0..rounds {
                let start = Instant::now();
                sealed = envelope::seal(&to, &plaintext).map_err(|e| e.to_string())?;
                seal_times.push(start.elapsed());
                let start = Instant::now();
                let last = ids.last().ok_or("no recipient")?;
                envelope::open(last, &sealed).map_err(|e| e.to_string())?;
                open_times.push(start.elapsed());
            }
            let header_bytes = sealed
                .windows(5)
                .position(|w| w == b"\n--- ")
                .map_or(0, |p| p + 1 + 47);
            rows.push(EnvelopeRow {
                kind: kind.as_str(),
                recipients: n,
                bytes: sealed.len(),
                header_bytes,
                seal_p50_us: median(seal_times),
                open_p50_us: median(open_times),
            });
        }
    }
    Ok(rows)
}

/// What the reporter's post-quantum key adds to a derivation: HKDF and the X-Wing key
/// generation from its seed (ML-KEM-768 and X25519), median over `rounds`, in microseconds.
pub fn reporter_pq_key_us(rounds: u32) -> f64 {
    let times = (0..rounds.max(3))
        .map(|i| {
            let seed = [u8::try_from(i % 251).unwrap_or(0); 32];
            let start = Instant::now();
            let id = HybridIdentity::from_seed(&seed);
            std::hint::black_box(id.to_public());
            start.elapsed()
        })
        .collect();
    median(times)
}

pub fn print(rows: &[EnvelopeRow], reporter_us: f64) {
    println!(
        "{:<15} {:>10} {:>10} {:>12} {:>12} {:>12}",
        "KIND", "RECIPIENTS", "BYTES", "HEADER", "SEAL P50 µs", "OPEN P50 µs"
    );
    for r in rows {
        println!(
            "{:<15} {:>10} {:>10} {:>12} {:>12.0} {:>12.0}",
            r.kind, r.recipients, r.bytes, r.header_bytes, r.seal_p50_us, r.open_p50_us
        );
    }
    println!("reporter's post-quantum key from its seed (per derivation): {reporter_us:.0} µs p50");
    for r in rows {
        println!("{}", serde_json::to_string(r).unwrap_or_default());
    }
}
