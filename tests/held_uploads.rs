//! Issue 13, item 4: no typing mistake may cost the upload. A report form with files that comes
//! back to be corrected keeps its files, sealed to a one-time key whose secret lives only in the
//! page; the corrected form brings them back without sending them again, and they are sealed
//! again for the case's readers. Real router, real store, real blob folder; the reference `age`
//! CLI proves custody; a real headless Chromium (JavaScript off) sends the form twice.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;

/// Rate limits out of the way (these tests send many forms).
const NO_RATE_LIMIT: &str = "[rate]\nsubmissions_per_minute = 100000\nsubmission_burst = 100000\n\
     status_checks_per_minute = 100000\nstatus_check_burst = 100000\n";

fn multipart_request(body: Vec<u8>) -> Request<Body> {
    Request::post("/report?lang=en")
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(body))
        .unwrap()
}

/// Sends the report form: `fields` (over the defaults), the hidden `held` field and ticked
/// "remove" boxes (before the files, as the page orders them), then `files`.
async fn send_form(
    router: &Router,
    fields: &[(&str, &str)],
    held: Option<&str>,
    drops: &[&str],
    files: &[(&str, &str, &[u8])],
) -> Reply {
    let mut all = report_fields(fields);
    if let Some(h) = held {
        all.push(("held", h));
    }
    for d in drops {
        all.push(("drop_held", d));
    }
    send(router, multipart_request(multipart(&all, files))).await
}

fn blob_files(data_dir: &Path) -> HashSet<PathBuf> {
    all_files(&data_dir.join("blobs"))
        .into_iter()
        .filter(|p| !p.starts_with(data_dir.join("blobs/tmp")))
        .collect()
}

async fn held_rows(fx: &Fixture) -> i64 {
    db_count(fx.data_dir(), "SELECT COUNT(*) FROM held_files")
}

async fn case_count(app: &bisik::service::App) -> i64 {
    app.store
        .count_by_state()
        .await
        .unwrap()
        .iter()
        .map(|(_, n)| n)
        .sum()
}

/// The names of the files the page lists as already received.
fn listed(html: &str) -> Vec<String> {
    let Some(start) = html.find("id=\"held-files\"") else {
        return vec![];
    };
    let end = start + html[start..].find("</ul>").unwrap();
    html[start..end]
        .split("<span class=\"file-name\">")
        .skip(1)
        .map(|s| s[..s.find('<').unwrap()].to_owned())
        .collect()
}

/// The value of the n-th (1-based) "remove this file" box of the page.
fn drop_tag(html: &str, n: usize) -> String {
    let at = html.find(&format!("id=\"drop-held-{n}\"")).unwrap();
    input_value(&html[at..], "drop_held").unwrap()
}

