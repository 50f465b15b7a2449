//! A member's act and its audit entry commit together or not at all (issue 16): with the audit
//! append made to fail (a trigger on `audit_log`, as a full disk or a crash between the two
//! would), the act must not have happened — before, the act committed first and the entry in a
//! second transaction, so a failure between them left a change nobody's audit entry records.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bisik::service::App;
use common::*;
use serde_json::json;
use std::path::Path;

/// Makes every audit append whose action matches `pattern` (SQL LIKE) fail, on either backend.
async fn fail_audit_of(db: &Path, pattern: &str) {
    heal(db).await;
    if on_postgres() {
        db_sql(
            db,
            &format!(
                "CREATE OR REPLACE FUNCTION injected_audit_failure() RETURNS trigger \
                 LANGUAGE plpgsql AS $$ BEGIN IF NEW.action LIKE '{pattern}' THEN \
                 RAISE EXCEPTION 'injected'; END IF; RETURN NEW; END $$"
            ),
        );
        db_sql(
            db,
            "CREATE TRIGGER injected_audit_failure BEFORE INSERT ON audit_log \
             FOR EACH ROW EXECUTE FUNCTION injected_audit_failure()",
        );
    } else {
        db_sql(
            db,
            &format!(
                "CREATE TRIGGER injected_audit_failure BEFORE INSERT ON audit_log \
                 WHEN NEW.action LIKE '{pattern}' BEGIN SELECT RAISE(ABORT, 'injected'); END"
            ),
        );
    }
}

async fn heal(db: &Path) {
    db_sql(
        db,
        if on_postgres() {
            "DROP TRIGGER IF EXISTS injected_audit_failure ON audit_log"
        } else {
            "DROP TRIGGER IF EXISTS injected_audit_failure"
        },
    );
}

/// The case's actions in the audit chain matching `prefix`.
async fn audited(app: &App, case_id: &str, prefix: &str) -> usize {
    app.store
        .audit_entries_for_case(case_id)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.action.starts_with(prefix))
        .count()
}

/// A member's act on the case through the API (`POST /api/v1/cases/{id}/{what}`).
async fn act(
    router: &axum::Router,
    token: &str,
    case_id: &str,
    what: &str,
    body: serde_json::Value,
) -> Reply {
    send(
        router,
        authed_post(&format!("/api/v1/cases/{case_id}/{what}"), token, &body),
    )
    .await
}

async fn record(app: &App, case_id: &str) -> bisik::store::CaseRecord {
    app.store
        .case_for_institution("health", case_id, "health-triage")
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn a_member_act_and_its_audit_entry_commit_together() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, app, _clock) = fx.router().await;
    let (_, case_id) = submit(&router, &[]).await;
    let triage = login(&router, &fx.identity("health-triage")).await;
    let db = fx.data_dir().to_owned();

    // A state change.
    fail_audit_of(&db, "set_state:%").await;
    let r = set_state(&router, &triage, &case_id, "verified", None).await;
    assert!(!r.status.is_success(), "{}", r.text());
    let rec = record(&app, &case_id).await;
    assert_eq!(
        rec.summary.state.to_string(),
        "received",
        "moved without an audit entry"
    );
    assert_eq!(rec.events.len(), 1);
    assert_eq!(audited(&app, &case_id, "set_state").await, 0);
    heal(&db).await;
    let r = set_state(&router, &triage, &case_id, "verified", None).await;
    assert!(r.status.is_success(), "{}", r.text());
    assert_eq!(
        record(&app, &case_id).await.summary.state.to_string(),
        "verified"
    );
    assert_eq!(audited(&app, &case_id, "set_state:verified").await, 1);

    // A message to the citizen.
    fail_audit_of(&db, "reply").await;
    let r = member_reply(&router, &triage, &case_id, "health-triage", "Kami periksa.").await;
    assert!(!r.status.is_success());
    assert!(
        record(&app, &case_id).await.messages.is_empty(),
        "sent without an audit entry"
    );
    heal(&db).await;
    let r = member_reply(&router, &triage, &case_id, "health-triage", "Kami periksa.").await;
    assert!(r.status.is_success(), "{}", r.text());
    assert_eq!(record(&app, &case_id).await.messages.len(), 1);
    assert_eq!(audited(&app, &case_id, "reply").await, 1);

    // An assignment.
    let assignment = json!({"handle": "health-investigator"});
    fail_audit_of(&db, "assign:%").await;
    let assign = || act(&router, &triage, &case_id, "assignment", assignment.clone());
    assert!(!assign().await.status.is_success());
    assert_eq!(record(&app, &case_id).await.summary.assigned_to, None);
    heal(&db).await;
    let r = assign().await;
    assert!(r.status.is_success(), "{}", r.text());
    assert_eq!(
        record(&app, &case_id).await.summary.assigned_to.as_deref(),
        Some("health-investigator")
    );

    // A reclassification.
    let classify = || {
        act(
            &router,
            &triage,
            &case_id,
            "classify",
            json!({"tags": ["pungli"]}),
        )
    };
    fail_audit_of(&db, "classify").await;
    assert!(!classify().await.status.is_success());
    assert!(
        record(&app, &case_id).await.tags.is_empty(),
        "tagged without an audit entry"
    );
    heal(&db).await;
    let r = classify().await;
    assert!(r.status.is_success(), "{}", r.text());
    assert_eq!(record(&app, &case_id).await.tags, ["pungli"]);

    // A deadline extension.
    let due_before = record(&app, &case_id).await.summary.due_on;
    let reason = json!({"type": "bisik.reason", "version": 1, "state": "extension", "text": "Menunggu data."});
    let envelope = seal_for_case(&router, &triage, &case_id, &reason).await;
    let extension = json!({"days": 3, "reason_envelope": envelope});
    let extend = || act(&router, &triage, &case_id, "extend", extension.clone());
    fail_audit_of(&db, "extend_deadline").await;
    assert!(!extend().await.status.is_success());
    assert_eq!(record(&app, &case_id).await.summary.due_on, due_before);
    heal(&db).await;
    assert!(extend().await.status.is_success());
    assert_ne!(record(&app, &case_id).await.summary.due_on, due_before);

    // The chain still verifies: nothing half-written.
    assert!(bisik::domain::audit::verify_chain(&app.store.audit_entries().await.unwrap()).is_ok());
}

