//! `bisik bench desk`: the officers' desk over many cases — the inbox with its titles decrypted
//! on the officer's side, and a search over every decrypted case — against a real server on
//! loopback, through the same vault the desk uses. Prints a table and one JSON line.

use std::time::{Duration, Instant};

use crate::desk::vault::{InboxQuery, Vault};

use super::load;

/// Words the seeded titles draw from, so a search has some hits and many misses.
const WORDS: [&str; 8] = [
    "jalan",
    "puskesmas",
    "sekolah",
    "pungli",
    "banjir",
    "listrik",
    "sampah",
    "jembatan",
];

#[derive(Debug, serde::Serialize)]
pub struct DeskBench {
    pub cases: usize,
    pub inbox_first_page_cold_ms: f64,
    pub inbox_first_page_warm_ms: f64,
    pub inbox_1000_titles_cold_ms: f64,
    pub search_cold_ms: f64,
    pub search_warm_ms: f64,
    pub search_hits: usize,
    pub desk_peak_rss_kib: Option<u64>,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Seeds `n` cases at the health office, each a real report sealed to its readers (so the desk
/// has something to decrypt) with its own title.
fn seed(dir: &std::path::Path, n: usize) -> Result<(), String> {
    use crate::domain::case::new_case_id;
    use crate::domain::documents::{REPORT_TYPE, ReportDocument};
    use crate::store::NewCase;
    let config = crate::config::Config::load(&dir.join("bisik.toml")).map_err(|e| e.to_string())?;
    let directory =
        crate::config::keys::load_directory(&config.keys_dir).map_err(|e| e.to_string())?;
    let mut parties = directory.get("health").ok_or("no health office")?.readers();
    let reporter = age::x25519::Identity::generate().to_public();
    parties.push(crate::crypto::keys::PartyKeys::classic(reporter.clone()));
    let recipients = crate::crypto::keys::choose(&parties)
        .map_err(|e| e.to_string())?
        .recipients;
    let reporter = reporter.to_string();
    let today = config.time_zone.day_of(time::OffsetDateTime::now_utc());
    super::runtime()?.block_on(async {
        let store = config.open_store().await.map_err(|e| e.to_string())?;
        let mut done = 0;
        while done < n {
            let batch = (n - done).min(2000);
            let mut ids = Vec::with_capacity(batch);
            let mut contents = Vec::with_capacity(batch);
            for i in done..done + batch {
                let mut doc = ReportDocument::default();
                doc.doc_type = REPORT_TYPE.into();
                doc.version = 1;
                doc.kind = "complaint".into();
                doc.title = format!("Laporan {i} tentang {}", WORDS[i % WORDS.len()]);
                doc.body = format!(
                    "Warga melaporkan masalah {} di RT {} (nomor {i}).",
                    WORDS[(i / 8) % WORDS.len()],
                    i % 40
                );
                doc.privacy = "anonymous".into();
                let json = serde_json::to_vec(&doc).map_err(|e| e.to_string())?;
                contents.push(
                    crate::crypto::envelope::seal(&recipients, &json).map_err(|e| e.to_string())?,
                );
                ids.push(new_case_id().map_err(|e| e.to_string())?);
            }
            let cases: Vec<NewCase<'_>> = ids
                .iter()
                .zip(&contents)
                .enumerate()
                .map(|(i, (id, content))| {
                    let received_on = today - time::Duration::days(((done + i) % 700) as i64);
                    super::load_seed::seeded_case(id, done + i, received_on, &reporter, content)
                })
                .collect();
            store
                .insert_cases(&cases)
                .await
                .map_err(|e| e.to_string())?;
            done += batch;
        }
        store.close().await;
        Ok(())
    })
}

pub fn run(cases: usize) -> Result<DeskBench, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    super::demo::create(dir.path()).map_err(|e| e.to_string())?;
    eprintln!("seeding {cases} sealed cases…");
    seed(dir.path(), cases)?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let (_server, base) = load::spawn_server(&exe, &dir.path().join("bisik.toml"))?;
    let identity =
        crate::client::read_identity(&dir.path().join("identities/health-investigator.txt"))
            .map_err(|e| e.to_string())?;
    let mut vault = Vault::open(&base, identity, None).map_err(|e| e.to_string())?;
    let page = |v: &mut Vault, q: InboxQuery| -> Result<(Duration, usize), String> {
        let start = Instant::now();
        let (rows, _) = v.inbox(&q).map_err(|e| e.to_string())?;
        Ok((start.elapsed(), rows.len()))
    };
    let (first_cold, _) = page(&mut vault, InboxQuery::default())?;
    let (first_warm, _) = page(&mut vault, InboxQuery::default())?;
    // The newest 1,000 cases' titles (20 pages of 50), most of them not decrypted yet.
    let start = Instant::now();
    for p in 0..20 {
        page(
            &mut vault,
            InboxQuery {
                page: p,
                ..InboxQuery::default()
            },
        )?;
    }
    let thousand = start.elapsed();
    let search = InboxQuery {
        q: Some("pungli".into()),
        ..InboxQuery::default()
    };
    let (search_cold, hits) = page(&mut vault, search.clone())?;
    let (search_warm, _) = page(&mut vault, search)?;
    Ok(DeskBench {
        cases,
        inbox_first_page_cold_ms: ms(first_cold),
        inbox_first_page_warm_ms: ms(first_warm),
        inbox_1000_titles_cold_ms: ms(thousand),
        search_cold_ms: ms(search_cold),
        search_warm_ms: ms(search_warm),
        search_hits: hits,
        desk_peak_rss_kib: load::peak_rss_kib(std::process::id()),
    })
}
