//! The citizen web form works in a real browser with JavaScript switched off.
//!
//! This test starts the real `bisik serve` binary and a real headless Chromium, driven through
//! `chromedriver` over the W3C WebDriver protocol (plain HTTP on 127.0.0.1, no extra crates).
//! JavaScript is disabled in the browser profile, and the test first proves that it really is
//! off (a `<noscript>` element is rendered and an inline script does not run). Then, exactly as a
//! citizen would, it:
//!
//! 1. opens the English report form, checks it ships no `<script>`, picks a kind and an
//!    institution, types a title and body, and submits; the receipt code page appears;
//! 2. opens the status page, types the receipt code, and sees its own title and body decrypted;
//! 3. sends a reply from the status page and sees it in the message list;
//! 4. opens the form without `?lang=` in a browser that prefers Indonesian and gets
//!    `<html lang="id">`.
//!
//! Every network call goes to 127.0.0.1 and every wait is bounded.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use common::webdriver::{Driver, Session};

/// `ddddd-ddddd-ddddd-ddddd-ddddd` (the last digit a check digit).
fn is_receipt_code(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .all(|g| g.len() == 5 && g.bytes().all(|b| b.is_ascii_digit()))
        && bisik::crypto::receipt::Receipt::parse(s).is_ok_and(|r| r.has_check_digit())
}

#[test]
fn citizen_form_works_in_headless_chromium_without_javascript() {
    let started = Instant::now();
    let fx = common::Fixture::new(common::CHEAP_KDF);
    let server = common::ServerProcess::start(&fx.config_path, &[]);
    let base = server.base.clone();
    let driver = Driver::start();
    let browser = Session::new(&driver);

    // 0. JavaScript is really off: <noscript> is rendered and the inline script does not run.
    browser.goto(
        "data:text/html,<!DOCTYPE html><title>plain</title>\
         <noscript><p id=\"nojs\">off</p></noscript>\
         <script>document.title='js-ran'</script>",
    );
    let nojs = browser.find("#nojs");
    assert_eq!(browser.text(&nojs), "off");
    assert_eq!(browser.title(), "plain", "JavaScript ran in the browser");

    let marker = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let title = format!("Clinic fees {marker}");
    let body = format!(
        "At the district clinic, staff ask for money before treatment. Marker body-{marker}."
    );
    let reply = format!("I can add the date of the second visit. Reply-{marker}.");

    // 1. Report form, in English, with no script at all.
    browser.goto(&format!("{base}/report?lang=en"));
    browser.wait_for("#submit");
    let html = browser.source();
    assert!(html.contains("<html lang=\"en\">"), "{html}");
    assert!(
        !html.to_ascii_lowercase().contains("<script"),
        "the form page has a script"
    );

    let kind = browser.find("#kind-whistleblowing");
    browser.click(&kind);
    assert!(browser.selected(&kind));
    assert!(
        browser.selected(&browser.find("#privacy-anonymous")),
        "anonymous is the default"
    );
    let health = browser.find("#institution option[value=\"health\"]");
    browser.click(&health);
    assert!(browser.selected(&health));
    browser.type_into(&browser.find("#title"), &title);
    browser.type_into(&browser.find("#body"), &body);
    browser.click(&browser.find("#submit"));

    let receipt_el = browser.wait_for("#receipt");
    let receipt = browser.text(&receipt_el);
    assert!(is_receipt_code(&receipt), "not a receipt code: {receipt:?}");
    let case_id = browser.text(&browser.find("#case-id"));
    assert!(!case_id.is_empty());
    assert!(!browser.source().to_ascii_lowercase().contains("<script"));

    // 2. Status page: the receipt opens the report.
    browser.goto(&format!("{base}/status?lang=en"));
    browser.type_into(&browser.wait_for("#receipt"), &receipt);
    browser.click(&browser.find("#open"));
    let shown_title = browser.text(&browser.wait_for("#report-title"));
    assert!(shown_title.contains(&marker.to_string()), "{shown_title:?}");
    assert_eq!(shown_title, title);
    let shown_body = browser.text(&browser.find("#report-body"));
    assert!(
        shown_body.contains(&format!("body-{marker}")),
        "{shown_body:?}"
    );
    assert_eq!(browser.text(&browser.find("#case-id")), case_id);
    assert!(!browser.text(&browser.find("#state")).is_empty());

    // 3. A reply from the status page shows up in the message list.
    browser.type_into(&browser.find("#message"), &reply);
    browser.click(&browser.find("#send"));
    let messages = browser.text(&browser.wait_for("#messages"));
    assert!(
        messages.contains(&format!("Reply-{marker}")),
        "{messages:?}"
    );
    assert_eq!(browser.text(&browser.find("#report-title")), title);

    // 4. Bahasa Indonesia: no ?lang=, a browser that prefers Indonesian.
    browser.goto(&format!("{base}/report"));
    browser.wait_for("#submit");
    let html = browser.source();
    assert!(html.contains("<html lang=\"id\">"), "{html}");
    assert!(!html.to_ascii_lowercase().contains("<script"));

    drop(browser);
    drop(driver);
    let log = server.stop();
    println!(
        "browser test took {:.1?}; server log:\n{log}",
        started.elapsed()
    );
}
