//! The store's lists on whichever backend the pass runs (see `store_contract.rs`): every
//! members' list filter and order, a listed case read field by field against the case itself,
//! and the notes, recommendations and files a member's case page reads in one statement.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bisik::domain::case::{Actor, CaseState, Kind, Privacy};
use bisik::store::sql::CaseExtras;
use bisik::store::{Classification, Move, Store};
use common::store::{Db, audit, case, reporter};
use time::macros::date;

/// Each members' list filter narrows the list to what it names — alone, together, and with
/// each order — on both backends. Each set of filters given is a statement of its own (the
/// store names only the filters given, so PostgreSQL can keep one plan per statement).
#[tokio::test]
async fn every_list_filter_narrows_alone_and_together() {
    use bisik::domain::records::{CaseFilter, CaseSort};
    let db = Db::new();
    let store = db.open().await;
    let r = reporter();
    // a: verified, tagged, assigned to ani, a whistleblowing report on roads, received early,
    // due first. b: a plain complaint, received later, due later. c: another institution's.
    let (a, b, c) = ("LPR-2026-000030", "LPR-2026-000031", "LPR-2026-000032");
    let mut case_a = case(a, 30, &r);
    case_a.kind = Kind::Whistleblowing;
    case_a.category = Some("roads");
    case_a.received_on = date!(2026 - 11 - 20);
    case_a.due_on = Some(date!(2026 - 11 - 27));
    store.insert_case(&case_a).await.unwrap();
    store.insert_case(&case(b, 31, &r)).await.unwrap();
    let mut case_c = case(c, 32, &r);
    case_c.institution = "police";
    case_c.kind = Kind::Whistleblowing;
    store.insert_case(&case_c).await.unwrap();
    let verified = Move {
        from: CaseState::Received,
        to: CaseState::Verified,
        due_on: Some(date!(2026 - 11 - 27)),
        extended_days: 0,
    };
    let member = Actor::from_column("member:health/ani");
    let day = date!(2026 - 11 - 25);
    let moved = store
        .transition(
            "health",
            a,
            verified,
            day,
            &member,
            None,
            Some(&audit("verify", a)),
        )
        .await
        .unwrap();
    assert!(moved);
    let tags = Classification {
        tags: Some(vec!["pungli".into()]),
        ..Classification::default()
    };
    assert!(
        store
            .classify("health", a, &tags, &audit("classify", a))
            .await
            .unwrap()
    );
    assert!(
        store
            .assign("health", a, Some("ani"), day, &audit("assign", a))
            .await
            .unwrap()
    );
    assert!(
        store
            .exclude(
                "health",
                b,
                "budi",
                day,
                "health/ani",
                b"reason",
                &audit("exclude", b)
            )
            .await
            .unwrap()
    );

    let listed = |filter: CaseFilter| {
        let store = store.clone();
        async move {
            let cases = store.list_cases("health", &filter, 50, 0).await.unwrap();
            cases.into_iter().map(|c| c.id).collect::<Vec<_>>()
        }
    };
    let with = |set: &dyn Fn(&mut CaseFilter)| {
        let mut f = CaseFilter::default();
        set(&mut f);
        f
    };
    // Newest first by default: b (the 23rd) before a (the 20th); never the police's case.
    assert_eq!(listed(CaseFilter::default()).await, [b, a]);
    let only_a: Vec<CaseFilter> = vec![
        with(&|f| f.state = Some(CaseState::Verified)),
        with(&|f| f.kind = Some(Kind::Whistleblowing)),
        with(&|f| f.category = Some("roads".into())),
        with(&|f| f.overdue_on = Some(date!(2026 - 11 - 28))),
        with(&|f| f.viewer = Some("budi".into())),
        with(&|f| f.assigned_to = Some("ani".into())),
        with(&|f| f.tag = Some("pungli".into())),
        with(&|f| f.received_to = Some(date!(2026 - 11 - 21))),
    ];
    for filter in &only_a {
        assert_eq!(listed(filter.clone()).await, [a], "{filter:?}");
    }
    assert_eq!(
        listed(with(&|f| f.received_from = Some(date!(2026 - 11 - 21)))).await,
        [b]
    );
    assert_eq!(
        listed(with(&|f| f.state = Some(CaseState::Received))).await,
        [b]
    );
    assert!(listed(with(&|f| f.escalated = true)).await.is_empty());
    assert!(
        listed(with(&|f| f.tag = Some("none".into())))
            .await
            .is_empty()
    );
    // All of a's filters together still find it; one that does not fit empties the list.
    let all_a = CaseFilter {
        state: Some(CaseState::Verified),
        kind: Some(Kind::Whistleblowing),
        category: Some("roads".into()),
        overdue_on: Some(date!(2026 - 11 - 28)),
        viewer: Some("budi".into()),
        assigned_to: Some("ani".into()),
        tag: Some("pungli".into()),
        received_from: Some(date!(2026 - 11 - 19)),
        received_to: Some(date!(2026 - 11 - 21)),
        ..CaseFilter::default()
    };
    for sort in CaseSort::ALL {
        let f = CaseFilter {
            sort: *sort,
            ..all_a.clone()
        };
        assert_eq!(listed(f).await, [a], "{sort:?}");
    }
    let mut none = all_a.clone();
    none.kind = Some(Kind::Complaint);
    assert!(listed(none).await.is_empty());
    // The orders: oldest first, soonest due first, by state (received before verified).
    let sorted = |sort: CaseSort| with(&move |f| f.sort = sort);
    assert_eq!(listed(sorted(CaseSort::ReceivedOldest)).await, [a, b]);
    assert_eq!(listed(sorted(CaseSort::DueSoonest)).await, [a, b]);
    assert_eq!(listed(sorted(CaseSort::State)).await, [b, a]);
    // A page: the limit and the offset are bound after the filters.
    let page = store
        .list_cases("health", &CaseFilter::default(), 1, 1)
        .await
        .unwrap();
    assert_eq!(page.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), [a]);
    // Later pages (their numbers bound after the filters' values): oldest first, the second
    // case is b; with a filter that keeps only a, the second page is empty (unfiltered it
    // holds a, above).
    let oldest = sorted(CaseSort::ReceivedOldest);
    let page = store.list_cases("health", &oldest, 1, 1).await.unwrap();
    assert_eq!(page.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), [b]);
    let only_a = with(&|f| f.received_to = Some(date!(2026 - 11 - 21)));
    assert_eq!(listed(only_a.clone()).await, [a]);
    let page = store.list_cases("health", &only_a, 1, 1).await.unwrap();
    assert!(page.is_empty(), "{page:?}");
}

