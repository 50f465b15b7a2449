//! Issue 13, "the conversation ends well": on an answered case a thank-you stays a message,
//! "resolved" closes the case with a rating, "not resolved" reopens it with the reason; a closed
//! case may be reopened within its window and takes nothing after it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use bisik::api::CaseResponse;
use common::*;

/// A case of the health office, worked to `answered`; returns (receipt, case id, investigator's
/// token).
async fn answered_case(router: &axum::Router, fx: &Fixture) -> (String, String, String) {
    let (receipt, case_id) = submit(router, &[("title", "Clinic fees")]).await;
    let triage = login(router, &fx.identity("health-triage")).await;
    let inv = login(router, &fx.identity("health-investigator")).await;
    for (token, state) in [
        (&triage, "verified"),
        (&inv, "in_progress"),
        (&inv, "answered"),
    ] {
        let r = set_state(router, token, &case_id, state, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    (receipt, case_id, inv)
}

async fn verdict(
    router: &axum::Router,
    receipt: &str,
    verdict: &str,
    rating: &str,
    message: &str,
) -> Reply {
    let page = status_page(router, receipt).await;
    // A closed case past its window offers no form: a forged POST has no nonce.
    let nonce = input_value(&page, "nonce").unwrap_or_default();
    send(
        router,
        post_form(
            "/status/verdict?lang=en",
            &[
                ("receipt", receipt),
                ("nonce", &nonce),
                ("verdict", verdict),
                ("rating", rating),
                ("message", message),
            ],
        ),
    )
    .await
}

async fn case(router: &axum::Router, token: &str, case_id: &str) -> CaseResponse {
    let r = send(
        router,
        authed_get(&format!("/api/v1/cases/{case_id}"), token),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    serde_json::from_slice(&r.body).unwrap()
}

#[tokio::test]
async fn a_thank_you_stays_a_message_and_resolved_closes_with_a_rating() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, app, _clock) = fx.router().await;
    let (receipt, case_id, inv) = answered_case(&router, &fx).await;

    let page = status_page(&router, &receipt).await;
    assert!(page.contains("id=\"verdict\""), "the question is asked");
    let page = citizen_reply(&router, &receipt, "Terima kasih, sudah beres").await;
    assert_eq!(element_text(&page, "state").unwrap(), "Answered");
    assert!(page.contains("Terima kasih, sudah beres"));

    let r = verdict(&router, &receipt, "resolved", "5", "Fast and polite.").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let page = r.text();
    assert_eq!(element_text(&page, "state").unwrap(), "Closed");
    assert!(page.contains("id=\"notice\""));
    assert!(element_text(&page, "rating").unwrap().contains("5/5"));
    assert_eq!(app.store.case_rating(&case_id).await.unwrap().unwrap().0, 5);
    assert_eq!(
        app.store.rating_counts().await.unwrap(),
        vec![("health".to_owned(), 5, 1)]
    );
    // The comment is sealed like a message: officers read it, the database holds no plaintext.
    let c = case(&router, &inv, &case_id).await;
    assert_eq!(c.case.state, "closed");
    let last = c.events.last().unwrap();
    assert_eq!(
        (last.state.as_str(), last.actor.as_str()),
        ("closed", "reporter")
    );
    assert_eq!(c.messages.len(), 2);
    for f in database_files(fx.data_dir(), true) {
        let db = std::fs::read(&f).unwrap();
        assert!(!contains(&db, b"Fast and polite."), "{}", f.display());
    }
    // A second verdict on the closed case is refused and changes nothing.
    let r = verdict(&router, &receipt, "resolved", "1", "").await;
    assert!(r.text().contains("id=\"refused\""));
    assert_eq!(app.store.case_rating(&case_id).await.unwrap().unwrap().0, 5);
}

#[tokio::test]
async fn not_resolved_reopens_with_the_reason_for_the_officers() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, app, _clock) = fx.router().await;
    let (receipt, case_id, inv) = answered_case(&router, &fx).await;

    // Without a reason: nothing stored, the problem said.
    let r = verdict(&router, &receipt, "not_resolved", "2", "").await;
    assert!(r.text().contains("id=\"verdict-error\""), "{}", r.text());
    // The rating chosen is kept, and the box the problem is about is marked as such.
    assert!(
        r.text()
            .contains("id=\"rating-2\" name=\"rating\" value=\"2\" checked"),
        "{}",
        r.text()
    );
    assert!(
        !r.text()
            .contains("id=\"rating-0\" name=\"rating\" value=\"\" checked")
    );
    assert!(
        r.text()
            .contains("aria-invalid=\"true\" aria-describedby=\"verdict-error\"")
    );
    assert_eq!(element_text(&r.text(), "state").unwrap(), "Answered");

    let r = verdict(
        &router,
        &receipt,
        "not_resolved",
        "2",
        "The fee is still asked.",
    )
    .await;
    let page = r.text();
    assert_eq!(element_text(&page, "state").unwrap(), "In progress");
    assert!(page.contains("id=\"deadline\""), "a new due day");
    let (summary, _) = app
        .store
        .case_summary(None, &case_id)
        .await
        .unwrap()
        .unwrap();
    assert!(summary.due_on.is_some());
    let c = case(&router, &inv, &case_id).await;
    assert_eq!(c.case.state, "in_progress");
    assert_eq!(c.messages.len(), 1);
    let id = fx.identity("health-investigator");
    let plain = bisik::crypto::envelope::open(
        &id,
        &bisik::crypto::token::decode(&c.messages[0].envelope).unwrap(),
    )
    .unwrap();
    assert!(String::from_utf8_lossy(&plain).contains("The fee is still asked."));
    assert_eq!(app.store.case_rating(&case_id).await.unwrap().unwrap().0, 2);
}

