//! Regression tests for what an adversarial review found on the members' side (issue 11):
//! planted Argon2id costs, envelopes the reporter cannot open, foreign blob ids, login timing by
//! membership, and re-seals of long conversations. Real router or real server, real SQLite.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use age::x25519;
use axum::http::StatusCode;
use common::*;

fn token_of(bytes: &[u8]) -> String {
    bisik::crypto::token::encode(bytes)
}

/// An envelope sealed to `n` strangers: a valid age file nobody on the case can open.
fn sealed_to_strangers(n: usize, doc: &serde_json::Value) -> String {
    let strangers: Vec<bisik::crypto::keys::Recipient> = (0..n)
        .map(|_| x25519::Identity::generate().to_public().into())
        .collect();
    token_of(&bisik::crypto::envelope::seal(&strangers, doc.to_string().as_bytes()).unwrap())
}

async fn recipient_count(router: &axum::Router, token: &str, case_id: &str) -> usize {
    let r = send(
        router,
        authed_get(&format!("/api/v1/cases/{case_id}/recipients"), token),
    )
    .await;
    let rec: bisik::api::RecipientsResponse = serde_json::from_slice(&r.body).unwrap();
    rec.readers.len() + 1
}

fn intake_body(
    kdf: serde_json::Value,
    recipients: &[bisik::crypto::keys::Recipient],
) -> serde_json::Value {
    let reporter = x25519::Identity::generate().to_public();
    let mut all = recipients.to_vec();
    all.push(reporter.clone().into());
    let content = bisik::crypto::envelope::seal(&all, br#"{"type":"bisik.report"}"#).unwrap();
    serde_json::json!({
        "channel": "phone",
        "kind": "complaint",
        "privacy": "anonymous",
        "lookup_id": 12_345_678,
        "kdf_salt": token_of(&[9u8; 16]),
        "kdf": kdf,
        "reporter_recipient": reporter.to_string(),
        "content": token_of(&content),
    })
}

/// Item 1: staff intake may not plant a receipt whose check costs more than the configured
/// maximum (before the fix any cost not *below* the server's was stored and trusted).
#[tokio::test]
async fn intake_refuses_a_key_derivation_costlier_than_the_maximum() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, _app, _clock) = fx.router().await;
    let triage = login(&router, &fx.identity("health-triage")).await;
    let readers: Vec<bisik::crypto::keys::Recipient> = vec![
        fx.identity("health-triage").to_public().into(),
        fx.identity("health-investigator").to_public().into(),
    ];
    for planted in [
        serde_json::json!({"memory_kib": 1024, "iterations": 100_000, "parallelism": 1}),
        serde_json::json!({"memory_kib": 3 * 1024 * 1024, "iterations": 1, "parallelism": 1}),
        serde_json::json!({"memory_kib": 1024, "iterations": 1, "parallelism": 64}),
    ] {
        let r = send(
            &router,
            authed_post("/api/v1/intake", &triage, &intake_body(planted, &readers)),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        assert!(
            r.text().contains("costlier than this server allows"),
            "{}",
            r.text()
        );
    }
    // Within the maximum but not the server's own: refused too (a costlier check than an
    // unknown code's would tell that the lookup id exists).
    let other = serde_json::json!({"memory_kib": 1024, "iterations": 2, "parallelism": 1});
    let r = send(
        &router,
        authed_post("/api/v1/intake", &triage, &intake_body(other, &readers)),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    // The server's own parameters are accepted.
    let fine = serde_json::json!({"memory_kib": 1024, "iterations": 1, "parallelism": 1});
    let r = send(
        &router,
        authed_post("/api/v1/intake", &triage, &intake_body(fine, &readers)),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

/// Item 1: a case already stored with a cost above the maximum (planted earlier, or from a
/// laxer configuration) is never derived: its receipt check answers at once, exactly like an
/// unknown code. Before the fix the check ran the planted 200,000 passes (minutes of a core).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_costly_case_is_never_derived_and_answers_like_an_unknown_code() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, app, _clock) = fx.router().await;
    let lookup = bisik::crypto::receipt::LookupId::random().unwrap();
    let receipt = bisik::crypto::receipt::Receipt::generate(lookup).unwrap();
    let reporter = x25519::Identity::generate().to_public().to_string();
    let content =
        bisik::crypto::envelope::seal(&[x25519::Identity::generate().to_public().into()], b"{}")
            .unwrap();
    let today = time::macros::date!(2026 - 11 - 23);
    app.store
        .insert_case(&bisik::store::NewCase {
            id: "BSK-PLANTED1",
            lookup_id: lookup.as_u32(),
            institution: "health",
            kind: bisik::domain::case::Kind::Complaint,
            category: None,
            privacy: bisik::domain::case::Privacy::Anonymous,
            received_on: today,
            kdf_salt: &[1u8; 16],
            kdf: bisik::crypto::kdf::KdfParams {
                memory_kib: 1024,
                iterations: 200_000,
                parallelism: 1,
            },
            reporter_recipient: &reporter,
            reporter_pq_recipient: None,
            content: &content,
            identity: None,
            due_on: None,
            channel: "phone",
            attachments: &[],
        })
        .await
        .unwrap();
    let shown = receipt.display().to_string();
    let planted = tokio::time::timeout(
        Duration::from_secs(60),
        send(
            &router,
            post_form("/status?lang=en", &[("receipt", &shown)]),
        ),
    )
    .await
    .expect("the planted cost was run: the check did not answer within a minute");
    // An unknown code with another lookup id, for comparison.
    let other = bisik::crypto::receipt::Receipt::generate(
        bisik::crypto::receipt::LookupId::random().unwrap(),
    )
    .unwrap();
    let unknown = send(
        &router,
        post_form("/status?lang=en", &[("receipt", other.display().as_ref())]),
    )
    .await;
    assert_eq!(planted.status, unknown.status);
    assert_eq!(planted.body, unknown.body, "planted ≡ unknown");
}

/// Item 1: at SIGTERM, receipt checks still queued for a core are answered at once and the
/// process does not wait for derivations: before the fix the server finished the whole queue
/// (here ~40 derivations of about a second on two cores) before it stopped.
#[test]
fn sigterm_does_not_wait_for_a_queue_of_key_derivations() {
    let fx = Fixture::new(
        "[kdf]\nmemory_kib = 65536\niterations = 12\nparallelism = 1\n\
         [rate]\nstatus_checks_per_minute = 10000\nstatus_check_burst = 1000\n",
    );
    let server = ServerProcess::start(&fx.config_path, &[]);
    let base = server.base.clone();
    let mut clients = Vec::new();
    for i in 0..40u64 {
        let base = base.clone();
        clients.push(std::thread::spawn(move || {
            let code = format!("{:08}{:016}", 10_000_000 + i, i);
            let _ = loopback_agent()
                .post(format!("{base}/status?lang=en"))
                .header("content-type", "application/x-www-form-urlencoded")
                .send(form_body(&[("receipt", &code)]));
        }));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let mut child = server;
    let _ = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(child.child.id().to_string())
        .status();
    let asked = Instant::now();
    let deadline = asked + Duration::from_secs(60);
    while child.child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "server did not stop at all");
        std::thread::sleep(Duration::from_millis(50));
    }
    let took = asked.elapsed();
    for c in clients {
        let _ = c.join();
    }
    assert!(
        took < Duration::from_secs(8),
        "the server finished its queue of derivations before stopping ({took:?})"
    );
    child.child.wait().ok();
}

/// Item 2: a member envelope the reporter cannot open never locks the reporter out, never
/// fails a reply or an escalation, and is flagged to the case's officers. An envelope sealed
/// to fewer keys than the server handed out is refused at upload.
#[tokio::test]
async fn an_envelope_the_reporter_cannot_open_never_locks_them_out() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, app, clock) = fx.router().await;
    let (receipt, case_id) = submit(
        &router,
        &[("title", "Lock-out test"), ("body", "Readable report body")],
    )
    .await;
    let inv = login(&router, &fx.identity("health-investigator")).await;
    member_reply(
        &router,
        &inv,
        &case_id,
        "member:health/health-investigator",
        "A readable answer.",
    )
    .await;
    let doc = serde_json::json!({"type": "bisik.message", "version": 1, "author": "x", "body": "hidden", "written_on": "2026-11-23"});
    // Sealed to one stranger: refused (the count of stanzas cannot match).
    let r = send(
        &router,
        authed_post(
            &format!("/api/v1/cases/{case_id}/messages"),
            &inv,
            &serde_json::json!({ "envelope": sealed_to_strangers(1, &doc) }),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    // Sealed to as many strangers as there are recipients: the server cannot tell, so it is
    // stored — and must not break anything for the reporter.
    let n = recipient_count(&router, &inv, &case_id).await;
    let r = send(
        &router,
        authed_post(
            &format!("/api/v1/cases/{case_id}/messages"),
            &inv,
            &serde_json::json!({ "envelope": sealed_to_strangers(n, &doc) }),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // The same for a reason the reporter should read.
    let reason = serde_json::json!({"type": "bisik.reason", "version": 1, "state": "in_progress", "text": "hidden"});
    let body = serde_json::json!({ "state": "verified", "reason_envelope": sealed_to_strangers(n, &reason) });
    let triage = login(&router, &fx.identity("health-triage")).await;
    let r = send(
        &router,
        authed_post(&format!("/api/v1/cases/{case_id}/state"), &triage, &body),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    let page = status_page(&router, &receipt).await;
    assert!(page.contains("Readable report body") && page.contains("A readable answer."));
    assert!(
        page.contains("could not be opened with your code"),
        "{page}"
    );
    let page = citizen_reply(&router, &receipt, "Still here.").await;
    assert!(page.contains("Your message is saved."), "{page}");
    assert!(page.contains("Still here."));

    // The officers see what the reporter could not open — from the next day on, so the flag
    // never tells them when the reporter came.
    let flags = |body: &[u8]| -> Vec<String> {
        let case: serde_json::Value = serde_json::from_slice(body).unwrap();
        case["reporter_could_not_open"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let case_url = format!("/api/v1/cases/{case_id}");
    let r = send(&router, authed_get(&case_url, &inv)).await;
    assert!(
        flags(&r.body).is_empty(),
        "flag shown the day it was written"
    );
    clock.advance(time::Duration::days(1));
    let inv = login(&router, &fx.identity("health-investigator")).await;
    let r = send(&router, authed_get(&case_url, &inv)).await;
    let flagged = flags(&r.body);
    assert!(
        flagged.iter().any(|i| i.starts_with("message "))
            && flagged.iter().any(|i| i.starts_with("reason ")),
        "{flagged:?}"
    );

    // Escalation re-seals what opens and says what did not.
    clock.advance(time::Duration::days(90));
    let r = send(
        &router,
        post_form("/status/escalate?lang=en", &[("receipt", &receipt)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let page = r.text();
    assert!(page.contains("could not be passed on"), "{page}");
    assert!(page.contains("Escalated to the Ombudsman"), "{page}");
    let omb = login(&router, &fx.identity("ombudsman-officer")).await;
    let r = send(
        &router,
        authed_get(&format!("/api/v1/cases/{case_id}"), &omb),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let case: bisik::api::CaseResponse = serde_json::from_slice(&r.body).unwrap();
    let content = bisik::crypto::token::decode(&case.content).unwrap();
    let opened =
        bisik::crypto::envelope::open(&fx.identity("ombudsman-officer"), &content).unwrap();
    assert!(String::from_utf8_lossy(&opened).contains("Readable report body"));
    let _ = app;
}

/// A web report with one file (`note.txt`), through the router.
async fn report_with_file(router: &axum::Router, fields: &[(&str, &str)], file: &[u8]) -> Reply {
    let body = multipart(&report_fields(fields), &[("note.txt", "text/plain", file)]);
    let req = axum::http::Request::post("/report?lang=en")
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header("sec-fetch-site", "same-origin")
        .body(axum::body::Body::from(body))
        .unwrap();
    send(router, req).await
}

/// Item 8: a member cannot make the server delete another case's blob by naming it in a
/// rekey (before the fix the refused rekey zero-filled and unlinked the named blob); the
/// refusal is audited.
#[tokio::test]
async fn a_rekey_naming_a_foreign_blob_is_refused_and_the_blob_survives() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, app, _clock) = fx.router().await;
    // Case A, with a file, at the transport office.
    let r = report_with_file(
        &router,
        &[("institution", "transport"), ("category", "")],
        b"evidence of case A",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let case_a = element_text(&r.text(), "case-id").unwrap();
    let files = app.store.attachments(&case_a).await.unwrap();
    let foreign = files[0].blob.clone();
    let blob_path = app.blobs.path(&foreign).unwrap();
    assert!(blob_path.exists());

    // Case B at the health office; its investigator names A's blob in a rekey.
    let (_r, case_b) = submit(&router, &[]).await;
    let inv = login(&router, &fx.identity("health-investigator")).await;
    let n = recipient_count(&router, &inv, &case_b).await;
    let sealed = sealed_to_strangers(n, &serde_json::json!({}));
    let body = serde_json::json!({
        "content": sealed,
        "messages": [],
        "reasons": [],
        "attachments": [{"seq": 1, "blob": foreign, "manifest": sealed}],
    });
    let r = send(
        &router,
        authed_post(&format!("/api/v1/cases/{case_b}/rekey"), &inv, &body),
    )
    .await;
    assert!(r.status.is_client_error(), "{}: {}", r.status, r.text());
    assert!(blob_path.exists(), "case A's blob was deleted");
    let still = app.store.attachments(&case_a).await.unwrap();
    assert_eq!(still[0].blob, foreign);
    let audit = app.store.audit_entries().await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "rekey_refused" && e.case_id.as_deref() == Some(case_b.as_str())),
        "the refusal is audited"
    );
}

/// A rekey (or forward) cannot swap a file's blob for one sealed to other keys: every
/// re-sealed blob's header must hold exactly the case's recipients, of the case's kind, like the
/// manifests beside them. Before the fix only the manifests were counted, so a member could
/// replace a piece of evidence with a blob nobody on the case can open while "rekeying" it.
#[tokio::test]
async fn a_rekey_cannot_swap_a_file_for_a_blob_sealed_to_other_keys() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, app, _clock) = fx.router().await;
    let r = report_with_file(&router, &[], b"evidence the officer wants gone").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let case_id = element_text(&r.text(), "case-id").unwrap();
    let before = app.store.attachments(&case_id).await.unwrap();
    assert_eq!(before.len(), 1);

    let inv = login(&router, &fx.identity("health-investigator")).await;
    let n = recipient_count(&router, &inv, &case_id).await;
    // A blob sealed to one stranger, uploaded as the member's own fresh upload.
    let stranger: bisik::crypto::keys::Recipient = x25519::Identity::generate().to_public().into();
    let mut s = bisik::crypto::stream::Sealer::new(&[stranger], Vec::new()).unwrap();
    s.write_all(b"garbage").unwrap();
    let junk = s.finish().unwrap();
    let r = send(
        &router,
        axum::http::Request::post("/api/v1/blobs")
            .header("authorization", format!("Bearer {inv}"))
            .header("content-type", "application/octet-stream")
            .body(axum::body::Body::from(junk))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let up: bisik::api::BlobUploaded = serde_json::from_slice(&r.body).unwrap();
    // Content and manifest with the right number of recipients: only the blob is wrong.
    let sealed = sealed_to_strangers(n, &serde_json::json!({}));
    let body = serde_json::json!({
        "content": sealed,
        "messages": [],
        "reasons": [],
        "attachments": [{"seq": before[0].seq, "blob": up.blob, "manifest": sealed}],
    });
    let r = send(
        &router,
        authed_post(&format!("/api/v1/cases/{case_id}/rekey"), &inv, &body),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a blob sealed to other keys was accepted: {}",
        r.text()
    );
    assert!(r.text().contains("blob"), "{}", r.text());
    let after = app.store.attachments(&case_id).await.unwrap();
    assert_eq!(after[0].blob, before[0].blob, "the evidence was swapped");
    assert!(app.blobs.path(&before[0].blob).unwrap().exists());
    assert!(
        app.store
            .audit_entries()
            .await
            .unwrap()
            .iter()
            .any(|e| e.action == "rekey_refused"),
        "the refusal is audited"
    );
}

/// Item 9: a challenge for a key that is no member's costs the same work as a member's — the
/// same kind of row is written (before the fix only members' challenges were stored, which
/// made them measurably slower: 1.64 ms against 0.64 ms).
#[tokio::test]
async fn a_stranger_s_challenge_does_the_same_work_as_a_member_s() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, app, _clock) = fx.router().await;
    let count = || async { db_count(fx.data_dir(), "SELECT COUNT(*) FROM challenges") };
    let ask = |recipient: String| {
        let router = router.clone();
        async move {
            let body = serde_json::json!({ "recipient": recipient }).to_string();
            send(&router, json_post("/api/v1/session/challenge", &body)).await
        }
    };
    let before = count().await;
    let member = ask(fx.identity("health-triage").to_public().to_string()).await;
    let after_member = count().await;
    let stranger = ask(x25519::Identity::generate().to_public().to_string()).await;
    let after_stranger = count().await;
    assert_eq!(member.status, StatusCode::OK);
    assert_eq!(stranger.status, StatusCode::OK);
    assert_eq!(after_member - before, 1);
    assert_eq!(after_stranger - after_member, 1, "same work for a stranger");
    // The stranger's challenge can never be answered.
    let c: bisik::api::ChallengeResponse = serde_json::from_slice(&stranger.body).unwrap();
    let body =
        serde_json::json!({ "challenge_id": c.challenge_id, "response": token_of(&[0u8; 32]) })
            .to_string();
    let r = send(&router, json_post("/api/v1/session", &body)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // …and the failed answer is recorded like a member's failed answer.
    let audit = app.store.audit_entries().await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.actor == "unknown-key" && e.action == "login_failed")
    );
}

/// Item 10: a case with 100 messages of 10,000 characters can still be rekeyed and forwarded
/// (before the fix both answered 413 from ~45 long messages on, so a removed member's access
/// could no longer be revoked).
#[test]
fn a_hundred_long_messages_still_rekey_and_forward() {
    let fx = Fixture::new(CHEAP_KDF);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let mut res = loopback_agent()
        .post(format!("{}/report?lang=en", server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .send(form_body(&report_fields(&[("institution", "")])))
        .unwrap();
    let html = res.body_mut().read_to_string().unwrap();
    let case_id = element_text(&html, "case-id").unwrap();
    let mut triage =
        bisik::client::Client::new(&server.base, fx.identity("desk-triage"), None).unwrap();
    triage.login().unwrap();
    let long: String = "Panjang sekali. ".repeat(625);
    assert_eq!(long.chars().count(), 10_000);
    for _ in 0..100 {
        triage.reply(&case_id, &long).unwrap();
    }
    triage
        .rekey(&case_id)
        .expect("rekey of a long conversation");
    triage
        .forward(&case_id, "health", "The health office has authority.")
        .expect("forward of a long conversation");
    let mut inv =
        bisik::client::Client::new(&server.base, fx.identity("health-investigator"), None).unwrap();
    inv.login().unwrap();
    let case = inv.case(&case_id).unwrap();
    assert_eq!(case.messages.len(), 100);
    let last = bisik::crypto::token::decode(&case.messages[99].envelope).unwrap();
    let doc = bisik::crypto::envelope::open(&fx.identity("health-investigator"), &last).unwrap();
    assert!(String::from_utf8_lossy(&doc).contains("Panjang sekali."));
    server.stop();
}