/// A listed case is the case as a single read gives it, every field, whatever its text: a page
/// is read as one JSON value the database builds (one value, not 16 per case), so its escaping
/// must carry markup, quotes, backslashes, control and bidi characters through unchanged, and
/// an empty page must be empty, not an error. Also the oversight body's and the overdue lists.
#[tokio::test]
async fn a_listed_case_reads_as_the_case_itself_whatever_its_text() {
    use bisik::domain::records::CaseFilter;
    let db = Db::new();
    let store = db.open().await;
    let r = reporter();
    let empty = store
        .list_cases("health", &CaseFilter::default(), 50, 0)
        .await
        .unwrap();
    assert!(empty.is_empty());
    let hostile =
        "<script>alert(\"x\")</script> \\ \u{1b}[31m\u{202e}kiri\u{2066} tab\there\nline 'q' 😀 ü";
    let (a, b) = ("LPR-2026-000040", "LPR-2026-000041");
    let mut case_a = case(a, 40, &r);
    case_a.category = Some(hostile);
    case_a.kind = Kind::Whistleblowing;
    case_a.privacy = Privacy::Confidential;
    store.insert_case(&case_a).await.unwrap();
    store.insert_case(&case(b, 41, &r)).await.unwrap();
    let audit = |action: &str| audit(action, a);
    let member = Actor::from_column("member:health/ani");
    let day = date!(2026 - 11 - 25);
    // Verified (accepted, due, two days' extension), then on hold: every day and the hold's
    // state are set; and assigned.
    for (from, to, extended_days) in [
        (CaseState::Received, CaseState::Verified, 2),
        (CaseState::Verified, CaseState::OnHold, 2),
    ] {
        let mv = Move {
            from,
            to,
            due_on: Some(date!(2026 - 12 - 09)),
            extended_days,
        };
        let moved = store
            .transition("health", a, mv, day, &member, None, Some(&audit("move")))
            .await
            .unwrap();
        assert!(moved);
    }
    assert!(
        store
            .assign("health", a, Some("ani"), day, &audit("assign"))
            .await
            .unwrap()
    );
    let single = |id: &'static str| {
        let store = store.clone();
        async move {
            store
                .case_summary(Some("health"), id)
                .await
                .unwrap()
                .unwrap()
                .0
        }
    };
    let (one_a, one_b) = (single(a).await, single(b).await);
    assert_eq!(one_a.category.as_deref(), Some(hostile));
    assert_eq!(one_a.held_from, Some(CaseState::Verified));
    assert_eq!(one_a.assigned_to.as_deref(), Some("ani"));
    assert_eq!(one_a.extended_days, 2);
    assert!(one_a.accepted_on.is_some());
    let listed = store
        .list_cases("health", &CaseFilter::default(), 50, 0)
        .await
        .unwrap();
    // Both were received on the 23rd: the later id first.
    assert_eq!(listed, [one_b.clone(), one_a.clone()]);
    let overdue = store
        .overdue_cases(date!(2026 - 12 - 31), 1000)
        .await
        .unwrap();
    assert_eq!(overdue, [one_b, one_a]);
    store.close().await;
}

