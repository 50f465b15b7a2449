//! The citizen's path and the member's first read, through the real router (`oneshot`) against
//! a real SQLite file in a temp folder. Nothing is mocked: real Argon2id, real age.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use bisik::api::{CaseListResponse, CaseResponse};
use bisik::crypto::{envelope, token};
use bisik::domain::documents::{IdentityDocument, MessageDocument, ReportDocument};
use common::*;

const EXPECTED_HEADERS: &[(&str, &str)] = &[
    (
        "content-security-policy",
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    ("referrer-policy", "no-referrer"),
    ("x-content-type-options", "nosniff"),
    ("cache-control", "no-store"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
];

fn assert_security_headers(r: &Reply, what: &str) {
    for (name, value) in EXPECTED_HEADERS {
        assert_eq!(
            r.headers.get(*name).and_then(|v| v.to_str().ok()),
            Some(*value),
            "{what}: header {name}"
        );
    }
    let pp = r
        .headers
        .get("permissions-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    for feature in ["camera=()", "microphone=()", "geolocation=()", "usb=()"] {
        assert!(
            pp.contains(feature),
            "{what}: permissions-policy lacks {feature}"
        );
    }
}

/// No `<script`, and no URL that points at another host (absolute URLs or protocol-relative).
fn assert_self_contained_html(html: &str, what: &str) {
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "{what}: contains <script");
    for attr in ["href=", "src=", "action=", "srcset=", "url("] {
        let mut rest = lower.as_str();
        while let Some(i) = rest.find(attr) {
            let value = rest[i + attr.len()..].trim_start_matches(['"', '\'']);
            assert!(
                !(value.starts_with("http:")
                    || value.starts_with("https:")
                    || value.starts_with("//")),
                "{what}: {attr} points elsewhere: {}",
                &value[..value.len().min(60)]
            );
            rest = &rest[i + attr.len()..];
        }
    }
}

#[tokio::test]
async fn whole_path_anonymous_and_confidential() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, _app, _clock) = fx.router().await;

    // Anonymous report to the health office, confidential one to the intake desk.
    let (anon_receipt, anon_id) = submit(
        &router,
        &[("title", "Anon title A1"), ("body", "Anon body A2")],
    )
    .await;
    let (conf_receipt, conf_id) = submit(
        &router,
        &[
            ("institution", ""),
            ("kind", "whistleblowing"),
            ("category", "corruption"),
            ("title", "Conf title C1"),
            ("body", "Conf body C2"),
            ("privacy", "confidential"),
            ("identity_name", "Siti Rahma"),
            ("identity_contact", "0812-0000-1111"),
        ],
    )
    .await;
    for r in [&anon_receipt, &conf_receipt] {
        // 25 digits (the last a check digit) in five groups of five.
        let groups: Vec<&str> = r.split('-').collect();
        assert_eq!(groups.len(), 5, "{r}");
        assert!(
            groups
                .iter()
                .all(|g| g.len() == 5 && g.bytes().all(|b| b.is_ascii_digit()))
        );
    }
    assert_ne!(anon_receipt, conf_receipt);

    // The status page shows the report, decrypted in the request.
    let r = send(
        &router,
        post_form("/status?lang=en", &[("receipt", &conf_receipt)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let html = r.text();
    assert_eq!(
        element_text(&html, "report-title").unwrap(),
        "Conf title C1"
    );
    assert_eq!(element_text(&html, "report-body").unwrap(), "Conf body C2");
    assert_eq!(element_text(&html, "state").unwrap(), "Received");
    assert_eq!(element_text(&html, "case-id").unwrap(), conf_id);
    assert!(
        html.contains("Siti Rahma"),
        "reporter sees their own sealed identity"
    );
    assert!(html.contains("23 November 2026"), "history by day");
    assert!(!html.contains("09:30"), "no time of day anywhere");

    // The citizen replies.
    let nonce = input_value(&html, "nonce").unwrap();
    let reply = [
        ("receipt", conf_receipt.as_str()),
        ("nonce", nonce.as_str()),
        ("message", "More evidence R1"),
    ];
    let r = send(&router, post_form("/status/reply?lang=en", &reply)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("Your message is saved."));
    assert!(r.text().contains("More evidence R1"));
    // Sending the same form again (browser refresh) does not add it twice.
    let r = send(&router, post_form("/status/reply?lang=en", &reply)).await;
    assert_eq!(r.text().matches("More evidence R1").count(), 1);
    // Without a valid nonce (a hand-made form, a load generator) nothing is de-duplicated:
    // two different messages must both be kept, never folded into one shared empty nonce.
    for text in ["No nonce N1", "No nonce N2"] {
        let r = send(
            &router,
            post_form(
                "/status/reply?lang=en",
                &[("receipt", conf_receipt.as_str()), ("message", text)],
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    let r = send(
        &router,
        post_form("/status?lang=en", &[("receipt", &conf_receipt)]),
    )
    .await;
    assert!(r.text().contains("No nonce N1") && r.text().contains("No nonce N2"));

    // A desk member logs in with nothing but their identity, lists, and decrypts locally.
    let triage = fx.identity("desk-triage");
    let token = login(&router, &triage).await;
    let r = send(&router, authed_get("/api/v1/cases", &token)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_security_headers(&r, "api list");
    let list: CaseListResponse = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(list.cases.len(), 1, "the desk sees only its own case");
    let summary = &list.cases[0];
    assert_eq!(summary.id, conf_id);
    assert_eq!(
        (summary.kind.as_str(), summary.state.as_str()),
        ("whistleblowing", "received")
    );
    assert_eq!(summary.received_on, "2026-11-23");
    assert_eq!(summary.category.as_deref(), Some("corruption"));

    let r = send(
        &router,
        authed_get(&format!("/api/v1/cases/{conf_id}"), &token),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let case: CaseResponse = serde_json::from_slice(&r.body).unwrap();
    assert!(case.has_identity);
    let content = envelope::open(&triage, &token::decode(&case.content).unwrap()).unwrap();
    let doc: ReportDocument = serde_json::from_slice(&content).unwrap();
    assert_eq!(
        (doc.title.as_str(), doc.body.as_str()),
        ("Conf title C1", "Conf body C2")
    );
    assert!(
        !String::from_utf8_lossy(&content).contains("Siti"),
        "identity is not in the content"
    );
    assert_eq!(case.messages.len(), 3, "R1 once, N1 and N2");
    let msg = envelope::open(&triage, &token::decode(&case.messages[0].envelope).unwrap()).unwrap();
    let msg: MessageDocument = serde_json::from_slice(&msg).unwrap();
    assert_eq!(msg.body, "More evidence R1");
    assert_eq!(case.messages[0].author, "reporter");

    // The identity envelope: custodians only, and cryptographically so.
    let r = send(
        &router,
        authed_get(&format!("/api/v1/cases/{conf_id}/identity"), &token),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "a triage officer is not a custodian"
    );
    let custodian = fx.identity("desk-custodian");
    let ctoken = login(&router, &custodian).await;
    let r = send(
        &router,
        authed_get(&format!("/api/v1/cases/{conf_id}/identity"), &ctoken),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let id_doc: IdentityDocument =
        serde_json::from_slice(&envelope::open(&custodian, &r.body).unwrap()).unwrap();
    assert_eq!(id_doc.name, "Siti Rahma");
    assert!(
        envelope::open(&triage, &r.body).is_err(),
        "a reader's key cannot open the identity"
    );
    let r = send(
        &router,
        authed_get(&format!("/api/v1/cases/{conf_id}/envelope"), &ctoken),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "a custodian-only member is not a reader"
    );

    // The anonymous case went to health; its investigator reads it, the desk does not see it.
    let inv = fx.identity("health-investigator");
    let itoken = login(&router, &inv).await;
    let r = send(
        &router,
        authed_get(&format!("/api/v1/cases/{anon_id}/envelope"), &itoken),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.headers.get("content-type").unwrap(),
        "application/octet-stream"
    );
    let doc: ReportDocument =
        serde_json::from_slice(&envelope::open(&inv, &r.body).unwrap()).unwrap();
    assert_eq!(doc.body, "Anon body A2");
    assert!(envelope::open(&triage, &r.body).is_err());
    let htoken = login(&router, &fx.identity("health-custodian")).await;
    let r = send(
        &router,
        authed_get(&format!("/api/v1/cases/{anon_id}/identity"), &htoken),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "an anonymous report has no identity envelope"
    );
}

#[tokio::test]
async fn members_of_other_institutions_get_404() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, _app, _clock) = fx.router().await;
    let (_receipt, case_id) = submit(&router, &[("institution", "health")]).await;
    let outsider = login(&router, &fx.identity("transport-investigator")).await;
    for path in [
        format!("/api/v1/cases/{case_id}"),
        format!("/api/v1/cases/{case_id}/envelope"),
    ] {
        let r = send(&router, authed_get(&path, &outsider)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert_security_headers(&r, &path);
    }
    let outsider_custodian = login(&router, &fx.identity("transport-custodian")).await;
    let r = send(
        &router,
        authed_get(
            &format!("/api/v1/cases/{case_id}/identity"),
            &outsider_custodian,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let list: CaseListResponse = serde_json::from_slice(
        &send(&router, authed_get("/api/v1/cases", &outsider))
            .await
            .body,
    )
    .unwrap();
    assert!(list.cases.is_empty());
    // An unknown case id and a malformed one answer the same.
    for id in ["ZZZZ-ZZZZ", "../../etc", "x"] {
        let r = send(
            &router,
            authed_get(&format!("/api/v1/cases/{id}"), &outsider),
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{id}");
    }
    // Oversight-only members cannot list institutions' cases (escalations come later).
    let ombudsman = fx.identity("ombudsman-custodian");
    let t = login(&router, &ombudsman).await;
    let list: CaseListResponse =
        serde_json::from_slice(&send(&router, authed_get("/api/v1/cases", &t)).await.body).unwrap();
    assert!(list.cases.is_empty());
}

#[tokio::test]
async fn api_needs_a_valid_session() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, app, clock) = fx.router().await;
    let r = send(&router, get("/api/v1/cases")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let err: bisik::api::ErrorResponse = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(err.error, "unauthorized");
    let r = send(&router, authed_get("/api/v1/cases", "not-a-token")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // A stranger's key gets a challenge of the same shape, but it opens nothing.
    let stranger = age::x25519::Identity::generate();
    let body = serde_json::json!({ "recipient": stranger.to_public().to_string() }).to_string();
    let r = send(&router, json_post("/api/v1/session/challenge", &body)).await;
    assert_eq!(r.status, StatusCode::OK);
    let c: bisik::api::ChallengeResponse = serde_json::from_slice(&r.body).unwrap();
    assert!(envelope::open(&stranger, &token::decode(&c.challenge).unwrap()).is_err());
    let body = serde_json::json!({ "challenge_id": c.challenge_id, "response": token::encode(&[0u8; 32]) }).to_string();
    assert_eq!(
        send(&router, json_post("/api/v1/session", &body))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    // A wrong answer to a real challenge fails, and the challenge cannot be retried.
    let triage = fx.identity("desk-triage");
    let body = serde_json::json!({ "recipient": triage.to_public().to_string() }).to_string();
    let c: bisik::api::ChallengeResponse = serde_json::from_slice(
        &send(&router, json_post("/api/v1/session/challenge", &body))
            .await
            .body,
    )
    .unwrap();
    let wrong = serde_json::json!({ "challenge_id": c.challenge_id, "response": token::encode(&[1u8; 32]) }).to_string();
    assert_eq!(
        send(&router, json_post("/api/v1/session", &wrong))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let secret = envelope::open(&triage, &token::decode(&c.challenge).unwrap()).unwrap();
    let right =
        serde_json::json!({ "challenge_id": c.challenge_id, "response": token::encode(&secret) })
            .to_string();
    assert_eq!(
        send(&router, json_post("/api/v1/session", &right))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    // Sessions expire with the (injected) clock.
    let token = login(&router, &triage).await;
    assert_eq!(
        send(&router, authed_get("/api/v1/cases", &token))
            .await
            .status,
        StatusCode::OK
    );
    clock.advance(time::Duration::seconds(app.config.session.ttl_secs + 1));
    assert_eq!(
        send(&router, authed_get("/api/v1/cases", &token))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    // Every member action so far is in the hash chain, with no citizen data.
    let entries = app.store.audit_entries().await.unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    // The stranger's failed answer is recorded like a member's (same work, issue 11 item 9).
    assert_eq!(
        actions,
        ["login_failed", "login_failed", "login", "list_cases"]
    );
    assert_eq!(entries[0].actor, "unknown-key");
    let mut prev = bisik::domain::audit::GENESIS.to_vec();
    for e in &entries {
        assert_eq!(e.prev_hash, prev);
        let fields = bisik::domain::audit::AuditFields {
            seq: e.seq,
            at: &e.at,
            actor: &e.actor,
            action: &e.action,
            case_id: e.case_id.as_deref(),
        };
        assert_eq!(
            e.hash,
            bisik::domain::audit::entry_hash(&prev, &fields).to_vec()
        );
        prev = e.hash.clone();
    }
    assert_eq!(entries[1].actor, "member:desk/desk-triage");
}

#[tokio::test]
async fn wrong_and_unknown_receipts_are_indistinguishable() {
    wrong_and_unknown_receipts(false).await;
}

/// The same with every member holding a post-quantum key: the case is sealed post-quantum and
/// the reporter's two keys are derived on both paths.
#[tokio::test]
async fn wrong_and_unknown_receipts_are_indistinguishable_on_a_post_quantum_directory() {
    wrong_and_unknown_receipts(true).await;
}

async fn wrong_and_unknown_receipts(post_quantum: bool) {
    // Production Argon2id parameters: this is the test that proves the real cost is paid on both
    // paths.
    let fx = Fixture::new(PRODUCTION_KDF);
    if post_quantum {
        fx.add_post_quantum_keys(&[]);
    }
    let (router, app, _clock) = fx.router().await;
    assert_eq!(app.directory.not_post_quantum().is_empty(), post_quantum);
    assert_eq!(app.config.kdf, bisik::crypto::kdf::KdfParams::default());
    let (receipt, _) = submit(&router, &[]).await;
    let digits: String = receipt.chars().filter(char::is_ascii_digit).collect();
    // Lookup id and secret without the check digit; both codes below get a matching check
    // digit, so they are well formed and really looked up (a typo is tests/receipt_check_digit.rs).
    let digits = &digits[..24];
    let with_check_digit = |code: &str| {
        bisik::crypto::receipt::Receipt::parse(code)
            .unwrap()
            .with_check_digit()
            .display()
            .to_string()
    };

    // Same lookup id, wrong secret.
    let mut wrong = digits.to_owned();
    let last = wrong.pop().unwrap();
    wrong.push(if last == '9' {
        '0'
    } else {
        char::from(last as u8 + 1)
    });
    let wrong = with_check_digit(&wrong);
    // A lookup id that does not exist.
    let lookup: u32 = digits[..8].parse().unwrap();
    let unknown = with_check_digit(&format!(
        "{:08}{}",
        (lookup + 1) % 100_000_000,
        &digits[8..]
    ));

    let started = std::time::Instant::now();
    let a = send(
        &router,
        post_form("/status?lang=en", &[("receipt", &wrong)]),
    )
    .await;
    let wrong_took = started.elapsed();
    let started = std::time::Instant::now();
    let b = send(
        &router,
        post_form("/status?lang=en", &[("receipt", &unknown)]),
    )
    .await;
    let unknown_took = started.elapsed();
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.status, b.status);
    assert_eq!(
        a.body, b.body,
        "wrong and unknown receipts must give byte-identical pages"
    );
    assert!(a.text().contains("This code does not open any report."));
    assert!(
        !a.text().contains(&wrong) && !b.text().contains(&unknown),
        "the receipt is not echoed"
    );
    // Both paths ran a real Argon2id (no timing assertion here: see BENCHMARKS for numbers).
    eprintln!("wrong: {wrong_took:?}, unknown: {unknown_took:?}");

    // Same in Indonesian.
    let a = send(&router, post_form("/status", &[("receipt", &wrong)])).await;
    let b = send(&router, post_form("/status", &[("receipt", &unknown)])).await;
    assert_eq!(a.body, b.body);
    assert!(a.text().contains("Kode ini tidak membuka laporan apa pun."));

    // The right receipt, typed with spaces instead of dashes, opens the case.
    let spaced = receipt.replace('-', " ");
    let r = send(
        &router,
        post_form("/status?lang=en", &[("receipt", &spaced)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn malformed_receipts_get_a_clear_message_in_the_users_language() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, _app, _clock) = fx.router().await;
    let cases = [
        (
            "1234-5678-abcd-0000-0000-0000",
            "A receipt code contains only digits",
            "Kode tanda terima hanya berisi angka",
        ),
        (
            "1234-5678",
            "This code is too short",
            "Kode ini terlalu pendek",
        ),
        (
            "12345-67890-12345-67890-12345-6",
            "This code is too long",
            "Kode ini terlalu panjang",
        ),
        (
            "   ",
            "Please enter your receipt code.",
            "Masukkan kode tanda terima Anda.",
        ),
    ];
    for (input, en, id) in cases {
        let r = send(&router, post_form("/status?lang=en", &[("receipt", input)])).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{input}");
        assert!(r.text().contains(en), "{input}: {}", r.text());
        if !input.trim().is_empty() {
            assert_eq!(
                input_value(&r.text(), "receipt").unwrap(),
                input,
                "what was typed is kept"
            );
        }
        let r = send(&router, post_form("/status", &[("receipt", input)])).await;
        assert!(r.text().contains(id), "{input}");
        assert!(r.text().contains("<html lang=\"id\">"));
        // Accept-Language is honoured when there is no ?lang=.
        let req = Request::post("/status")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept-language", "en-GB,en;q=0.9")
            .body(Body::from(form_body(&[("receipt", input)])))
            .unwrap();
        assert!(send(&router, req).await.text().contains(en));
    }
}

#[tokio::test]
async fn invalid_reports_come_back_with_every_problem_and_everything_typed() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, app, _clock) = fx.router().await;
    let long_title = "T".repeat(151);
    let fields = report_fields(&[
        ("kind", ""),
        ("title", &long_title),
        (
            "body",
            "Body with <b>markup</b> & \"quotes\"\nand a second line",
        ),
        ("occurred_on", "2030-01-01"),
        ("privacy", "anonymous"),
        ("identity_name", "Budi Santoso"),
        ("identity_contact", "budi@example.org"),
        ("location", "Jalan Merdeka 1"),
    ]);
    for (lang, required, future, anon) in [
        (
            "en",
            "This is required.",
            "This date has not happened yet.",
            "You chose Anonymous but filled in your identity.",
        ),
        (
            "id",
            "Wajib diisi.",
            "Tanggal ini belum terjadi.",
            "Anda memilih Anonim tetapi mengisi identitas.",
        ),
    ] {
        let r = send(&router, post_form(&format!("/report?lang={lang}"), &fields)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text();
        assert_eq!(element_text(&html, "kind-error").unwrap(), required);
        assert!(element_text(&html, "title-error").unwrap().contains("150"));
        assert_eq!(element_text(&html, "occurred_on-error").unwrap(), future);
        assert!(
            element_text(&html, "identity_name-error")
                .unwrap()
                .starts_with(anon)
        );
        assert!(
            element_text(&html, "identity_contact-error")
                .unwrap()
                .starts_with(anon)
        );
        // Everything typed is still there, escaped.
        assert_eq!(input_value(&html, "title").unwrap(), long_title);
        assert_eq!(input_value(&html, "identity_name").unwrap(), "Budi Santoso");
        assert_eq!(
            input_value(&html, "identity_contact").unwrap(),
            "budi@example.org"
        );
        assert_eq!(input_value(&html, "location").unwrap(), "Jalan Merdeka 1");
        assert_eq!(input_value(&html, "occurred_on").unwrap(), "2030-01-01");
        assert!(
            html.contains(
                "Body with &#60;b&#62;markup&#60;/b&#62; &#38; &#34;quotes&#34;\nand a second line"
            ),
            "{html}"
        );
        assert!(html.contains("<option value=\"health\" selected>"));
        assert!(html.contains(&format!("<html lang=\"{lang}\">")));
        assert_self_contained_html(&html, "report form with errors");
    }
    // Confidential without a name.
    let r = send(
        &router,
        post_form(
            "/report?lang=en",
            &report_fields(&[("privacy", "confidential")]),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        element_text(&r.text(), "identity_name-error").unwrap(),
        "This is required."
    );
    assert!(
        r.text().contains(
            "id=\"privacy-confidential\" name=\"privacy\" value=\"confidential\" checked"
        )
    );
    // Nothing was stored.
    assert!(app.store.count_by_state().await.unwrap().is_empty());
}

#[tokio::test]
async fn limits_answer_with_a_page_not_a_bare_status() {
    let fx = Fixture::new(&format!(
        "{CHEAP_KDF}\n[http]\nrequest_body_max_bytes = 65536\n"
    ));
    let (router, app, _clock) = fx.router().await;
    let huge = "x".repeat(70_000);
    for (lang, accept, needle) in [
        (
            "?lang=en",
            "id",
            "What you sent is too large and was not saved.",
        ),
        (
            "",
            "en-US,en;q=0.5",
            "What you sent is too large and was not saved.",
        ),
        (
            "",
            "id-ID",
            "Kiriman Anda terlalu besar dan tidak disimpan.",
        ),
    ] {
        let req = Request::post(format!("/report{lang}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept-language", accept)
            .body(Body::from(form_body(&report_fields(&[("body", &huge)]))))
            .unwrap();
        let r = send(&router, req).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(r.text().contains(needle), "{lang} {accept}: {}", r.text());
        assert_eq!(
            r.headers.get("content-type").unwrap(),
            "text/html; charset=utf-8"
        );
        assert_security_headers(&r, "413 page");
    }
    // A body over the *field* limit but under the request limit: the form comes back.
    let long_body = "y".repeat(app.config.limits.body + 1);
    let fx2 = Fixture::new(CHEAP_KDF);
    let (router2, _app2, _) = fx2.router().await;
    let r = send(
        &router2,
        post_form("/report?lang=en", &report_fields(&[("body", &long_body)])),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        element_text(&r.text(), "body-error")
            .unwrap()
            .contains("20000")
    );
    assert!(r.text().contains(&long_body));
    // A form in a format we do not take.
    let req = Request::post("/report?lang=en")
        .header("content-type", "text/plain")
        .body(Body::from("hello"))
        .unwrap();
    let r = send(&router, req).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(r.text().contains("Nothing was saved"));
}

#[tokio::test]
async fn rate_limits_keep_what_was_typed() {
    let rate = "[rate]\nsubmissions_per_minute = 1\nsubmission_burst = 1\nstatus_checks_per_minute = 1\nstatus_check_burst = 1\n";
    let fx = Fixture::new(&format!("{CHEAP_KDF}\n{rate}"));
    let (router, _app, _clock) = fx.router().await;
    let (receipt, _) = submit(&router, &[]).await;
    let r = send(
        &router,
        post_form(
            "/report?lang=en",
            &report_fields(&[("title", "Second one S1")]),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.text().contains("The service is very busy right now."));
    assert_eq!(input_value(&r.text(), "title").unwrap(), "Second one S1");
    assert!(
        element_text(&r.text(), "receipt").is_none(),
        "no receipt for an unsaved report"
    );
    let r = send(
        &router,
        post_form("/status?lang=en", &[("receipt", &receipt)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = send(
        &router,
        post_form("/status?lang=en", &[("receipt", &receipt)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.text().contains("The service is very busy right now."));
}

#[tokio::test]
async fn reply_problems_keep_the_message() {
    let fx = Fixture::new(&format!("{CHEAP_KDF}\n[limits]\nmessage = 20\n"));
    let (router, _app, _clock) = fx.router().await;
    let (receipt, _) = submit(&router, &[]).await;
    let long = "a message that is far too long";
    let r = send(
        &router,
        post_form(
            "/status/reply?lang=en",
            &[("receipt", &receipt), ("nonce", ""), ("message", long)],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        element_text(&r.text(), "message-error")
            .unwrap()
            .contains("20")
    );
    assert!(r.text().contains(long));
    assert!(r.text().contains("No messages yet."));
    let r = send(
        &router,
        post_form(
            "/status/reply?lang=en",
            &[
                ("receipt", "0000-0000-0000-0000-0000-0000"),
                ("message", "hi"),
            ],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn every_route_carries_the_security_headers_and_no_script() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, _app, _clock) = fx.router().await;
    let (receipt, _) = submit(&router, &[]).await;
    let mut pages = vec![];
    for path in [
        "/",
        "/?lang=en",
        "/report",
        "/report?lang=en",
        "/status",
        "/status?lang=en",
        "/stats",
        "/stats?lang=en",
        "/nope",
        "/api/v1/nope",
    ] {
        let r = send(&router, get(path)).await;
        assert_security_headers(&r, path);
        pages.push((path.to_owned(), r));
    }
    for path in ["/healthz", "/static/style.css", "/api/v1/cases"] {
        let r = send(&router, get(path)).await;
        assert_security_headers(&r, path);
    }
    let status = send(
        &router,
        post_form("/status?lang=en", &[("receipt", &receipt)]),
    )
    .await;
    assert_security_headers(&status, "status page");
    pages.push(("POST /status".into(), status));
    let bad = send(&router, post_form("/status", &[("receipt", "x")])).await;
    assert_security_headers(&bad, "bad receipt");
    pages.push(("POST /status bad".into(), bad));
    // Method not allowed, CSRF rejection: still headers, still a page.
    let r = send(
        &router,
        Request::delete("/report").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_security_headers(&r, "405");
    pages.push(("DELETE /report".into(), r));
    for (name, r) in &pages {
        if r.headers
            .get("content-type")
            .is_some_and(|v| v.to_str().unwrap().starts_with("text/html"))
        {
            assert_self_contained_html(&r.text(), name);
        }
    }
    assert_eq!(
        pages.iter().find(|(p, _)| p == "/nope").unwrap().1.status,
        StatusCode::NOT_FOUND
    );
    assert!(
        pages
            .iter()
            .find(|(p, _)| p == "/nope")
            .unwrap()
            .1
            .text()
            .contains("Halaman ini tidak ada.")
    );
    let api404 = &pages.iter().find(|(p, _)| p == "/api/v1/nope").unwrap().1;
    assert_eq!(
        api404.headers.get("content-type").unwrap(),
        "application/json"
    );
    let css = send(&router, get("/static/style.css")).await;
    assert!(
        !css.text().contains("http"),
        "the stylesheet loads nothing from elsewhere"
    );
}

#[tokio::test]
async fn cross_site_posts_are_refused_with_a_page() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, app, _clock) = fx.router().await;
    let req = Request::post("/report?lang=en")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("host", "bisik.example")
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .body(Body::from(form_body(&report_fields(&[]))))
        .unwrap();
    let r = send(&router, req).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text().contains("This form was sent from another site"));
    assert_security_headers(&r, "csrf");
    assert!(
        app.store.count_by_state().await.unwrap().is_empty(),
        "nothing stored"
    );
    // A same-origin post (what a browser sends for our own form) is fine.
    let req = Request::post("/report?lang=en")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("host", "bisik.example")
        .header("origin", "http://bisik.example")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(form_body(&report_fields(&[]))))
        .unwrap();
    assert_eq!(send(&router, req).await.status, StatusCode::OK);
}

#[tokio::test]
async fn stats_hide_small_numbers_in_html_json_and_csv() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, _app, _clock) = fx.router().await;
    for _ in 0..6 {
        submit(&router, &[("institution", "health")]).await;
    }
    for _ in 0..2 {
        submit(
            &router,
            &[("institution", "transport"), ("kind", "aspiration")],
        )
        .await;
    }
    let html = send(&router, get("/stats?lang=en")).await;
    assert_security_headers(&html, "stats");
    let html = html.text();
    assert_self_contained_html(&html, "stats");
    assert!(
        html.contains("<svg") && html.contains("<rect"),
        "server-rendered bar charts"
    );
    assert_eq!(element_text(&html, "stats-total").unwrap(), "8");
    assert!(html.contains("&#60;5"), "small cells shown as <5");
    assert!(
        !html.contains(">2<"),
        "the number 2 never appears as a count"
    );
    assert!(html.contains("Example City Health Office (demo)") && html.contains(">6<"));

    let json = send(&router, get("/stats.json")).await;
    assert_eq!(
        json.headers.get("content-type").unwrap(),
        "application/json"
    );
    let v: serde_json::Value = serde_json::from_slice(&json.body).unwrap();
    let inst = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["dimension"] == "institution")
        .unwrap();
    // Schema in docs/stats.md: numbers or null, a separate `suppressed` flag, names.
    let cells: Vec<_> = inst["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["slug"].clone(),
                r["cases"].clone(),
                r["suppressed"].clone(),
            )
        })
        .collect();
    assert_eq!(
        cells,
        [
            (
                serde_json::json!("health"),
                serde_json::json!(6),
                serde_json::json!(false)
            ),
            (
                serde_json::json!("transport"),
                serde_json::Value::Null,
                serde_json::json!(true)
            )
        ]
    );
    assert_eq!(
        inst["rows"][0]["name_en"],
        "Example City Health Office (demo)"
    );
    assert!(!json.text().contains(":2,") && !json.text().contains("<5"));

    let csv = send(&router, get("/stats.csv")).await;
    assert!(
        csv.headers
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = csv.text();
    assert!(csv.starts_with("section,slug,name_id,name_en,value,suppressed\n"));
    assert!(
        csv.contains(
            "institution,health,Dinas Kesehatan Kota Contoh (demo),Example City Health Office (demo),6,false\n"
        ) && csv.contains(",,true\n")
    );
    assert!(csv.contains("\nkind,aspiration,Aspirasi,Aspiration,,true\n"));
    assert!(!csv.lines().any(|l| l.contains(",2,") || l.contains("<5")));
    // Nothing answered yet: no share to hide.
    assert!(csv.contains("\nanswered_on_time_percent,all,,,,false\n"));
}

#[tokio::test]
async fn the_shipped_example_configuration_starts() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut config = bisik::config::Config::load(&root.join("bisik.example.toml")).unwrap();
    assert_eq!(config.keys_dir, root.join("keys/example"));
    assert_eq!(config.kdf, bisik::crypto::kdf::KdfParams::default());
    let data = tempfile::tempdir().unwrap();
    config.data_dir = data.path().to_owned();
    let clock = std::sync::Arc::new(bisik::domain::clock::SystemClock);
    let (app, router) = bisik::server::build(config, clock).await.unwrap();
    assert_eq!(app.directory.intake_desk().slug, "desk");
    assert_eq!(app.directory.all().count(), 3);
    let r = send(&router, get("/report?lang=en")).await;
    assert!(
        r.text().contains("Health Office") && r.text().contains("Corruption and illegal levies")
    );
    // The whole keys/ folder in the repository holds public keys only.
    for f in all_files(&root.join("keys")) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !bisik::config::keys::holds_secret_key(&bytes),
            "{}",
            f.display()
        );
    }
}

/// A request body that never arrives: what a slow or stalled client sends.
struct Stalled;

impl http_body::Body for Stalled {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::task::Poll::Pending
    }
}

#[tokio::test]
async fn a_stalled_request_times_out_with_a_page() {
    let fx = Fixture::new(&format!("{CHEAP_KDF}\n[http]\nrequest_timeout_secs = 1\n"));
    let (router, app, _clock) = fx.router().await;
    let req = Request::post("/report")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept-language", "id")
        .body(Body::new(Stalled))
        .unwrap();
    let r = tokio::time::timeout(std::time::Duration::from_secs(20), send(&router, req))
        .await
        .expect("the server gave up on its own");
    assert_eq!(r.status, StatusCode::GATEWAY_TIMEOUT);
    assert!(
        r.text()
            .contains("Permintaan terlalu lama dan dihentikan. Tidak ada yang tersimpan."),
        "{}",
        r.text()
    );
    assert_security_headers(&r, "timeout");
    assert!(app.store.count_by_state().await.unwrap().is_empty());
}

#[tokio::test]
async fn onion_location_only_when_also_on_clearnet() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, _app, _clock) = fx.router().await;
    assert!(
        send(&router, get("/report"))
            .await
            .headers
            .get("onion-location")
            .is_none()
    );
    let fx = Fixture::new(&format!(
        "{CHEAP_KDF}\n[http]\nclearnet_origin = \"https://bisik.example\"\nonion_address = \"http://bisikxyz.onion\"\n"
    ));
    let (router, _app, _clock) = fx.router().await;
    let r = send(&router, get("/report?lang=en")).await;
    assert_eq!(
        r.headers.get("onion-location").unwrap(),
        "http://bisikxyz.onion/report"
    );
}
