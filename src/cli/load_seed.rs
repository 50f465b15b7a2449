//! The folder `bisik bench load` runs in: the demo created, a store seeded with many cases,
//! and (`--dir`) kept with its seed for later runs.

use std::path::Path;

use serde::Serialize;

use super::load::LoadOptions;
use crate::crypto::kdf::KdfParams;
use crate::domain::case::{Kind, Privacy};
use crate::store::NewCase;

/// A seeded case of the load and desk benchmarks: an anonymous health complaint filed on the
/// web, the `n`-th of its seed (its lookup id: far from the random ones a load draws, and
/// unique within the seed).
pub(super) fn seeded_case<'a>(
    id: &'a str,
    n: usize,
    received_on: time::Date,
    reporter: &'a str,
    content: &'a [u8],
) -> NewCase<'a> {
    NewCase {
        id,
        lookup_id: u32::try_from(n).unwrap_or(0),
        institution: "health",
        kind: Kind::Complaint,
        category: Some("health"),
        privacy: Privacy::Anonymous,
        received_on,
        kdf_salt: &[0u8; 16],
        kdf: KdfParams::default(),
        reporter_recipient: reporter,
        reporter_pq_recipient: None,
        content,
        identity: None,
        due_on: None,
        channel: "web",
        attachments: &[],
    }
}

pub(super) fn seed(config_path: &Path, n: usize, leave_backlog: bool) -> Result<(), String> {
    use crate::domain::case::new_case_id;
    let config = crate::config::Config::load(config_path).map_err(|e| e.to_string())?;
    let rt = super::runtime()?;
    rt.block_on(async {
        let store = config.open_store().await.map_err(|e| e.to_string())?;
        // Realistic sizes: a padded 1 KiB report sealed to four readers and a reporter.
        let keys: Vec<crate::crypto::keys::Recipient> = (0..5)
            .map(|_| age::x25519::Identity::generate().to_public().into())
            .collect();
        let content = crate::crypto::envelope::seal(&keys, b"{}").map_err(|e| e.to_string())?;
        let recipient = keys[4].to_string();
        let today = config.time_zone.day_of(time::OffsetDateTime::now_utc());
        let mut done = 0;
        let mut collisions = 0;
        while done < n {
            let batch = (n - done).min(5000);
            let ids: Vec<String> = (0..batch)
                .map(|_| new_case_id().unwrap_or_default())
                .collect();
            let cases: Vec<NewCase<'_>> = ids
                .iter()
                .enumerate()
                .map(|(i, id)| {
                    let received_on = today - time::Duration::days((i % 700) as i64);
                    seeded_case(id, done + i, received_on, &recipient, &content)
                })
                .collect();
            // Eight characters from 30: among a million random ids two are likely to meet. The
            // batch is rolled back and drawn again (a live server draws again too).
            match store.insert_cases(&cases).await {
                Ok(()) => done += batch,
                Err(crate::store::StoreError::Conflict("case id")) if collisions < 100 => {
                    collisions += 1;
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        // A live server moves each day's citizens' actions into the audit chain the next day;
        // the seed's 700 days of them are moved now, so the measured server does not spend its
        // first minutes doing it (BENCHMARKS.md I).
        if !leave_backlog {
            eprintln!("moving the seeded citizens' actions into the audit chain…");
            store
                .flush_reporter_actions(today)
                .await
                .map_err(|e| e.to_string())?;
        }
        store.close().await;
        Ok(())
    })
}

/// What a kept bench folder (`--dir`) was seeded with, in `bench-seeded.json` beside its
/// config: a later run on the folder reuses the seed only for the same store and keys.
#[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
struct Seeded {
    cases: usize,
    database_url: Option<String>,
    pq: bool,
}

/// The demo folder the bench runs in: created (and seeded) unless `--dir` names one a
/// previous run left; its `bisik.toml` is written afresh from the demo's own
/// (`bisik.demo.toml`) and this run's settings. Returns the number of seeded cases.
pub(super) fn prepare(dir: &Path, opts: &LoadOptions) -> Result<usize, String> {
    let demo = dir.join("bisik.demo.toml");
    let config_path = dir.join("bisik.toml");
    let marker = dir.join("bench-seeded.json");
    if !demo.exists() {
        super::demo::create_with(dir, opts.pq).map_err(|e| e.to_string())?;
        std::fs::copy(&config_path, &demo).map_err(|e| e.to_string())?;
    }
    let max_clients = opts.clients.iter().copied().max().unwrap_or(1);
    let mut text = std::fs::read_to_string(&demo).map_err(|e| e.to_string())?;
    text.push_str(&format!(
        "\n[kdf]\nmemory_kib = {}\niterations = {}\nparallelism = {}\n\
         [rate]\nsubmissions_per_minute = 10000000\nsubmission_burst = 10000000\n\
         status_checks_per_minute = 10000000\nstatus_check_burst = 10000000\nmax_waiting_submissions = {}\n",
        opts.kdf.memory_kib,
        opts.kdf.iterations,
        opts.kdf.parallelism,
        opts.max_waiting.unwrap_or(max_clients * 2)
    ));
    if let Some(url) = &opts.database_url {
        text.push_str(&format!("[database]\nurl = \"{url}\"\npool_size = 16\n"));
    }
    std::fs::write(&config_path, text).map_err(|e| e.to_string())?;
    let wanted = Seeded {
        cases: opts.seed,
        database_url: opts.database_url.clone(),
        pq: opts.pq,
    };
    if let Ok(json) = std::fs::read_to_string(&marker) {
        let had: Seeded = serde_json::from_str(&json).map_err(|e| format!("{marker:?}: {e}"))?;
        if had == wanted {
            eprintln!("reusing {} seeded cases in {}", had.cases, dir.display());
            return Ok(had.cases);
        }
        return Err(format!(
            "{} was seeded with {had:?}, not {wanted:?}: use another --dir",
            dir.display()
        ));
    }
    if opts.seed > 0 {
        eprintln!("seeding {} cases…", opts.seed);
        seed(&config_path, opts.seed, opts.leave_backlog)?;
    }
    std::fs::write(
        &marker,
        serde_json::to_string(&wanted).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    Ok(opts.seed)
}
