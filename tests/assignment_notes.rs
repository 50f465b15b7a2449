//! Work distribution and internal notes (issue 12), through the real router and a real SQLite
//! file, and end to end with the real `bisik serve` and the real CLI: triage assigns a case to
//! one of its investigators (deny by default, audited, cleared on forward and exclusion);
//! officers write internal notes sealed to the case's readers only — never to the reporter —
//! that follow the case through forward and rekey, stay out of escalation and never reach the
//! citizen's status page.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use age::x25519;
use axum::Router;
use axum::http::StatusCode;
use bisik::api::{CaseListResponse, CaseResponse};
use bisik::crypto::{envelope, token};
use bisik::domain::audit::verify_chain;
use bisik::service::App;
use common::*;
use serde_json::json;

async fn assign(router: &Router, token: &str, case_id: &str, handle: Option<&str>) -> Reply {
    send(
        router,
        authed_post(
            &format!("/api/v1/cases/{case_id}/assignment"),
            token,
            &json!({ "handle": handle }),
        ),
    )
    .await
}

async fn case_json(router: &Router, token: &str, case_id: &str) -> CaseResponse {
    let r = send(
        router,
        authed_get(&format!("/api/v1/cases/{case_id}"), token),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    serde_json::from_slice(&r.body).unwrap()
}

async fn list(router: &Router, token: &str, query: &str) -> Vec<bisik::api::CaseSummaryJson> {
    let r = send(router, authed_get(&format!("/api/v1/cases{query}"), token)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    serde_json::from_slice::<CaseListResponse>(&r.body)
        .unwrap()
        .cases
}

fn parse(list: &[String]) -> Vec<bisik::crypto::keys::Recipient> {
    list.iter().map(|t| t.parse().unwrap()).collect()
}

/// The readers and the reporter, as `/recipients` (optionally `?for=` or `?without=`) lists them.
async fn recipients(
    router: &Router,
    token: &str,
    case_id: &str,
    query: &str,
) -> (
    Vec<bisik::crypto::keys::Recipient>,
    bisik::crypto::keys::Recipient,
) {
    let r = send(
        router,
        authed_get(&format!("/api/v1/cases/{case_id}/recipients{query}"), token),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let rec: bisik::api::RecipientsResponse = serde_json::from_slice(&r.body).unwrap();
    (parse(&rec.readers), rec.reporter.parse().unwrap())
}

async fn note_recipients(
    router: &Router,
    token: &str,
    case_id: &str,
) -> Vec<bisik::crypto::keys::Recipient> {
    let r = send(
        router,
        authed_get(&format!("/api/v1/cases/{case_id}/note-recipients"), token),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let rec: bisik::api::NoteRecipientsResponse = serde_json::from_slice(&r.body).unwrap();
    parse(&rec.readers)
}

fn seal_note(to: &[bisik::crypto::keys::Recipient], author: &str, text: &str) -> String {
    let doc = json!({"type": "bisik.note", "version": 1, "author": author, "body": text, "written_on": "2026-11-23"});
    token::encode(&envelope::seal(to, doc.to_string().as_bytes()).unwrap())
}

async fn post_note(router: &Router, token: &str, case_id: &str, envelope: &str) -> Reply {
    send(
        router,
        authed_post(
            &format!("/api/v1/cases/{case_id}/notes"),
            token,
            &json!({ "envelope": envelope }),
        ),
    )
    .await
}

/// Opens a base64 envelope with `id`, as text.
fn open(id: &x25519::Identity, b64: &str) -> Option<String> {
    envelope::open(id, &token::decode(b64).unwrap())
        .ok()
        .map(|p| String::from_utf8_lossy(&p).into_owned())
}

/// The reporter's own age identity, derived from the receipt as the server does.
async fn reporter_identity(app: &App, receipt: &str) -> x25519::Identity {
    let receipt = bisik::crypto::receipt::Receipt::parse(receipt).unwrap();
    let record = app
        .store
        .receipt_record(receipt.lookup().as_u32())
        .await
        .unwrap()
        .unwrap();
    let id = bisik::crypto::kdf::derive_reporter_identity(
        receipt.secret(),
        &record.kdf_salt,
        &record.kdf,
    )
    .unwrap()
    .classic()
    .clone();
    assert_eq!(id.to_public().to_string(), record.reporter_recipient);
    id
}

/// Triage excludes a member (conflict of interest), sealing the reason like the CLI does.
async fn exclude(router: &Router, token: &str, case_id: &str, handle: &str) -> Reply {
    let (mut to, reporter) =
        recipients(router, token, case_id, &format!("?without={handle}")).await;
    to.push(reporter);
    let doc = json!({"type": "bisik.reason", "version": 1, "state": "exclusion", "text": "Related to the clinic's owner."});
    let reason = token::encode(&envelope::seal(&to, doc.to_string().as_bytes()).unwrap());
    send(
        router,
        authed_post(
            &format!("/api/v1/cases/{case_id}/exclusions"),
            token,
            &json!({ "handle": handle, "reason_envelope": reason }),
        ),
    )
    .await
}

#[tokio::test]
async fn triage_assigns_within_its_institution_and_nobody_else_may() {
    let fx = Fixture::new(CHEAP_KDF);
    fx.add_member("health", "health-investigator-2", &["investigator"]);
    let (router, app, _clock) = fx.router().await;
    let (_receipt, case_id) = submit(&router, &[("title", "Assign me")]).await;
    let (_receipt, other_id) = submit(&router, &[("title", "Nobody's yet")]).await;
    let triage = login(&router, &fx.identity("health-triage")).await;
    let inv = login(&router, &fx.identity("health-investigator")).await;
    let custodian = login(&router, &fx.identity("health-custodian")).await;
    let transport = login(&router, &fx.identity("transport-triage")).await;
    let ombudsman = login(&router, &fx.identity("ombudsman-officer")).await;

    // Deny by default: only the owning institution's triage assigns.
    let r = assign(&router, &triage, &case_id, Some("health-investigator")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body: bisik::api::AssignResponse = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body.assigned_to.as_deref(), Some("health-investigator"));
    for (who, token, status) in [
        ("investigator", &inv, StatusCode::FORBIDDEN),
        ("custodian", &custodian, StatusCode::FORBIDDEN),
        (
            "another institution's triage",
            &transport,
            StatusCode::NOT_FOUND,
        ),
        (
            "the oversight body's triage",
            &ombudsman,
            StatusCode::NOT_FOUND,
        ),
    ] {
        let r = assign(&router, token, &case_id, Some("health-investigator-2")).await;
        assert_eq!(r.status, status, "{who}: {}", r.text());
        let r = assign(&router, token, &case_id, None).await;
        assert_eq!(r.status, status, "{who} clearing: {}", r.text());
    }
    // Only an investigator of the case's own institution.
    for handle in [
        "transport-investigator",
        "health-custodian",
        "health-triage",
        "no-such-member",
    ] {
        let r = assign(&router, &triage, &case_id, Some(handle)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{handle}");
        assert!(
            r.text().contains("is not an investigator of health"),
            "{handle}: {}",
            r.text()
        );
    }
    assert_eq!(
        case_json(&router, &inv, &case_id)
            .await
            .case
            .assigned_to
            .as_deref(),
        Some("health-investigator"),
        "refused attempts changed nothing"
    );

    // Lists show the assignee; "assigned to me" shows only one's own.
    let all = list(&router, &inv, "").await;
    assert_eq!(all.len(), 2);
    let shown = |id: &str| all.iter().find(|c| c.id == id).unwrap().assigned_to.clone();
    assert_eq!(shown(&case_id).as_deref(), Some("health-investigator"));
    assert_eq!(shown(&other_id), None);
    let mine = list(&router, &inv, "?assigned_to_me=true").await;
    assert_eq!(
        mine.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        [case_id.as_str()]
    );
    assert!(
        list(&router, &triage, "?assigned_to_me=true")
            .await
            .is_empty()
    );
    assert_eq!(
        list(&router, &inv, "?assigned_to_me=true&state=received")
            .await
            .len(),
        1,
        "combines with the other filters"
    );

    // An excluded member cannot be assigned; excluding the assignee takes the case from them.
    let r = assign(&router, &triage, &other_id, Some("health-investigator-2")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let inv2 = login(&router, &fx.identity("health-investigator-2")).await;
    let page =
        |token: &str, id: &str| send(&router, authed_get(&format!("/api/v1/cases/{id}"), token));
    assert_eq!(page(&inv2, &other_id).await.status, StatusCode::OK);
    let r = exclude(&router, &triage, &other_id, "health-investigator-2").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // The excluded member is told the case does not exist, as for an unknown one.
    let (excluded, unknown) = (
        page(&inv2, &other_id).await,
        page(&inv2, "LPR-2026-999999").await,
    );
    assert_eq!(excluded.status, StatusCode::NOT_FOUND);
    assert_eq!(excluded.body, unknown.body);
    assert!(
        !list(&router, &inv2, "")
            .await
            .iter()
            .any(|c| c.id == other_id),
        "nor listed"
    );
    assert_eq!(
        page(&inv, &other_id).await.status,
        StatusCode::OK,
        "the others still read it"
    );
    assert_eq!(
        case_json(&router, &triage, &other_id)
            .await
            .case
            .assigned_to,
        None
    );
    let r = assign(&router, &triage, &other_id, Some("health-investigator-2")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("excluded from this case"), "{}", r.text());

    // Clearing.
    let r = assign(&router, &triage, &case_id, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        case_json(&router, &inv, &case_id).await.case.assigned_to,
        None
    );
    assert!(list(&router, &inv, "?assigned_to_me=true").await.is_empty());

    // Every act is in the audit chain, with the member and the case.
    let entries = app.store.audit_entries_for_case(&case_id).await.unwrap();
    let acts: Vec<(&str, &str)> = entries
        .iter()
        .filter(|e| e.action.starts_with("assign") || e.action == "unassign")
        .map(|e| (e.actor.as_str(), e.action.as_str()))
        .collect();
    assert_eq!(
        acts,
        [
            ("member:health/health-triage", "assign:health-investigator"),
            ("member:health/health-triage", "unassign"),
        ]
    );
    let other = app.store.audit_entries_for_case(&other_id).await.unwrap();
    assert!(
        other
            .iter()
            .any(|e| e.action == "assign:health-investigator-2")
    );
    assert!(verify_chain(&app.store.audit_entries().await.unwrap()).is_ok());
}

#[tokio::test]
async fn notes_are_sealed_to_the_readers_and_never_reach_the_reporter() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, app, _clock) = fx.router().await;
    let (receipt, case_id) = submit(&router, &[("title", "Notes")]).await;
    let reporter = reporter_identity(&app, &receipt).await;
    let triage = login(&router, &fx.identity("health-triage")).await;
    let inv = login(&router, &fx.identity("health-investigator")).await;
    let custodian = login(&router, &fx.identity("health-custodian")).await;
    let transport = login(&router, &fx.identity("transport-triage")).await;

    // The note recipients are the readers of /recipients, without the reporter.
    let to = note_recipients(&router, &inv, &case_id).await;
    let (readers, reporter_recipient) = recipients(&router, &inv, &case_id, "").await;
    let text = |v: &[bisik::crypto::keys::Recipient]| {
        v.iter().map(ToString::to_string).collect::<Vec<_>>()
    };
    assert_eq!(text(&to), text(&readers));
    assert!(!text(&to).contains(&reporter_recipient.to_string()));
    assert_eq!(
        send(
            &router,
            authed_get(
                &format!("/api/v1/cases/{case_id}/note-recipients"),
                &custodian
            )
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );

    let secret = "The clinic head is the mayor's brother: careful with the request letter.";
    let r = post_note(
        &router,
        &inv,
        &case_id,
        &seal_note(&to, "member:health/health-investigator", secret),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        serde_json::from_slice::<bisik::api::NoteCreated>(&r.body)
            .unwrap()
            .seq,
        1
    );

    // Sealed to the readers and the reporter: one stanza too many, refused.
    let mut too_many = to.clone();
    too_many.push(reporter_recipient.clone());
    let r = post_note(
        &router,
        &inv,
        &case_id,
        &seal_note(&too_many, "member:health/health-investigator", "leak"),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("never to the reporter"), "{}", r.text());
    // Not an age file at all.
    let r = post_note(&router, &inv, &case_id, &token::encode(b"not an age file")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Who may write one: readers of the owning institution only.
    let r = post_note(
        &router,
        &custodian,
        &case_id,
        &seal_note(&to, "x", "custodian"),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = post_note(&router, &transport, &case_id, &seal_note(&to, "x", "other")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // The readers get it, apart from the conversation, and open it; the reporter's key does not.
    let case = case_json(&router, &triage, &case_id).await;
    assert!(case.messages.is_empty());
    assert_eq!(case.notes.len(), 1);
    let note = &case.notes[0];
    assert_eq!(note.author, "member:health/health-investigator");
    assert_eq!(note.written_on, "2026-11-23");
    for reader in ["health-triage", "health-investigator"] {
        assert!(
            open(&fx.identity(reader), &note.envelope)
                .unwrap()
                .contains(secret)
        );
    }
    assert!(
        open(&reporter, &note.envelope).is_none(),
        "never the reporter"
    );
    assert!(open(&fx.identity("health-custodian"), &note.envelope).is_none());
    assert_eq!(
        envelope::x25519_stanza_count(&token::decode(&note.envelope).unwrap()),
        Some(to.len())
    );

    // The citizen's status page never shows it; the audit chain records the act.
    let page = status_page(&router, &receipt).await;
    assert!(!page.contains("mayor's brother") && !page.contains("mayor&#x27;s brother"));
    assert!(!page.contains("bisik.note"));
    let entries = app.store.audit_entries_for_case(&case_id).await.unwrap();
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.action == "note")
            .map(|e| e.actor.as_str())
            .collect::<Vec<_>>(),
        ["member:health/health-investigator"]
    );
}

#[tokio::test]
async fn escalation_still_works_with_notes_and_the_ombudsman_gets_none() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, _app, clock) = fx.router().await;
    let (receipt, case_id) = submit(
        &router,
        &[("title", "Escalate me"), ("body", "Nobody answers")],
    )
    .await;
    let inv = login(&router, &fx.identity("health-investigator")).await;
    let to = note_recipients(&router, &inv, &case_id).await;
    let secret = "Internal: wait for the audit office before answering.";
    let r = post_note(
        &router,
        &inv,
        &case_id,
        &seal_note(&to, "member:health/health-investigator", secret),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let before = case_json(&router, &inv, &case_id).await.notes;

    clock.advance(time::Duration::days(14));
    let page = status_page(&router, &receipt).await;
    assert!(
        page.contains("id=\"escalate\""),
        "overdue: escalation offered"
    );
    let r = send(
        &router,
        post_form("/status/escalate?lang=en", &[("receipt", &receipt)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let page = r.text();
    assert!(
        page.contains("The Ombudsman now follows your report too."),
        "{page}"
    );
    assert!(!page.contains("audit office"));

    // The Ombudsman reads the escalated case, without the institution's notes.
    let inv = login(&router, &fx.identity("health-investigator")).await;
    let ombudsman = login(&router, &fx.identity("ombudsman-officer")).await;
    let seen = case_json(&router, &ombudsman, &case_id).await;
    assert!(seen.case.escalated_on.is_some());
    assert!(
        open(&fx.identity("ombudsman-officer"), &seen.content)
            .unwrap()
            .contains("Nobody answers")
    );
    assert!(seen.notes.is_empty(), "oversight gets no internal notes");
    // The notes stay as they were, and their readers still open them.
    let after = case_json(&router, &inv, &case_id).await.notes;
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].envelope, before[0].envelope);
    assert!(
        open(&fx.identity("health-investigator"), &after[0].envelope)
            .unwrap()
            .contains(secret)
    );
}

#[tokio::test]
async fn a_forward_must_carry_every_note_resealed_for_the_readers_only() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, app, _clock) = fx.router().await;
    let (receipt, case_id) = submit(&router, &[("institution", ""), ("title", "Wrong door")]).await;
    let reporter = reporter_identity(&app, &receipt).await;
    let desk_id = fx.identity("desk-triage");
    let desk = login(&router, &desk_id).await;
    let to = note_recipients(&router, &desk, &case_id).await;
    let secret = "Caller sounded like the clinic's own accountant.";
    let r = post_note(
        &router,
        &desk,
        &case_id,
        &seal_note(&to, "member:desk/desk-triage", secret),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = assign(&router, &desk, &case_id, Some("desk-triage")).await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the desk has no investigators"
    );

    let case = case_json(&router, &desk, &case_id).await;
    let (readers, reporter_recipient) = recipients(&router, &desk, &case_id, "?for=health").await;
    let mut all = readers.clone();
    all.push(reporter_recipient.clone());
    let reseal = |b64: &str, to: &[bisik::crypto::keys::Recipient]| {
        let plain = envelope::open(&desk_id, &token::decode(b64).unwrap()).unwrap();
        token::encode(&envelope::seal(to, &plain).unwrap())
    };
    let reason_doc = json!({"type": "bisik.reason", "version": 1, "state": "forwarded", "text": "Clinics are health's."});
    let reason = token::encode(&envelope::seal(&all, reason_doc.to_string().as_bytes()).unwrap());
    let forward = |notes: serde_json::Value| {
        json!({
            "to": "health",
            "reason_envelope": reason,
            "content": reseal(&case.content, &all),
            "messages": [],
            "reasons": [],
            "notes": notes,
        })
    };
    let path = format!("/api/v1/cases/{case_id}/forward");
    let note_seq = case.notes[0].seq;

    // Leaving the note out: refused, nothing moves.
    let r = send(&router, authed_post(&path, &desk, &forward(json!([])))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    // The note re-sealed to the reporter too: refused.
    let leaky = json!([{ "seq": note_seq, "envelope": reseal(&case.notes[0].envelope, &all) }]);
    let r = send(&router, authed_post(&path, &desk, &forward(leaky))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(
        case_json(&router, &desk, &case_id).await.case.institution,
        "desk"
    );
    // Re-sealed for the target's readers: the case moves with its note.
    let right = json!([{ "seq": note_seq, "envelope": reseal(&case.notes[0].envelope, &readers) }]);
    let r = send(&router, authed_post(&path, &desk, &forward(right))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    let inv = login(&router, &fx.identity("health-investigator")).await;
    let moved = case_json(&router, &inv, &case_id).await;
    assert_eq!(moved.notes.len(), 1);
    assert!(
        open(
            &fx.identity("health-investigator"),
            &moved.notes[0].envelope
        )
        .unwrap()
        .contains(secret)
    );
    assert!(open(&desk_id, &moved.notes[0].envelope).is_none());
    assert!(open(&reporter, &moved.notes[0].envelope).is_none());
    // The source keeps state and history, no notes.
    let desk = login(&router, &desk_id).await;
    assert!(case_json(&router, &desk, &case_id).await.notes.is_empty());
}

/// Runs a member command and insists it works.
fn ok(base: &str, identity: &std::path::Path, args: &[&str]) -> String {
    let (ok, out, err) = case_cli(base, identity, args);
    assert!(ok, "bisik case {args:?} failed: {err}");
    String::from_utf8(out).unwrap()
}

/// The reporter's identity, derived from the receipt next to a running server.
fn reporter_identity_blocking(fx: &Fixture, receipt: &str) -> x25519::Identity {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = fx.config().open_store().await.unwrap();
        let receipt = bisik::crypto::receipt::Receipt::parse(receipt).unwrap();
        let record = store
            .receipt_record(receipt.lookup().as_u32())
            .await
            .unwrap()
            .unwrap();
        store.close().await;
        bisik::crypto::kdf::derive_reporter_identity(
            receipt.secret(),
            &record.kdf_salt,
            &record.kdf,
        )
        .unwrap()
        .classic()
        .clone()
    })
}

fn member(base: &str, fx: &Fixture, handle: &str) -> bisik::client::Client {
    let mut c = bisik::client::Client::new(base, fx.identity(handle), None).unwrap();
    c.login().unwrap();
    c
}

#[test]
fn officers_assign_and_write_notes_with_the_cli_and_notes_follow_forward_and_rekey() {
    let fx = Fixture::new(CHEAP_KDF);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let base = server.base.clone();
    let mut res = loopback_agent()
        .post(format!("{base}/report?lang=en"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send(form_body(&report_fields(&[
            ("title", "Bus depot fees at the clinic"),
            ("body", "The clinic charges a parking fee."),
        ])))
        .unwrap();
    let html = res.body_mut().read_to_string().unwrap();
    let receipt = element_text(&html, "receipt").unwrap();
    let case_id = element_text(&html, "case-id").unwrap();
    let triage = fx.identity_path("health-triage");
    let inv = fx.identity_path("health-investigator");

    // Triage assigns; the investigator finds it under --mine and writes notes.
    let out = ok(&base, &triage, &["assign", &case_id, "health-investigator"]);
    assert!(out.contains("assigned to health-investigator"), "{out}");
    let (refused, _, err) = case_cli(&base, &inv, &["assign", &case_id, "--clear"]);
    assert!(!refused && err.contains("403"), "{err}");
    let (refused, _, err) = case_cli(&base, &triage, &["assign", &case_id]);
    assert!(!refused, "a handle or --clear is required: {err}");
    let mine = ok(&base, &inv, &["list", "--mine"]);
    assert!(
        mine.contains(&case_id)
            && mine.contains("ASSIGNED TO")
            && mine.contains("health-investigator"),
        "{mine}"
    );
    assert!(ok(&base, &triage, &["list", "--mine"]).contains("no cases"));
    let first = "The parking lot belongs to the transport office, not to us.";
    let out = ok(&base, &inv, &["note", &case_id, first]);
    assert!(out.contains("not visible to the reporter"), "{out}");
    let notes_file = fx.data_dir().join("note.txt");
    std::fs::write(&notes_file, "Second note\nwith two lines.\n").unwrap();
    ok(
        &base,
        &triage,
        &["note", &case_id, "--file", notes_file.to_str().unwrap()],
    );
    ok(&base, &inv, &["reply", &case_id, "We are looking into it."]);

    let shown = ok(&base, &inv, &["show", &case_id]);
    assert!(
        shown.contains("Assigned to: health-investigator"),
        "{shown}"
    );
    let at_messages = shown.find("Messages:").unwrap();
    let at_notes = shown
        .find("Internal notes (not visible to the reporter):")
        .unwrap();
    assert!(at_messages < at_notes, "{shown}");
    assert!(shown[at_notes..].contains(first) && shown[at_notes..].contains("with two lines."));
    assert!(
        !shown[..at_notes].contains(first),
        "apart from the conversation"
    );
    assert!(shown[at_messages..at_notes].contains("We are looking into it."));

    // The reporter: the conversation, never a note — on the page and with their own key.
    let page = post_status(&base, &receipt);
    assert!(page.contains("We are looking into it."));
    assert!(!page.contains("parking lot belongs") && !page.contains("Second note"));
    let reporter = reporter_identity_blocking(&fx, &receipt);
    let c = member(&base, &fx, "health-investigator");
    for n in &c.case(&case_id).unwrap().notes {
        assert!(open(&reporter, &n.envelope).is_none());
    }

    // A member joins health (restart): before a rekey the notes do not open for them; after
    // it, they do — still not for the reporter.
    server.stop();
    let newcomer = fx.add_member("health", "health-investigator-2", &["investigator"]);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let base = server.base.clone();
    let new_id = classic_of(bisik::client::read_identity(&newcomer).unwrap());
    let n0 = member(&base, &fx, "health-investigator")
        .case(&case_id)
        .unwrap()
        .notes;
    assert!(open(&new_id, &n0[0].envelope).is_none());
    ok(&base, &triage, &["rekey", &case_id]);
    let n1 = member(&base, &fx, "health-investigator")
        .case(&case_id)
        .unwrap()
        .notes;
    assert_eq!(n1.len(), 2);
    for n in &n1 {
        assert!(open(&new_id, &n.envelope).is_some());
        assert!(open(&reporter, &n.envelope).is_none());
        assert_eq!(
            envelope::x25519_stanza_count(&token::decode(&n.envelope).unwrap()),
            Some(3),
            "health's three readers, no reporter"
        );
    }

    // Forwarded to transport: the notes go along for its readers, the assignment does not.
    ok(
        &base,
        &triage,
        &[
            "forward",
            &case_id,
            "--to",
            "transport",
            "--reason",
            "The parking lot is transport's.",
        ],
    );
    let tinv = fx.identity_path("transport-investigator");
    let shown = ok(&base, &tinv, &["show", &case_id]);
    assert!(shown.contains("Assigned to: nobody"), "{shown}");
    assert!(
        shown.contains(first) && shown.contains("with two lines."),
        "{shown}"
    );
    assert!(ok(&base, &tinv, &["list", "--mine"]).contains("no cases"));
    let moved = member(&base, &fx, "transport-investigator")
        .case(&case_id)
        .unwrap();
    assert_eq!(moved.case.assigned_to, None);
    for n in &moved.notes {
        assert!(open(&fx.identity("transport-investigator"), &n.envelope).is_some());
        assert!(open(&fx.identity("health-investigator"), &n.envelope).is_none());
        assert!(open(&reporter, &n.envelope).is_none());
    }
    // The source sees no notes (and no content) any more.
    let shown = ok(&base, &inv, &["show", &case_id]);
    assert!(!shown.contains(first), "{shown}");
    let page = post_status(&base, &receipt);
    assert!(!page.contains("parking lot belongs") && !page.contains("Second note"));
    server.stop();
}