/// A member's case page reads the notes, recommendations and message files in one statement:
/// each list in its order, and only the kinds asked for (the oversight body and an institution
/// the case was forwarded away from get no internal notes).
#[tokio::test]
async fn a_case_pages_notes_come_only_when_asked_for_in_order() {
    let db = Db::new();
    let store = db.open().await;
    let r = reporter();
    let id = "LPR-2026-000050";
    store.insert_case(&case(id, 50, &r)).await.unwrap();
    let audit = audit("add_note", id);
    let ani = Actor::from_column("member:health/ani");
    for text in [b"first note".as_slice(), b"second note"] {
        let seq = store
            .add_note("health", id, &ani, date!(2026 - 11 - 25), text, &audit)
            .await
            .unwrap();
        assert!(seq.is_some());
    }
    let all = page(&store, id, true, true).await;
    let envelopes: Vec<&[u8]> = all.notes.iter().map(|n| n.envelope.as_slice()).collect();
    assert_eq!(envelopes, [b"first note".as_slice(), b"second note"]);
    assert_eq!(all.notes.iter().map(|n| n.seq).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(all.notes[0].author, ani);
    assert_eq!(all.notes[0].written_on, date!(2026 - 11 - 25));
    assert!(all.recommendations.is_empty() && all.files.is_empty());
    let notes = store.notes(id).await.unwrap();
    assert_eq!(
        notes
            .iter()
            .map(|n| n.envelope.as_slice())
            .collect::<Vec<_>>(),
        envelopes
    );
    let only_recommendations = page(&store, id, false, true).await;
    assert!(only_recommendations.notes.is_empty());
    let none = page(&store, id, false, false).await;
    assert!(none.notes.is_empty() && none.recommendations.is_empty());

    // Read with the case's lists, the notes are not taken for them, nor they for notes.
    let mut reads = store.reads().await.unwrap();
    reads.with_extras(true, true);
    let record = reads
        .case_for_institution("health", id, "ani")
        .await
        .unwrap()
        .unwrap();
    assert!(record.messages.is_empty() && record.tags.is_empty());
    assert_eq!(record.events.len(), 1, "only the case's first event");
    assert_eq!(reads.take_extras().unwrap().notes.len(), 2);
    assert!(reads.take_extras().is_none(), "taken once");
    // Without asking, a read brings none.
    reads
        .case_for_institution("health", id, "ani")
        .await
        .unwrap()
        .unwrap();
    assert!(reads.take_extras().is_none());
    // Extras left untaken are not handed out with a later read that did not ask for them.
    reads.with_extras(true, true);
    reads
        .case_for_institution("health", id, "ani")
        .await
        .unwrap()
        .unwrap();
    reads
        .case_for_institution("health", id, "ani")
        .await
        .unwrap()
        .unwrap();
    assert!(reads.take_extras().is_none(), "stale extras dropped");
    drop(reads);
    store.close().await;
}

/// The page's extras of `id` as a member of the health office reads it with the case.
async fn page(store: &Store, id: &str, notes: bool, recommendations: bool) -> CaseExtras {
    let mut reads = store.reads().await.unwrap();
    reads.with_extras(notes, recommendations);
    let record = reads
        .case_for_institution("health", id, "ani")
        .await
        .unwrap();
    assert!(record.is_some());
    reads.take_extras().expect("read with the case")
}

/// A member's read of a case finds nothing once the member is excluded from it, whichever
/// read it is; the others still read it.
#[tokio::test]
async fn an_excluded_members_reads_of_a_case_find_nothing() {
    let db = Db::new();
    let store = db.open().await;
    let r = reporter();
    let id = "LPR-2026-000051";
    store.insert_case(&case(id, 51, &r)).await.unwrap();
    let audit = audit("exclude", id);
    let read = |who: &'static str| {
        let store = store.clone();
        async move {
            let mut reads = store.reads().await.unwrap();
            reads.with_extras(true, true);
            let record = reads.case_for_institution("health", id, who).await.unwrap();
            (record.is_some(), reads.take_extras().is_some())
        }
    };
    assert_eq!(read("budi").await, (true, true));
    let day = date!(2026 - 11 - 25);
    assert!(
        store
            .exclude("health", id, "budi", day, "health/ani", b"reason", &audit)
            .await
            .unwrap()
    );
    assert_eq!(read("budi").await, (false, false), "excluded: nothing read");
    assert_eq!(read("ani").await, (true, true));
    store.close().await;
}

