//! Issue 11, items 5, 7 and 12: what the data folder reveals at rest (file modes, file times, the
//! WAL's write order) and what public statistics cost. Real `bisik serve` processes and the real
//! router, real SQLite; nothing mocked.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use common::*;

/// Every path under `dir` (folders too), `dir` first.
fn all_paths(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![dir.to_owned()];
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p.clone());
            }
            out.push(p);
        }
    }
    out
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

/// Paths whose mode is not 0700 (folders) or 0600 (files).
fn loose_modes(data: &Path) -> Vec<String> {
    all_paths(data)
        .into_iter()
        .filter_map(|p| {
            let want = if p.is_dir() { 0o700 } else { 0o600 };
            (mode(&p) != want).then(|| format!("{} is {:o}", p.display(), mode(&p)))
        })
        .collect()
}

/// A report with one attached file, sent as multipart to a real server; returns the receipt.
fn submit_with_file(base: &str) -> String {
    let fields = report_fields(&[]);
    let body = multipart(&fields, &[("note.txt", "text/plain", b"evidence at rest")]);
    let (status, page) = post_multipart(base, "/report?lang=en", body).expect("connected");
    assert_eq!(status, 200, "{page}");
    element_text(&page, "receipt").expect("receipt")
}

/// `bisik serve` with the data folder `data`, under umask 022 (the usual default).
fn serve_with_umask_022(fx: &Fixture, data: &Path) -> ServerProcess {
    ServerProcess::start_in(
        &["sh", "-c", "umask 022; exec \"$0\" \"$@\""],
        &fx.config_path,
        &[("BISIK_DATA_DIR", data.to_str().unwrap())],
    )
}

/// Item 12: the data folder is 0700 and every file the server writes in it 0600, whatever the
/// umask; a data folder made looser (by an older version, or by hand) is tightened at start.
#[test]
fn the_data_folder_and_its_files_are_private_whatever_the_umask() {
    if sqlite_only("the modes of bisik.sqlite and its WAL") {
        return;
    }
    let fx = Fixture::new(CHEAP_KDF);
    let data = fx.dir.path().join("data");
    let server = serve_with_umask_022(&fx, &data);
    submit_with_file(&server.base);
    let paths = all_paths(&data);
    let names: Vec<String> = paths
        .iter()
        .map(|p| p.strip_prefix(&data).unwrap().display().to_string())
        .collect();
    for expected in [
        "bisik.sqlite",
        "bisik.sqlite-wal",
        "bisik.sqlite-shm",
        "blobs",
        "blobs/tmp",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    assert!(
        names.iter().any(|n| n.ends_with(".age")),
        "the attachment's blob is in {names:?}"
    );
    assert_eq!(loose_modes(&data), Vec::<String>::new());
    server.stop();

    // Loosened while stopped: tightened when the server starts again.
    for p in all_paths(&data) {
        let loose = if p.is_dir() { 0o755 } else { 0o644 };
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(loose)).unwrap();
    }
    let server = serve_with_umask_022(&fx, &data);
    assert_eq!(loose_modes(&data), Vec::<String>::new());
    submit_with_file(&server.base);
    assert_eq!(loose_modes(&data), Vec::<String>::new());
    server.stop();
}

/// 00:00 UTC of the deployment's current day (the demo's zone, Asia/Jakarta), as unix seconds.
fn midnight_now() -> i64 {
    let day = bisik::domain::clock::Zone::default().day_of(time::OffsetDateTime::now_utc());
    day.midnight().assume_utc().unix_timestamp()
}

/// Which of `paths` (the data folder's) carry a time that is not 00:00 UTC of one of `days`, or
/// the order of recent writes (a WAL that is not empty). Only `stat`s: listing a folder would
/// itself set its access time.
fn what_narrows_below_the_day(data: &Path, paths: &[PathBuf], days: &[i64]) -> Vec<String> {
    let mut found = vec![];
    for p in paths {
        let m = std::fs::symlink_metadata(p).unwrap();
        for (what, t) in [("modified", m.mtime()), ("accessed", m.atime())] {
            if !days.contains(&t) {
                found.push(format!("{} {what} at {t}", p.display()));
            }
        }
    }
    let wal = data.join("bisik.sqlite-wal");
    if let Ok(m) = std::fs::metadata(&wal)
        && m.len() > 0
    {
        found.push(format!("the WAL holds {} bytes of frames", m.len()));
    }
    found
}

