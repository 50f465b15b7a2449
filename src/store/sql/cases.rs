//! Cases: filing one (or many), the receipt's check data, a case as each reader sees it, and
//! the members' lists.

use super::*;

impl Store {
    /// Commits a case, its identity envelope and its first event in one transaction. Returns
    /// only after the commit is durable.
    #[instrument(skip_all)]
    pub async fn insert_case(&self, c: &NewCase<'_>) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        insert_case_in(&mut tx, c).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Many cases in one transaction (load tests seed large stores with it).
    #[instrument(skip_all)]
    pub async fn insert_cases(&self, cases: &[NewCase<'_>]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for c in cases {
            insert_case_in(&mut tx, c).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Stores the reporter's post-quantum recipient of a case filed before Bisik derived one —
    /// only where none is stored yet and `classic` is the case's reporter recipient (both come
    /// from one receipt). Returns whether it was stored.
    #[instrument(skip_all)]
    pub async fn remember_reporter_pq(
        &self,
        case_id: &str,
        classic: &str,
        pq: &str,
    ) -> Result<bool, StoreError> {
        let done = query(
            "UPDATE cases SET reporter_pq_recipient = ? \
             WHERE id = ? AND reporter_recipient = ? AND reporter_pq_recipient IS NULL",
        )
        .bind(pq)
        .bind(case_id)
        .bind(classic)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The receipt check data for a lookup id.
    #[instrument(skip_all)]
    pub async fn receipt_record(
        &self,
        lookup_id: u32,
    ) -> Result<Option<ReceiptRecord>, StoreError> {
        let row = query_as::<ReceiptRow>(
            "SELECT id, institution, state, kdf_salt, kdf_memory_kib, kdf_iterations, kdf_parallelism, \
             reporter_recipient FROM cases WHERE lookup_id = ?",
        )
        .bind(i64::from(lookup_id))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(Into::into))
    }

    /// [`Reads::case_for_reporter`] on a connection of its own.
    pub async fn case_for_reporter(&self, case_id: &str) -> Result<Option<CaseRecord>, StoreError> {
        self.reads().await?.case_for_reporter(case_id).await
    }

    /// [`Reads::case_for_institution`] on a connection of its own.
    pub async fn case_for_institution(
        &self,
        institution: &str,
        case_id: &str,
        reader: &str,
    ) -> Result<Option<CaseRecord>, StoreError> {
        self.reads()
            .await?
            .case_for_institution(institution, case_id, reader)
            .await
    }

    /// The identity envelope, only for the owning institution (role checks are the caller's).
    #[instrument(skip_all)]
    pub async fn identity_for_institution(
        &self,
        institution: &str,
        case_id: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(
            query_scalar("SELECT envelope FROM identities WHERE case_id = ? AND holder = ?")
                .bind(case_id)
                .bind(institution)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// A case's metadata and the reporter's public recipient; with `Some(institution)`, only if
    /// that institution owns it.
    #[instrument(skip_all)]
    pub async fn case_summary(
        &self,
        institution: Option<&str>,
        case_id: &str,
    ) -> Result<Option<(CaseSummary, PartyKeys)>, StoreError> {
        let row: Option<rows::KeyedSummaryRow> = query_as(concat!(
            "SELECT ",
            summary_cols!(),
            ", reporter_recipient, reporter_pq_recipient FROM cases \
             WHERE id = ? AND (? IS NULL OR institution = ?)"
        ))
        .bind(case_id)
        .bind(institution)
        .bind(institution)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            let keys = reporter_keys(&r.reporter_recipient, r.reporter_pq_recipient.as_deref())?;
            Ok((r.summary.into(), keys))
        })
        .transpose()
    }

    /// [`Reads::list_cases`] on a connection of its own.
    pub async fn list_cases(
        &self,
        institution: &str,
        filter: &CaseFilter,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<CaseSummary>, StoreError> {
        self.reads()
            .await?
            .list_cases(institution, filter, limit, offset)
            .await
    }
}

impl Reads {
    /// One page of an institution's cases (or of those it forwarded away), filtered and in
    /// the filter's order. The statement names only the filters given (see [`list_statement`]).
    #[instrument(skip_all)]
    pub async fn list_cases(
        &mut self,
        institution: &str,
        filter: &CaseFilter,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<CaseSummary>, StoreError> {
        let claim = self.pending_claim();
        let (sql, args) = list_statement(
            self.backend,
            institution,
            filter,
            claim.as_ref(),
            limit,
            offset,
        );
        let mut cases = self.summaries(&sql, &args).await?;
        if claim.is_some() {
            self.settle_claim(!cases.is_empty());
        }
        if filter.forwarded_away {
            // Who works the case now is the new institution's business.
            for c in &mut cases {
                c.assigned_to = None;
            }
        }
        Ok(cases)
    }
}

/// The columns a receipt check reads.
#[derive(sqlx::FromRow)]
struct ReceiptRow {
    id: String,
    institution: String,
    #[sqlx(try_from = "String")]
    state: rows::Named<CaseState>,
    kdf_salt: Vec<u8>,
    #[sqlx(try_from = "i64")]
    kdf_memory_kib: u32,
    #[sqlx(try_from = "i64")]
    kdf_iterations: u32,
    #[sqlx(try_from = "i64")]
    kdf_parallelism: u32,
    reporter_recipient: String,
}

impl From<ReceiptRow> for ReceiptRecord {
    fn from(r: ReceiptRow) -> Self {
        ReceiptRecord {
            case_id: r.id,
            institution: r.institution,
            state: r.state.0,
            kdf_salt: r.kdf_salt,
            kdf: KdfParams {
                memory_kib: r.kdf_memory_kib,
                iterations: r.kdf_iterations,
                parallelism: r.kdf_parallelism,
            },
            reporter_recipient: r.reporter_recipient,
        }
    }
}

/// The members' list statement for `filter` and one page, naming only the filters given, with
/// the values to bind in order.
///
/// PostgreSQL planned the list afresh on every call (0.31 ms of planning beside 0.23 ms of
/// execution at a million cases — BENCHMARKS.md M): a prepared statement whose `LIMIT` or
/// `OFFSET` is a parameter never gets a cached generic plan (its generic estimate assumes a
/// tenth of the rows, so the custom plan always looks cheaper — checked with `EXPLAIN
/// EXECUTE`, BENCHMARKS.md N). So the page's numbers are written into the text (they are
/// integers; nothing a client sends reaches the SQL text), and only the filters given are
/// named, rather than `(? IS NULL OR …)` for each. Each statement is prepared once per
/// connection and kept in sqlx's statement cache. That holds for the first page, the one
/// members open all day ([`page`]); later pages bind their numbers, so paging through a list
/// is one more statement per filter, not one per page (each would be prepared on every
/// connection and crowd the first pages' statements out of the cache). sqlx's `QueryBuilder` is not used because
/// for the `Any` driver it writes `?`, which PostgreSQL does not read; [`query`] numbers the
/// finished text. Every statement
/// reads only the `cases_list` index (never the wide case rows: their envelope pushes later
/// columns into overflow pages), as the test below checks: on SQLite the due-day filter is
/// written `+due_on < ?` (SQLite's way to keep a term from choosing an index), or it seeks
/// `cases_by_due` and reads each matching case's wide row (it did, when first written plain).
/// The received-day filters seek a range of `cases_list` itself (institution, received_on, …).
/// PostgreSQL has no unary `+` for text; its planner weighs an index's row reads by its own
/// statistics. A session `claim` is checked where each backend reads it best
/// (`auth::list_session_check`): SQLite reads the session's row first, PostgreSQL once, in a
/// one-time filter.
fn list_statement<'a>(
    backend: Backend,
    institution: &'a str,
    f: &'a CaseFilter,
    claim: Option<&'a SessionClaim>,
    limit: u32,
    offset: u32,
) -> (String, Vec<Arg<'a>>) {
    let (first, last) = auth::list_session_check(backend, claim.is_some());
    let mut sql = String::from(concat!("SELECT ", summary_cols!(), " FROM "));
    let mut args = Vec::new();
    sql.push_str(first);
    if let Some(c) = claim.filter(|_| !first.is_empty()) {
        args.extend(auth::claim_args(c));
    }
    sql.push_str("cases WHERE ");
    if f.forwarded_away {
        // Forwarded by this institution and now with another one.
        sql.push_str(
            "institution <> ? AND id IN (SELECT case_id FROM case_past_owners WHERE institution = ?)",
        );
        args.extend([Arg::Text(institution), Arg::Text(institution)]);
    } else {
        sql.push_str("institution = ?");
        args.push(Arg::Text(institution));
    }
    let text = |v: &'a Option<String>| v.as_deref().map(Arg::Text);
    let due_before = match backend {
        Backend::Sqlite => "+due_on < ?",
        Backend::Postgres => "due_on < ?",
    };
    let clauses: [(&str, Option<Arg<'a>>); 9] = [
        ("state = ?", f.state.map(|s| Arg::Text(s.as_str()))),
        ("kind = ?", f.kind.map(|k| Arg::Text(k.as_str()))),
        ("category = ?", text(&f.category)),
        (due_before, f.overdue_on.map(Arg::Day)),
        (
            "id NOT IN (SELECT case_id FROM exclusions WHERE handle = ?)",
            text(&f.viewer),
        ),
        (
            "id IN (SELECT case_id FROM assignments WHERE handle = ?)",
            text(&f.assigned_to),
        ),
        (
            "id IN (SELECT case_id FROM case_tags WHERE tag = ?)",
            text(&f.tag),
        ),
        ("received_on >= ?", f.received_from.map(Arg::Day)),
        ("received_on <= ?", f.received_to.map(Arg::Day)),
    ];
    for (clause, arg) in clauses {
        if let Some(arg) = arg {
            sql.push_str(" AND ");
            sql.push_str(clause);
            args.push(arg);
        }
    }
    if f.escalated {
        sql.push_str(" AND escalated_on IS NOT NULL");
    }
    sql.push_str(last);
    if let Some(c) = claim.filter(|_| !last.is_empty()) {
        args.extend(auth::claim_args(c));
    }
    let order = match f.sort {
        CaseSort::ReceivedNewest => "received_on DESC, id DESC",
        CaseSort::ReceivedOldest => "received_on ASC, id ASC",
        CaseSort::DueSoonest => "due_on IS NULL, due_on ASC, received_on DESC, id DESC",
        CaseSort::State => {
            "CASE state WHEN 'received' THEN 0 WHEN 'verified' THEN 1 \
             WHEN 'on_hold' THEN 2 WHEN 'not_our_authority' THEN 3 \
             WHEN 'forwarded' THEN 4 WHEN 'in_progress' THEN 5 \
             WHEN 'escalated' THEN 6 WHEN 'answered' THEN 7 WHEN 'closed' THEN 8 \
             WHEN 'archived' THEN 9 ELSE 10 END, received_on DESC, id DESC"
        }
    };
    sql.push_str(" ORDER BY ");
    sql.push_str(order);
    if let Some(bound) = page(&mut sql, limit, offset) {
        args.extend(bound.map(Arg::Int));
    }
    (summaries_statement(backend, &sql, order), args)
}

/// Ends a list statement with its page: the first page's size written into the text (so
/// PostgreSQL keeps a generic plan for it, see [`list_statement`]); a later page's size and
/// offset as parameters, returned to be bound in order.
pub(super) fn page(sql: &mut String, limit: u32, offset: u32) -> Option<[i64; 2]> {
    if offset == 0 {
        sql.push_str(&format!(" LIMIT {limit}"));
        None
    } else {
        sql.push_str(" LIMIT ? OFFSET ?");
        Some([i64::from(limit), i64::from(offset)])
    }
}

/// For the crate's own store tests: an anonymous web complaint with stand-in keys and bytes
/// (the store stores them as given; nothing here is sealed).
#[cfg(test)]
pub(crate) fn stand_in_case<'a>(
    id: &'a str,
    lookup_id: u32,
    institution: &'a str,
    received_on: Date,
) -> NewCase<'a> {
    NewCase {
        id,
        lookup_id,
        institution,
        kind: crate::domain::case::Kind::Complaint,
        category: None,
        privacy: crate::domain::case::Privacy::Anonymous,
        received_on,
        kdf_salt: &[0u8; 16],
        kdf: KdfParams::default(),
        reporter_recipient: "age1stand-in",
        reporter_pq_recipient: None,
        content: b"age ciphertext stand-in",
        identity: None,
        due_on: None,
        channel: "web",
        attachments: &[],
    }
}

impl Reads {
    /// Everything the reporter may see of their own case, identity envelope included.
    #[instrument(skip_all)]
    pub async fn case_for_reporter(
        &mut self,
        case_id: &str,
    ) -> Result<Option<CaseRecord>, StoreError> {
        const SQL: &str = concat!(
            "SELECT ",
            summary_cols!(),
            ", content, (SELECT envelope FROM identities WHERE identities.case_id = cases.id) \
             AS identity, ",
            has_identity_col!(),
            " FROM cases WHERE id = ?"
        );
        let row = self
            .conn
            .fetch_all(SQL, &[Arg::Text(case_id)])
            .await?
            .into_iter()
            .next();
        self.record(row, true).await
    }

    /// A case as `reader`, a member of `institution`, sees it: no identity envelope. `None` when
    /// the case does not exist, belongs to another institution or the reader is excluded from
    /// it (callers answer 404 for all three).
    #[instrument(skip_all)]
    pub async fn case_for_institution(
        &mut self,
        institution: &str,
        case_id: &str,
        reader: &str,
    ) -> Result<Option<CaseRecord>, StoreError> {
        let sql = concat!(
            "SELECT ",
            member_record_cols!(),
            " FROM cases WHERE id = ? AND institution = ?",
            reader_not_excluded!()
        );
        self.member_record(sql, case_id, Some(institution), reader)
            .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::domain::case::Kind;

    /// SQLite's plan for `sql`, one line per step.
    async fn plan(store: &Store, sql: &str) -> Vec<String> {
        // Its columns: id, parent, notused, detail.
        query_as::<(i64, i64, i64, String)>(&format!("EXPLAIN QUERY PLAN {sql}"))
            .fetch_all(&store.pool)
            .await
            .unwrap()
            .into_iter()
            .map(|(_, _, _, detail)| detail)
            .collect()
    }

    /// Every members' list (each owner filter and order) and the oversight body's list read the
    /// case table only through the covering `cases_list` index. A column added to the summary
    /// but not to the index sends each listed case through its wide row, envelope and overflow
    /// pages (it did: `sealed_kind`, migration 21, made the one-member list ~7x slower at
    /// 100,000 cases — BENCHMARKS.md H).
    #[tokio::test]
    async fn lists_read_only_the_covering_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("bisik.sqlite")).await.unwrap();
        let sorts = [
            CaseSort::ReceivedNewest,
            CaseSort::ReceivedOldest,
            CaseSort::DueSoonest,
            CaseSort::State,
        ];
        // Every order with no filter, each filter alone and all filters together, for the
        // institution's own cases and those it forwarded away.
        let day = crate::domain::clock::parse_day("2026-11-30");
        let one = |set: &dyn Fn(&mut CaseFilter)| {
            let mut f = CaseFilter::default();
            set(&mut f);
            f
        };
        let mut filters = vec![
            CaseFilter::default(),
            one(&|f| f.state = Some(CaseState::Verified)),
            one(&|f| f.kind = Some(Kind::Complaint)),
            one(&|f| f.category = Some("roads".into())),
            one(&|f| f.overdue_on = day),
            one(&|f| f.escalated = true),
            one(&|f| f.viewer = Some("ana".into())),
            one(&|f| f.assigned_to = Some("ana".into())),
            one(&|f| f.tag = Some("urgent".into())),
            one(&|f| f.received_from = day),
            one(&|f| f.received_to = day),
        ];
        let all = CaseFilter {
            state: Some(CaseState::Verified),
            kind: Some(Kind::Complaint),
            category: Some("roads".into()),
            overdue_on: day,
            escalated: true,
            viewer: Some("ana".into()),
            assigned_to: Some("ana".into()),
            tag: Some("urgent".into()),
            received_from: day,
            received_to: day,
            ..CaseFilter::default()
        };
        filters.push(all);
        // (statement, may it seek case rows by primary key): the list of cases forwarded away
        // starts from this institution's past-owner rows and looks each case up by its id.
        let mut statements: Vec<(String, bool, bool)> = Vec::new();
        let claim = SessionClaim {
            token_digest: [7; 32],
            now: 0,
            member: "ana".into(),
        };
        for forwarded_away in [false, true] {
            for sort in sorts {
                for filter in &filters {
                    let filter = CaseFilter {
                        forwarded_away,
                        sort,
                        ..filter.clone()
                    };
                    // The first page (numbers in the text) and a later one (bound); with a
                    // session checked in the statement and without.
                    for (offset, claim) in [0, 50]
                        .into_iter()
                        .flat_map(|o| [None, Some(&claim)].into_iter().map(move |c| (o, c)))
                    {
                        statements.push((
                            list_statement(Backend::Sqlite, "inst", &filter, claim, 50, offset).0,
                            forwarded_away,
                            claim.is_some(),
                        ));
                    }
                }
            }
        }
        for offset in [0, 50] {
            for claim in [None, Some(&claim)] {
                let sql =
                    super::super::workflow::escalated_list(Backend::Sqlite, claim, 50, offset).0;
                // The session at the end of the `WHERE` here (see `escalated_list`).
                statements.push((sql, false, false));
            }
        }
        for (sql, by_id, claimed) in statements {
            let steps = plan(&store, &sql).await;
            if claimed {
                // The session's row is the outer loop: a session that has ended reads no case
                // (it walked the list's whole range, checking the session on each row).
                let first = |what: &str| steps.iter().position(|s| s.contains(what));
                let session = first(" sessions ").expect("a step on sessions");
                let cases = first(" cases ").expect("a step on cases");
                assert!(
                    session < cases && steps[session].contains("PRIMARY KEY"),
                    "the session is not read first: {steps:?}\n{sql}"
                );
            }
            let on_cases: Vec<_> = steps
                .iter()
                .filter(|s| s.contains(" cases ") || s.ends_with(" cases"))
                .collect();
            assert!(
                !on_cases.is_empty(),
                "no step reads cases: {steps:?}\n{sql}"
            );
            for step in on_cases {
                assert!(
                    step.contains("USING COVERING INDEX cases_list")
                        || (by_id && step.contains("SEARCH cases USING PRIMARY KEY (id=?)")),
                    "reads the case rows: {step}\n{steps:?}\n{sql}"
                );
            }
        }
    }

    /// Housekeeping's answered cases come from the partial index of answered cases, not a scan
    /// of every case row (it was: 1.9 s at a million cases on PostgreSQL, BENCHMARKS.md N).
    #[tokio::test]
    async fn answered_cases_read_their_partial_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("bisik.sqlite")).await.unwrap();
        let steps = plan(&store, super::super::workflow::ANSWERED_CASES).await;
        let on_cases: Vec<_> = steps
            .iter()
            .filter(|s| s.contains(" cases ") || s.ends_with(" cases"))
            .collect();
        assert!(
            !on_cases.is_empty()
                && on_cases.iter().all(|s| s
                    .starts_with("SEARCH cases USING INDEX cases_in_answered")
                    || s.starts_with("SCAN cases USING INDEX cases_in_answered")),
            "{steps:?}"
        );
    }