/// A member's view of a case's files through the API: (manifest JSON, file bytes), in order.
async fn member_files(
    router: &Router,
    identity: &age::x25519::Identity,
    case_id: &str,
) -> Vec<(String, Vec<u8>)> {
    let token = login(router, identity).await;
    let r = send(
        router,
        authed_get(&format!("/api/v1/cases/{case_id}/attachments"), &token),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let list: bisik::api::AttachmentsResponse = serde_json::from_slice(&r.body).unwrap();
    let mut out = Vec::new();
    for (i, a) in list.attachments.iter().enumerate() {
        let manifest = bisik::crypto::envelope::open(
            identity,
            &bisik::crypto::token::decode(&a.manifest).unwrap(),
        )
        .unwrap();
        let blob = send(
            router,
            authed_get(
                &format!("/api/v1/cases/{case_id}/attachments/{}", i + 1),
                &token,
            ),
        )
        .await;
        assert_eq!(blob.status, StatusCode::OK);
        let plain = bisik::crypto::envelope::open(identity, &blob.body).unwrap();
        out.push((
            String::from_utf8(manifest.to_vec()).unwrap(),
            plain.to_vec(),
        ));
    }
    out
}

/// Every file of the data folder (database, WAL, blobs) is free of each needle.
fn assert_nowhere(data_dir: &Path, needles: &[&[u8]]) {
    for f in all_files(data_dir) {
        if f.starts_with(data_dir.join("identities")) || f.starts_with(data_dir.join("keys")) {
            continue;
        }
        let bytes = std::fs::read(&f).unwrap();
        for needle in needles {
            assert!(
                !contains(&bytes, needle),
                "{} holds {:?}",
                f.display(),
                String::from_utf8_lossy(needle)
            );
        }
    }
}

/// (a) and (b): a file and an empty title — the form comes back with the file listed as
/// already received; the corrected form, without the file, files the case with it. The held
/// blob and the database never hold the file's text, its name, the hold id or its key, and the
/// held blob is gone once the case is filed.
#[tokio::test]
async fn a_form_to_correct_keeps_its_file_for_the_corrected_form() {
    let fx = Fixture::new(&format!("{CHEAP_KDF}\n{NO_RATE_LIMIT}"));
    let (router, app, _clock) = fx.router().await;
    let pid = std::process::id();
    let canary = format!("HELDCANARY{pid}");
    let doc = format!("notes of the meeting {canary}\n")
        .repeat(4000)
        .into_bytes();
    let name = format!("rekaman-rapat-{pid}.txt");

    let r = send_form(
        &router,
        &[("title", "")],
        None,
        &[],
        &[(&name, "text/plain", &doc)],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let html = r.text();
    assert!(element_text(&html, "title-error").is_some());
    assert!(html.contains("Files already received"), "{html}");
    assert_eq!(listed(&html), vec![name.clone()]);
    assert!(html.contains("kept as sent"));
    assert!(html.contains("Remove this file"));
    assert!(html.contains("At the district clinic"), "typed fields kept");
    let held = input_value(&html, "held").expect("the hidden field");
    let (hold_id, key) = held.split_once('.').unwrap();
    assert!(key.starts_with("AGE-SECRET-KEY-1"), "{held}");
    // Before the file input (so it arrives before any file part), and never cached.
    assert!(html.find("name=\"held\"").unwrap() < html.find("type=\"file\"").unwrap());
    assert_eq!(r.headers.get("cache-control").unwrap(), "no-store");
    assert!(
        !html.contains("action=\"/report?lang=en&amp;held")
            && !html.contains(&format!("?held={hold_id}"))
    );
    assert_eq!(case_count(&app).await, 0);
    let held_blobs = blob_files(fx.data_dir());
    assert_eq!(held_blobs.len(), 1);
    assert_eq!(held_rows(&fx).await, 1);
    // The held blob opens with the one-time key only: no reader of the case can open it yet.
    let one_time = fx.data_dir().join("one-time.txt");
    std::fs::write(&one_time, format!("{key}\n")).unwrap();
    let blob = held_blobs.iter().next().unwrap();
    let o = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(fx.identity_path("health-investigator"))
        .arg(blob)
        .output()
        .expect("age CLI");
    assert!(!o.status.success());
    let o = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&one_time)
        .arg(blob)
        .output()
        .unwrap();
    assert!(o.status.success());
    std::fs::remove_file(&one_time).unwrap();
    // (b) Nothing readable at rest: not the text, not the name, not the hold id or its key.
    assert_nowhere(
        fx.data_dir(),
        &[
            canary.as_bytes(),
            name.as_bytes(),
            hold_id.as_bytes(),
            key.as_bytes(),
        ],
    );

    // The corrected form, without choosing the file again.
    let r = send_form(
        &router,
        &[("title", "Corrected title")],
        Some(&held),
        &[],
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let receipt = element_text(&r.text(), "receipt").unwrap();
    let case_id = element_text(&r.text(), "case-id").unwrap();
    assert_eq!(case_count(&app).await, 1);
    assert_eq!(held_rows(&fx).await, 0);
    let now = blob_files(fx.data_dir());
    assert_eq!(now.len(), 1);
    assert!(now.is_disjoint(&held_blobs), "the held blob is gone");

    // The case's readers open it — the API, and the reference age CLI on the blob itself.
    let files = member_files(&router, &fx.identity("health-investigator"), &case_id).await;
    assert_eq!(files.len(), 1);
    assert!(files[0].0.contains(&name), "{}", files[0].0);
    assert_eq!(files[0].1, doc);
    let o = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(fx.identity_path("health-investigator"))
        .arg(now.iter().next().unwrap())
        .output()
        .unwrap();
    assert!(o.status.success());
    let mut plain = o.stdout;
    bisik::crypto::padding::unpad_in_place(&mut plain).unwrap();
    assert_eq!(plain, doc);
    let o = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(fx.identity_path("transport-investigator"))
        .arg(now.iter().next().unwrap())
        .output()
        .unwrap();
    assert!(!o.status.success(), "another institution cannot");
    // The reporter sees the file on the status page.
    let page = status_page(&router, &receipt).await;
    assert!(page.contains(&name), "{page}");
    assert_nowhere(fx.data_dir(), &[canary.as_bytes(), name.as_bytes()]);

    // The same page sent again: the files are no longer there, and no second case is filed.
    let r = send_form(
        &router,
        &[("title", "Corrected title")],
        Some(&held),
        &[],
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(element_text(&r.text(), "held-missing").is_some());
    assert_eq!(case_count(&app).await, 1);
}

/// (c) A wrong key, an unknown hold id or a mangled field: the form again, saying the earlier
/// files could not be found; nothing filed, nothing removed, never a 500.
#[tokio::test]
async fn a_wrong_key_or_unknown_hold_finds_nothing() {
    let fx = Fixture::new(&format!("{CHEAP_KDF}\n{NO_RATE_LIMIT}"));
    let (router, app, _clock) = fx.router().await;
    let r = send_form(
        &router,
        &[("title", "")],
        None,
        &[],
        &[("bukti.txt", "text/plain", b"bukti")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let held = input_value(&r.text(), "held").unwrap();
    let (hold_id, _) = held.split_once('.').unwrap();
    let other_key =
        age::secrecy::ExposeSecret::expose_secret(&age::x25519::Identity::generate().to_string())
            .to_owned();
    let unknown_id = bisik::crypto::token::encode(&[7u8; 16]);
    let key = held.split_once('.').unwrap().1;
    for field in [
        format!("{hold_id}.{other_key}"),
        format!("{unknown_id}.{key}"),
        "not a hold".to_owned(),
        format!("{hold_id}.AGE-SECRET-KEY-1XYZ"),
        format!("{}.{key}", "A".repeat(5000)),
    ] {
        for lang in ["en", "id"] {
            let mut all = report_fields(&[("title", "Right title")]);
            all.push(("held", &field));
            all.push(("drop_held", "1"));
            let req = Request::post(format!("/report?lang={lang}"))
                .header(
                    "content-type",
                    format!("multipart/form-data; boundary={BOUNDARY}"),
                )
                .header("sec-fetch-site", "same-origin")
                .body(Body::from(multipart(&all, &[])))
                .unwrap();
            let r = send(&router, req).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
            let html = r.text();
            let expected = if lang == "en" {
                "The files you sent earlier could not be found"
            } else {
                "Berkas yang Anda kirim sebelumnya tidak dapat ditemukan"
            };
            assert!(
                element_text(&html, "held-missing").is_some_and(|t| t.contains(expected)),
                "{html}"
            );
            assert_eq!(input_value(&html, "title").unwrap(), "Right title");
            assert!(listed(&html).is_empty());
            assert!(input_value(&html, "held").is_none());
            assert!(!html.contains("bukti.txt"));
        }
    }
    assert_eq!(case_count(&app).await, 0);
    assert_eq!(held_rows(&fx).await, 1, "the real hold is untouched");
    // A wrong key with a new file: the new file is kept in a hold of its own.
    let r = send_form(
        &router,
        &[("title", "Right title")],
        Some(&format!("{hold_id}.{other_key}")),
        &[],
        &[("baru.txt", "text/plain", b"baru")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(element_text(&r.text(), "held-missing").is_some());
    assert_eq!(listed(&r.text()), vec!["baru.txt".to_owned()]);
    let other = input_value(&r.text(), "held").unwrap();
    assert!(!other.starts_with(hold_id), "a new hold");
    assert_eq!(case_count(&app).await, 0);
    // The right field still files the report with its file.
    let r = send_form(&router, &[("title", "Right title")], Some(&held), &[], &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let case_id = element_text(&r.text(), "case-id").unwrap();
    let files = member_files(&router, &fx.identity("health-triage"), &case_id).await;
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].1, b"bukti");
}

/// (d) A file whose "remove" box is ticked is not attached, and its blob is shredded at once;
/// files added while the form is still wrong join the same hold.
#[tokio::test]
async fn a_removed_file_is_shredded_and_not_attached() {
    let fx = Fixture::new(&format!("{CHEAP_KDF}\n{NO_RATE_LIMIT}"));
    let (router, app, _clock) = fx.router().await;
    let photo_marker = "GPSMARKER-HELD";
    let r = send_form(
        &router,
        &[("title", "")],
        None,
        &[],
        &[
            ("keep.txt", "text/plain", b"keep me"),
            ("drop.txt", "text/plain", b"drop me"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let held = input_value(&r.text(), "held").unwrap();
    assert_eq!(listed(&r.text()), vec!["keep.txt", "drop.txt"]);
    let drop_txt = drop_tag(&r.text(), 2);
    let first_blobs = blob_files(fx.data_dir());
    assert_eq!(first_blobs.len(), 2);

    // Still wrong: drop.txt removed, a photo added — to the same hold.
    let photo = jpeg_with_gps(photo_marker);
    let r = send_form(
        &router,
        &[("title", ""), ("body", "Still typing")],
        Some(&held),
        &[&drop_txt],
        &[("photo.jpg", "image/jpeg", &photo)],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(listed(&r.text()), vec!["keep.txt", "photo.jpg"]);
    assert!(r.text().contains("photo metadata removed"));
    assert_eq!(
        input_value(&r.text(), "held").unwrap(),
        held,
        "the same hold"
    );
    assert_eq!(held_rows(&fx).await, 2);
    let now = blob_files(fx.data_dir());
    assert_eq!(now.len(), 2);
    assert_eq!(
        now.intersection(&first_blobs).count(),
        1,
        "drop.txt's blob is shredded"
    );

    // Still wrong, one more file.
    let r = send_form(
        &router,
        &[("title", "")],
        Some(&held),
        &[],
        &[("extra.txt", "text/plain", b"extra")],
    )
    .await;
    assert_eq!(
        listed(&r.text()),
        vec!["keep.txt", "photo.jpg", "extra.txt"]
    );
    let extra = drop_tag(&r.text(), 3);
    assert!(
        drop_tag(&r.text(), 2) != drop_txt,
        "a removed file's box names no other file"
    );

    // Corrected, extra.txt removed (and drop.txt's box from an old page ticked again, which
    // names nothing now): filed with keep.txt and the scrubbed photo.
    let r = send_form(
        &router,
        &[("title", "Filed")],
        Some(&held),
        &[&extra, &drop_txt],
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let case_id = element_text(&r.text(), "case-id").unwrap();
    let files = member_files(&router, &fx.identity("health-investigator"), &case_id).await;
    assert_eq!(files.len(), 2);
    assert!(files[0].0.contains("keep.txt") && files[0].1 == b"keep me");
    assert!(files[1].0.contains("photo.jpg") && files[1].0.contains("\"scrubbed\":true"));
    assert!(!contains(&files[1].1, photo_marker.as_bytes()));
    assert!(files.iter().all(|(m, _)| !m.contains("drop.txt")));
    assert_eq!(blob_files(fx.data_dir()).len(), 2);
    assert_eq!(held_rows(&fx).await, 0);
    assert_eq!(case_count(&app).await, 1);
}

/// (e) Held files nobody comes back for are shredded by housekeeping after the day following
/// their day; a restart in between keeps them (the start-up sweep knows their rows).
#[tokio::test]
async fn unclaimed_files_expire_after_the_next_day() {
    let fx = Fixture::new(&format!("{CHEAP_KDF}\n{NO_RATE_LIMIT}"));
    let (router, app, clock) = fx.router().await;
    let r = send_form(
        &router,
        &[("occurred_on", "not a date")],
        None,
        &[],
        &[("lama.txt", "text/plain", b"old evidence")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let held = input_value(&r.text(), "held").unwrap();
    assert_eq!(blob_files(fx.data_dir()).len(), 1);

    // A restart: the sweep of unreferenced blobs leaves held files alone.
    drop(router);
    drop(app);
    let (app, router) = bisik::server::build(fx.config(), clock.clone())
        .await
        .unwrap();
    assert_eq!(blob_files(fx.data_dir()).len(), 1);
    let r = send_form(
        &router,
        &[("occurred_on", "also not a date")],
        Some(&held),
        &[],
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(listed(&r.text()), vec!["lama.txt"]);

    // The same day and the next: kept.
    let round = bisik::service::housekeeping::run_once(&app).await.unwrap();
    assert_eq!(round.held_expired, 0);
    clock.advance(time::Duration::days(1));
    let round = bisik::service::housekeeping::run_once(&app).await.unwrap();
    assert_eq!(round.held_expired, 0);
    assert_eq!(blob_files(fx.data_dir()).len(), 1);
    // The day after: shredded and forgotten.
    clock.advance(time::Duration::days(1));
    let round = bisik::service::housekeeping::run_once(&app).await.unwrap();
    assert_eq!(round.held_expired, 1);
    assert!(blob_files(fx.data_dir()).is_empty());
    assert_eq!(held_rows(&fx).await, 0);
    let round = bisik::service::housekeeping::run_once(&app).await.unwrap();
    assert_eq!(round.held_expired, 0);
    // Coming back now: the files must be chosen again; nothing is filed.
    let r = send_form(&router, &[("occurred_on", "")], Some(&held), &[], &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(element_text(&r.text(), "held-missing").is_some());
    assert_eq!(case_count(&app).await, 0);
}

/// (f) Held and new files together are held to `[attachments]`: one file too many is refused
/// with the form and the held files kept; without it the report is filed with both held files.
#[tokio::test]
async fn held_and_new_files_count_against_the_limits() {
    let fx = Fixture::new(&format!(
        "{CHEAP_KDF}\n{NO_RATE_LIMIT}\n[attachments]\nmax_files = 2\nmax_file_bytes = 4096\nmax_report_bytes = 6000\n"
    ));
    let (router, app, _clock) = fx.router().await;
    let r = send_form(
        &router,
        &[("title", "")],
        None,
        &[],
        &[("satu.txt", "text/plain", b"satu")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let held = input_value(&r.text(), "held").unwrap();
    // Still wrong, one more file: two held.
    let r = send_form(
        &router,
        &[("title", "")],
        Some(&held),
        &[],
        &[("dua.txt", "text/plain", &[b'2'; 3000])],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(listed(&r.text()), vec!["satu.txt", "dua.txt"]);
    // Right, and a third file: too many. The form, the typed fields and both held files stay.
    let r = send_form(
        &router,
        &[("title", "Kept title")],
        Some(&held),
        &[],
        &[("tiga.txt", "text/plain", b"tiga")],
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    assert!(r.text().contains("Too many files"));
    assert_eq!(input_value(&r.text(), "title").unwrap(), "Kept title");
    assert_eq!(listed(&r.text()), vec!["satu.txt", "dua.txt"]);
    assert_eq!(input_value(&r.text(), "held").unwrap(), held);
    assert_eq!(case_count(&app).await, 0);
    assert_eq!(blob_files(fx.data_dir()).len(), 2);
    // Still wrong, one small file removed and a file over the total added: refused too.
    let r = send_form(
        &router,
        &[("title", "")],
        Some(&held),
        &[&drop_tag(&r.text(), 1)],
        &[("besar.txt", "text/plain", &[b'b'; 3500])],
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    assert_eq!(listed(&r.text()), vec!["dua.txt"]);
    // Right, nothing new: filed with the held file.
    let r = send_form(&router, &[("title", "Kept title")], Some(&held), &[], &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let case_id = element_text(&r.text(), "case-id").unwrap();
    let files = member_files(&router, &fx.identity("health-investigator"), &case_id).await;
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].1, vec![b'2'; 3000]);
    assert_eq!(blob_files(fx.data_dir()).len(), 1);
}

/// A form whose fields are right but whose reporter key cannot be derived now (the server is
/// busy): its file is kept all the same, and after a restart the form sent again files it.
#[tokio::test]
async fn a_busy_server_keeps_the_files_of_a_right_form() {
    let fx = Fixture::new(&format!("{CHEAP_KDF}\n{NO_RATE_LIMIT}"));
    let (router, app, clock) = fx.router().await;
    // As at shutdown: every key derivation is answered "busy" at once.
    app.kdf.close();
    let r = send_form(
        &router,
        &[("title", "Right title")],
        None,
        &[],
        &[("sibuk.txt", "text/plain", b"sent while busy")],
    )
    .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text());
    assert!(r.text().contains("very busy"), "{}", r.text());
    assert_eq!(listed(&r.text()), vec!["sibuk.txt"]);
    let held = input_value(&r.text(), "held").unwrap();
    assert_eq!(input_value(&r.text(), "title").unwrap(), "Right title");
    assert_eq!(case_count(&app).await, 0);
    drop(router);
    drop(app);
    let (app, router) = bisik::server::build(fx.config(), clock.clone())
        .await
        .unwrap();
    let r = send_form(&router, &[("title", "Right title")], Some(&held), &[], &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let case_id = element_text(&r.text(), "case-id").unwrap();
    let files = member_files(&router, &fx.identity("health-investigator"), &case_id).await;
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].1, b"sent while busy");
    assert_eq!(case_count(&app).await, 1);
}

/// A minimal JPEG whose EXIF holds a GPS marker (same shape as tests/evidence.rs).
fn jpeg_with_gps(marker: &str) -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8];
    let exif = format!("Exif\0\0GPSLatitude={marker}");
    v.extend([0xFF, 0xE1]);
    v.extend(((exif.len() + 2) as u16).to_be_bytes());
    v.extend(exif.as_bytes());
    v.extend([0xFF, 0xDB, 0x00, 0x43, 0x00]);
    v.extend([1u8; 64]);
    v.extend([0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00]);
    v.extend([0x12, 0x34, 0x56, 0x78]);
    v.extend([0xFF, 0xD9]);
    v
}

/// The rightmost edge any element of the page reaches and the document's width.
fn widths(browser: &common::webdriver::Session) -> (f64, f64) {
    let html = browser.find("html");
    let (_, _, page, _) = browser.rect(&html);
    let right = browser
        .find_all("body, body *")
        .iter()
        .map(|el| {
            let (x, _, w, _) = browser.rect(el);
            x + w
        })
        .fold(0.0, f64::max);
    (right, page)
}

/// A real headless Chromium, JavaScript off: files chosen with a mistake in the form, the form
/// back with them listed (screenshots at 1366, 360 and 320 px, nothing wider than the screen),
/// one removed, the form corrected and sent — the case has the other file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_form_with_held_files_works_in_a_browser_without_javascript() {
    use common::webdriver::{Driver, Session};
    let fx = Fixture::new(&format!("{CHEAP_KDF}\n{NO_RATE_LIMIT}"));
    let (router, app, _clock) = fx.router().await;
    let chosen = fx.data_dir().join("chosen");
    std::fs::create_dir_all(&chosen).unwrap();
    let long = chosen.join(
        "foto-bukti-pungutan-liar-di-puskesmas-kecamatan-contoh-tanggal-2026-11-01-versi-asli-tanpa-potongan.jpg",
    );
    std::fs::write(&long, jpeg_with_gps("BROWSERGPS")).unwrap();
    let note = chosen.join("catatan rapat.txt");
    std::fs::write(&note, "catatan yang tidak jadi dikirim").unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let served = router.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, served).await.unwrap();
    });
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("held-uploads");
    std::fs::create_dir_all(&shots).unwrap();
    let files = format!("{}\n{}", long.display(), note.display());
    let report = tokio::task::spawn_blocking(move || {
        let driver = Driver::start();
        let browser = Session::new(&driver);
        browser.window(1366, 900);
        let mut report = Vec::new();
        for lang in ["id", "en"] {
            browser.window(1366, 900);
            browser.goto(&format!("{base}/report?lang={lang}"));
            browser.click(&browser.wait_for("#kind-complaint"));
            browser.click(&browser.find("#institution option[value=\"health\"]"));
            browser.type_into(
                &browser.find("#body"),
                "Petugas meminta uang sebelum pengobatan.",
            );
            browser.type_into(&browser.find("#attachment"), &files);
            // No title: the form comes back, the files kept.
            browser.click(&browser.find("#submit"));
            browser.wait_for("#held-files");
            assert!(browser.try_find("#title-error").is_some());
            let source = browser.source();
            assert!(source.contains("foto-bukti-pungutan-liar"), "{source}");
            assert!(source.contains("catatan rapat.txt"));
            assert!(source.contains("AGE-SECRET-KEY-1"));
            // Tall windows, so that the whole list fits in its screenshot.
            for (width, height) in [(1366, 1600), (360, 2400), (320, 2400)] {
                browser.window(width, height);
                let name = format!("{lang}-report-held-{width}");
                browser.screenshot(&shots.join(format!("{name}.png")));
                browser.screenshot_of("body", &shots.join(format!("{name}-page.png")));
                browser.screenshot_of(
                    "fieldset:has(#held-files)",
                    &shots.join(format!("{name}-files.png")),
                );
                let (right, page) = widths(&browser);
                report.push(format!(
                    "{name}: content reaches {right:.0} px, page {page:.0} px"
                ));
                if right > page + 1.0 || page > f64::from(width) {
                    report.push(format!("OVERFLOW {name}"));
                }
            }
            browser.window(1366, 900);
            // Corrected, the note removed, nothing chosen again.
            browser.type_into(&browser.find("#title"), "Pungutan liar di puskesmas");
            let remove = browser.find("#drop-held-2");
            browser.click(&remove);
            assert!(browser.selected(&remove));
            browser.click(&browser.find("#submit"));
            browser.wait_for("#receipt");
            report.push(format!("CASE {}", browser.text(&browser.find("#case-id"))));
        }
        report
    })
    .await
    .unwrap();
    server.abort();
    for line in &report {
        eprintln!("{line}");
    }
    assert!(
        !report.iter().any(|l| l.starts_with("OVERFLOW")),
        "{report:?}"
    );
    let cases: Vec<&str> = report
        .iter()
        .filter_map(|l| l.strip_prefix("CASE "))
        .collect();
    assert_eq!(cases.len(), 2);
    for case_id in cases {
        let files = member_files(&router, &fx.identity("health-investigator"), case_id).await;
        assert_eq!(
            files.len(),
            1,
            "the note was removed: {:?}",
            files.iter().map(|f| &f.0).collect::<Vec<_>>()
        );
        assert!(files[0].0.contains("foto-bukti-pungutan-liar"));
        assert!(files[0].0.contains("\"scrubbed\":true"));
        assert!(!contains(&files[0].1, b"BROWSERGPS"));
    }
    assert_eq!(held_rows(&fx).await, 0);
    assert_eq!(blob_files(fx.data_dir()).len(), 2);
    assert_eq!(case_count(&app).await, 2);
}

/// On a directory where every member has a post-quantum key, the one-time key of a form that
/// comes back is post-quantum too, and the filed case's file is sealed post-quantum: no X25519
/// stanza at rest at any point.
#[tokio::test]
async fn a_post_quantum_directory_holds_files_under_a_post_quantum_one_time_key() {
    let fx = Fixture::new(&format!("{CHEAP_KDF}\n{NO_RATE_LIMIT}"));
    fx.add_post_quantum_keys(&[]);
    let (router, app, _clock) = fx.router().await;
    let doc = b"a scanned letter".repeat(100);
    let r = send_form(
        &router,
        &[("title", "")],
        None,
        &[],
        &[("surat.txt", "text/plain", &doc)],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let held = input_value(&r.text(), "held").expect("the hidden field");
    let (_, key) = held.split_once('.').unwrap();
    assert!(key.starts_with("AGE-SECRET-KEY-PQ-1"), "{held}");
    let counts = |path: &Path| {
        bisik::crypto::envelope::stanza_counts(&std::fs::read(path).unwrap()).unwrap()
    };
    let held_blobs = blob_files(fx.data_dir());
    assert_eq!(held_blobs.len(), 1);
    let c = counts(held_blobs.iter().next().unwrap());
    assert_eq!((c.x25519, c.hybrid), (0, 1));

    let r = send_form(
        &router,
        &[("title", "Corrected title")],
        Some(&held),
        &[],
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(case_count(&app).await, 1);
    let filed = blob_files(fx.data_dir());
    assert_eq!(filed.len(), 1);
    // The health office's two readers and the reporter.
    let c = counts(filed.iter().next().unwrap());
    assert_eq!((c.x25519, c.hybrid), (0, 3));
    // Closed and waited for before the folder is read (see pq_cases.rs).
    app.store.close().await;
    drop(router);
    drop(app);
    assert!(assert_no_x25519_stanza_at_rest(fx.data_dir()) > 0);
}