#[tokio::test]
async fn ratings_show_in_stats_only_from_five_per_institution() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, _app, clock) = fx.router().await;
    for i in 0..5 {
        let (receipt, _, _) = answered_case(&router, &fx).await;
        let r = verdict(&router, &receipt, "resolved", "4", "").await;
        assert_eq!(element_text(&r.text(), "state").unwrap(), "Closed");
        // Past the statistics' cache period (same day: no deadline moves).
        clock.advance(time::Duration::minutes(30));
        let stats = send(&router, get("/stats?lang=en")).await.text();
        let section = &stats[stats.find("id=\"ratings\"").unwrap()..];
        if i < 4 {
            assert!(section.contains("&#60;5"), "{section}");
            assert!(!section.contains("4.0"));
        } else {
            assert!(section.contains(">5<"), "{section}");
            assert!(section.contains("4.0"), "{section}");
        }
        // The same in /stats.json and /stats.csv: numbers, a suppressed flag.
        let json: serde_json::Value =
            serde_json::from_slice(&send(&router, get("/stats.json")).await.body).unwrap();
        let health = json["ratings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["slug"] == "health")
            .unwrap()
            .clone();
        let csv = send(&router, get("/stats.csv")).await.text();
        if i < 4 {
            assert_eq!(health["ratings"], serde_json::Value::Null);
            assert_eq!(health["suppressed"], true);
            assert_eq!(health["average_tenths"], serde_json::Value::Null);
            assert!(csv.contains("institution_ratings,health,"), "{csv}");
            assert!(csv.contains(",,true\n"), "{csv}");
        } else {
            assert_eq!(health["ratings"], 5);
            assert_eq!(health["suppressed"], false);
            assert_eq!(health["average_tenths"], 40);
            assert!(
                csv.contains("institution_rating_average_tenths,health,"),
                "{csv}"
            );
            assert!(csv.contains(",40,false\n"), "{csv}");
        }
    }
}

#[tokio::test]
async fn a_closed_case_reopens_within_the_window_and_not_after() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, app, clock) = fx.router().await;
    let (receipt, case_id, inv) = answered_case(&router, &fx).await;
    assert_eq!(
        set_state(&router, &inv, &case_id, "closed", None)
            .await
            .status,
        StatusCode::OK
    );
    let page = status_page(&router, &receipt).await;
    assert!(page.contains("id=\"reopen\""));
    assert!(
        !page.contains("action=\"/status/reply"),
        "no message form on a closed case"
    );
    let r = verdict(&router, &receipt, "reopen", "", "It started again.").await;
    assert_eq!(element_text(&r.text(), "state").unwrap(), "In progress");

    // Answered and closed again; 10 working days later the window is over.
    for state in ["answered", "closed"] {
        let r = set_state(&router, &inv, &case_id, state, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    clock.set(time::macros::datetime!(2026-12-21 09:30 UTC));
    let page = status_page(&router, &receipt).await;
    assert!(!page.contains("id=\"reopen\""));
    assert!(!page.contains("action=\"/status/reply"));
    assert!(!page.contains("id=\"message\""));
    let closed = element_text(&page, "closed-explain").unwrap();
    assert!(
        closed.contains("file a new report") && closed.contains(&case_id),
        "{closed}"
    );

    // Forged POSTs are refused and store nothing.
    let inv = login(&router, &fx.identity("health-investigator")).await;
    let before = case(&router, &inv, &case_id).await.messages.len();
    let r = send(
        &router,
        post_form(
            "/status/reply?lang=en",
            &[("receipt", receipt.as_str()), ("message", "Anyone there?")],
        ),
    )
    .await;
    assert!(r.text().contains("id=\"refused\""), "{}", r.text());
    let r = verdict(&router, &receipt, "reopen", "", "Please reopen.").await;
    assert!(r.text().contains("id=\"refused\""));
    let c = case(&router, &inv, &case_id).await;
    assert_eq!(c.messages.len(), before);
    assert_eq!(c.case.state, "closed");
    let _ = app;
}