    /// On PostgreSQL, the members' list keeps a cached generic plan: after PostgreSQL's five
    /// custom plans, a connection listing again does not plan again (BENCHMARKS.md N). With
    /// the page as parameters (`LIMIT ? OFFSET ?`) this failed: 0 generic plans, 10 custom —
    /// at 300 cases it passed even so, hence 6,000 (4,000 of one institution), where a
    /// generic plan's guess of a tenth of the rows costs more than a custom plan for 50. Runs
    /// in the PostgreSQL pass (`BISIK_TEST_DATABASE_URL`), on a database of its own.
    #[tokio::test]
    async fn postgres_keeps_a_generic_plan_for_the_list() {
        let Some(url) = crate::store::postgres::fresh_test_database().await else {
            return;
        };
        // One connection for reads, so every list below runs on the session whose statements
        // we read (on the reads' own connection, below).
        let store = crate::store::postgres::test_instance(&url, 1).await;
        let ids: Vec<String> = (0..6000).map(|i| format!("LPR-2026-{i:06}")).collect();
        let day = crate::domain::clock::parse_day("2026-11-23").unwrap();
        let cases: Vec<NewCase<'_>> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                stand_in_case(
                    id,
                    u32::try_from(i).unwrap(),
                    if i % 3 == 0 { "police" } else { "health" },
                    day - time::Duration::days((i % 90) as i64),
                )
            })
            .collect();
        store.insert_cases(&cases).await.unwrap();
        query("ANALYZE cases").execute(&store.pool).await.unwrap();
        let filter = CaseFilter::default();
        for _ in 0..10 {
            assert_eq!(
                store
                    .list_cases("health", &filter, 50, 0)
                    .await
                    .unwrap()
                    .len(),
                50
            );
        }
        let plans: Vec<(i64, i64)> = store
            .reads()
            .await
            .unwrap()
            .conn
            .fetch_all(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements \
                 WHERE statement LIKE '%FROM cases WHERE institution = %ORDER BY%' \
                 AND statement NOT LIKE '%pg_prepared_statements%'",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(plans.len(), 1, "one list statement: {plans:?}");
        let (generic, custom) = plans[0];
        assert!(
            generic >= 4 && custom <= 6,
            "the list is planned on every call: {generic} generic plans, {custom} custom"
        );
        // Paging on adds one statement for every later page, not one per page: each page
        // continues where the one before it stopped.
        let mut seen = std::collections::HashSet::new();
        for page in 0..20u32 {
            let cases = store
                .list_cases("health", &filter, 50, page * 50)
                .await
                .unwrap();
            assert_eq!(cases.len(), 50);
            assert!(cases.into_iter().all(|c| seen.insert(c.id)), "page {page}");
        }
        let statements: Vec<(i64,)> = store
            .reads()
            .await
            .unwrap()
            .conn
            .fetch_all(
                "SELECT COUNT(*) FROM pg_prepared_statements \
                 WHERE statement LIKE '%FROM cases WHERE institution = %ORDER BY%' \
                 AND statement NOT LIKE '%pg_prepared_statements%'",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(statements, [(2,)], "list statements prepared for 20 pages");
        store.close().await;
    }
}
