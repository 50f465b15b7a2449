//! Issue 13, item 7: the receipt's check digit. A mistyped digit or two swapped neighbours in a
//! new (25-digit) receipt is answered at once with "this code has a typing mistake", before any
//! store lookup or Argon2id run, with the same page whether or not a report exists; old
//! 24-digit receipts (no check digit) keep opening their case exactly as before.
//!
//! "No derivation" is observed through the KDF pool's counter of started derivations
//! (`KdfPool::derivations_started`); "no lookup, no cost" also through the receipt-check rate
//! bucket, which typos do not use up.

mod common;

use axum::http::StatusCode;
use bisik::crypto::receipt::{LookupId, Receipt};
use common::*;

const TYPO_EN: &str = "This code has a typing mistake";
const TYPO_ID: &str = "Kode ini ada salah ketik";
const NOT_FOUND_EN: &str = "This code does not open any report.";

/// The digits of a receipt as shown (dashes dropped).
fn digits_of(receipt: &str) -> Vec<u8> {
    receipt.bytes().filter(u8::is_ascii_digit).collect()
}

/// Back into the display form: five groups of five, as a citizen would copy it.
fn grouped(digits: &[u8]) -> String {
    let mut out = String::new();
    for (i, d) in digits.iter().enumerate() {
        if i > 0 && i % 5 == 0 {
            out.push('-');
        }
        out.push(char::from(*d));
    }
    out
}

/// One typo per position (each digit replaced by the next one) and every swap of two different
/// neighbours, in the display form.
fn typos_of(receipt: &str) -> Vec<String> {
    let good = digits_of(receipt);
    assert_eq!(good.len(), 25, "a new receipt has 25 digits: {receipt}");
    let mut out = Vec::new();
    for pos in 0..good.len() {
        let mut t = good.clone();
        t[pos] = b'0' + (t[pos] - b'0' + 1) % 10;
        out.push(grouped(&t));
    }
    for pos in 0..good.len() - 1 {
        if good[pos] != good[pos + 1] {
            let mut t = good.clone();
            t.swap(pos, pos + 1);
            out.push(grouped(&t));
        }
    }
    out
}