/// A list shows each case's assignee and the state its hold returns to from copies on the case
/// row (the list index covers them): the copies follow every write of the assignment and the
/// hold — assigning, reassigning, excluding the assignee, clearing; holding, resuming.
#[tokio::test]
async fn a_listed_cases_assignee_and_hold_follow_every_write() {
    use bisik::domain::records::CaseFilter;
    let db = Db::new();
    let store = db.open().await;
    let r = reporter();
    let id = "LPR-2026-000060";
    store.insert_case(&case(id, 60, &r)).await.unwrap();
    let audit = |action: &str| audit(action, id);
    let day = date!(2026 - 11 - 25);
    let listed = || {
        let store = store.clone();
        async move {
            let page = store
                .list_cases("health", &CaseFilter::default(), 50, 0)
                .await
                .unwrap();
            let single = store
                .case_summary(Some("health"), id)
                .await
                .unwrap()
                .unwrap()
                .0;
            assert_eq!(
                page,
                std::slice::from_ref(&single),
                "the list and the case agree"
            );
            (single.assigned_to, single.held_from)
        }
    };
    assert_eq!(listed().await, (None, None));
    for (who, then) in [
        (Some("ani"), Some("ani")),
        (Some("budi"), Some("budi")),
        (None, None),
    ] {
        assert!(
            store
                .assign("health", id, who, day, &audit("assign"))
                .await
                .unwrap()
        );
        assert_eq!(listed().await.0.as_deref(), then);
    }
    assert!(
        store
            .assign("health", id, Some("budi"), day, &audit("assign"))
            .await
            .unwrap()
    );
    assert!(
        store
            .exclude(
                "health",
                id,
                "budi",
                day,
                "health/ani",
                b"reason",
                &audit("exclude")
            )
            .await
            .unwrap()
    );
    assert_eq!(
        listed().await.0,
        None,
        "excluding the assignee takes the case from them"
    );

    let member = Actor::from_column("member:health/ani");
    for (from, to, held) in [
        (
            CaseState::Received,
            CaseState::OnHold,
            Some(CaseState::Received),
        ),
        (CaseState::OnHold, CaseState::Verified, None),
        (
            CaseState::Verified,
            CaseState::OnHold,
            Some(CaseState::Verified),
        ),
    ] {
        let mv = Move {
            from,
            to,
            due_on: Some(date!(2026 - 12 - 09)),
            extended_days: 0,
        };
        let moved = store
            .transition("health", id, mv, day, &member, None, Some(&audit("move")))
            .await
            .unwrap();
        assert!(moved);
        assert_eq!(listed().await.1, held);
    }
    store.close().await;
}

