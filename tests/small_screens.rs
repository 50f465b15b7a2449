//! Issue 13, item 10: no citizen page is wider than a 320 px phone, in either language.
//!
//! The real router is served on 127.0.0.1 and a real headless Chromium (JavaScript off) opens,
//! at 320×640, every citizen page in `?lang=id` and `?lang=en`: the landing page, the report
//! form, a form with errors, the receipt page, the status form, the status page of a
//! confidential report with messages, the status page of a whistleblowing report, the
//! statistics and a 404. Then the status page at the end of a case: answered (the verdict form,
//! and the same form refusing "not resolved" without a reason), just resolved by the citizen in
//! the browser with a rating and a comment, closed by the officer within the reopening window
//! (the reopening form, and the same form refusing an empty reason), closed with the citizen's
//! rating within the window, and, with the clock past the window, closed for good (the notice
//! with the link to a new report) with and without a rating. On each, no element may reach
//! past the right edge, and the document may not be wider than the viewport. Screenshots (whole
//! page) go to `target/tmp/small-screens/<lang>-<page>.png`; the end-of-case status pages are
//! also shot at 360 and 1366 px wide (`<lang>-<page>-360.png`, `<lang>-<page>-1366-full.png`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use common::webdriver::{Driver, Session};
use common::{CHEAP_KDF, Fixture, login, member_reply, set_state, submit};

const WIDTH: u32 = 320;
const HEIGHT: u32 = 640;
/// The wider windows the end-of-case status pages are also shot in (a common phone, a laptop).
const WIDER: [(u32, u32); 2] = [(360, 740), (1366, 768)];
/// A long unbroken word, as citizens paste them.
const LONG_LINK: &str =
    "https://contoh.example.org/dokumen/kwitansi-pengembalian-pungutan-puskesmas-2026-11-23.pdf";

/// Tags that only hold other elements: an overflowing one is named after its contents.
const CONTAINERS: [&str; 16] = [
    "html", "body", "main", "header", "footer", "nav", "section", "article", "form", "fieldset",
    "div", "table", "thead", "tbody", "tr", "dl",
];

/// The rightmost edge any element of the page reaches, the document's width, and the elements
/// that reach past it (tag, id, class and right edge; the innermost first, with their text).
fn widths(browser: &Session) -> (f64, f64, Vec<String>) {
    let html = browser.find("html");
    let (_, _, page, _) = browser.rect(&html);
    let mut right: f64 = 0.0;
    let (mut inner, mut outer) = (Vec::new(), Vec::new());
    for el in browser.find_all("body, body *") {
        let (x, _, w, _) = browser.rect(&el);
        right = right.max(x + w);
        if x + w > page + 1.0 && inner.len() < 8 {
            let attr = |a: &str| {
                browser
                    .must("GET", &format!("/element/{el}/attribute/{a}"), None)
                    .as_str()
                    .unwrap_or("")
                    .to_owned()
            };
            let tag = browser.must("GET", &format!("/element/{el}/name"), None);
            let tag = tag.as_str().unwrap_or("?");
            let mut line = format!("{tag}#{}.{} ({:.0} px)", attr("id"), attr("class"), x + w);
            if CONTAINERS.contains(&tag) {
                outer.push(line);
            } else {
                let text: String = browser.text(&el).chars().take(60).collect();
                line.push_str(&format!(" {:.0} px wide {text:?}", w));
                inner.push(line);
            }
        }
    }
    inner.extend(outer.into_iter().take(4));
    (right, page, inner)
}

/// Writes a PNG of the whole page, below the fold and past the right edge too (Chromium's
/// `Page.captureScreenshot` through chromedriver; no JavaScript needed).
fn full_page(browser: &Session, path: &Path, width: f64) {
    use base64::Engine as _;
    let html = browser.find("html");
    let (_, _, page, height) = browser.rect(&html);
    let shot = browser.must(
        "POST",
        "/goog/cdp/execute",
        Some(serde_json::json!({
            "cmd": "Page.captureScreenshot",
            "params": {
                "format": "png",
                "captureBeyondViewport": true,
                "clip": {"x": 0, "y": 0, "width": width.max(page), "height": height, "scale": 1},
            },
        })),
    );
    let png = base64::engine::general_purpose::STANDARD
        .decode(shot["data"].as_str().unwrap())
        .unwrap();
    std::fs::write(path, png).unwrap();
}

