//! Cases sealed post-quantum (`mlkem768x25519`, ML-KEM-768 + X25519) end to end, on the real
//! router and SQLite: when every member has a `pq_recipient` in `keys/`, every envelope of a
//! case — content, identity, messages both ways, reasons, files — holds no X25519 stanza; a
//! reader's key made by typage (an independent age implementation) opens what Bisik stored; the
//! reporter's post-quantum key (derived from the receipt) opens the status page; a classic
//! envelope on a post-quantum case is refused. Where one member still has only a classic key,
//! the server seals classic, and its start-up log names the institution.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use bisik::crypto::envelope::{self, StanzaCounts, stanza_counts};
use bisik::crypto::keys::{KeyKind, Recipient};
use common::typage::typage;
use common::*;

const TITLE: &str = "PQ-CANARY-TITLE-7731 clinic fees";
const NAME: &str = "PQ-CANARY-NAME-5512";
const CITIZEN_SAYS: &str = "PQ-CANARY-CITIZEN-4419 more details";
const OFFICER_SAYS: &str = "PQ-CANARY-OFFICER-8802 we are looking";

fn confidential() -> Vec<(&'static str, &'static str)> {
    vec![
        ("title", TITLE),
        ("privacy", "confidential"),
        ("identity_name", NAME),
        ("identity_contact", "0812-0000-0000"),
    ]
}

/// A case's stored envelope as a member downloads it: `envelope` (the report) or `identity`.
async fn stored_envelope(router: &axum::Router, token: &str, case_id: &str, what: &str) -> Vec<u8> {
    let path = format!("/api/v1/cases/{case_id}/{what}");
    let r = send(router, authed_get(&path, token)).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text());
    r.body.to_vec()
}

/// `n` post-quantum stanzas and no classic one, or the other way round.
fn pq(n: usize) -> Option<StanzaCounts> {
    Some(StanzaCounts {
        x25519: 0,
        hybrid: n,
    })
}

fn classic(n: usize) -> Option<StanzaCounts> {
    Some(StanzaCounts {
        x25519: n,
        hybrid: 0,
    })
}