/// A store written before the copies existed (SQLite migration 25, PostgreSQL 6) gets them
/// filled in when it is opened by this version: its assigned and held cases list as before.
#[tokio::test]
async fn upgrading_fills_the_listed_copies_of_assignments_and_holds() {
    use bisik::domain::records::CaseFilter;
    let db = Db::new();
    let store = db.open().await;
    let r = reporter();
    let (a, b) = ("LPR-2026-000061", "LPR-2026-000062");
    store.insert_case(&case(a, 61, &r)).await.unwrap();
    store.insert_case(&case(b, 62, &r)).await.unwrap();
    let day = date!(2026 - 11 - 25);
    assert!(
        store
            .assign("health", a, Some("ani"), day, &audit("assign", a))
            .await
            .unwrap()
    );
    let hold = Move {
        from: CaseState::Received,
        to: CaseState::OnHold,
        due_on: None,
        extended_days: 0,
    };
    let member = Actor::from_column("member:health/ani");
    let moved = store
        .transition(
            "health",
            b,
            hold,
            day,
            &member,
            None,
            Some(&audit("move", b)),
        )
        .await
        .unwrap();
    assert!(moved);
    store.close().await;

    // The schema as the version before left it: no copies, no triggers, the old list index.
    const OLD_INDEX: &str = "CREATE INDEX cases_list ON cases (institution, received_on, id, \
        kind, category, privacy, state, state_since, accepted_on, due_on, extended_days, \
        escalated_on, channel, sealed_kind);";
    db.raw_sql(
        &format!(
            "DROP TRIGGER cases_assigned_to_insert; DROP TRIGGER cases_assigned_to_update; \
             DROP TRIGGER cases_assigned_to_delete; DROP TRIGGER cases_held_from_insert; \
             DROP TRIGGER cases_held_from_update; DROP TRIGGER cases_held_from_delete; \
             DROP INDEX cases_list; {OLD_INDEX} \
             ALTER TABLE cases DROP COLUMN assigned_to; ALTER TABLE cases DROP COLUMN held_from; \
             DELETE FROM _sqlx_migrations WHERE version = 20261204000025;"
        ),
        &format!(
            "DROP TRIGGER cases_assigned_to ON assignments; DROP TRIGGER cases_held_from ON holds; \
             DROP FUNCTION cases_copy_assigned_to(); DROP FUNCTION cases_copy_held_from(); \
             DROP INDEX cases_list; {OLD_INDEX} \
             ALTER TABLE cases DROP COLUMN assigned_to, DROP COLUMN held_from; \
             DELETE FROM _sqlx_migrations WHERE version = 20261204000006;"
        ),
    )
    .await;

    let store = db.open().await;
    let page = store
        .list_cases("health", &CaseFilter::default(), 50, 0)
        .await
        .unwrap();
    let shown: Vec<(&str, Option<&str>, Option<CaseState>)> = page
        .iter()
        .map(|c| (c.id.as_str(), c.assigned_to.as_deref(), c.held_from))
        .collect();
    assert_eq!(
        shown,
        [(b, None, Some(CaseState::Received)), (a, Some("ani"), None)]
    );
    // And the triggers are back: clearing the assignment clears the copy.
    assert!(
        store
            .assign("health", a, None, day, &audit("assign", a))
            .await
            .unwrap()
    );
    let again = store
        .case_summary(Some("health"), a)
        .await
        .unwrap()
        .unwrap()
        .0;
    assert_eq!(again.assigned_to, None);
    store.close().await;
}
