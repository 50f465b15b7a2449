//! Issue 12's server side for the desk: an investigator asks the citizen a question (the
//! completion deadline pauses and the answer comes back to the investigator, not to intake);
//! the Ombudsman writes a recommendation to the institution and a message to the citizen on an
//! escalated case (recorded in the history, sealed to the right people, deny by default, and
//! carried through a rekey); and "seen" markers per member, a count never a time. Through the
//! real router on a real SQLite file, and the rekey with the real server and CLI.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use age::x25519;
use axum::Router;
use axum::http::StatusCode;
use bisik::api::{CaseResponse, UnseenResponse};
use bisik::crypto::{envelope, token};
use common::*;
use serde_json::json;

async fn case_json(router: &Router, token: &str, case_id: &str) -> CaseResponse {
    let r = send(
        router,
        authed_get(&format!("/api/v1/cases/{case_id}"), token),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    serde_json::from_slice(&r.body).unwrap()
}

fn day(s: &str) -> time::Date {
    bisik::domain::clock::parse_day(s).unwrap()
}

fn open(id: &x25519::Identity, b64: &str) -> Option<String> {
    envelope::open(id, &token::decode(b64).unwrap())
        .ok()
        .map(|p| String::from_utf8_lossy(&p).into_owned())
}

/// Received → verified (triage) → in progress (investigator).
async fn to_in_progress(router: &Router, triage: &str, inv: &str, case_id: &str) {
    for (who, state) in [(triage, "verified"), (inv, "in_progress")] {
        let r = set_state(router, who, case_id, state, None).await;
        assert_eq!(r.status, StatusCode::OK, "{state}: {}", r.text());
    }
}

#[tokio::test]
async fn an_investigators_question_pauses_the_deadline_and_the_answer_comes_back_to_them() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, app, clock) = fx.router().await;
    let (receipt, case_id) = submit(&router, &[("title", "Obat kosong")]).await;
    let triage = login(&router, &fx.identity("health-triage")).await;
    let inv = login(&router, &fx.identity("health-investigator")).await;
    to_in_progress(&router, &triage, &inv, &case_id).await;
    let before = case_json(&router, &inv, &case_id).await.case;
    let due_before = day(before.due_on.as_deref().unwrap());

    // Triage may not ask on the investigator's stage; the investigator must say what they ask.
    let r = set_state(&router, &triage, &case_id, "on_hold", Some("?")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = set_state(&router, &inv, &case_id, "on_hold", None).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    clock.advance(time::Duration::days(3));
    // Sessions last minutes: log in again after each jump of the clock.
    let triage = login(&router, &fx.identity("health-triage")).await;
    let inv = login(&router, &fx.identity("health-investigator")).await;
    let asked_on = clock_today(&app);
    let question = "Di apotek mana obat itu kosong?";
    let r = set_state(&router, &inv, &case_id, "on_hold", Some(question)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let held = case_json(&router, &inv, &case_id).await.case;
    assert_eq!(held.state, "on_hold");
    assert_eq!(held.held_from.as_deref(), Some("in_progress"));
    assert_eq!(held.due_on, None, "the clock waits for the citizen");

    // Intake cannot take the case over while the investigator waits.
    for to in ["verified", "archived", "not_our_authority"] {
        let r = set_state(&router, &triage, &case_id, to, Some("x")).await;
        assert!(
            r.status == StatusCode::UNPROCESSABLE_ENTITY || r.status == StatusCode::FORBIDDEN,
            "{to}: {} {}",
            r.status,
            r.text()
        );
    }

    // The citizen sees the investigator's question and answers ten days later.
    let page = status_page(&router, &receipt).await;
    assert!(page.contains(question), "the open question is shown");
    clock.advance(time::Duration::days(10));
    let answered_on = clock_today(&app);
    citizen_reply(&router, &receipt, "Apotek Sehat, Jalan Melati.").await;
    let inv = login(&router, &fx.identity("health-investigator")).await;
    let back = case_json(&router, &inv, &case_id).await.case;
    assert_eq!(
        back.state, "in_progress",
        "back to the investigator, not intake"
    );
    assert_eq!(back.held_from, None);
    let cal = &app.config.calendar;
    let waited = u32::try_from(cal.working_days_between(asked_on, answered_on)).unwrap();
    assert!(waited >= 5);
    assert_eq!(
        day(back.due_on.as_deref().unwrap()),
        cal.add_working_days(due_before, waited),
        "the completion deadline moved by exactly the working days waited"
    );

    // Asked again, the investigator may go on without an answer; the pause is kept too.
    let r = set_state(&router, &inv, &case_id, "on_hold", Some("Dan kapan?")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    clock.advance(time::Duration::days(7));
    let inv = login(&router, &fx.identity("health-investigator")).await;
    let r = set_state(&router, &inv, &case_id, "in_progress", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let resumed = case_json(&router, &inv, &case_id).await.case;
    assert!(day(resumed.due_on.as_deref().unwrap()) > day(back.due_on.as_deref().unwrap()));

    // Intake's own question still sends the answer back to intake.
    let triage = login(&router, &fx.identity("health-triage")).await;
    let (receipt2, case2) = submit(&router, &[("title", "Jalan rusak")]).await;
    let r = set_state(&router, &triage, &case2, "on_hold", Some("Jalan apa?")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = set_state(&router, &inv, &case2, "in_progress", None).await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no skipping verification"
    );
    citizen_reply(&router, &receipt2, "Jalan Kenanga.").await;
    assert_eq!(
        case_json(&router, &triage, &case2).await.case.state,
        "received"
    );
}

fn clock_today(app: &bisik::service::App) -> time::Date {
    app.clock.today()
}

/// Submits a case, lets it run late, and has the citizen escalate it.
async fn escalated_case(
    router: &Router,
    clock: &bisik::domain::clock::FixedClock,
) -> (String, String) {
    let (receipt, case_id) = submit(
        router,
        &[
            ("title", "Pungli di puskesmas"),
            ("body", "Biaya tambahan."),
        ],
    )
    .await;
    clock.advance(time::Duration::days(10));
    let r = send(
        router,
        post_form("/status/escalate?lang=en", &[("receipt", &receipt)]),
    )
    .await;
    assert!(
        r.text()
            .contains("The Ombudsman now follows your report too.")
    );
    (receipt, case_id)
}

async fn note_recipients(router: &Router, token: &str, case_id: &str) -> Reply {
    send(
        router,
        authed_get(&format!("/api/v1/cases/{case_id}/note-recipients"), token),
    )
    .await
}

fn seal_note(readers: &[String], extra: Option<&str>, text: &str) -> String {
    let mut to: Vec<bisik::crypto::keys::Recipient> =
        readers.iter().map(|t| t.parse().unwrap()).collect();
    if let Some(r) = extra {
        to.push(r.parse().unwrap());
    }
    let doc = json!({"type": "bisik.note", "version": 1, "author": "member:ombudsman/ombudsman-officer", "body": text, "written_on": "2026-12-03"});
    token::encode(&envelope::seal(&to, doc.to_string().as_bytes()).unwrap())
}

#[tokio::test]
async fn the_ombudsman_writes_a_recommendation_and_to_the_citizen_on_an_escalated_case() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, app, clock) = fx.router().await;
    let (_, quiet) = submit(&router, &[("title", "Belum terlambat")]).await;
    let (receipt, case_id) = escalated_case(&router, &clock).await;
    let omb = login(&router, &fx.identity("ombudsman-officer")).await;
    let triage = login(&router, &fx.identity("health-triage")).await;

    // Deny by default: not on a case that is not escalated, not by the institution itself,
    // not sealed to the reporter as well.
    assert_eq!(
        note_recipients(&router, &omb, &quiet).await.status,
        StatusCode::NOT_FOUND
    );
    let r = note_recipients(&router, &omb, &case_id).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let readers: bisik::api::NoteRecipientsResponse = serde_json::from_slice(&r.body).unwrap();
    let rec_text = "Kembalikan biaya tambahan kepada pelapor dalam 14 hari.";
    let sealed = seal_note(&readers.readers, None, rec_text);
    let post = |path: &str, token: &str, env: &str| {
        authed_post(
            &format!("/api/v1/cases/{case_id}/{path}"),
            token,
            &json!({ "envelope": env }),
        )
    };
    let r = send(&router, post("recommendations", &triage, &sealed)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let reporter = {
        let r = send(
            &router,
            authed_get(&format!("/api/v1/cases/{case_id}/recipients"), &omb),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        serde_json::from_slice::<bisik::api::RecipientsResponse>(&r.body)
            .unwrap()
            .reporter
    };
    let too_many = seal_note(&readers.readers, Some(&reporter), rec_text);
    let r = send(&router, post("recommendations", &omb, &too_many)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let r = send(
        &router,
        authed_post(
            &format!("/api/v1/cases/{quiet}/recommendations"),
            &omb,
            &json!({ "envelope": sealed }),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    let r = send(&router, post("recommendations", &omb, &sealed)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    // A message to the citizen, sealed to the readers and the reporter.
    let msg_text = "Ombudsman telah meminta Dinas Kesehatan menjawab dalam 14 hari.";
    let doc = json!({"type": "bisik.message", "version": 1, "author": "member:ombudsman/ombudsman-officer", "body": msg_text, "written_on": "2026-12-03"});
    let env = seal_for_case(&router, &omb, &case_id, &doc).await;
    let r = send(
        &router,
        authed_post(
            &format!("/api/v1/cases/{case_id}/oversight-messages"),
            &omb,
            &json!({ "envelope": env, "files": [] }),
        ),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "attachments are refused, not dropped"
    );
    let r = send(&router, post("oversight-messages", &triage, &env)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = send(&router, post("oversight-messages", &omb, &env)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    // The institution reads the recommendation apart from its own notes; so does the Ombudsman.
    let health = case_json(&router, &triage, &case_id).await;
    assert!(health.notes.is_empty());
    assert_eq!(health.recommendations.len(), 1);
    let triage_id = fx.identity("health-triage");
    assert!(
        open(&triage_id, &health.recommendations[0].envelope)
            .unwrap()
            .contains(rec_text)
    );
    let seen_by_omb = case_json(&router, &omb, &case_id).await;
    assert_eq!(seen_by_omb.recommendations.len(), 1);
    let omb_id = fx.identity("ombudsman-officer");
    assert!(open(&omb_id, &seen_by_omb.recommendations[0].envelope).is_some());
    // Both acts are in the history, the state kept.
    let acts: Vec<(Option<String>, String)> = health
        .events
        .iter()
        .filter(|e| e.act.is_some())
        .map(|e| (e.act.clone(), e.state.clone()))
        .collect();
    let state = health.case.state.clone();
    assert_eq!(
        acts,
        vec![
            (Some("recommendation".into()), state.clone()),
            (Some("oversight_message".into()), state)
        ]
    );
    assert!(health.case.escalated_on.is_some());

    // The citizen reads the Ombudsman's message, never the recommendation's text; the history
    // tells them both happened.
    let page = status_page(&router, &receipt).await;
    assert!(page.contains(msg_text), "{page}");
    assert!(!page.contains(rec_text));
    assert!(
        page.contains("The Ombudsman wrote a recommendation to the institution"),
        "{page}"
    );
    let reporter_id = reporter_identity(&app, &receipt).await;
    assert!(open(&reporter_id, &health.recommendations[0].envelope).is_none());

    // Audited, and the chain holds.
    let audit = app.store.audit_entries().await.unwrap();
    assert!(audit.iter().any(|e| e.action == "recommend"));
    assert!(audit.iter().any(|e| e.action == "oversight_message"));
    bisik::domain::audit::verify_chain(&audit).unwrap();
}

async fn reporter_identity(app: &bisik::service::App, receipt: &str) -> x25519::Identity {
    let receipt = bisik::crypto::receipt::Receipt::parse(receipt).unwrap();
    let record = app
        .store
        .receipt_record(receipt.lookup().as_u32())
        .await
        .unwrap()
        .unwrap();
    bisik::crypto::kdf::derive_reporter_identity(receipt.secret(), &record.kdf_salt, &record.kdf)
        .unwrap()
        .classic()
        .clone()
}

async fn unseen(router: &Router, token: &str, ids: &[&str]) -> Vec<(String, Option<String>)> {
    let r = send(
        router,
        authed_post("/api/v1/unseen", token, &json!({ "ids": ids })),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let found = serde_json::from_slice::<UnseenResponse>(&r.body)
        .unwrap()
        .cases;
    ids.iter()
        .map(|id| {
            let u = found.iter().find(|c| c.id == *id).map(|c| c.unseen.clone());
            ((*id).to_owned(), u)
        })
        .collect()
}

#[tokio::test]
async fn seen_markers_say_new_and_updated_per_member_and_never_when() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, _app, clock) = fx.router().await;
    let (receipt, a) = submit(&router, &[("title", "Satu")]).await;
    let (_, b) = submit(&router, &[("title", "Dua")]).await;
    let triage = login(&router, &fx.identity("health-triage")).await;
    let inv = login(&router, &fx.identity("health-investigator")).await;
    let new = Some("new".to_owned());
    assert_eq!(
        unseen(&router, &triage, &[&a, &b]).await,
        vec![(a.clone(), new.clone()), (b.clone(), new.clone())]
    );
    // Opening a case marks it seen for that member only.
    case_json(&router, &triage, &a).await;
    assert_eq!(
        unseen(&router, &triage, &[&a, &b]).await,
        vec![(a.clone(), None), (b.clone(), new.clone())]
    );
    assert_eq!(
        unseen(&router, &inv, &[&a]).await,
        vec![(a.clone(), new.clone())]
    );
    // Another institution learns nothing about health's cases.
    let other = login(&router, &fx.identity("transport-triage")).await;
    assert_eq!(
        unseen(&router, &other, &[&a]).await,
        vec![(a.clone(), None)]
    );
    // A question and the citizen's answer: updated, until looked at again.
    let r = set_state(&router, &triage, &a, "on_hold", Some("Kapan?")).await;
    assert_eq!(r.status, StatusCode::OK);
    case_json(&router, &triage, &a).await;
    clock.advance(time::Duration::days(1));
    citizen_reply(&router, &receipt, "Kemarin.").await;
    let triage = login(&router, &fx.identity("health-triage")).await;
    assert_eq!(
        unseen(&router, &triage, &[&a]).await,
        vec![(a.clone(), Some("updated".into()))]
    );
    case_json(&router, &triage, &a).await;
    assert_eq!(
        unseen(&router, &triage, &[&a]).await,
        vec![(a.clone(), None)]
    );

    // What the database keeps: a member, a case and a count — no day, no time.
    let cols = db_sql(
        fx.data_dir(),
        if on_postgres() {
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_name = 'seen_marks' ORDER BY ordinal_position"
        } else {
            "SELECT name FROM pragma_table_info('seen_marks')"
        },
    );
    assert_eq!(cols, vec!["member", "case_id", "mark"]);
}

/// A rekey after the Ombudsman's recommendation carries it to the new reader set (the client
/// re-seals recommendations with the notes; the server would refuse a re-seal that skips one).
#[test]
fn a_rekey_carries_the_recommendation() {
    let fx = Fixture::new(CHEAP_KDF);
    let rec_text = "Rekomendasi: audit kas puskesmas.";
    let case_id = {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let (router, app, clock) = fx.router().await;
            let (_, case_id) = escalated_case(&router, &clock).await;
            let omb = login(&router, &fx.identity("ombudsman-officer")).await;
            let r = note_recipients(&router, &omb, &case_id).await;
            let readers: bisik::api::NoteRecipientsResponse =
                serde_json::from_slice(&r.body).unwrap();
            let sealed = seal_note(&readers.readers, None, rec_text);
            let r = send(
                &router,
                authed_post(
                    &format!("/api/v1/cases/{case_id}/recommendations"),
                    &omb,
                    &json!({ "envelope": sealed }),
                ),
            )
            .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
            app.store.close().await;
            case_id
        })
    };
    let newcomer = fx.add_member("health", "health-investigator-2", &["investigator"]);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let base = server.base.clone();
    let new_id = classic_of(bisik::client::read_identity(&newcomer).unwrap());
    let (ok, _, err) = case_cli(
        &base,
        &fx.identity_path("health-triage"),
        &["rekey", &case_id],
    );
    assert!(ok, "rekey: {err}");
    let mut c = bisik::client::Client::new(&base, new_id.clone(), None).unwrap();
    c.login().unwrap();
    let case = c.case(&case_id).unwrap();
    assert_eq!(case.recommendations.len(), 1);
    assert!(
        open(&new_id, &case.recommendations[0].envelope)
            .unwrap()
            .contains(rec_text)
    );
    // The CLI's list takes the desk's filters.
    let triage_file = fx.identity_path("health-triage");
    let list = |args: &[&str]| {
        let mut all = vec!["list"];
        all.extend_from_slice(args);
        let (ok, out, err) = case_cli(&base, &triage_file, &all);
        (ok, String::from_utf8_lossy(&out).into_owned(), err)
    };
    let (ok, out, err) = list(&["--escalated", "--sort", "oldest", "--from", "2026-01-01"]);
    assert!(ok && out.contains(&case_id), "{out}{err}");
    let (ok, out, _) = list(&["--to", "2000-01-01"]);
    assert!(ok && out.contains("no cases"), "{out}");
    let (ok, out, _) = list(&["--tag", "tidak-ada"]);
    assert!(ok && out.contains("no cases"), "{out}");
    let (ok, _, err) = list(&["--sort", "sideways"]);
    assert!(!ok && err.contains("422"), "{err}");

    // The CLI: the Ombudsman recommends and writes to the reporter; triage reads both.
    let omb_file = fx.identity_path("ombudsman-officer");
    let (ok, out, err) = case_cli(
        &base,
        &omb_file,
        &["recommend", &case_id, "Kedua: umumkan tarif resmi."],
    );
    assert!(ok, "{err}");
    assert!(String::from_utf8_lossy(&out).contains("recorded in its history"));
    let (ok, _, err) = case_cli(
        &base,
        &omb_file,
        &["write-reporter", &case_id, "Kami mengawasi."],
    );
    assert!(ok, "{err}");
    let (ok, _, err) = case_cli(
        &base,
        &fx.identity_path("health-investigator"),
        &["recommend", &case_id, "x"],
    );
    assert!(!ok && err.contains("403"), "{err}");
    let (ok, out, err) = case_cli(
        &base,
        &fx.identity_path("health-triage"),
        &["show", &case_id],
    );
    assert!(ok, "{err}");
    let shown = String::from_utf8_lossy(&out);
    let at = shown
        .find("Recommendations of the Ombudsman")
        .expect("listed apart");
    assert!(shown[at..].contains(rec_text) && shown[at..].contains("umumkan tarif resmi"));
    assert!(
        shown.contains("the Ombudsman wrote to the reporter") && shown.contains("Kami mengawasi.")
    );
    let mut o = bisik::client::Client::new(&base, fx.identity("ombudsman-officer"), None).unwrap();
    o.login().unwrap();
    let seen = o.case(&case_id).unwrap();
    assert!(
        open(
            &fx.identity("ombudsman-officer"),
            &seen.recommendations[0].envelope
        )
        .is_some()
    );
    server.stop();
}

/// Review finding: putting an overdue case on hold cleared its due day, so it left the
/// Ombudsman's overdue list and the citizen could no longer escalate it. An overdue case cannot
/// be put on hold: the delay stays visible (extend it, with a reason the citizen reads, first).
#[tokio::test]
async fn an_overdue_case_cannot_be_hidden_from_oversight_by_a_question() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, _app, clock) = fx.router().await;
    let (receipt, case_id) = submit(&router, &[("title", "Terlambat")]).await;
    let triage = login(&router, &fx.identity("health-triage")).await;
    let inv = login(&router, &fx.identity("health-investigator")).await;
    to_in_progress(&router, &triage, &inv, &case_id).await;
    clock.advance(time::Duration::days(120));
    let inv = login(&router, &fx.identity("health-investigator")).await;
    let omb = login(&router, &fx.identity("ombudsman-officer")).await;
    let overdue = |token: String| {
        let router = router.clone();
        async move {
            let r = send(
                &router,
                authed_get("/api/v1/oversight/overdue-cases", &token),
            )
            .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
            serde_json::from_slice::<bisik::api::CaseListResponse>(&r.body)
                .unwrap()
                .cases
                .into_iter()
                .map(|c| c.id)
                .collect::<Vec<_>>()
        }
    };
    assert!(overdue(omb.clone()).await.contains(&case_id));
    let r = set_state(
        &router,
        &inv,
        &case_id,
        "on_hold",
        Some("Ada dokumen lain?"),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("overdue"), "{}", r.text());
    assert!(
        overdue(omb).await.contains(&case_id),
        "still on the Ombudsman's list"
    );
    let r = send(
        &router,
        post_form("/status/escalate?lang=en", &[("receipt", &receipt)]),
    )
    .await;
    assert!(
        r.text()
            .contains("The Ombudsman now follows your report too.")
    );
}

/// Review finding: `/unseen` was not audited, and the activity count included internal notes,
/// so the oversight body saw a case turn "updated" when the institution wrote a note it may not
/// read. The count holds only what the member may read, and asking is audited.
#[tokio::test]
async fn unseen_tells_nobody_about_what_they_may_not_read_and_is_audited() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, app, clock) = fx.router().await;
    let (_, case_id) = escalated_case(&router, &clock).await;
    let omb = login(&router, &fx.identity("ombudsman-officer")).await;
    let triage = login(&router, &fx.identity("health-triage")).await;
    case_json(&router, &omb, &case_id).await;
    case_json(&router, &triage, &case_id).await;
    assert_eq!(
        unseen(&router, &omb, &[&case_id]).await,
        vec![(case_id.clone(), None)]
    );
    let r = note_recipients(&router, &triage, &case_id).await;
    let readers: bisik::api::NoteRecipientsResponse = serde_json::from_slice(&r.body).unwrap();
    let sealed = seal_note(&readers.readers, None, "Catatan internal.");
    let r = send(
        &router,
        authed_post(
            &format!("/api/v1/cases/{case_id}/notes"),
            &triage,
            &json!({ "envelope": sealed }),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        unseen(&router, &omb, &[&case_id]).await,
        vec![(case_id.clone(), None)],
        "a note the Ombudsman may not read changes nothing for it"
    );
    let inv = login(&router, &fx.identity("health-investigator")).await;
    case_json(&router, &inv, &case_id).await;
    let r = send(
        &router,
        authed_post(
            &format!("/api/v1/cases/{case_id}/notes"),
            &triage,
            &json!({ "envelope": seal_note(&readers.readers, None, "Lagi.") }),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        unseen(&router, &inv, &[&case_id]).await,
        vec![(case_id.clone(), Some("updated".into()))],
        "the institution's own readers are told"
    );
    let audit = app.store.audit_entries().await.unwrap();
    assert!(
        audit.iter().any(|e| e.action == "view_unseen"),
        "asking is audited"
    );
}
