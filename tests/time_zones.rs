//! Issue 13, item 9: days follow the deployment's time zone (`[site] time_zone`), pages show
//! them as people read them, and "overdue since" names the first day that was late. The real
//! router (with a fixed clock) and the real `bisik serve`; nothing mocked.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use time::macros::datetime;

fn zone_config(zone: &str) -> String {
    format!("{CHEAP_KDF}[stats]\ncache_secs = 0\n[site]\ntime_zone = \"{zone}\"\n")
}

fn cases(r: &Reply) -> Vec<bisik::api::CaseSummaryJson> {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    serde_json::from_slice::<bisik::api::CaseListResponse>(&r.body)
        .unwrap()
        .cases
}

/// The status page in a language.
async fn status_in(router: &axum::Router, receipt: &str, lang: &str) -> String {
    let r = send(
        router,
        post_form(&format!("/status?lang={lang}"), &[("receipt", receipt)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.text()
}

/// The months `/stats.json` counts cases in.
async fn stats_months(router: &axum::Router) -> Vec<String> {
    let r = send(router, get("/stats.json")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    v["months"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["slug"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_report_filed_in_the_evening_in_jayapura_is_dated_that_local_day() {
    let fx = Fixture::new(&zone_config("Asia/Jayapura"));
    let (router, app, clock) = fx.router().await;
    assert_eq!(app.config.time_zone.name(), "Asia/Jayapura");
    // 20:00 WIT on Friday 4 December 2026 is 11:00 UTC.
    clock.set(datetime!(2026-12-04 11:00 UTC));
    let (evening, _) = submit(&router, &[]).await;
    // 07:00 WIT on Tuesday 1 December 2026 is still 30 November in UTC: dated 1 December, and
    // counted in December.
    clock.set(datetime!(2026-11-30 22:00 UTC));
    let (morning, morning_id) = submit(&router, &[]).await;

    let page = status_in(&router, &evening, "en").await;
    assert!(page.contains("<td>4 December 2026</td>"), "history: {page}");
    let page = status_in(&router, &morning, "id").await;
    assert!(page.contains("<td>1 Desember 2026</td>"), "history: {page}");
    assert!(!page.contains("30 November 2026"), "{page}");

    let triage = login(&router, &fx.identity("health-triage")).await;
    let list = cases(&send(&router, authed_get("/api/v1/cases", &triage)).await);
    let mut days: Vec<&str> = list.iter().map(|c| c.received_on.as_str()).collect();
    days.sort_unstable();
    assert_eq!(days, ["2026-12-01", "2026-12-04"], "the API stays ISO");
    let case = send(
        &router,
        authed_get(&format!("/api/v1/cases/{morning_id}"), &triage),
    )
    .await;
    assert_eq!(case.status, StatusCode::OK, "{}", case.text());
    let case: bisik::api::CaseResponse = serde_json::from_slice(&case.body).unwrap();
    assert!(case.events.iter().all(|e| e.day == "2026-12-01"));

    assert_eq!(stats_months(&router).await, ["2026-12"]);
}

#[tokio::test]
async fn the_same_instant_is_a_different_day_in_jakarta_and_in_utc() {
    // 17:30 UTC on Thursday 3 December 2026 is 00:30 WIB on Friday 4 December.
    let at = datetime!(2026-12-03 17:30 UTC);
    let mut days = vec![];
    for (config, zone) in [
        (CHEAP_KDF.to_owned(), "Asia/Jakarta"), // the default
        (zone_config("UTC"), "UTC"),
        (zone_config("WIB"), "Asia/Jakarta"),
        (zone_config("WITA"), "Asia/Makassar"),
    ] {
        let fx = Fixture::new(&config);
        let (router, app, clock) = fx.router().await;
        assert_eq!(app.config.time_zone.name(), zone);
        clock.set(at);
        let (receipt, _) = submit(&router, &[]).await;
        let triage = login(&router, &fx.identity("health-triage")).await;
        let list = cases(&send(&router, authed_get("/api/v1/cases", &triage)).await);
        days.push(list[0].received_on.clone());
        if zone == "Asia/Jakarta" {
            let id = status_in(&router, &receipt, "id").await;
            let en = status_in(&router, &receipt, "en").await;
            assert!(id.contains("<td>4 Desember 2026</td>"), "{id}");
            assert!(en.contains("<td>4 December 2026</td>"), "{en}");
            assert!(!en.contains("2026-12-04") && !id.contains("2026-12-04"));
        }
    }
    assert_eq!(
        days,
        ["2026-12-04", "2026-12-03", "2026-12-04", "2026-12-04"]
    );

    // 23:30 WIB (16:30 UTC) is still that day in Jakarta.
    let fx = Fixture::new(CHEAP_KDF);
    let (router, _app, clock) = fx.router().await;
    clock.set(datetime!(2026-12-04 16:30 UTC));
    let (receipt, _) = submit(&router, &[]).await;
    let page = status_in(&router, &receipt, "en").await;
    assert!(page.contains("<td>4 December 2026</td>"), "{page}");
}

#[tokio::test]
async fn overdue_since_names_the_first_day_that_was_late() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, _app, clock) = fx.router().await;
    // Monday 23 November 2026: verification is due Thursday 26 November.
    let (receipt, _) = submit(&router, &[]).await;
    let page = status_in(&router, &receipt, "id").await;
    assert_eq!(element_text(&page, "deadline").unwrap(), "26 November 2026");
    assert!(page.contains("Batas waktu tahap ini"), "{page}");

    // 23:59 WIB on the due day: still on time.
    clock.set(datetime!(2026-11-26 16:59 UTC));
    let page = status_in(&router, &receipt, "en").await;
    assert!(page.contains("Due for this stage by"), "{page}");
    assert!(!page.contains("class=\"overdue\""), "{page}");
    let triage = login(&router, &fx.identity("health-triage")).await;
    let late = |r: Reply| cases(&r).len();
    assert_eq!(
        late(send(&router, authed_get("/api/v1/cases?overdue=true", &triage)).await),
        0
    );

    // 00:00 WIB on Friday 27 November (17:00 UTC on the 26th): late since the 27th.
    clock.set(datetime!(2026-11-26 17:00 UTC));
    let page = status_in(&router, &receipt, "en").await;
    assert!(page.contains("Overdue since"), "{page}");
    assert!(page.contains("class=\"overdue\""), "{page}");
    assert_eq!(element_text(&page, "deadline").unwrap(), "27 November 2026");
    let triage = login(&router, &fx.identity("health-triage")).await;
    assert_eq!(
        late(send(&router, authed_get("/api/v1/cases?overdue=true", &triage)).await),
        1
    );

    // Days later it still names the 27th, in both languages.
    clock.set(datetime!(2026-12-02 03:00 UTC));
    let page = status_in(&router, &receipt, "id").await;
    assert!(page.contains("Terlambat sejak"), "{page}");
    assert_eq!(element_text(&page, "deadline").unwrap(), "27 November 2026");
}

#[test]
fn an_unknown_time_zone_stops_the_server_with_a_clear_message() {
    let fx = Fixture::new(&zone_config("Asia/Atlantis"));
    let mut child = Command::new(bisik_bin())
        .arg("serve")
        .arg("--config")
        .arg(&fx.config_path)
        .env("BISIK_LISTEN", format!("127.0.0.1:{}", free_port()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("bisik serve started with an unknown time zone");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let o = child.wait_with_output().unwrap();
    assert!(!o.status.success());
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        said.contains("site.time_zone") && said.contains("Asia/Atlantis"),
        "{said}"
    );
    assert!(
        said.contains("Asia/Jakarta"),
        "names a valid example: {said}"
    );
}

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

/// A report with a file at 07:00 WIT on 1 December (22:00 UTC on 30 November): once the disk is
/// settled, every file and folder in the data folder is dated 00:00 UTC of the local day, 1
/// December — one time for the whole day, nothing finer.
#[tokio::test]
async fn files_at_rest_carry_only_the_local_day() {
    let fx = Fixture::new(&zone_config("WIT"));
    let (router, app, clock) = fx.router().await;
    clock.set(datetime!(2026-11-30 22:00 UTC));
    let fields = report_fields(&[]);
    let body = multipart(&fields, &[("note.txt", "text/plain", b"evidence at rest")]);
    let r = send(
        &router,
        Request::post("/report?lang=en")
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(body))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // What the server wrote: the database files and the blob folder. Listed before the disk is
    // settled (listing a folder sets its access time); only `stat`ed after.
    let data = app.config.data_dir.clone();
    let blobs = data.join("blobs");
    let mut paths: Vec<PathBuf> = ["bisik.sqlite", "bisik.sqlite-wal", "bisik.sqlite-shm"]
        .iter()
        .map(|n| data.join(n))
        .filter(|p| p.exists())
        .collect();
    paths.extend(all_paths(&blobs));
    assert!(
        paths
            .iter()
            .any(|p| p.extension().is_some_and(|e| e == "age")),
        "the attachment's blob is in {paths:?}"
    );
    // Later that morning, the housekeeping round settles the disk.
    clock.set(datetime!(2026-11-30 23:59 UTC));
    bisik::service::housekeeping::settle_disk(&app)
        .await
        .unwrap();
    let day = datetime!(2026-12-01 00:00 UTC).unix_timestamp();
    let mut wrong = vec![];
    for p in &paths {
        let m = std::fs::symlink_metadata(p).unwrap();
        for (what, t) in [("modified", m.mtime()), ("accessed", m.atime())] {
            if t != day {
                wrong.push(format!("{} {what} at {t}", p.display()));
            }
        }
    }
    assert_eq!(wrong, Vec::<String>::new());
}

/// The status page with its history, a message and a due day, in headless Chromium with
/// JavaScript off: at 320 px nothing reaches past the right edge (long month names included);
/// screenshots at 360 and 1366 px go to `target/tmp/time-zones/<lang>-<width>.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn human_dates_on_the_status_page_fit_small_screens() {
    use common::webdriver::{Driver, Session};

    let fx = Fixture::new(CHEAP_KDF);
    let (router, _app, clock) = fx.router().await;
    // Tuesday 1 December 2026, 10:00 WIB: verification is due Friday 4 December.
    clock.set(datetime!(2026-12-01 03:00 UTC));
    let (receipt, case_id) = submit(&router, &[("occurred_on", "2026-09-30")]).await;
    clock.set(datetime!(2026-12-02 08:00 UTC));
    let inv = login(&router, &fx.identity("health-investigator")).await;
    let r = member_reply(
        &router,
        &inv,
        &case_id,
        "health-investigator",
        "Terima kasih, laporan Anda sedang kami periksa.",
    )
    .await;
    assert!(r.status.is_success(), "{}", r.text());

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("time-zones");
    std::fs::create_dir_all(&shots).unwrap();
    tokio::task::spawn_blocking(move || {
        let driver = Driver::start();
        let browser = Session::new(&driver);
        for (lang, due, said) in [
            ("id", "4 Desember 2026", "30 September 2026"),
            ("en", "4 December 2026", "30 September 2026"),
        ] {
            for width in [320, 360, 1366] {
                browser.window(width, 900);
                browser.goto(&format!("{base}/status?lang={lang}"));
                browser.type_into(&browser.wait_for("#receipt"), &receipt);
                browser.click(&browser.find("#open"));
                browser.wait_for("#case-id");
                assert_eq!(browser.text(&browser.find("#deadline")), due);
                let page = browser.source();
                assert!(page.contains(said), "the day it happened: {page}");
                browser.assert_no_horizontal_overflow("body *", &format!("{lang} at {width} px"));
                browser.screenshot(&shots.join(format!("{lang}-{width}.png")));
                browser.screenshot_of("body", &shots.join(format!("{lang}-{width}-full.png")));
                browser.screenshot_of(
                    "table.history",
                    &shots.join(format!("{lang}-{width}-history.png")),
                );
            }
        }
    })
    .await
    .unwrap();
    server.abort();
}

/// The member's tools (desk and CLI) count their days — a note's day, "overdue" marks, a print's
/// date — in the zone the server names with the session, not the machine's nor UTC.
#[test]
fn the_session_names_the_deployments_zone_to_the_members_tools() {
    let fx = Fixture::new(&zone_config("Asia/Jayapura"));
    let server = ServerProcess::start(&fx.config_path, &[]);
    let mut client =
        bisik::client::Client::new(&server.base, fx.identity("desk-triage"), None).unwrap();
    client.login().unwrap();
    assert_eq!(client.session().unwrap().time_zone, "Asia/Jayapura");
    let jayapura = bisik::domain::clock::Zone::parse("Asia/Jayapura").unwrap();
    let before = jayapura.day_of(time::OffsetDateTime::now_utc());
    let today = client.today();
    let after = jayapura.day_of(time::OffsetDateTime::now_utc());
    assert!(
        today == before || today == after,
        "{today} not the Jayapura day"
    );
    // Without a session (an older server), the member's environment or WIB decides.
    assert_eq!(
        bisik::client::today_in(Some("UTC")),
        time::OffsetDateTime::now_utc().date()
    );
}
