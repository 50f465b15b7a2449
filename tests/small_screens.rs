//! Issue 13, item 10: no citizen page is wider than a 320 px phone, in either language.
//!
//! The real router is served on 127.0.0.1 and a real headless Chromium (JavaScript off) opens,
//! at 320×640, every citizen page in `?lang=id` and `?lang=en`: the landing page, the report
//! form, a form with errors, the receipt page, the status form, the status page of a
//! confidential report with messages, the status page of a whistleblowing report, the
//! statistics and a 404. On each, no element may reach past the right edge, and the document
//! may not be wider than the viewport. Screenshots (whole page) go to
//! `target/tmp/small-screens/<lang>-<page>.png`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use common::webdriver::{Driver, Session};
use common::{CHEAP_KDF, Fixture, login, member_reply, submit};

const WIDTH: u32 = 320;
const HEIGHT: u32 = 640;

/// The rightmost edge any element of the page reaches, the document's width, and the elements
/// that reach past it (tag, id and class).
fn widths(browser: &Session) -> (f64, f64, Vec<String>) {
    let html = browser.find("html");
    let (_, _, page, _) = browser.rect(&html);
    let mut right: f64 = 0.0;
    let mut past = Vec::new();
    for el in browser.find_all("body, body *") {
        let (x, _, w, _) = browser.rect(&el);
        right = right.max(x + w);
        if x + w > page + 1.0 && past.len() < 6 {
            let attr = |a: &str| {
                browser
                    .must("GET", &format!("/element/{el}/attribute/{a}"), None)
                    .as_str()
                    .unwrap_or("")
                    .to_owned()
            };
            let tag = browser.must("GET", &format!("/element/{el}/name"), None);
            past.push(format!(
                "{}#{}.{} ({:.0} px)",
                tag.as_str().unwrap_or("?"),
                attr("id"),
                attr("class"),
                x + w
            ));
        }
    }
    (right, page, past)
}

/// Checks the page now open: records its widths, saves a screenshot, and says what overflows.
fn check(browser: &Session, shots: &Path, name: &str, report: &mut Vec<String>) {
    browser.wait_for("footer");
    let (right, page, past) = widths(browser);
    report.push(format!(
        "{name}: content reaches {right:.0} px, page {page:.0} px {past:?}"
    ));
    browser.screenshot(&shots.join(format!("{name}.png")));
    browser.screenshot_of("body", &shots.join(format!("{name}-full.png")));
    if right > page + 1.0 || page > f64::from(WIDTH) {
        report.push(format!("OVERFLOW {name}"));
    }
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
    let (router, _app, _clock) = fx.router().await;
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