/// Checks the page now open: records its widths, saves a screenshot, and says what overflows.
fn check(browser: &Session, shots: &Path, name: &str, report: &mut Vec<String>) {
    browser.wait_for("footer");
    let (right, page, past) = widths(browser);
    report.push(format!(
        "{name}: content reaches {right:.0} px, page {page:.0} px {past:?}"
    ));
    browser.screenshot(&shots.join(format!("{name}.png")));
    full_page(browser, &shots.join(format!("{name}-full.png")), right);
    if right > page + 1.0 || page > f64::from(WIDTH) {
        report.push(format!("OVERFLOW {name}"));
    }
}

/// Screenshots of the page now open at the wider windows; then back to 320 px.
fn wider(browser: &Session, shots: &Path, name: &str) {
    for (w, h) in WIDER {
        browser.window(w, h);
        browser.screenshot(&shots.join(format!("{name}-{w}.png")));
        full_page(browser, &shots.join(format!("{name}-{w}-full.png")), 0.0);
    }
    browser.window(WIDTH, HEIGHT);
}

/// A case of the health office with a long title, answered by the investigator with a message;
/// returns (receipt, case id).
async fn answered_case(router: &axum::Router, fx: &Fixture) -> (String, String) {
    let (receipt, case_id) = submit(
        router,
        &[(
            "title",
            "Pungutan liar di puskesmas kecamatan sebelum pengobatan pasien BPJS",
        )],
    )
    .await;
    let triage = login(router, &fx.identity("health-triage")).await;
    let inv = login(router, &fx.identity("health-investigator")).await;
    for (token, state) in [(&triage, "verified"), (&inv, "in_progress")] {
        let r = set_state(router, token, &case_id, state, None).await;
        assert!(r.status.is_success(), "{}", r.text());
    }
    let r = member_reply(
        router,
        &inv,
        &case_id,
        "health-investigator",
        &format!("Pungutan sudah dikembalikan kepada Anda. Kwitansi: {LONG_LINK}"),
    )
    .await;
    assert!(r.status.is_success(), "{}", r.text());
    let r = set_state(router, &inv, &case_id, "answered", None).await;
    assert!(r.status.is_success(), "{}", r.text());
    (receipt, case_id)
}

