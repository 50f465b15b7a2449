//! The desk's reports against a real server and a real desk process: inbox filters and
//! sorting, every file of a case as one ZIP, the audit entries of the printed case file (and
//! the API that refuses them to other institutions), the institution's statistics — and the
//! stats page and filtered inbox in a real headless Chromium (JavaScript off) at 360 and 1366 px.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Read as _;

use common::desk::*;
use common::webdriver::{Driver, Session};
use common::*;

fn desk_page(http: &ureq::Agent, desk: &DeskProcess, cookie: &str, path: &str) -> String {
    let (status, _, body) = desk_get(http, desk, cookie, path);
    let body = String::from_utf8(body).unwrap();
    assert_eq!(status, 200, "{path}: {body}");
    body
}

/// The case ids of an inbox page, in the order shown.
fn listed(html: &str) -> Vec<String> {
    html.split("class=\"case-link\">")
        .skip(1)
        .map(|s| s[..s.find('<').unwrap()].to_owned())
        .collect()
}

fn member(server: &ServerProcess, fx: &Fixture, handle: &str) -> bisik::client::Client {
    let mut c = bisik::client::Client::new(&server.base, fx.identity(handle), None).unwrap();
    c.login().unwrap();
    c
}

/// The deployment's day (the demo's zone, Asia/Jakarta) at `d`.
fn day(d: time::OffsetDateTime) -> String {
    bisik::domain::clock::day_string(bisik::domain::clock::Zone::default().day_of(d))
}

/// Health office cases (ids A, B, C, D) received 14 days ago, 7 days ago and today (two),
/// submitted through the real router with its clock set back; the real server then takes the
/// same data folder.
fn health_cases(fx: &Fixture, now: time::OffsetDateTime) -> [String; 4] {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let (router, app, clock) = fx.router().await;
        clock.set(now - time::Duration::days(14));
        let (_, a) = submit(
            &router,
            &[
                ("title", "Pungli di puskesmas lama"),
                ("category", "health"),
            ],
        )
        .await;
        clock.set(now - time::Duration::days(7));
        let (_, b) = submit(
            &router,
            &[
                ("title", "Antrean loket terlalu panjang"),
                ("category", "public-service"),
                ("kind", "aspiration"),
            ],
        )
        .await;
        clock.set(now);
        let (_, c) = submit(
            &router,
            &[("title", "Obat dijual kembali"), ("category", "corruption")],
        )
        .await;
        let (_, d) = submit(
            &router,
            &[("title", "Halte bus rusak"), ("category", "health")],
        )
        .await;
        drop(router);
        drop(app);
        [a, b, c, d]
    })
}

