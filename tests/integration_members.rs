//! Machine members (issue 14): a member with role `integration` — an institution's own system
//! with its own age key — logs in by challenge–response like an officer, gets a longer session,
//! reads and decrypts its institution's cases, and is refused everything else (other
//! institutions, identities, oversight, cases it is excluded from, writing on a case). Every
//! act is in the audit chain under `integration:<institution>/<handle>`. Real router, real
//! SQLite; the server-start refusal with the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use age::x25519;
use axum::Router;
use axum::http::StatusCode;
use bisik::api::{
    CaseAuditResponse, CaseListResponse, CaseResponse, ChallengeResponse, RecipientsResponse,
    SessionResponse,
};
use bisik::crypto::{envelope, token};
use bisik::domain::audit::verify_chain;
use common::*;
use serde_json::json;

const MACHINE: &str = "health-system";
const MACHINE_ACTOR: &str = "integration:health/health-system";

/// The fixed clock of `Fixture::router`, in Unix seconds (2026-11-23 09:30 UTC).
fn now() -> i64 {
    time::macros::datetime!(2026-11-23 09:30 UTC).unix_timestamp()
}

/// Challenge–response login, keeping the whole session answer.
async fn session(router: &Router, identity: &x25519::Identity) -> SessionResponse {
    let body = json!({ "recipient": identity.to_public().to_string() }).to_string();
    let r = send(router, json_post("/api/v1/session/challenge", &body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let c: ChallengeResponse = serde_json::from_slice(&r.body).unwrap();
    let secret = envelope::open(identity, &token::decode(&c.challenge).unwrap()).unwrap();
    let body = json!({ "challenge_id": c.challenge_id, "response": token::encode(&secret) });
    let r = send(router, json_post("/api/v1/session", &body.to_string())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    serde_json::from_slice(&r.body).unwrap()
}

async fn get_as(router: &Router, token: &str, path: &str) -> Reply {
    send(router, authed_get(&format!("/api/v1{path}"), token)).await
}

/// Opens a base64 envelope with `id`, as text.
fn open(id: &x25519::Identity, b64: &str) -> Option<String> {
    envelope::open(id, &token::decode(b64).unwrap())
        .ok()
        .map(|p| String::from_utf8_lossy(&p).into_owned())
}

async fn recipients(
    router: &Router,
    token: &str,
    case_id: &str,
    query: &str,
) -> RecipientsResponse {
    let r = get_as(
        router,
        token,
        &format!("/cases/{case_id}/recipients{query}"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    serde_json::from_slice(&r.body).unwrap()
}

fn denied(r: &Reply) -> bool {
    r.status == StatusCode::FORBIDDEN || r.status == StatusCode::NOT_FOUND
}

#[tokio::test]
async fn a_machine_member_reads_its_institutions_cases_and_nothing_else() {
    let fx = Fixture::new(CHEAP_KDF);
    fx.add_member("health", MACHINE, &["integration"]);
    let machine = fx.identity(MACHINE);
    let (router, app, _clock) = fx.router().await;

    let (_receipt, case_id) = submit(&router, &[("title", "Fees at the clinic")]).await;
    let (_receipt, confidential_id) = submit(
        &router,
        &[
            ("title", "Ward 2 bribes"),
            ("privacy", "confidential"),
            ("identity_name", "Wulan Sari"),
            ("identity_contact", "wulan@example.org"),
        ],
    )
    .await;
    let (_receipt, transport_id) = submit(
        &router,
        &[
            ("institution", "transport"),
            ("category", "transport"),
            ("title", "Bus terminal levies"),
        ],
    )
    .await;

    // Challenge–response like a person, and the longer machine session; people keep theirs.
    let s = session(&router, &machine).await;
    assert_eq!(s.handle, MACHINE);
    assert_eq!(s.institution, "health");
    assert_eq!(s.roles, vec!["integration".to_owned()]);
    assert_eq!(s.expires_at, now() + 12 * 3600);
    let person = session(&router, &fx.identity("health-investigator")).await;
    assert_eq!(person.expires_at, now() + 15 * 60);
    let m = s.token.clone();

    // It lists its institution's cases, never another institution's.
    let r = get_as(&router, &m, "/cases").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let list: CaseListResponse = serde_json::from_slice(&r.body).unwrap();
    let ids: Vec<&str> = list.cases.iter().map(|c| c.id.as_str()).collect();
    assert!(ids.contains(&case_id.as_str()), "{ids:?}");
    assert!(!ids.contains(&transport_id.as_str()), "{ids:?}");

    // It shows the case and decrypts the content with its own key (it was sealed to it).
    let r = get_as(&router, &m, &format!("/cases/{case_id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let case: CaseResponse = serde_json::from_slice(&r.body).unwrap();
    let text = open(&machine, &case.content).expect("sealed to the machine member");
    assert!(text.contains("Fees at the clinic"), "{text}");
    let r = get_as(&router, &m, &format!("/cases/{case_id}/envelope")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(envelope::open(&machine, &r.body).is_ok());

    // It is one of the case's readers: what members write is sealed to it too.
    let rec = recipients(&router, &person.token, &case_id, "").await;
    assert!(
        rec.readers.contains(&machine.to_public().to_string()),
        "{:?}",
        rec.readers
    );

    // A case forwarded to the institution is re-sealed to it as well (the desk's triage is
    // told to include it, like any reader of the new institution).
    let (_receipt, desk_id) =
        submit(&router, &[("institution", ""), ("title", "Which office?")]).await;
    let desk = login(&router, &fx.identity("desk-triage")).await;
    let fwd = recipients(&router, &desk, &desk_id, "?for=health").await;
    assert!(fwd.readers.contains(&machine.to_public().to_string()));
    let r = get_as(&router, &m, &format!("/cases/{desk_id}")).await;
    assert!(denied(&r), "not its institution's case yet: {}", r.status);

    // Another institution's case: refused like a person from elsewhere.
    let r = get_as(&router, &m, &format!("/cases/{transport_id}")).await;
    assert!(denied(&r), "{} {}", r.status, r.text());
    let r = get_as(&router, &m, &format!("/cases/{transport_id}/envelope")).await;
    assert!(denied(&r), "{} {}", r.status, r.text());

    // Never custody: the identity envelope, the custodians' queue.
    let r = get_as(&router, &m, &format!("/cases/{confidential_id}")).await;
    assert_eq!(r.status, StatusCode::OK, "the content it may read");
    let r = get_as(&router, &m, &format!("/cases/{confidential_id}/identity")).await;
    assert!(denied(&r), "{} {}", r.status, r.text());
    let r = get_as(&router, &m, "/custody/requests").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());

    // Never oversight.
    for path in ["/oversight/overdue", "/oversight/overdue-cases"] {
        let r = get_as(&router, &m, path).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.text());
    }

    // Read-only: it may not write on the case, move it, note it, extend it or ask for a reveal.
    let r = set_state(&router, &m, &case_id, "in_progress", None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let sealed = seal_for_case(
        &router,
        &m,
        &case_id,
        &json!({"type": "bisik.message", "version": 1, "text": "auto"}),
    )
    .await;
    let r = send(
        &router,
        authed_post(
            &format!("/api/v1/cases/{case_id}/messages"),
            &m,
            &json!({ "envelope": sealed }),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = send(
        &router,
        authed_post(
            &format!("/api/v1/cases/{case_id}/notes"),
            &m,
            &json!({ "envelope": sealed }),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = send(
        &router,
        authed_post(
            &format!("/api/v1/cases/{confidential_id}/reveal-requests"),
            &m,
            &json!({ "reason_envelope": sealed }),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());

    // Excluded from a case (conflict of interest): it loses it like a person would.
    let triage = login(&router, &fx.identity("health-triage")).await;
    let rec = recipients(&router, &triage, &case_id, &format!("?without={MACHINE}")).await;
    let mut to: Vec<bisik::crypto::keys::Recipient> =
        rec.readers.iter().map(|t| t.parse().unwrap()).collect();
    to.push(rec.reporter.parse().unwrap());
    let doc = json!({"type": "bisik.reason", "version": 1, "state": "exclusion", "text": "The vendor's system also serves the clinic."});
    let reason = token::encode(&envelope::seal(&to, doc.to_string().as_bytes()).unwrap());
    let r = send(
        &router,
        authed_post(
            &format!("/api/v1/cases/{case_id}/exclusions"),
            &triage,
            &json!({ "handle": MACHINE, "reason_envelope": reason }),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = get_as(&router, &m, &format!("/cases/{case_id}")).await;
    assert!(denied(&r), "{} {}", r.status, r.text());
    let r = get_as(&router, &m, &format!("/cases/{case_id}/envelope")).await;
    assert!(denied(&r), "{} {}", r.status, r.text());
    let r = get_as(&router, &m, "/cases").await;
    let list: CaseListResponse = serde_json::from_slice(&r.body).unwrap();
    assert!(!list.cases.iter().any(|c| c.id == case_id));
    let rec = recipients(&router, &triage, &case_id, "").await;
    assert!(!rec.readers.contains(&machine.to_public().to_string()));

    // Audited like a person, and named as a system: the institution's readers see it in the
    // case's audit; the whole chain holds.
    let r = get_as(&router, &triage, &format!("/cases/{case_id}/audit")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let audit: CaseAuditResponse = serde_json::from_slice(&r.body).unwrap();
    let machine_acts: Vec<&str> = audit
        .entries
        .iter()
        .filter(|e| e.actor == MACHINE_ACTOR)
        .map(|e| e.action.as_str())
        .collect();
    assert!(machine_acts.contains(&"view_case"), "{machine_acts:?}");
    assert!(
        machine_acts.contains(&"download_content"),
        "{machine_acts:?}"
    );
    assert!(
        !audit
            .entries
            .iter()
            .any(|e| e.actor.contains(MACHINE) && e.actor.starts_with("member:")),
        "a machine member is never written as a person"
    );
    let all = app.store.audit_entries().await.unwrap();
    assert!(
        all.iter()
            .any(|e| e.actor == MACHINE_ACTOR && e.action == "login")
    );
    assert!(verify_chain(&all).is_ok());
}

#[test]
fn a_machine_member_may_not_also_hold_a_persons_role() {
    let fx = Fixture::new(CHEAP_KDF);
    fx.add_member("health", "health-bot", &["integration", "investigator"]);
    let keys = fx.config().keys_dir;
    let err = bisik::config::keys::load_directory(&keys)
        .expect_err("refused")
        .to_string();
    assert!(
        err.contains("health-bot") && err.contains("integration"),
        "{err}"
    );

    // The real server refuses to start, and says why.
    let (ok, _out, err) = bisik_cli(&["serve", "--config", fx.config_path.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        err.contains("health-bot") && err.contains("a machine member holds `integration` only"),
        "{err}"
    );
}

#[test]
fn the_machine_session_lifetime_is_bounded() {
    let fx = Fixture::new("[session]\nintegration_ttl_secs = 99999999\n");
    let err = bisik::config::Config::load(&fx.config_path)
        .expect_err("refused")
        .to_string();
    assert!(err.contains("integration_ttl_secs"), "{err}");
}

/// The member CLI works with a machine member's key against the real server; the desk refuses
/// it; the operator's `bisik audit show` names it as a system.
#[test]
fn the_cli_works_for_a_machine_member_and_the_desk_refuses_it() {
    let fx = Fixture::new(CHEAP_KDF);
    let key = fx.add_member("health", MACHINE, &["integration"]);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let base = server.base.clone();
    let mut res = loopback_agent()
        .post(format!("{base}/report?lang=en"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send(form_body(&report_fields(&[(
            "title",
            "Fees at the clinic",
        )])))
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let html = res.body_mut().read_to_string().unwrap();
    let case_id = element_text(&html, "case-id").unwrap();

    let (ok, out, err) = case_cli(&base, &key, &["list"]);
    assert!(ok, "{err}");
    assert!(String::from_utf8_lossy(&out).contains(&case_id));
    let (ok, out, err) = case_cli(&base, &key, &["show", &case_id]);
    assert!(ok, "{err}");
    assert!(
        String::from_utf8_lossy(&out).contains("Fees at the clinic"),
        "decrypted on the machine member's side"
    );
    let (ok, out, err) = case_cli(&base, &key, &["envelope", &case_id]);
    assert!(ok, "{err}");
    assert!(envelope::open(&fx.identity(MACHINE), &out).is_ok());
    let (ok, _, err) = case_cli(&base, &key, &["reply", &case_id, "automatic answer"]);
    assert!(!ok && err.contains("403"), "read only: {err}");

    let refused = bisik::desk::vault::Vault::open(&base, fx.identity(MACHINE).into(), None)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(refused.contains("machine member"), "{refused}");

    let (ok, out, err) = bisik_cli(&[
        "audit",
        "--config",
        fx.config_path.to_str().unwrap(),
        "show",
        "--case",
        &case_id,
    ]);
    assert!(ok, "{err}");
    let shown = String::from_utf8_lossy(&out);
    assert!(
        shown
            .lines()
            .any(|l| l.contains(MACHINE_ACTOR) && l.contains("view_case")),
        "{shown}"
    );
    server.stop();
}