/// Page numbers SQLite's shared-memory WAL index (`-shm`) still lists, in frame order: the
/// first block's 4,028 entries, after the two 48-byte headers and the 40-byte checkpoint info.
fn pages_listed_in_shm(data: &Path) -> Vec<u32> {
    let shm = std::fs::read(data.join("bisik.sqlite-shm")).unwrap();
    shm[136..136 + 4 * 4028]
        .chunks_exact(4)
        .map(|b| u32::from_ne_bytes(b.try_into().unwrap()))
        .take_while(|&p| p != 0)
        .collect()
}

/// Item 5: a citizen's report with a file, between two timestamped member actions. Once the
/// WAL has been emptied (every `storage.wal_checkpoint_secs`), no file or folder time in the
/// data folder is anything but 00:00 UTC of the day, the WAL holds no frames, and its index
/// lists no write order beyond the one fixed row housekeeping writes (SECURITY.md, "File times
/// and write order": change and birth times, which Linux does not let a process set, remain).
#[test]
fn nothing_in_the_data_folder_narrows_a_submission_below_the_day() {
    if sqlite_only("SQLite's WAL and its index in the data folder") {
        return;
    }
    let fx = Fixture::new(&format!("{CHEAP_KDF}[storage]\nwal_checkpoint_secs = 1\n"));
    let data = fx.dir.path().join("data");
    let day_before = midnight_now();
    let server = ServerProcess::start(
        &fx.config_path,
        &[("BISIK_DATA_DIR", data.to_str().unwrap())],
    );
    let mut member =
        bisik::client::Client::new(&server.base, fx.identity("health-investigator"), None).unwrap();
    // Audited with their exact time: a login and a list, then the citizen, then a list again.
    member.login().unwrap();
    let list = bisik::client::ListFilter {
        limit: 50,
        ..Default::default()
    };
    member.list(&list).unwrap();
    submit_with_file(&server.base);
    assert_eq!(member.list(&list).unwrap().len(), 1);

    let paths = all_paths(&data);
    let deadline = Instant::now() + Duration::from_secs(30);
    let found = loop {
        let days = [day_before, midnight_now()];
        let found = what_narrows_below_the_day(&data, &paths, &days);
        if found.is_empty() || Instant::now() > deadline {
            break found;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(found, Vec::<String>::new());
    assert_eq!(all_paths(&data), paths, "nothing came or went meanwhile");
    let pages = pages_listed_in_shm(&data);
    assert!(
        pages.len() <= 1,
        "the WAL index still lists the order of recent page writes: {pages:?}"
    );
    server.stop();
}

/// Item 7: `/stats`, `/stats.json` and `/stats.csv` are counted at most once per
/// `stats.cache_secs` (300 s by default, by the app's clock): a new case shows only once the
/// period is over.
#[tokio::test]
async fn statistics_are_counted_once_per_period() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, _app, clock) = fx.router().await;
    for _ in 0..5 {
        submit(&router, &[]).await;
    }
    let total = |r: &Reply| -> serde_json::Value {
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["total"].clone()
    };
    assert_eq!(total(&send(&router, get("/stats.json")).await), 5);
    submit(&router, &[]).await;
    assert_eq!(
        total(&send(&router, get("/stats.json")).await),
        5,
        "a new case does not change the statistics before the period is over"
    );
    clock.advance(time::Duration::seconds(299));
    assert_eq!(total(&send(&router, get("/stats.json")).await), 5);
    clock.advance(time::Duration::seconds(2));
    assert_eq!(total(&send(&router, get("/stats.json")).await), 6);
    let csv = send(&router, get("/stats.csv")).await;
    assert!(
        csv.text().contains("total,all,,,6,false\n"),
        "{}",
        csv.text()
    );
}

/// Item 7: the statistics have a token bucket of their own (like receipt checks): once it is
/// used up, every statistics route answers 429, and receipt checks still answer.
#[tokio::test]
async fn statistics_are_rate_limited_apart_from_receipt_checks() {
    let fx = Fixture::new(&format!(
        "{CHEAP_KDF}[rate]\nstats_per_minute = 1\nstats_burst = 3\n"
    ));
    let (router, _app, _clock) = fx.router().await;
    let (receipt, _) = submit(&router, &[]).await;
    for path in ["/stats?lang=en", "/stats.json", "/stats.csv"] {
        assert_eq!(
            send(&router, get(path)).await.status,
            StatusCode::OK,
            "{path}"
        );
    }
    for path in ["/stats?lang=en", "/stats.json", "/stats.csv"] {
        let r = send(&router, get(path)).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{path}");
        assert_security_headers_present(&r, path);
    }
    status_page(&router, &receipt).await;
}

fn assert_security_headers_present(r: &Reply, what: &str) {
    assert_eq!(
        r.headers.get("cache-control").map(|v| v.to_str().unwrap()),
        Some("no-store"),
        "{what}"
    );
}