#[test]
fn inbox_filters_sorting_and_the_institution_statistics() {
    let fx = Fixture::new(CHEAP_KDF);
    let now = time::OffsetDateTime::now_utc();
    let [a, b, c, d] = health_cases(&fx, now);
    let server = ServerProcess::start(&fx.config_path, &[]);

    // A is tagged; B is verified, worked and answered; D goes to the transport office.
    let triage = member(&server, &fx, "health-triage");
    let investigator = member(&server, &fx, "health-investigator");
    triage
        .classify(
            &a,
            &bisik::api::ClassifyRequest {
                tags: Some(vec!["pungli".into()]),
                ..Default::default()
            },
        )
        .unwrap();
    triage.set_state(&b, "verified", None).unwrap();
    investigator.set_state(&b, "in_progress", None).unwrap();
    investigator.set_state(&b, "answered", None).unwrap();
    triage
        .forward(&d, "transport", "Bukan wewenang dinas kesehatan.")
        .unwrap();

    let desk = DeskProcess::start(&server.base, &fx.identity_path("health-triage"), "en");
    let http = raw();
    let cookie = desk.cookie(&http);
    let page = |q: &str| desk_page(&http, &desk, &cookie, &format!("/?{q}"));

    // Newest first by default; the forwarded case is gone from our own list.
    let all = page("");
    assert_eq!(listed(&all), [c.clone(), b.clone(), a.clone()], "{all}");
    for field in [
        "name=\"category\"",
        "name=\"tag\"",
        "type=\"date\"",
        "name=\"forwarded\"",
        "name=\"sort\"",
    ] {
        assert!(all.contains(field), "{field}");
    }
    assert!(
        all.contains("Corruption and illegal levies"),
        "category names, not slugs"
    );

    // Each filter narrows; what is outside is left out.
    assert_eq!(listed(&page("category=corruption")), [c.as_str()]);
    assert_eq!(listed(&page("category=public-service")), [b.as_str()]);
    assert_eq!(listed(&page("tag=pungli")), [a.as_str()]);
    assert_eq!(listed(&page("tag=nothing")), Vec::<String>::new());
    let ten_days_ago = day(now - time::Duration::days(10));
    assert_eq!(
        listed(&page(&format!("from={ten_days_ago}"))),
        [c.clone(), b.clone()]
    );
    assert_eq!(listed(&page(&format!("to={ten_days_ago}"))), [a.as_str()]);
    let today = day(now);
    assert_eq!(
        listed(&page(&format!("from={today}&to={today}"))),
        [c.as_str()]
    );
    let odd = page("from=kemarin");
    assert!(
        odd.contains("id=\"filter-note\""),
        "a date that is not a date is said so"
    );
    let forwarded = page("forwarded=on");
    assert_eq!(listed(&forwarded), [d.as_str()], "{forwarded}");
    assert!(
        forwarded.contains("Example City Transport Office"),
        "where it went"
    );
    assert_eq!(
        listed(&page("forwarded=on&tag=pungli")),
        Vec::<String>::new()
    );

    // Sorting.
    assert_eq!(
        listed(&page("sort=oldest")),
        [a.clone(), b.clone(), c.clone()]
    );
    assert_eq!(
        listed(&page("sort=newest")),
        [c.clone(), b.clone(), a.clone()]
    );
    // A is overdue (its due day passed), C is due in three working days.
    let by_due = listed(&page("sort=due"));
    assert_eq!(by_due[..2], [a.clone(), c.clone()], "{by_due:?}");
    // Received (C, A: newest first among them) before answered (B).
    assert_eq!(
        listed(&page("sort=state")),
        [c.clone(), a.clone(), b.clone()]
    );

    // The form shows what was chosen.
    let sorted = page("sort=oldest&category=health&from=2020-01-01&tag=x");
    assert!(
        sorted.contains("<option value=\"oldest\" selected>"),
        "{sorted}"
    );
    assert!(
        sorted.contains("<option value=\"health\" selected>"),
        "{sorted}"
    );
    assert!(sorted.contains("value=\"2020-01-01\""), "{sorted}");

    // The institution's statistics through the API: its own cases only, exact.
    let stats = triage.institution_stats().unwrap();
    assert_eq!(stats.institution, "health");
    let count = |s: &str| {
        stats
            .states
            .iter()
            .find(|x| x.state == s)
            .map_or(0, |x| x.cases)
    };
    assert_eq!((count("received"), count("answered")), (2, 1));
    assert_eq!(stats.states.iter().map(|x| x.cases).sum::<u64>(), 3);
    assert_eq!(stats.answered_on_time + stats.answered_late, 1);
    // A custodian does not read cases: refused.
    let custodian = member(&server, &fx, "health-custodian");
    assert!(matches!(
        custodian.institution_stats(),
        Err(bisik::client::ClientError::Server { status: 403, .. })
    ));

    // The statistics page: counts by state in words, the share on time, the overdue list.
    let s = desk_page(&http, &desk, &cookie, "/stats");
    assert!(s.contains("id=\"nav-stats\""));
    assert_eq!(element_text(&s, "stats-total").unwrap(), "3");
    let states = &s[s.find("id=\"stats-states\"").unwrap()..];
    assert!(
        states.contains("Received</td><td data-label=\"Cases\" class=\"count\">2<"),
        "{states}"
    );
    assert!(
        states.contains("Answered</td><td data-label=\"Cases\" class=\"count\">1<"),
        "{states}"
    );
    let on_time = element_text(&s, "stats-on-time").unwrap();
    let expected = if stats.answered_on_time == 1 {
        "100%"
    } else {
        "0%"
    };
    assert!(on_time.starts_with(expected), "{on_time}");
    let overdue = &s[s.find("id=\"stats-overdue\"").unwrap()..];
    assert!(
        overdue.contains(&a) && overdue.contains("Pungli di puskesmas lama"),
        "{overdue}"
    );
    assert!(!overdue.contains(&b) && !overdue.contains(&c) && !overdue.contains(&d));
    assert!(
        !s.contains(">received<") && !s.contains(">answered<"),
        "no slugs"
    );

    // In Chromium, JavaScript off: the stats page and a filtered inbox at both widths.
    // The launch URL opens once: a second desk for the browser.
    drop(desk);
    let desk = DeskProcess::start(&server.base, &fx.identity_path("health-triage"), "en");
    let driver = Driver::start();
    let browser = Session::new(&driver);
    let shots = screenshot_dir();
    browser.window(1366, 768);
    browser.goto(&desk.url);
    browser.wait_for("#cases");
    let filtered = format!(
        "{}/?category=health&sort=oldest&from={}&to={today}",
        desk.base,
        day(now - time::Duration::days(30))
    );
    for (w, h) in [(1366, 768), (360, 740)] {
        browser.window(w, h);
        browser.goto(&format!("{}/stats", desk.base));
        browser.wait_for("#stats-states");
        browser.screenshot(&shots.join(format!("reports-stats-{w}.png")));
        browser.assert_no_horizontal_overflow("main *", &format!("stats at {w}"));
        browser.goto(&filtered);
        browser.wait_for("#cases");
        assert!(browser.source().contains(&a));
        browser.screenshot(&shots.join(format!("reports-inbox-filtered-{w}.png")));
        browser.assert_no_horizontal_overflow("main *", &format!("filtered inbox at {w}"));
    }
    // The form works with JavaScript off: choosing a sort and applying it.
    browser.window(1366, 768);
    browser.goto(&format!("{}/", desk.base));
    let oldest = browser.wait_for("#sort option[value=oldest]");
    browser.click(&oldest);
    let tag = browser.find("#tag");
    browser.type_into(&tag, "pungli");
    let apply = browser.find("#apply");
    browser.click(&apply);
    browser.wait_for_text("#cases .case-link", &a);
    let source = browser.source();
    assert!(!source.contains(&c), "filtered by the form");
}

