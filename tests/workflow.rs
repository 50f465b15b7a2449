//! Working a case through the real router and a real SQLite file: the LAPOR state machine, who
//! may do what (deny by default, institution checked in every query), what the citizen sees,
//! classification, and the audit chain.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use bisik::api::CaseResponse;
use bisik::domain::audit::verify_chain;
use bisik::domain::clock::Clock;
use common::*;
use serde_json::json;

#[tokio::test]
async fn a_case_moves_and_the_citizen_sees_every_step() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, app, clock) = fx.router().await;
    let (receipt, case_id) = submit(
        &router,
        &[("title", "Clinic fees"), ("body", "Asked for Rp 50.000")],
    )
    .await;
    let triage = login(&router, &fx.identity("health-triage")).await;
    let inv = login(&router, &fx.identity("health-investigator")).await;

    assert_eq!(
        set_state(&router, &triage, &case_id, "verified", None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        set_state(&router, &inv, &case_id, "in_progress", None)
            .await
            .status,
        StatusCode::OK
    );
    let r = member_reply(
        &router,
        &inv,
        &case_id,
        "member:health/health-investigator",
        "We are checking the clinic.",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    let page = status_page(&router, &receipt).await;
    assert_eq!(element_text(&page, "state").unwrap(), "In progress");
    assert!(page.contains("We are checking the clinic."));
    assert!(
        page.contains("Investigating officer · Example City Health Office (demo)"),
        "{page}"
    );
    assert!(
        !page.contains("health-investigator"),
        "no personal handle is shown to the citizen"
    );
    assert!(
        page.contains("Verified")
            && page.contains("Intake officer · Example City Health Office (demo)")
    );

    // The citizen answers; the investigator answers back and marks it answered.
    let page = citizen_reply(&router, &receipt, "Thank you, it happened again today.").await;
    assert_eq!(
        element_text(&page, "state").unwrap(),
        "In progress",
        "a reply to an open case changes nothing"
    );
    assert_eq!(
        set_state(&router, &inv, &case_id, "answered", None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        element_text(&status_page(&router, &receipt).await, "state").unwrap(),
        "Answered"
    );
    // A plain message on an answered case stays a message; "not resolved" with the reason
    // reopens it (issue 13).
    let page = citizen_reply(&router, &receipt, "Thank you for the answer.").await;
    assert_eq!(element_text(&page, "state").unwrap(), "Answered");
    let nonce = input_value(&page, "nonce").unwrap();
    let r = send(
        &router,
        post_form(
            "/status/verdict?lang=en",
            &[
                ("receipt", receipt.as_str()),
                ("nonce", &nonce),
                ("verdict", "not_resolved"),
                ("message", "It is not solved."),
            ],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(element_text(&r.text(), "state").unwrap(), "In progress");

    let case: CaseResponse = serde_json::from_slice(
        &send(
            &router,
            authed_get(&format!("/api/v1/cases/{case_id}"), &inv),
        )
        .await
        .body,
    )
    .unwrap();
    let states: Vec<(&str, &str)> = case
        .events
        .iter()
        .map(|e| (e.state.as_str(), e.actor.as_str()))
        .collect();
    assert_eq!(
        states,
        [
            ("received", "reporter"),
            ("verified", "member:health/health-triage"),
            ("in_progress", "member:health/health-investigator"),
            ("answered", "member:health/health-investigator"),
            ("in_progress", "reporter"),
        ]
    );
    assert!(case.events.iter().all(|e| e.day == "2026-11-23"));
    assert_eq!(case.messages.len(), 4);

    // Member actions are in the chain now; citizens' wait for their day to end.
    let entries = app.store.audit_entries().await.unwrap();
    assert!(verify_chain(&entries).is_ok());
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    for a in [
        "set_state:verified",
        "set_state:in_progress",
        "reply",
        "set_state:answered",
        "view_recipients",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    assert!(entries.iter().all(|e| e.actor != "reporter"));
    assert_eq!(
        app.store
            .flush_reporter_actions(clock.today())
            .await
            .unwrap(),
        0,
        "not before the day is over"
    );
    clock.advance(time::Duration::days(1));
    assert_eq!(
        app.store
            .flush_reporter_actions(clock.today())
            .await
            .unwrap(),
        4,
        "submit + two replies + the not-resolved verdict"
    );
    let entries = app.store.audit_entries().await.unwrap();
    let reporter: Vec<&bisik::store::AuditEntry> =
        entries.iter().filter(|e| e.actor == "reporter").collect();
    assert_eq!(reporter.len(), 4);
    assert!(
        reporter.iter().all(|e| e.at == "2026-11-23"),
        "a day, never a time of day"
    );
    assert!(
        reporter
            .iter()
            .all(|e| e.case_id.as_deref() == Some(case_id.as_str()))
    );
    assert!(verify_chain(&entries).is_ok());
}

#[tokio::test]
async fn on_hold_asks_the_citizen_a_question() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, _app, _clock) = fx.router().await;
    let (receipt, case_id) = submit(&router, &[]).await;
    let triage = login(&router, &fx.identity("health-triage")).await;
    let r = set_state(&router, &triage, &case_id, "on_hold", None).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text().contains("needs a reason the citizen can read"),
        "{}",
        r.text()
    );
    let question = "Which clinic? Please give the street name.";
    assert_eq!(
        set_state(&router, &triage, &case_id, "on_hold", Some(question))
            .await
            .status,
        StatusCode::OK
    );

    let page = status_page(&router, &receipt).await;
    assert!(page.contains("id=\"question\""));
    assert_eq!(
        element_text(&page, "state").unwrap(),
        "On hold (needs information from you)"
    );
    let q_at = page.find("id=\"question\"").unwrap();
    assert!(
        page[q_at..].contains(question) && q_at < page.find("id=\"report\"").unwrap(),
        "the question comes first"
    );
    let id_page = send(&router, post_form("/status", &[("receipt", &receipt)]))
        .await
        .text();
    assert!(
        id_page.contains("Petugas membutuhkan keterangan dari Anda") && id_page.contains(question)
    );

    // The citizen answers: the case goes back to intake, the question box disappears.
    let page = citizen_reply(&router, &receipt, "Jalan Merdeka, next to the market.").await;
    assert_eq!(element_text(&page, "state").unwrap(), "Received");
    assert!(!page.contains("id=\"question\""));
    assert!(page.contains(question), "the reason stays in the history");
    // A reason is an envelope: the members of the institution read it too.
    let case: CaseResponse = serde_json::from_slice(
        &send(
            &router,
            authed_get(&format!("/api/v1/cases/{case_id}"), &triage),
        )
        .await
        .body,
    )
    .unwrap();
    let sealed =
        bisik::crypto::token::decode(case.events[1].reason_envelope.as_ref().unwrap()).unwrap();
    let plain =
        bisik::crypto::envelope::open(&fx.identity("health-investigator"), &sealed).unwrap();
    assert!(String::from_utf8_lossy(&plain).contains(question));
    assert!(bisik::crypto::envelope::open(&fx.identity("transport-triage"), &sealed).is_err());
}

#[tokio::test]
async fn illegal_transitions_are_refused_with_a_clear_error() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, _app, _clock) = fx.router().await;
    let (_receipt, case_id) = submit(&router, &[]).await;
    let triage = login(&router, &fx.identity("health-triage")).await;
    let inv = login(&router, &fx.identity("health-investigator")).await;
    for (token, to, status, message) in [
        (
            &inv,
            "in_progress",
            StatusCode::UNPROCESSABLE_ENTITY,
            "a case cannot go from received to in_progress",
        ),
        (
            &inv,
            "answered",
            StatusCode::UNPROCESSABLE_ENTITY,
            "a case cannot go from received to answered",
        ),
        (
            &triage,
            "closed",
            StatusCode::UNPROCESSABLE_ENTITY,
            "a case cannot go from received to closed",
        ),
        (
            &triage,
            "forwarded",
            StatusCode::UNPROCESSABLE_ENTITY,
            "a case cannot go from received to forwarded",
        ),
        (
            &triage,
            "escalated",
            StatusCode::UNPROCESSABLE_ENTITY,
            "a case cannot go from received to escalated",
        ),
        (
            &triage,
            "received",
            StatusCode::UNPROCESSABLE_ENTITY,
            "a case cannot go from received to received",
        ),
        (
            &triage,
            "done",
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown state",
        ),
        (
            &inv,
            "verified",
            StatusCode::FORBIDDEN,
            "needs one of the roles: triage",
        ),
        (
            &triage,
            "archived",
            StatusCode::UNPROCESSABLE_ENTITY,
            "needs a reason the citizen can read",
        ),
        (
            &triage,
            "not_our_authority",
            StatusCode::UNPROCESSABLE_ENTITY,
            "needs a reason the citizen can read",
        ),
    ] {
        let r = set_state(&router, token, &case_id, to, None).await;
        assert_eq!(r.status, status, "{to}: {}", r.text());
        assert!(r.text().contains(message), "{to}: {}", r.text());
    }
    // Archived is final.
    assert_eq!(
        set_state(
            &router,
            &triage,
            &case_id,
            "archived",
            Some("Duplicate of another report.")
        )
        .await
        .status,
        StatusCode::OK
    );
    for to in ["verified", "on_hold", "in_progress", "closed"] {
        let r = set_state(&router, &triage, &case_id, to, Some("x")).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{to}");
        assert!(r.text().contains("a case cannot go from archived"));
    }
    let r = member_reply(
        &router,
        &triage,
        &case_id,
        "member:health/health-triage",
        "hello",
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no writing on a final case"
    );
    // Not an age file.
    let r = send(
        &router,
        authed_post(
            &format!("/api/v1/cases/{case_id}/state"),
            &triage,
            &json!({"state": "verified", "reason_envelope": "aGVsbG8"}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// Every API action against every kind of member: deny by default, 404 across institutions.
#[tokio::test]
async fn every_role_boundary() {
    let fx = Fixture::new(CHEAP_KDF);
    fx.add_member("ombudsman", "ombudsman-watch", &["oversight"]);
    let (router, _app, _clock) = fx.router().await;
    let (_receipt, case_id) = submit(
        &router,
        &[("privacy", "confidential"), ("identity_name", "Rina")],
    )
    .await;
    let tokens: Vec<(&str, String)> = {
        let mut v = vec![];
        for h in [
            "health-triage",
            "health-investigator",
            "health-custodian",
            "transport-triage",
            "transport-custodian",
            "ombudsman-watch",
        ] {
            v.push((h, login(&router, &fx.identity(h)).await));
        }
        v
    };
    // An envelope with as many recipients as the case has (two health readers + the reporter):
    // the server refuses one with another count before it looks at roles' writes.
    let strangers: Vec<bisik::crypto::keys::Recipient> = (0..3)
        .map(|_| age::x25519::Identity::generate().to_public().into())
        .collect();
    let any_envelope =
        bisik::crypto::token::encode(&bisik::crypto::envelope::seal(&strangers, b"{}").unwrap());
    use StatusCode as S;
    // (action, expected for each member in `tokens` order)
    let table: Vec<(&str, [S; 6])> = vec![
        (
            "show",
            [
                S::OK,
                S::OK,
                S::FORBIDDEN,
                S::NOT_FOUND,
                S::FORBIDDEN,
                S::NOT_FOUND,
            ],
        ),
        (
            "envelope",
            [
                S::OK,
                S::OK,
                S::FORBIDDEN,
                S::NOT_FOUND,
                S::FORBIDDEN,
                S::NOT_FOUND,
            ],
        ),
        (
            "identity",
            [
                S::FORBIDDEN,
                S::FORBIDDEN,
                S::OK,
                S::FORBIDDEN,
                S::NOT_FOUND,
                S::FORBIDDEN,
            ],
        ),
        // The oversight body writes to the citizen of an escalated case: on any other case it
        // is told the case does not exist, as for "show".
        (
            "recipients",
            [
                S::OK,
                S::OK,
                S::FORBIDDEN,
                S::NOT_FOUND,
                S::FORBIDDEN,
                S::NOT_FOUND,
            ],
        ),
        (
            "reply",
            [
                S::OK,
                S::OK,
                S::FORBIDDEN,
                S::NOT_FOUND,
                S::FORBIDDEN,
                S::FORBIDDEN,
            ],
        ),
        (
            "classify",
            [
                S::OK,
                S::FORBIDDEN,
                S::FORBIDDEN,
                S::NOT_FOUND,
                S::FORBIDDEN,
                S::FORBIDDEN,
            ],
        ),
        // Oversight-only members list escalated cases (none yet).
        ("list", [S::OK, S::OK, S::OK, S::OK, S::OK, S::OK]),
    ];
    for (action, expected) in &table {
        for ((handle, token), want) in tokens.iter().zip(expected) {
            let req = match *action {
                "show" => authed_get(&format!("/api/v1/cases/{case_id}"), token),
                "envelope" => authed_get(&format!("/api/v1/cases/{case_id}/envelope"), token),
                "identity" => authed_get(&format!("/api/v1/cases/{case_id}/identity"), token),
                "recipients" => authed_get(&format!("/api/v1/cases/{case_id}/recipients"), token),
                "reply" => authed_post(
                    &format!("/api/v1/cases/{case_id}/messages"),
                    token,
                    &json!({"envelope": any_envelope}),
                ),
                "classify" => authed_post(
                    &format!("/api/v1/cases/{case_id}/classify"),
                    token,
                    &json!({"tags": ["checked"]}),
                ),
                _ => authed_get("/api/v1/cases", token),
            };
            let r = send(&router, req).await;
            assert_eq!(r.status, *want, "{action} by {handle}: {}", r.text());
            if *action == "list" && r.status == S::OK {
                let list: bisik::api::CaseListResponse = serde_json::from_slice(&r.body).unwrap();
                let sees = list.cases.iter().any(|c| c.id == case_id);
                assert_eq!(sees, handle.starts_with("health"), "{handle} listing");
            }
        }
    }
    // State changes: the wrong roles first, then the one that may.
    for (i, want) in [
        (1, S::FORBIDDEN),
        (2, S::FORBIDDEN),
        (3, S::NOT_FOUND),
        (5, S::FORBIDDEN),
        (0, S::OK),
    ] {
        let r = set_state(&router, &tokens[i].1, &case_id, "verified", None).await;
        assert_eq!(r.status, want, "set-state by {}: {}", tokens[i].0, r.text());
    }
}

#[tokio::test]
async fn classification_and_privacy_that_only_tightens() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, _app, _clock) = fx.router().await;
    let (receipt, case_id) = submit(
        &router,
        &[("privacy", "confidential"), ("identity_name", "Rina Wati")],
    )
    .await;
    let triage = login(&router, &fx.identity("health-triage")).await;
    let custodian = login(&router, &fx.identity("health-custodian")).await;
    let path = format!("/api/v1/cases/{case_id}/classify");
    let r = send(&router, authed_post(&path, &triage, &json!({"kind": "whistleblowing", "category": "corruption", "tags": ["fees", "clinic"]}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let case: CaseResponse = serde_json::from_slice(
        &send(
            &router,
            authed_get(&format!("/api/v1/cases/{case_id}"), &triage),
        )
        .await
        .body,
    )
    .unwrap();
    assert_eq!(case.case.kind, "whistleblowing");
    assert_eq!(case.case.category.as_deref(), Some("corruption"));
    assert_eq!(case.tags, ["clinic", "fees"]);
    for (body, message) in [
        (json!({"kind": "gossip"}), "unknown kind"),
        (json!({"category": "weather"}), "unknown category"),
        (json!({"tags": ["Not Valid!"]}), "tags"),
        (json!({"privacy": "public"}), "privacy must be"),
    ] {
        let r = send(&router, authed_post(&path, &triage, &body)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(r.text().contains(message), "{}", r.text());
    }
    // Tighten: the identity envelope is destroyed.
    assert_eq!(
        send(
            &router,
            authed_get(&format!("/api/v1/cases/{case_id}/identity"), &custodian)
        )
        .await
        .status,
        StatusCode::OK
    );
    assert!(status_page(&router, &receipt).await.contains("Rina Wati"));
    let r = send(
        &router,
        authed_post(&path, &triage, &json!({"privacy": "anonymous"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        send(
            &router,
            authed_get(&format!("/api/v1/cases/{case_id}/identity"), &custodian)
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let page = status_page(&router, &receipt).await;
    assert!(!page.contains("Rina Wati"));
    assert_eq!(element_text(&page, "state").unwrap(), "Received");
    // Never loosen.
    let r = send(
        &router,
        authed_post(&path, &triage, &json!({"privacy": "confidential"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("never loosened"));
}

#[tokio::test]
async fn list_filters_and_new_members_get_new_envelopes() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, _app, _clock) = fx.router().await;
    let (_r1, c1) = submit(&router, &[("kind", "complaint"), ("category", "health")]).await;
    let (_r2, c2) = submit(
        &router,
        &[("kind", "aspiration"), ("category", "education")],
    )
    .await;
    let triage = login(&router, &fx.identity("health-triage")).await;
    set_state(&router, &triage, &c1, "verified", None).await;
    let ids = |r: Reply| -> Vec<String> {
        serde_json::from_slice::<bisik::api::CaseListResponse>(&r.body)
            .unwrap()
            .cases
            .into_iter()
            .map(|c| c.id)
            .collect()
    };
    assert_eq!(
        ids(send(&router, authed_get("/api/v1/cases?state=verified", &triage)).await),
        vec![c1.clone()]
    );
    assert_eq!(
        ids(send(
            &router,
            authed_get("/api/v1/cases?kind=aspiration", &triage)
        )
        .await),
        vec![c2.clone()]
    );
    assert_eq!(
        ids(send(
            &router,
            authed_get("/api/v1/cases?category=health&state=received", &triage)
        )
        .await),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(send(
            &router,
            authed_get("/api/v1/cases?limit=1&offset=0", &triage)
        )
        .await)
        .len(),
        1
    );
    let r = send(&router, authed_get("/api/v1/cases?state=nonsense", &triage)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // A member added to keys/ (and a restart) is among the recipients of what is written next.
    drop(router);
    let newcomer = fx.add_member("health", "health-newcomer", &["investigator"]);
    let (router, _app, _clock) = fx.router().await;
    let triage = login(&router, &fx.identity("health-triage")).await;
    let r = member_reply(
        &router,
        &triage,
        &c1,
        "member:health/health-triage",
        "Welcome aboard",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let newcomer_id = classic_of(bisik::client::read_identity(&newcomer).unwrap());
    let t = login(&router, &newcomer_id).await;
    let case: CaseResponse = serde_json::from_slice(
        &send(&router, authed_get(&format!("/api/v1/cases/{c1}"), &t))
            .await
            .body,
    )
    .unwrap();
    let sealed = bisik::crypto::token::decode(&case.messages[0].envelope).unwrap();
    assert!(
        bisik::crypto::envelope::open(&newcomer_id, &sealed).is_ok(),
        "the new reader opens the new message"
    );
    let content = bisik::crypto::token::decode(&case.content).unwrap();
    assert!(
        bisik::crypto::envelope::open(&newcomer_id, &content).is_err(),
        "but not what was sealed before they joined"
    );
}

#[tokio::test]
async fn deadlines_in_working_days_overdue_extensions_and_auto_close() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, app, clock) = fx.router().await;
    // Monday 23 Nov 2026: verification is due 3 working days later.
    let (receipt, case_id) = submit(&router, &[]).await;
    let page = status_page(&router, &receipt).await;
    assert_eq!(element_text(&page, "deadline").unwrap(), "26 November 2026");
    assert!(page.contains("Due for this stage by"));
    let triage = login(&router, &fx.identity("health-triage")).await;
    let list = |r: Reply| -> Vec<bisik::api::CaseSummaryJson> {
        serde_json::from_slice::<bisik::api::CaseListResponse>(&r.body)
            .unwrap()
            .cases
    };
    let cases = list(send(&router, authed_get("/api/v1/cases", &triage)).await);
    assert_eq!(cases[0].due_on.as_deref(), Some("2026-11-26"));
    assert!(
        list(send(&router, authed_get("/api/v1/cases?overdue=true", &triage)).await).is_empty()
    );

    // Friday 27 Nov: overdue.
    clock.advance(time::Duration::days(4));
    let triage = login(&router, &fx.identity("health-triage")).await;
    let overdue = list(send(&router, authed_get("/api/v1/cases?overdue=true", &triage)).await);
    assert_eq!(overdue.len(), 1);
    let page = status_page(&router, &receipt).await;
    assert!(page.contains("Overdue since") && page.contains("class=\"overdue\""));
    // The first day that was late, not the due day.
    assert_eq!(element_text(&page, "deadline").unwrap(), "27 November 2026");

    // An extension with a reason moves the due day; the citizen sees both.
    let reason = json!({"type": "bisik.reason", "version": 1, "state": "extension", "text": "Waiting for the clinic's records."});
    let envelope = seal_for_case(&router, &triage, &case_id, &reason).await;
    let r = send(
        &router,
        authed_post(
            &format!("/api/v1/cases/{case_id}/extend"),
            &triage,
            &json!({"days": 5, "reason_envelope": envelope}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let due: bisik::api::ExtendResponse = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        due.due_on.as_deref(),
        Some("2026-12-03"),
        "26 Nov + 5 working days"
    );
    let page = status_page(&router, &receipt).await;
    assert_eq!(element_text(&page, "deadline").unwrap(), "3 December 2026");
    assert!(
        page.contains("Deadline extended by 5 working days")
            && page.contains("Waiting for the clinic")
    );
    let r = send(
        &router,
        authed_post(
            &format!("/api/v1/cases/{case_id}/extend"),
            &triage,
            &json!({"days": 0, "reason_envelope": envelope}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Verified (Fri 27 Nov) → the agency's plan is due 5 working days later; then answered.
    assert_eq!(
        set_state(&router, &triage, &case_id, "verified", None)
            .await
            .status,
        StatusCode::OK
    );
    let cases = list(send(&router, authed_get("/api/v1/cases", &triage)).await);
    assert_eq!(cases[0].due_on.as_deref(), Some("2026-12-04"));
    let inv = login(&router, &fx.identity("health-investigator")).await;
    set_state(&router, &inv, &case_id, "in_progress", None).await;
    let cases = list(send(&router, authed_get("/api/v1/cases", &inv)).await);
    let complete = app
        .config
        .calendar
        .add_working_days(time::macros::date!(2026 - 11 - 27), 60);
    assert_eq!(
        cases[0].due_on,
        Some(bisik::domain::clock::day_string(complete))
    );
    set_state(&router, &inv, &case_id, "answered", None).await;
    let page = status_page(&router, &receipt).await;
    assert!(page.contains("Closes automatically if you do not reply by"));
    assert_eq!(
        element_text(&page, "deadline").unwrap(),
        "11 December 2026",
        "Fri 27 Nov + 10 working days"
    );

    // The housekeeping round closes it only once the silence has lasted.
    clock.advance(time::Duration::days(13)); // Thu 10 Dec
    assert_eq!(
        bisik::service::housekeeping::close_silent_answered(&app)
            .await
            .unwrap(),
        0
    );
    clock.advance(time::Duration::days(1)); // Fri 11 Dec
    assert_eq!(
        bisik::service::housekeeping::close_silent_answered(&app)
            .await
            .unwrap(),
        1
    );
    let page = status_page(&router, &receipt).await;
    assert_eq!(element_text(&page, "state").unwrap(), "Closed");
    assert!(page.contains("Automatic"));
}

#[tokio::test]
async fn holidays_from_the_calendar_file_are_not_working_days() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, _app, clock) = fx.router().await;
    // Tuesday 17 March 2026, just before Nyepi and the Idul Fitri block (18–24 March).
    clock.set(time::macros::datetime!(2026-03-17 10:00 UTC));
    let (receipt, _) = submit(&router, &[("occurred_on", "2026-03-16")]).await;
    let page = status_page(&router, &receipt).await;
    // Wed 25, Thu 26, Fri 27 March.
    assert_eq!(element_text(&page, "deadline").unwrap(), "27 March 2026");
}

#[tokio::test]
async fn an_overdue_case_escalated_by_the_citizen_opens_for_the_ombudsman() {
    let fx = Fixture::new(CHEAP_KDF);
    let watch = fx.add_member("ombudsman", "ombudsman-watch", &["oversight"]);
    let (router, _app, clock) = fx.router().await;
    let (receipt, case_id) = submit(
        &router,
        &[
            ("title", "Escalate me"),
            ("body", "Nobody answers"),
            ("privacy", "confidential"),
            ("identity_name", "Dewi Lestari"),
        ],
    )
    .await;
    let triage = login(&router, &fx.identity("health-triage")).await;
    assert_eq!(
        set_state(&router, &triage, &case_id, "on_hold", Some("Which ward?"))
            .await
            .status,
        StatusCode::OK
    );
    citizen_reply(&router, &receipt, "Ward 3.").await;
    let inv = login(&router, &fx.identity("health-investigator")).await;
    member_reply(
        &router,
        &inv,
        &case_id,
        "member:health/health-investigator",
        "Looking into ward 3.",
    )
    .await;

    // Not overdue yet: no escalation offered, and a forged request is refused.
    let page = status_page(&router, &receipt).await;
    assert!(!page.contains("id=\"escalate\""));
    let r = send(
        &router,
        post_form("/status/escalate?lang=en", &[("receipt", &receipt)]),
    )
    .await;
    assert!(r.text().contains("cannot be escalated now"), "{}", r.text());

    clock.advance(time::Duration::days(7));
    let inv = login(&router, &fx.identity("health-investigator")).await;
    let page = status_page(&router, &receipt).await;
    assert!(page.contains("id=\"escalate\"") && page.contains("Your report is overdue"));
    let r = send(
        &router,
        post_form("/status/escalate?lang=en", &[("receipt", &receipt)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let page = r.text();
    assert!(page.contains("The Ombudsman now follows your report too."));
    assert!(page.contains("Escalated to the Ombudsman"));
    assert!(!page.contains("id=\"escalate\""), "once is enough");

    // The oversight-only member lists it, reads content, messages and reasons — not the identity.
    let w = login(
        &router,
        &classic_of(bisik::client::read_identity(&watch).unwrap()),
    )
    .await;
    let listed: bisik::api::CaseListResponse =
        serde_json::from_slice(&send(&router, authed_get("/api/v1/cases", &w)).await.body).unwrap();
    assert_eq!(listed.cases.len(), 1);
    assert!(listed.cases[0].escalated_on.is_some());
    let watch_id = bisik::client::read_identity(&watch).unwrap();
    let case: CaseResponse = serde_json::from_slice(
        &send(&router, authed_get(&format!("/api/v1/cases/{case_id}"), &w))
            .await
            .body,
    )
    .unwrap();
    let open = |b64: &str| {
        bisik::crypto::envelope::open(&watch_id, &bisik::crypto::token::decode(b64).unwrap())
            .map(|p| String::from_utf8_lossy(&p).into_owned())
    };
    assert!(open(&case.content).unwrap().contains("Nobody answers"));
    assert!(!open(&case.content).unwrap().contains("Dewi"));
    let texts: Vec<String> = case
        .messages
        .iter()
        .map(|m| open(&m.envelope).unwrap())
        .collect();
    assert!(
        texts.iter().any(|t| t.contains("Ward 3."))
            && texts.iter().any(|t| t.contains("Looking into ward 3."))
    );
    let reason = case
        .events
        .iter()
        .find_map(|e| e.reason_envelope.clone())
        .unwrap();
    assert!(open(&reason).unwrap().contains("Which ward?"));
    assert_eq!(
        send(
            &router,
            authed_get(&format!("/api/v1/cases/{case_id}/identity"), &w)
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    // The institution still reads everything, and the reporter too (the status page decrypts).
    let inv_id = fx.identity("health-investigator");
    assert!(
        bisik::crypto::envelope::open(
            &inv_id,
            &bisik::crypto::token::decode(&case.content).unwrap()
        )
        .is_ok()
    );
    assert!(
        status_page(&router, &receipt)
            .await
            .contains("Looking into ward 3.")
    );

    // What is written afterwards reaches the Ombudsman too.
    member_reply(
        &router,
        &inv,
        &case_id,
        "member:health/health-investigator",
        "Fixed ward 3.",
    )
    .await;
    citizen_reply(&router, &receipt, "Confirmed, thanks.").await;
    let case: CaseResponse = serde_json::from_slice(
        &send(&router, authed_get(&format!("/api/v1/cases/{case_id}"), &w))
            .await
            .body,
    )
    .unwrap();
    let texts: Vec<String> = case
        .messages
        .iter()
        .map(|m| open(&m.envelope).unwrap())
        .collect();
    assert!(
        texts.iter().any(|t| t.contains("Fixed ward 3."))
            && texts.iter().any(|t| t.contains("Confirmed, thanks."))
    );

    // The Debian age CLI opens the content envelope with the Ombudsman member's identity file.
    let r = send(
        &router,
        authed_get(&format!("/api/v1/cases/{case_id}/envelope"), &w),
    )
    .await;
    let file = fx.data_dir().join("escalated.age");
    std::fs::write(&file, &r.body).unwrap();
    let out = std::process::Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&watch)
        .arg(&file)
        .output()
        .expect("age CLI");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Escalate me"));

    // Overdue counts per institution, metadata only, for oversight.
    let r = send(&router, authed_get("/api/v1/oversight/overdue", &w)).await;
    assert_eq!(r.status, StatusCode::OK);
    let counts: bisik::api::OverdueResponse = serde_json::from_slice(&r.body).unwrap();
    assert!(counts.institutions.iter().all(|c| c.overdue >= 0));
    assert_eq!(
        send(&router, authed_get("/api/v1/oversight/overdue", &inv))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}