/// Whether the case list marks the case as sealed post-quantum.
async fn listed_post_quantum(router: &axum::Router, token: &str, case_id: &str) -> bool {
    let r = send(router, authed_get("/api/v1/cases?limit=100", token)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let list: bisik::api::CaseListResponse = serde_json::from_slice(&r.body).unwrap();
    list.cases
        .iter()
        .find(|c| c.id == case_id)
        .expect("listed")
        .post_quantum
}

async fn recipients(
    router: &axum::Router,
    token: &str,
    case_id: &str,
) -> bisik::api::RecipientsResponse {
    let r = send(
        router,
        authed_get(&format!("/api/v1/cases/{case_id}/recipients"), token),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    serde_json::from_slice(&r.body).unwrap()
}

#[tokio::test]
async fn a_post_quantum_directory_seals_every_envelope_post_quantum() {
    let fx = Fixture::new(CHEAP_KDF);
    // Every member gets a post-quantum key; the health office's triage officer's is made by
    // typage, so an independent implementation opens what Bisik stores.
    fx.add_post_quantum_keys(&[]);
    let typage_dir = tempfile::tempdir().unwrap();
    typage("keygen", typage_dir.path());
    let read = |name: &str| {
        std::fs::read_to_string(typage_dir.path().join(name))
            .unwrap()
            .trim()
            .to_owned()
    };
    let (typage_identity, typage_recipient) = (read("identity.txt"), read("recipient.txt"));
    assert!(typage_recipient.starts_with("age1pq1"));
    fx.set_pq_recipient("health", "health-triage", &typage_recipient);
    fx.append_identity("health-triage", &typage_identity);
    let (router, app, clock) = fx.router().await;
    assert!(app.directory.not_post_quantum().is_empty());

    // A confidential report through the web form.
    let (receipt, case_id) = submit(&router, &confidential()).await;
    // The reporter's post-quantum key (from the receipt) opens it on the status page.
    assert!(status_page(&router, &receipt).await.contains(TITLE));

    // The triage officer logs in with the identity file (its first post-quantum key is not
    // the one in keys/: the client goes on to the next) and exports the content.
    let triage_keys = fx.keys("health-triage");
    let triage = login_with(&router, &typage_recipient, &triage_keys).await;
    let content = stored_envelope(&router, &triage, &case_id, "envelope").await;
    // Sealed to the health office's two readers and the reporter, post-quantum only.
    assert_eq!(stanza_counts(&content), pq(3));
    std::fs::write(typage_dir.path().join("bisik.age"), &content).unwrap();
    typage("decrypt", typage_dir.path());
    let opened = std::fs::read(typage_dir.path().join("plain.out")).unwrap();
    assert!(
        contains(&opened, TITLE.as_bytes()),
        "typage opened the content"
    );
    assert!(listed_post_quantum(&router, &triage, &case_id).await);

    // Whom to write to: post-quantum keys only, and the server says so.
    let to = recipients(&router, &triage, &case_id).await;
    assert_eq!(to.kind, KeyKind::Hybrid.as_str());
    assert!(
        to.readers
            .iter()
            .chain(std::iter::once(&to.reporter))
            .all(|r| r.starts_with("age1pq1"))
    );
    // A message sealed to them reaches the citizen.
    let r = member_reply(
        &router,
        &triage,
        &case_id,
        "member:health/health-triage",
        OFFICER_SAYS,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(status_page(&router, &receipt).await.contains(OFFICER_SAYS));
    // A message sealed classic (to three X25519 keys, as many as the case has recipients) is
    // refused: a post-quantum case never gets a classic envelope.
    let classic: Vec<Recipient> = ["health-triage", "health-investigator"]
        .iter()
        .map(|h| fx.identity(h).to_public().into())
        .chain(std::iter::once(
            age::x25519::Identity::generate().to_public().into(),
        ))
        .collect();
    let sealed = envelope::seal(&classic, b"{\"type\":\"bisik.message\"}").unwrap();
    let r = send(
        &router,
        authed_post(
            &format!("/api/v1/cases/{case_id}/messages"),
            &triage,
            &serde_json::json!({ "envelope": bisik::crypto::token::encode(&sealed) }),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("post-quantum"), "{}", r.text());

    // The citizen answers; a state change with a reason.
    citizen_reply(&router, &receipt, CITIZEN_SAYS).await;
    let r = set_state(
        &router,
        &triage,
        &case_id,
        "verified",
        Some("checked the clinic's records"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let page = status_page(&router, &receipt).await;
    assert!(page.contains(CITIZEN_SAYS) && page.contains("checked the clinic"));

    // The custodian opens the identity with their post-quantum key alone.
    let custodian_keys = fx.keys("health-custodian");
    let pq_custodian = custodian_keys.primary().clone();
    assert_eq!(pq_custodian.kind(), KeyKind::Hybrid);
    let custodian = login_with(
        &router,
        &pq_custodian.to_public().to_string(),
        &pq_custodian,
    )
    .await;
    let identity = stored_envelope(&router, &custodian, &case_id, "identity").await;
    assert_eq!(stanza_counts(&identity), pq(2));
    let plain = envelope::open(&pq_custodian, &identity).unwrap();
    assert!(contains(&plain, NAME.as_bytes()));

    // Overdue, the citizen escalates: the case is sealed again, on the server with the
    // reporter's keys, for the health office's readers, the Ombudsman and the reporter — still
    // post-quantum.
    clock.advance(time::Duration::days(30));
    let r = send(
        &router,
        post_form("/status/escalate?lang=en", &[("receipt", &receipt)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(
        r.text()
            .contains("The Ombudsman now follows your report too.")
    );
    let ombudsman_keys = fx.keys("ombudsman-officer");
    let ombudsman = login_with(
        &router,
        &ombudsman_keys.primary().to_public().to_string(),
        &ombudsman_keys,
    )
    .await;
    let content = stored_envelope(&router, &ombudsman, &case_id, "envelope").await;
    assert_eq!(stanza_counts(&content), pq(4));
    assert!(contains(
        &envelope::open(&ombudsman_keys, &content).unwrap(),
        TITLE.as_bytes()
    ));

    // Nothing in the data folder (database, WAL, blobs) holds an X25519 stanza or a canary;
    // post-quantum stanzas are there. The store is closed first, and waited for: a dropped
    // pool closes its connections in the background, and SQLite removes its WAL when the last
    // one closes — a file listed here could be gone when it is read.
    app.store.close().await;
    drop(router);
    drop(app);
    for file in all_files(fx.data_dir()) {
        let bytes = std::fs::read(&file).unwrap();
        for canary in [TITLE, NAME, CITIZEN_SAYS, OFFICER_SAYS] {
            assert!(
                !contains(&bytes, canary.as_bytes()),
                "{canary} in {}",
                file.display()
            );
        }
    }
    let pq_stanzas = assert_no_x25519_stanza_at_rest(fx.data_dir());
    assert!(pq_stanzas > 0, "no post-quantum stanza found at rest");
}

#[tokio::test]
async fn one_member_without_a_post_quantum_key_keeps_the_institution_classic() {
    let fx = Fixture::new(CHEAP_KDF);
    // Everyone but the health office's investigator.
    fx.add_post_quantum_keys(&["desk", "transport", "ombudsman"]);
    for handle in ["health-triage", "health-custodian"] {
        let id = bisik::crypto::pq::HybridIdentity::generate();
        fx.set_pq_recipient("health", handle, &id.to_public().to_string());
        fx.append_identity(
            handle,
            age::secrecy::ExposeSecret::expose_secret(&id.to_string()),
        );
    }
    let (router, app, _clock) = fx.router().await;
    assert_eq!(app.directory.not_post_quantum(), ["health"]);

    // A report to the health office: classic, to its two readers and the reporter.
    let (receipt, case_id) = submit(&router, &confidential()).await;
    let triage = login(&router, &fx.identity("health-triage")).await;
    let content = stored_envelope(&router, &triage, &case_id, "envelope").await;
    assert_eq!(stanza_counts(&content), classic(3));
    assert_eq!(recipients(&router, &triage, &case_id).await.kind, "x25519");
    assert!(!listed_post_quantum(&router, &triage, &case_id).await);
    // The custodians all have post-quantum keys, and so does the reporter: the identity is
    // sealed post-quantum.
    let custodian = login(&router, &fx.identity("health-custodian")).await;
    let identity = stored_envelope(&router, &custodian, &case_id, "identity").await;
    assert_eq!(stanza_counts(&identity), pq(2));
    // Messages both ways work, classic.
    let r = member_reply(
        &router,
        &triage,
        &case_id,
        "member:health/health-triage",
        OFFICER_SAYS,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let page = citizen_reply(&router, &receipt, CITIZEN_SAYS).await;
    assert!(page.contains(OFFICER_SAYS) && page.contains(CITIZEN_SAYS));

    // A report to the transport office, all post-quantum: post-quantum.
    let (_, transport_case) = submit(
        &router,
        &[("institution", "transport"), ("category", "transport")],
    )
    .await;
    let transport = login(&router, &fx.identity("transport-triage")).await;
    let content = stored_envelope(&router, &transport, &transport_case, "envelope").await;
    assert_eq!(stanza_counts(&content).unwrap().x25519, 0);
    assert!(listed_post_quantum(&router, &transport, &transport_case).await);
    drop(router);
    drop(app);

    // The operator's start-up log names the institution that is not yet post-quantum.
    let server = ServerProcess::start(&fx.config_path, &[]);
    let log = server.stop();
    assert!(
        log.lines()
            .any(|l| l.contains("not yet post-quantum") && l.contains("institutions=health")),
        "{log}"
    );
}

#[tokio::test]
async fn a_member_dropping_the_classic_key_too_early_stops_the_start() {
    let fx = Fixture::new(CHEAP_KDF);
    fx.add_post_quantum_keys(&["health"]);
    // desk-triage: post-quantum only, while other members (the desk's custodian among them)
    // have no post-quantum key: their envelopes are classic, which desk-triage could not open.
    let path = fx.data_dir().join("keys/institutions/desk.toml");
    let mut doc: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
    let triage = doc["members"].as_array_mut().unwrap()[0]
        .as_table_mut()
        .unwrap();
    triage.remove("recipient");
    triage.insert(
        "pq_recipient".into(),
        bisik::crypto::pq::HybridIdentity::generate()
            .to_public()
            .to_string()
            .into(),
    );
    std::fs::write(&path, toml::to_string(&doc).unwrap()).unwrap();
    let err = bisik::server::build(
        fx.config(),
        std::sync::Arc::new(bisik::domain::clock::SystemClock),
    )
    .await
    .expect_err("refused")
    .to_string();
    assert!(
        err.contains("\"desk-triage\" has only a post-quantum key"),
        "{err}"
    );
}

/// A directory moving to post-quantum: a case filed while the keys were classic (its reporter's
/// post-quantum recipient stored with it all the same) is sealed again post-quantum by
/// `bisik case rekey` once every reader has a post-quantum key, through the real server and CLI
/// — the member's identity file holding both keys.
#[tokio::test]
async fn rekey_moves_an_old_case_to_post_quantum() {
    let fx = Fixture::new(CHEAP_KDF);
    let (receipt, case_id) = {
        let (router, _app, _clock) = fx.router().await;
        let filed = submit(&router, &[("title", TITLE)]).await;
        let triage = login(&router, &fx.identity("health-triage")).await;
        assert!(!listed_post_quantum(&router, &triage, &filed.1).await);
        filed
    };
    fx.add_post_quantum_keys(&[]);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let triage = fx.identity_path("health-triage");
    let (ok, out, err) = case_cli(&server.base, &triage, &["list"]);
    assert!(ok, "{err}");
    let line = String::from_utf8_lossy(&out)
        .lines()
        .find(|l| l.starts_with(&case_id))
        .unwrap()
        .to_owned();
    assert!(!line.contains("post-quantum"), "{line}");

    let sealed = |case_id: &str| {
        let (ok, out, err) = case_cli(&server.base, &triage, &["show", case_id]);
        assert!(ok, "{err}");
        String::from_utf8_lossy(&out)
            .lines()
            .find(|l| l.starts_with("  sealed:"))
            .expect("case show says how the case is sealed")
            .to_owned()
    };
    assert_eq!(sealed(&case_id), "  sealed:    classic (X25519)");
    let (ok, _, err) = case_cli(&server.base, &triage, &["rekey", &case_id]);
    assert!(ok, "{err}");
    assert_eq!(
        sealed(&case_id),
        "  sealed:    post-quantum (ML-KEM-768 + X25519)"
    );
    let (ok, out, err) = case_cli(&server.base, &triage, &["list"]);
    assert!(ok, "{err}");
    let listed = String::from_utf8_lossy(&out).into_owned();
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with(&case_id) && l.ends_with("(post-quantum)")),
        "{listed}"
    );
    let (ok, content, err) = case_cli(&server.base, &triage, &["envelope", &case_id]);
    assert!(ok, "{err}");
    assert_eq!(stanza_counts(&content), pq(3));
    // The investigator's post-quantum key alone opens it; the reporter's receipt still opens
    // the case on the status page.
    let investigator = fx.keys("health-investigator");
    let pq_only = investigator.primary();
    assert_eq!(pq_only.kind(), KeyKind::Hybrid);
    assert!(contains(
        &envelope::open(pq_only, &content).unwrap(),
        TITLE.as_bytes()
    ));
    let page = post_status(&server.base, &receipt);
    assert!(page.contains(TITLE), "{page}");
    server.stop();
}

fn cli_ok(base: &str, identity: &std::path::Path, args: &[&str]) -> String {
    let (ok, out, err) = case_cli(base, identity, args);
    assert!(ok, "{args:?}: {err}");
    String::from_utf8(out).unwrap()
}

/// Staff intake, a forward and an identity hand-over through the real server and the members'
/// CLI (identity files with both keys) on a post-quantum directory: every envelope stays
/// post-quantum, and the receipt the officer read out opens the case.
#[test]
fn intake_forward_and_hand_over_stay_post_quantum() {
    let fx = Fixture::new(CHEAP_KDF);
    fx.add_post_quantum_keys(&[]);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let base = server.base.clone();
    let desk = fx.identity_path("desk-triage");
    let out = cli_ok(
        &base,
        &desk,
        &[
            "intake",
            "--channel",
            "phone",
            "--kind",
            "complaint",
            "--category",
            "health",
            "--title",
            TITLE,
            "--body",
            "Called in about clinic fees.",
            "--name",
            NAME,
        ],
    );
    let receipt = out
        .lines()
        .find_map(|l| l.split(": ").nth(1).filter(|r| r.len() == 29))
        .expect(&out)
        .to_owned();
    let case_id = out.split_whitespace().nth(1).unwrap().to_owned();
    // The desk's one reader and the reporter; the identity: the desk's custodian and the
    // reporter — post-quantum only.
    let (_, content, _) = case_cli(&base, &desk, &["envelope", &case_id]);
    assert_eq!(stanza_counts(&content), pq(2));
    let (_, identity, _) = case_cli(
        &base,
        &fx.identity_path("desk-custodian"),
        &["identity-envelope", &case_id],
    );
    assert_eq!(stanza_counts(&identity), pq(2));
    assert!(cli_ok(&base, &desk, &["list"]).contains("(post-quantum)"));

    // Forwarded to the health office (re-sealed on the desk officer's machine).
    cli_ok(
        &base,
        &desk,
        &[
            "forward",
            &case_id,
            "--to",
            "health",
            "--reason",
            "Clinics are health's.",
        ],
    );
    let inv = fx.identity_path("health-investigator");
    let (_, content, _) = case_cli(&base, &inv, &["envelope", &case_id]);
    assert_eq!(stanza_counts(&content), pq(3));
    assert!(cli_ok(&base, &inv, &["show", &case_id]).contains("Clinics are health's."));
    // The identity handed over to the health office's custodian.
    cli_ok(
        &base,
        &fx.identity_path("desk-custodian"),
        &["hand-over-identity", &case_id],
    );
    let (got, identity, err) = case_cli(
        &base,
        &fx.identity_path("health-custodian"),
        &["identity-envelope", &case_id],
    );
    assert!(got, "{err}");
    assert_eq!(stanza_counts(&identity), pq(2));
    let opened = envelope::open(&fx.keys("health-custodian"), &identity).unwrap();
    assert!(contains(&opened, NAME.as_bytes()));

    // The receipt read out on the phone opens the case, forward included.
    let page = post_status(&base, &receipt);
    assert!(
        page.contains(TITLE) && page.contains("Clinics are health"),
        "{page}"
    );
    server.stop();
    assert!(assert_no_x25519_stanza_at_rest(fx.data_dir()) > 0);
}

/// A case filed before reporters had a post-quantum key (its reporter's classic recipient
/// only), in a directory whose members have all dropped their classic keys: nothing can be
/// sealed to its readers and its reporter together. Members are told so (409, with the way
/// out), not given a server error.
#[tokio::test]
async fn an_old_case_in_a_post_quantum_only_directory_is_refused_with_a_reason() {
    let fx = Fixture::new(CHEAP_KDF);
    fx.add_post_quantum_keys(&[]);
    for e in std::fs::read_dir(fx.data_dir().join("keys/institutions")).unwrap() {
        let path = e.unwrap().path();
        let mut doc: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
        for m in doc["members"].as_array_mut().unwrap() {
            m.as_table_mut().unwrap().remove("recipient");
        }
        std::fs::write(&path, toml::to_string(&doc).unwrap()).unwrap();
    }
    let (router, app, _clock) = fx.router().await;
    let reporter = age::x25519::Identity::generate().to_public();
    let content = envelope::seal(&[reporter.clone().into()], b"{}").unwrap();
    let lookup = bisik::crypto::receipt::LookupId::random().unwrap();
    app.store
        .insert_case(&bisik::store::NewCase {
            id: "OLDC-ASE1",
            lookup_id: lookup.as_u32(),
            institution: "health",
            kind: bisik::domain::case::Kind::Complaint,
            category: None,
            privacy: bisik::domain::case::Privacy::Anonymous,
            received_on: time::macros::date!(2026 - 11 - 20),
            kdf_salt: &[1u8; 16],
            kdf: bisik::crypto::kdf::KdfParams {
                memory_kib: 1024,
                iterations: 1,
                parallelism: 1,
            },
            reporter_recipient: &reporter.to_string(),
            reporter_pq_recipient: None,
            content: &content,
            identity: None,
            due_on: None,
            channel: "phone",
            attachments: &[],
        })
        .await
        .unwrap();
    let keys = fx.keys("health-triage");
    let pq_key = keys.primary().clone();
    assert_eq!(pq_key.kind(), KeyKind::Hybrid);
    let triage = login_with(&router, &pq_key.to_public().to_string(), &pq_key).await;
    let r = send(
        &router,
        authed_get("/api/v1/cases/OLDC-ASE1/recipients", &triage),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(
        r.text()
            .contains("put the members' classic recipients back"),
        "{}",
        r.text()
    );
    let sealed = envelope::seal(&[pq_key.to_public()], b"{}").unwrap();
    let r = send(
        &router,
        authed_post(
            "/api/v1/cases/OLDC-ASE1/messages",
            &triage,
            &serde_json::json!({ "envelope": bisik::crypto::token::encode(&sealed) }),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
}

/// A case filed before reporters had a post-quantum key (its reporter's `age1pq1…` not stored)
/// gets the one the receipt gives when the citizen next *writes* to it — never on a plain status
/// check, which must leave no trace an officer could see — and from then on members are handed
/// the reporter's post-quantum key, so the case can move to post-quantum.
#[tokio::test]
async fn an_old_case_learns_its_reporters_post_quantum_key_when_the_citizen_writes() {
    let fx = Fixture::new(CHEAP_KDF);
    let (receipt, case_id) = {
        let (router, _app, _clock) = fx.router().await;
        submit(&router, &[("title", TITLE)]).await
    };
    // As a case filed before migration 21 looks.
    db_sql(
        fx.data_dir(),
        &format!("UPDATE cases SET reporter_pq_recipient = NULL WHERE id = '{case_id}'"),
    );
    let stored = || {
        db_sql(
            fx.data_dir(),
            &format!(
                "SELECT COALESCE(reporter_pq_recipient, '-') FROM cases WHERE id = '{case_id}'"
            ),
        )
        .concat()
    };
    fx.add_post_quantum_keys(&[]);
    let (router, _app, _clock) = fx.router().await;
    let triage = login(&router, &classic_of(fx.keys("health-triage"))).await;
    let before = recipients(&router, &triage, &case_id).await;
    assert_eq!(
        before.kind, "x25519",
        "the reporter has no post-quantum key yet"
    );

    let page = status_page(&router, &receipt).await;
    assert!(page.contains(TITLE), "{page}");
    assert_eq!(stored(), "-", "a status check writes nothing");

    let page = citizen_reply(&router, &receipt, CITIZEN_SAYS).await;
    assert!(page.contains(CITIZEN_SAYS), "{page}");
    let pq = stored();
    assert!(pq.starts_with("age1pq1"), "{pq}");
    let after = recipients(&router, &triage, &case_id).await;
    assert_eq!(after.kind, "mlkem768x25519");
    assert_eq!(after.reporter, pq, "the key the receipt gives");
}
