//! Robust parsing, as properties: arbitrary bytes and arbitrary text thrown at every citizen
//! form (url-encoded and multipart) through the real router never panic and never produce a
//! server error — the answer is a page in the user's language that says what was wrong.
//! (Receipt parsing and tor's PROXY line have their own property tests next to the parsers.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::sync::atomic::{AtomicUsize, Ordering};

const LIMITS: &str = "[rate]\nsubmissions_per_minute = 1000000\nsubmission_burst = 1000000\n\
     status_checks_per_minute = 1000000\nstatus_check_burst = 1000000\n";

const FORM_PATHS: &[&str] = &["/report", "/status", "/status/reply", "/status/escalate"];
const MULTIPART_PATHS: &[&str] = &["/report", "/status/attach"];

/// A fixed seed: CI runs the same arbitrary inputs every time, so a failure reproduces and the
/// coverage checks below (both outcomes reached) cannot flake.
fn runner(cases: u32) -> TestRunner {
    TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    )
}

fn raw_post(path: &str, content_type: &str, body: Vec<u8>) -> Request<Body> {
    Request::post(path)
        .header("content-type", content_type)
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(body))
        .unwrap()
}

/// Never a server error; always an HTML page, with the language asked for.
fn assert_clear_answer(r: &Reply, lang: &str, what: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        r.status.as_u16() < 500,
        "{what}: {} {}",
        r.status,
        String::from_utf8_lossy(&r.body)
    );
    let html = String::from_utf8(r.body.clone()).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(
        html.contains(&format!("<html lang=\"{lang}\"")),
        "{what}: not a page in {lang}: {}",
        &html[..html.len().min(300)]
    );
    Ok(())
}

struct Harness {
    rt: tokio::runtime::Runtime,
    router: Router,
    _fx: Fixture,
}

impl Harness {
    fn new() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let fx = Fixture::new(&format!("{CHEAP_KDF}{LIMITS}"));
        let (router, _, _) = rt.block_on(fx.router());
        Self {
            rt,
            router,
            _fx: fx,
        }
    }

    fn send(&self, req: Request<Body>) -> Reply {
        self.rt.block_on(send(&self.router, req))
    }
}

fn lang() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("id"), Just("en")]
}

#[test]
fn arbitrary_bytes_in_url_encoded_forms() {
    let h = Harness::new();
    let strategy = (
        prop::sample::select(FORM_PATHS),
        lang(),
        prop::collection::vec(any::<u8>(), 0..600),
    );
    runner(160)
        .run(&strategy, |(path, lang, body)| {
            let r = h.send(raw_post(
                &format!("{path}?lang={lang}"),
                "application/x-www-form-urlencoded",
                body,
            ));
            assert_clear_answer(&r, lang, path)
        })
        .unwrap();
}

/// Well-formed encoding, arbitrary values (any Unicode, controls, NUL, very long): a report
/// is either saved with a receipt, or comes back with its problems named and the values kept.
#[test]
fn arbitrary_values_in_the_report_form() {
    let h = Harness::new();
    let field = || {
        prop_oneof![
            4 => "[a-z][a-z ]{4,40}",
            2 => any::<String>(),
            1 => Just(String::new()),
            1 => "\\PC{5000,12000}",
        ]
    };
    let strategy = (
        lang(),
        prop::sample::select(vec![
            "complaint",
            "complaint",
            "whistleblowing",
            "aspiration",
            "x",
            "",
        ]),
        prop::sample::select(vec!["anonymous", "anonymous", "confidential", "public", ""]),
        prop::sample::select(vec!["", "", "health", "transport", "nowhere"]),
        field(),
        field(),
        prop_oneof![3 => Just(String::new()), 1 => field()],
        prop_oneof![3 => Just("2026-11-01".to_owned()), 1 => "[0-9-]{0,12}", 1 => any::<String>()],
    );
    let (saved, refused) = (AtomicUsize::new(0), AtomicUsize::new(0));
    runner(128)
        .run(
            &strategy,
            |(lang, kind, privacy, institution, title, body, name, day)| {
                let fields = [
                    ("kind", kind),
                    ("privacy", privacy),
                    ("institution", institution),
                    ("title", title.as_str()),
                    ("body", body.as_str()),
                    ("identity_name", name.as_str()),
                    ("occurred_on", day.as_str()),
                ];
                let r = h.send(post_form(&format!("/report?lang={lang}"), &fields));
                assert_clear_answer(&r, lang, "report")?;
                let html = r.text();
                if html.contains("id=\"receipt\"") {
                    prop_assert_eq!(r.status, StatusCode::OK);
                    saved.fetch_add(1, Ordering::Relaxed);
                } else {
                    refused.fetch_add(1, Ordering::Relaxed);
                    prop_assert!(r.status.is_client_error(), "{}", r.status);
                    // A simple typed title survives the round trip (escaping aside).
                    if title.chars().all(|c| c.is_ascii_lowercase() || c == ' ')
                        && !title.trim().is_empty()
                    {
                        prop_assert!(html.contains(title.trim()), "title lost");
                    }
                }
                Ok(())
            },
        )
        .unwrap();
    // The strategy must reach both sides, or the property says little.
    let (saved, refused) = (saved.into_inner(), refused.into_inner());
    eprintln!("report form: {saved} saved, {refused} refused");
    assert!(
        saved >= 5 && refused >= 5,
        "{saved} saved, {refused} refused"
    );
}