#[tokio::test]
async fn a_typo_in_a_new_receipt_is_answered_at_once_without_any_derivation() {
    // Production Argon2id, and a receipt-check bucket of only 2: were a typo looked up or
    // derived, the counter would move, and the bucket would be empty long before the end.
    let fx = Fixture::new(
        "[rate]\nstatus_checks_per_minute = 1\nstatus_check_burst = 2\n\
         per_circuit_status_checks_per_minute = 1\nper_circuit_status_check_burst = 2\n",
    );
    let (router, app, _clock) = fx.router().await;
    assert_eq!(app.config.kdf, bisik::crypto::kdf::KdfParams::default());
    let (receipt, case_id) = submit(&router, &[]).await;
    assert!(
        Receipt::parse(&receipt).unwrap().has_check_digit(),
        "new receipts carry a check digit: {receipt}"
    );
    let before = app.kdf.derivations_started();

    let typos = typos_of(&receipt);
    assert!(
        typos.len() >= 25 + 10,
        "substitutions and swaps: {}",
        typos.len()
    );
    let started = std::time::Instant::now();
    for typo in &typos {
        let r = send(&router, post_form("/status?lang=en", &[("receipt", typo)])).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{typo}");
        let page = r.text();
        assert!(page.contains(TYPO_EN), "{typo}: {page}");
        assert!(!page.contains(NOT_FOUND_EN), "{typo}");
        assert_eq!(
            input_value(&page, "receipt").unwrap(),
            *typo,
            "what was typed is kept for correcting"
        );
        assert!(!page.contains(&case_id), "nothing of the case is shown");
        // Indonesian, the default.
        let r = send(&router, post_form("/status", &[("receipt", typo)])).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{typo}");
        assert!(r.text().contains(TYPO_ID), "{typo}");
    }
    let took = started.elapsed();
    assert_eq!(
        app.kdf.derivations_started(),
        before,
        "no typo ran a key derivation"
    );
    eprintln!(
        "{} typos answered in {took:?} without a derivation",
        typos.len() * 2
    );

    // A typo in the hidden field of a status-page form (reply) is answered the same way.
    let r = send(
        &router,
        post_form(
            "/status/reply?lang=en",
            &[("receipt", &typos[3]), ("nonce", ""), ("message", "Halo")],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains(TYPO_EN));
    assert_eq!(app.kdf.derivations_started(), before);

    // The right receipt still opens the case: the typos used up no receipt checks. It costs
    // exactly one derivation.
    let page = status_page(&router, &receipt).await;
    assert_eq!(element_text(&page, "case-id").unwrap(), case_id);
    assert_eq!(app.kdf.derivations_started(), before + 1);
}

#[tokio::test]
async fn the_typo_page_is_the_same_whether_or_not_a_report_exists() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, app, _clock) = fx.router().await;
    let (receipt, _case_id) = submit(&router, &[]).await;
    // A well-formed receipt of a report that does not exist (another lookup id).
    let existing = Receipt::parse(&receipt).unwrap();
    let lookup = LookupId::from_u32((existing.lookup().as_u32() + 1) % 100_000_000).unwrap();
    let nobody = existing.with_lookup(lookup).display().to_string();
    let before = app.kdf.derivations_started();

    for (a, b) in typos_of(&receipt).iter().zip(typos_of(&nobody).iter()) {
        for path in ["/status?lang=en", "/status"] {
            let ra = send(&router, post_form(path, &[("receipt", a)])).await;
            let rb = send(&router, post_form(path, &[("receipt", b)])).await;
            assert_eq!(ra.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(ra.status, rb.status);
            // Identical but for the echo of what was typed.
            assert_eq!(
                ra.text().replace(a.as_str(), "<typed>"),
                rb.text().replace(b.as_str(), "<typed>"),
                "{a} / {b}"
            );
        }
    }
    assert_eq!(app.kdf.derivations_started(), before);

    // The well-formed receipt of nobody is looked up and derived, and gets the unknown-code
    // page, not the typo page: the two answers are not confused.
    let r = send(
        &router,
        post_form("/status?lang=en", &[("receipt", &nobody)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.text().contains(NOT_FOUND_EN));
    assert!(!r.text().contains(TYPO_EN));
    assert_eq!(app.kdf.derivations_started(), before + 1);
}

#[tokio::test]
async fn an_old_receipt_without_a_check_digit_still_opens_its_case() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, app, _clock) = fx.router().await;
    let (receipt, case_id) = submit(&router, &[]).await;
    // The same case's receipt as it was handed out before the check digit: 24 digits, six
    // groups of four (the secret, and so the key, are the same 16 digits).
    let old = Receipt::parse(&receipt)
        .unwrap()
        .without_check_digit()
        .display()
        .to_string();
    assert_eq!(old.len(), 29);
    assert_eq!(old.split('-').count(), 6, "{old}");
    assert_eq!(digits_of(&old)[..], digits_of(&receipt)[..24]);

    for typed in [old.clone(), old.replace('-', " "), old.replace('-', "")] {
        let page = status_page(&router, &typed).await;
        assert_eq!(element_text(&page, "case-id").unwrap(), case_id, "{typed}");
    }
    // The status page carries it on in the old form, and replying with it works.
    let page = status_page(&router, &old).await;
    assert_eq!(input_value(&page, "receipt").unwrap(), old);
    let after = citizen_reply(&router, &old, "Masih menunggu jawaban.").await;
    assert!(after.contains("Masih menunggu jawaban."));

    // An old receipt with a wrong secret is looked up and derived as before (no check digit to
    // catch it), and answers like an unknown old code: byte-identical.
    let mut wrong = digits_of(&old);
    wrong[23] = b'0' + (wrong[23] - b'0' + 1) % 10;
    let wrong = String::from_utf8(wrong).unwrap();
    let lookup: u32 = old.replace('-', "")[..8].parse().unwrap();
    let unknown = format!(
        "{:08}{}",
        (lookup + 1) % 100_000_000,
        &old.replace('-', "")[8..]
    );
    let before = app.kdf.derivations_started();
    let a = send(
        &router,
        post_form("/status?lang=en", &[("receipt", &wrong)]),
    )
    .await;
    let b = send(
        &router,
        post_form("/status?lang=en", &[("receipt", &unknown)]),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.status, b.status);
    assert_eq!(a.body, b.body);
    assert!(a.text().contains(NOT_FOUND_EN));
    assert_eq!(app.kdf.derivations_started(), before + 2);
}
