//! A member's session is checked in the database on every read, on every instance, even where
//! the instance remembers which member a token opened and checks the session inside the read's
//! own statement (`service::member::SessionHints`, `store::SessionClaim`). Two apps on one
//! database stand for two instances. Real router, real SQLite (and PostgreSQL in its pass).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::*;

/// The audit actions recorded so far, in order.
async fn actions(app: &bisik::service::App) -> Vec<String> {
    let entries = app.store.audit_entries().await.unwrap();
    entries.into_iter().map(|e| e.action).collect()
}

/// Every way a member reads: a list with cases, a list with none, the cases forwarded away, a
/// later page (its size and offset bound after the session's values), a case, an unknown case,
/// and requests refused for their query.
fn read_paths(case_id: &str) -> Vec<String> {
    vec![
        "/api/v1/cases".to_owned(),
        "/api/v1/cases?state=closed".to_owned(),
        "/api/v1/cases?forwarded_away=true".to_owned(),
        "/api/v1/cases?limit=1&offset=1".to_owned(),
        format!("/api/v1/cases/{case_id}"),
        "/api/v1/cases/LPR-2026-999999".to_owned(),
        "/api/v1/cases?state=nonsense".to_owned(),
        "/api/v1/cases?limit=many".to_owned(),
        "/api/v1/cases?received_from=yesterday".to_owned(),
    ]
}

/// A session ended through another instance (logout) or by its expiry opens nothing through an
/// instance that saw it live a moment before, whichever way the member reads: not a list with
/// cases in it (where the session is checked in the list's own statement), not an empty one,
/// not a case; a request refused for its query is refused as unauthorized, not as invalid.
/// Nothing of it is audited. Each read is the first after the instance saw the session live
/// (a refused one makes the instance forget the token).
///
/// Seen failing: with the session's clause in the list's statement made always true, the list
/// answered 200 after the logout; with it so in the case row's statement, the case did; with
/// the handler answering a bad query before the session was known to be live, 422.
#[tokio::test]
async fn a_session_ended_elsewhere_opens_nothing_on_an_instance_that_saw_it_live() {
    let fx = Fixture::new(CHEAP_KDF);
    let (a, app_a, clock_a) = fx.router().await;
    let (b, _app_b, _) = fx.router().await;
    let (_, case_id) = submit(&a, &[]).await;
    submit(&a, &[("title", "A second report")]).await;
    let triage = fx.identity("health-triage");
    let expected = [
        StatusCode::OK,
        StatusCode::OK,
        StatusCode::OK,
        StatusCode::OK,
        StatusCode::OK,
        StatusCode::NOT_FOUND,
        StatusCode::UNPROCESSABLE_ENTITY,
        StatusCode::UNPROCESSABLE_ENTITY,
        StatusCode::UNPROCESSABLE_ENTITY,
    ];
    // A session that `a` has seen live: a list through it, which has the case in it.
    let seen_live = || async {
        let token = login(&a, &triage).await;
        let list = send(&a, authed_get("/api/v1/cases", &token)).await;
        assert_eq!(list.status, StatusCode::OK);
        let list: bisik::api::CaseListResponse = serde_json::from_slice(&list.body).unwrap();
        assert!(list.cases.iter().any(|c| c.id == case_id));
        token
    };

    // Live: every read answers as it should, through `a` (which knows the token) and `b`.
    let token = seen_live().await;
    let page = send(&a, authed_get("/api/v1/cases?limit=1&offset=1", &token)).await;
    let page: bisik::api::CaseListResponse = serde_json::from_slice(&page.body).unwrap();
    assert_eq!(
        page.cases.len(),
        1,
        "the second page of one case, the session checked in it"
    );
    for (path, want) in read_paths(&case_id).into_iter().zip(expected) {
        for (name, router) in [("a", &a), ("b", &b)] {
            let status = send(router, authed_get(&path, &token)).await.status;
            assert_eq!(status, want, "live session through {name}, {path}");
        }
    }

    for path in read_paths(&case_id) {
        // Logged out through `b`, while `a` remembers the token.
        let token = seen_live().await;
        let logout = axum::http::Request::delete("/api/v1/session")
            .header("authorization", format!("Bearer {token}"))
            .body(axum::body::Body::empty())
            .unwrap();
        assert_eq!(send(&b, logout).await.status, StatusCode::OK);
        let audited = actions(&app_a).await;
        let status = send(&a, authed_get(&path, &token)).await.status;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "after logout elsewhere, {path}"
        );
        assert_eq!(
            actions(&app_a).await,
            audited,
            "refused and audited: {path}"
        );

        // Expired, by the clock.
        let token = seen_live().await;
        clock_a.advance(time::Duration::seconds(app_a.config.session.ttl_secs + 1));
        let audited = actions(&app_a).await;
        let status = send(&a, authed_get(&path, &token)).await.status;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "after expiry, {path}");
        assert_eq!(
            actions(&app_a).await,
            audited,
            "refused and audited: {path}"
        );
    }
}
