//! The store tells which unique key a write ran into from the statement itself (issue 16:
//! "constraint violations matched by constraint name, never by error text"): a taken lookup id
//! and a taken case id are told apart, and a form sent twice (same nonce) is stored once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bisik::crypto::kdf::KdfParams;
use bisik::domain::case::{Actor, Kind, Privacy};
use bisik::store::{NewCase, Store, StoreError};
use time::macros::date;

fn case<'a>(id: &'a str, lookup_id: u32, reporter: &'a str) -> NewCase<'a> {
    NewCase {
        id,
        lookup_id,
        institution: "health",
        kind: Kind::Complaint,
        category: None,
        privacy: Privacy::Anonymous,
        received_on: date!(2026 - 11 - 23),
        kdf_salt: &[0u8; 16],
        kdf: KdfParams::default(),
        reporter_recipient: reporter,
        reporter_pq_recipient: None,
        content: b"age ciphertext stand-in",
        identity: None,
        due_on: None,
        channel: "web",
        attachments: &[],
    }
}

#[tokio::test]
async fn taken_keys_are_told_apart_and_a_resent_form_is_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("bisik.sqlite")).await.unwrap();
    let reporter = age::x25519::Identity::generate().to_public().to_string();
    let (a, b) = ("LPR-2026-000001", "LPR-2026-000002");
    store.insert_case(&case(a, 1, &reporter)).await.unwrap();
    assert!(matches!(
        store.insert_case(&case(b, 1, &reporter)).await,
        Err(StoreError::Conflict("lookup id"))
    ));
    assert!(matches!(
        store.insert_case(&case(a, 2, &reporter)).await,
        Err(StoreError::Conflict("case id"))
    ));
    store.insert_case(&case(b, 2, &reporter)).await.unwrap();

    let day = date!(2026 - 11 - 24);
    let send = |nonce: &'static [u8]| {
        let store = &store;
        async move {
            store
                .add_message(a, &Actor::Reporter, day, Some(nonce), b"sealed", None, None)
                .await
                .unwrap()
        }
    };
    assert!(send(b"nonce-one").await);
    assert!(
        !send(b"nonce-one").await,
        "the same form twice is stored once"
    );
    assert!(send(b"nonce-two").await);
    let record = store.case_for_reporter(a).await.unwrap().unwrap();
    assert_eq!(record.messages.len(), 2);
    store.close().await;
}