#[test]
fn arbitrary_bytes_as_multipart() {
    let h = Harness::new();
    let strategy = (
        prop::sample::select(MULTIPART_PATHS),
        lang(),
        prop::collection::vec(any::<u8>(), 0..2000),
    );
    runner(128)
        .run(&strategy, |(path, lang, body)| {
            let ct = format!("multipart/form-data; boundary={BOUNDARY}");
            let r = h.send(raw_post(&format!("{path}?lang={lang}"), &ct, body));
            assert_clear_answer(&r, lang, path)
        })
        .unwrap();
}

/// A real multipart report, then cut short, with bytes flipped, or with the boundary parameter
/// mangled: the parser must fail cleanly wherever it breaks.
#[test]
fn damaged_multipart_reports() {
    let h = Harness::new();
    let fields = report_fields(&[("title", "Multipart title"), ("body", "Multipart body")]);
    let jpeg: &[u8] = &[
        0xff, 0xd8, 0xff, 0xe0, 0, 16, b'J', b'F', b'I', b'F', 0, 1, 0xff, 0xd9,
    ];
    let good = multipart(
        &fields,
        &[
            ("photo.jpg", "image/jpeg", jpeg),
            ("notes.txt", "text/plain", b"plain notes"),
        ],
    );
    let len = good.len();
    let strategy = (
        lang(),
        prop::sample::select(MULTIPART_PATHS),
        prop_oneof![Just(len), 0..=len],
        prop_oneof![
            Just(vec![]),
            prop::collection::vec((0..len, any::<u8>()), 1..6)
        ],
        prop_oneof![
            4 => Just(format!("multipart/form-data; boundary={BOUNDARY}")),
            1 => Just("multipart/form-data".to_owned()),
            1 => Just("multipart/form-data; boundary=".to_owned()),
            1 => "multipart/form-data; boundary=[ -~]{0,80}",
            1 => "[ -~]{0,60}",
        ],
    );
    let saved = AtomicUsize::new(0);
    runner(128)
        .run(&strategy, |(lang, path, cut, flips, ct)| {
            let mut body = good.clone();
            for (at, b) in flips {
                body[at] = b;
            }
            body.truncate(cut);
            let r = h.send(raw_post(&format!("{path}?lang={lang}"), &ct, body));
            if r.text().contains("id=\"receipt\"") {
                saved.fetch_add(1, Ordering::Relaxed);
            }
            assert_clear_answer(&r, lang, path)
        })
        .unwrap();
    // Undamaged bodies are drawn too, and they are saved: the parser is really reached.
    assert!(saved.into_inner() > 0);
}

/// Anything typed as a receipt: a wrong-format page or the one not-found page, never an error.
#[test]
fn arbitrary_receipts() {
    let h = Harness::new();
    let strategy = (
        lang(),
        prop_oneof![
            any::<String>(),
            "[0-9]{24}",
            "[0-9 -]{0,40}",
            "[0-9]{4}(-[0-9]{4}){5}",
        ],
    );
    runner(64)
        .run(&strategy, |(lang, receipt)| {
            let r = h.send(post_form(
                &format!("/status?lang={lang}"),
                &[("receipt", receipt.as_str())],
            ));
            assert_clear_answer(&r, lang, "status")?;
            prop_assert!(matches!(r.status.as_u16(), 400 | 404 | 422), "{}", r.status);
            Ok(())
        })
        .unwrap();
}