/// The store's write lock (`store::dialect::WRITE_LOCK`), which an instance's audit commit
/// needs and another instance may hold.
const WRITE_LOCK: i64 = 0x0062_6973_696b;

/// A member's case read holds one connection for its reads (`store::Reads`) and gives it back
/// before it waits for its audit entry's commit: on PostgreSQL that commit may need a
/// connection of the same pool (while another instance holds the write lock it stages the entry
/// there first). Holding it across the wait would leave a pool of one with none for the commit,
/// and the read would fail when the pool gave up waiting (30 s) — seen failing so. The read is
/// still answered only once its entry is durable: not while the lock is held.
#[tokio::test]
async fn a_case_read_gives_its_connection_back_before_waiting_for_its_audit_commit() {
    read_gives_its_connection_back_before_its_audit_commit(|case_id| {
        (format!("/api/v1/cases/{case_id}"), "view_case")
    })
    .await;
}

/// The same for a list: its session and its page are read on one connection, given back
/// before the list's audit commit's wait.
#[tokio::test]
async fn a_list_gives_its_connection_back_before_waiting_for_its_audit_commit() {
    read_gives_its_connection_back_before_its_audit_commit(|_| {
        ("/api/v1/cases?limit=50".to_owned(), "list_cases")
    })
    .await;
}

/// A member's read (`read(case_id)`: its path and its audit action) on a pool of one
/// connection, while "another instance" holds the write lock (see above).
async fn read_gives_its_connection_back_before_its_audit_commit(
    read: impl Fn(&str) -> (String, &'static str),
) {
    if !on_postgres() {
        eprintln!("PostgreSQL pass only: SQLite's audit commits use their own connection alone");
        return;
    }
    let fx = Fixture::new(CHEAP_KDF);
    let text = std::fs::read_to_string(&fx.config_path).unwrap();
    let url = text
        .lines()
        .find_map(|l| l.strip_prefix("url = \""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("the PostgreSQL pass's database url")
        .to_owned();
    std::fs::write(
        &fx.config_path,
        text.replace("pool_size = 4", "pool_size = 1"),
    )
    .unwrap();
    let (router, app, _clock) = fx.router().await;
    let (_, case_id) = submit(&router, &[]).await;
    let triage = login(&router, &fx.identity("health-triage")).await;
    let (path, action) = read(&case_id);
    let entries = || async {
        let all = app.store.audit_entries().await.unwrap();
        all.iter().filter(|e| e.action == action).count()
    };
    let before = entries().await;

    // "Another instance" holds the write lock.
    let mut other = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(WRITE_LOCK)
        .execute(&mut other)
        .await
        .unwrap();
    let read = tokio::spawn({
        let router = router.clone();
        async move { send(&router, authed_get(&path, &triage)).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert!(
        !read.is_finished(),
        "answered before its audit entry could be committed"
    );
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(WRITE_LOCK)
        .execute(&mut other)
        .await
        .unwrap();
    let reply = tokio::time::timeout(std::time::Duration::from_secs(20), read)
        .await
        .expect("the read still waits: its connection was not given back for the commit")
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(entries().await, before + 1);
}