#[test]
fn all_files_as_one_zip_and_the_audit_entries_of_the_printed_case() {
    let fx = Fixture::new(CHEAP_KDF);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let first = b"Kuitansi pertama.\n".to_vec();
    let second = b"Kuitansi kedua.\n".to_vec();
    let hostile = b"not an exe\n".to_vec();
    let passwd = b"root:x:0:0\n".to_vec();
    let body = multipart(
        &report_fields(&[("title", "Bukti pungli lengkap")]),
        &[
            ("kuitansi.txt", "text/plain", &first),
            ("kuitansi.txt", "text/plain", &second),
            ("evil\u{202e}gpj.exe", "text/plain", &hostile),
            ("../../etc/passwd", "text/plain", &passwd),
        ],
    );
    let (status, html) = post_multipart(&server.base, "/report?lang=en", body).unwrap();
    assert_eq!(status, 200, "{html}");
    let case_id = element_text(&html, "case-id").unwrap();

    let desk = DeskProcess::start(&server.base, &fx.identity_path("health-triage"), "en");
    let http = raw();
    let cookie = desk.cookie(&http);
    let page = desk_page(&http, &desk, &cookie, &format!("/case/{case_id}"));
    assert!(
        page.contains(&format!("href=\"/case/{case_id}/files.zip\"")),
        "{page}"
    );

    let (status, headers, zip_bytes) =
        desk_get(&http, &desk, &cookie, &format!("/case/{case_id}/files.zip"));
    assert_eq!(status, 200);
    assert_eq!(headers.get("content-type").unwrap(), "application/zip");
    let disposition = headers
        .get("content-disposition")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        disposition.starts_with("attachment;") && disposition.contains(".zip"),
        "{disposition}"
    );
    assert_eq!(headers.get("cache-control").unwrap(), "no-store");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes)).unwrap();
    let mut found = Vec::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).unwrap();
        found.push((f.name().unwrap().into_owned(), bytes));
    }
    assert_eq!(
        found,
        [
            ("kuitansi.txt".to_owned(), first),
            ("kuitansi-2.txt".to_owned(), second),
            ("evilgpj.exe".to_owned(), hostile),
            ("passwd".to_owned(), passwd),
        ],
        "exactly the decrypted files, without padding, under safe and unique names"
    );

    // The audit API: readers of the owning institution only, by day.
    let triage = member(&server, &fx, "health-triage");
    let entries = triage.case_audit(&case_id).unwrap();
    assert!(entries.iter().any(|e| e.action == "view_case"));
    assert!(
        entries
            .iter()
            .any(|e| e.action == "list_attachments" || e.action == "download_attachment")
    );
    assert!(
        entries
            .iter()
            .all(|e| e.day.len() == 10 && !e.day.contains('T'))
    );
    for other in ["transport-triage", "ombudsman-officer", "health-custodian"] {
        let refused = member(&server, &fx, other).case_audit(&case_id);
        assert!(
            matches!(
                refused,
                Err(bisik::client::ClientError::Server {
                    status: 403 | 404,
                    ..
                })
            ),
            "{other}: {refused:?}"
        );
    }
    // The raw JSON carries no time of day and no hash.
    let token = {
        let mut c =
            bisik::client::Client::new(&server.base, fx.identity("health-triage"), None).unwrap();
        c.login().unwrap().token.clone()
    };
    let mut r = loopback_agent()
        .get(format!("{}/api/v1/cases/{case_id}/audit", server.base))
        .header("authorization", format!("Bearer {token}"))
        .call()
        .unwrap();
    let json: serde_json::Value = r.body_mut().read_json().unwrap();
    for e in json["entries"].as_array().unwrap() {
        let keys: Vec<&String> = e.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["action", "actor", "day", "seq"], "{e}");
        assert_eq!(e["day"].as_str().unwrap().len(), 10, "{e}");
    }
    assert!(
        json.to_string().contains("view_case_audit"),
        "reading the audit is itself audited"
    );

    // The printed case file lists the audit entries in words.
    let print = desk_page(&http, &desk, &cookie, &format!("/case/{case_id}/print"));
    let audit = &print[print.find("id=\"audit\"").expect("audit table")..];
    assert!(audit.contains("opened the case"), "{audit}");
    assert!(
        audit.contains("health-triage · Example City Health Office"),
        "{audit}"
    );
    assert!(!audit.contains("view_case<"), "no slugs");
}