fn open_status(browser: &Session, base: &str, lang: &str, receipt: &str) {
    browser.goto(&format!("{base}/status?lang={lang}"));
    browser.type_into(&browser.wait_for("#receipt"), receipt);
    browser.click(&browser.find("#open"));
    browser.wait_for("#case-id");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_citizen_page_fits_320_px_in_both_languages() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, _app, clock) = fx.router().await;
    // Enough cases for bars (and long institution names) on the statistics page.
    for _ in 0..6 {
        submit(&router, &[("institution", "health")]).await;
    }
    for _ in 0..5 {
        submit(
            &router,
            &[("institution", "transport"), ("kind", "aspiration")],
        )
        .await;
    }
    // A confidential complaint with a long unbroken word, answered by the investigator.
    let (confidential, case_id) = submit(
        &router,
        &[
            ("privacy", "confidential"),
            ("identity_name", "Siti Nurhaliza Binti Abdurrahman"),
            (
                "identity_contact",
                "siti.nurhaliza.abdurrahman@contoh.example.org",
            ),
            (
                "body",
                "Petugas meminta uang sebelum pengobatan. Bukti: \
                 https://contoh.example.org/dokumen/bukti-pembayaran-liar-puskesmas-2026-11-01.pdf",
            ),
        ],
    )
    .await;
    let inv = login(&router, &fx.identity("health-investigator")).await;
    let r = member_reply(
        &router,
        &inv,
        &case_id,
        "health-investigator",
        "Terima kasih, laporan Anda sedang kami periksa bersama Inspektorat.",
    )
    .await;
    assert!(r.status.is_success(), "{}", r.text());
    // A whistleblowing report.
    let (whistle, _) = submit(
        &router,
        &[
            ("kind", "whistleblowing"),
            ("category", "corruption"),
            ("privacy", "confidential"),
            ("identity_name", "Pegawai Dinas"),
            ("identity_contact", "0812-3456-7890"),
            ("concerns", "Kepala Bidang Pelayanan Kesehatan Masyarakat"),
        ],
    )
    .await;

    // The end of a case: one left answered; one closed by the officer with a reason; one per
    // language for the citizen to resolve in the browser.
    let (answered, _) = answered_case(&router, &fx).await;
    let (closed, closed_id) = answered_case(&router, &fx).await;
    let r = set_state(
        &router,
        &inv,
        &closed_id,
        "closed",
        Some(&format!(
            "Pungutan dikembalikan, petugas diberi teguran tertulis. Bukti: {LONG_LINK}"
        )),
    )
    .await;
    assert!(r.status.is_success(), "{}", r.text());
    let mut to_resolve = Vec::new();
    for _ in ["id", "en"] {
        to_resolve.push(answered_case(&router, &fx).await.0);
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });

    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("small-screens");
    std::fs::create_dir_all(&shots).unwrap();
    let report = tokio::task::spawn_blocking(move || {
        let driver = Driver::start();
        let browser = Session::new(&driver);
        browser.window(WIDTH, HEIGHT);
        let mut report = Vec::new();
        for lang in ["id", "en"] {
            let name = |page: &str| format!("{lang}-{page}");
            browser.goto(&format!("{base}/?lang={lang}"));
            check(&browser, &shots, &name("index"), &mut report);

            browser.goto(&format!("{base}/report?lang={lang}"));
            browser.wait_for("#institution");
            check(&browser, &shots, &name("report"), &mut report);

            // A form with errors: nothing chosen, a date that is no date.
            browser.type_into(&browser.find("#occurred_on"), "2026-13-45");
            browser.click(&browser.find("#submit"));
            browser.wait_for(".error-summary");
            assert!(browser.try_find("#occurred_on-error").is_some());
            check(&browser, &shots, &name("report-errors"), &mut report);

            // The receipt page, from a real submission with a typed date.
            browser.goto(&format!("{base}/report?lang={lang}"));
            browser.click(&browser.wait_for("#kind-complaint"));
            browser.click(&browser.find("#institution option[value=\"health\"]"));
            browser.type_into(
                &browser.find("#title"),
                "Pungutan liar di puskesmas kecamatan",
            );
            browser.type_into(
                &browser.find("#body"),
                "Petugas meminta uang sebelum pengobatan.",
            );
            browser.type_into(&browser.find("#occurred_on"), "2026-11-01");
            browser.click(&browser.find("#submit"));
            browser.wait_for("#receipt");
            check(&browser, &shots, &name("receipt"), &mut report);
            let receipt = browser.find("#receipt");
            let (_, _, _, h) = browser.rect(&receipt);
            assert!(h < 70.0, "the receipt code fits on one line ({h} px high)");

            browser.goto(&format!("{base}/status?lang={lang}"));
            browser.wait_for("#receipt");
            check(&browser, &shots, &name("status-form"), &mut report);

            open_status(&browser, &base, lang, &confidential);
            assert!(
                browser
                    .source()
                    .contains("sedang kami periksa bersama Inspektorat"),
                "the investigator's message is shown"
            );
            check(&browser, &shots, &name("status-confidential"), &mut report);

            open_status(&browser, &base, lang, &whistle);
            check(
                &browser,
                &shots,
                &name("status-whistleblowing"),
                &mut report,
            );

            browser.goto(&format!("{base}/stats?lang={lang}"));
            browser.wait_for("#chart-institution");
            check(&browser, &shots, &name("stats"), &mut report);
            browser.screenshot_of(
                "#chart-institution",
                &shots.join(format!("{lang}-stats-chart.png")),
            );
            // Chart labels stay readable: the SVG's 12-unit text is at least 11 px high.
            let svg = browser.find("#chart-institution svg");
            let (_, _, w, _) = browser.rect(&svg);
            assert!(
                12.0 * w / 280.0 >= 11.0,
                "chart text {} px",
                12.0 * w / 280.0
            );

            browser.goto(&format!("{base}/no-such-page?lang={lang}"));
            check(&browser, &shots, &name("404"), &mut report);
        }

        // The end of a case, within the reopening window.
        for (lang, resolve) in ["id", "en"].into_iter().zip(&to_resolve) {
            let name = |page: &str| format!("{lang}-status-{page}");
            open_status(&browser, &base, lang, &answered);
            browser.find("#verdict");
            browser.find("#rating-5");
            check(&browser, &shots, &name("answered"), &mut report);
            wider(&browser, &shots, &name("answered"));

            // "Not resolved" without a reason: the form again, with the problem said.
            browser.click(&browser.find("#verdict-not-resolved"));
            browser.wait_for("#verdict-error");
            check(&browser, &shots, &name("answered-error"), &mut report);
            wider(&browser, &shots, &name("answered-error"));

            // Resolved, rated 4, with a comment: the case closes, the rating is shown.
            open_status(&browser, &base, lang, resolve);
            browser.click(&browser.find("#rating-4"));
            browser.type_into(
                &browser.find("#verdict-message"),
                &format!("Terima kasih, uang sudah kembali. {LONG_LINK}"),
            );
            browser.click(&browser.find("#verdict-resolved"));
            browser.wait_for("#notice");
            assert!(browser.text(&browser.find("#rating")).contains("4/5"));
            check(&browser, &shots, &name("resolved"), &mut report);
            wider(&browser, &shots, &name("resolved"));

            open_status(&browser, &base, lang, resolve);
            browser.find("#rating");
            browser.find("#reopen");
            check(&browser, &shots, &name("closed-rated"), &mut report);
            wider(&browser, &shots, &name("closed-rated"));

            // Closed by the officer: the reopening form; an empty reason is refused.
            open_status(&browser, &base, lang, &closed);
            browser.find("#reopen");
            assert!(browser.try_find("#rating").is_none());
            check(&browser, &shots, &name("closed-reopen"), &mut report);
            wider(&browser, &shots, &name("closed-reopen"));
            browser.click(&browser.find("#reopen-submit"));
            browser.wait_for("#verdict-error");
            check(&browser, &shots, &name("reopen-error"), &mut report);
            wider(&browser, &shots, &name("reopen-error"));
        }

        // Past the reopening window (10 working days): closed for good, a new report instead.
        clock.set(time::macros::datetime!(2026-12-21 09:30 UTC));
        for (lang, resolved) in ["id", "en"].into_iter().zip(&to_resolve) {
            let name = |page: &str| format!("{lang}-status-{page}");
            open_status(&browser, &base, lang, &closed);
            browser.find("#closed-explain");
            browser.find("#new-report");
            assert!(browser.try_find("#reopen").is_none());
            check(&browser, &shots, &name("closed-final"), &mut report);
            wider(&browser, &shots, &name("closed-final"));

            open_status(&browser, &base, lang, resolved);
            browser.find("#closed-explain");
            assert!(browser.text(&browser.find("#rating")).contains("4/5"));
            check(&browser, &shots, &name("closed-final-rated"), &mut report);
            wider(&browser, &shots, &name("closed-final-rated"));
        }
        report
    })
    .await
    .unwrap();
    server.abort();
    for line in &report {
        eprintln!("{line}");
    }
    let overflowing: Vec<&String> = report
        .iter()
        .filter(|l| l.starts_with("OVERFLOW"))
        .collect();
    assert!(
        overflowing.is_empty(),
        "wider than {WIDTH} px: {overflowing:?}"
    );
}
