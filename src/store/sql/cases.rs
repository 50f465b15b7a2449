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
        let row = query(
            "SELECT id, institution, state, kdf_salt, kdf_memory_kib, kdf_iterations, kdf_parallelism, \
             reporter_recipient FROM cases WHERE lookup_id = ?",
        )
        .bind(i64::from(lookup_id))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let num = |col: &str| -> Result<u32, StoreError> {
            let v: i64 = row.try_get(col)?;
            u32::try_from(v).map_err(|_| StoreError::Corrupt(col.into()))
        };
        Ok(Some(ReceiptRecord {
            case_id: row.try_get("id")?,
            institution: row.try_get("institution")?,
            state: {
                let s: String = row.try_get("state")?;
                CaseState::parse(&s).ok_or_else(|| StoreError::Corrupt("state".into()))?
            },
            kdf_salt: row.try_get("kdf_salt")?,
            kdf: KdfParams {
                memory_kib: num("kdf_memory_kib")?,
                iterations: num("kdf_iterations")?,
                parallelism: num("kdf_parallelism")?,
            },
            reporter_recipient: row.try_get("reporter_recipient")?,
        }))
    }

    /// Everything the reporter may see of their own case, identity envelope included.
    #[instrument(skip_all)]
    pub async fn case_for_reporter(&self, case_id: &str) -> Result<Option<CaseRecord>, StoreError> {
        let row = query(concat!(
            "SELECT ",
            summary_cols!(),
            ", content, (SELECT envelope FROM identities WHERE identities.case_id = cases.id) \
             AS identity FROM cases WHERE id = ?"
        ))
        .bind(case_id)
        .fetch_optional(&self.pool)
        .await?;
        self.record(row, true).await
    }

    /// A case as a member of `institution` sees it: no identity envelope. `None` when the case
    /// does not exist *or* belongs to another institution (callers answer 404 for both).
    #[instrument(skip_all)]
    pub async fn case_for_institution(
        &self,
        institution: &str,
        case_id: &str,
    ) -> Result<Option<CaseRecord>, StoreError> {
        let row = query(concat!(
            "SELECT ",
            member_record_cols!(),
            " FROM cases WHERE id = ? AND institution = ?"
        ))
        .bind(case_id)
        .bind(institution)
        .fetch_optional(&self.pool)
        .await?;
        self.record(row, false).await
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
        let row = query(concat!(
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
        row.map(|r| Ok((summary_from_row(&r)?, reporter_keys(&r)?)))
            .transpose()
    }

    /// One page of an institution's cases (or of those it forwarded away), filtered and in
    /// the filter's order. Each (owner, order) pair is its own static statement, so the
    /// default list still reads the `cases_list` index.
    #[instrument(skip_all)]
    pub async fn list_cases(
        &self,
        institution: &str,
        filter: &CaseFilter,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<CaseSummary>, StoreError> {
        let day = |d: Option<Date>| d.map(day_string);
        let mut query = query(list_sql(filter.forwarded_away, filter.sort));
        if filter.forwarded_away {
            query = query.bind(institution);
        }
        query = query
            .bind(institution)
            .bind(filter.state.map(CaseState::as_str))
            .bind(filter.state.map(CaseState::as_str))
            .bind(filter.kind.map(Kind::as_str))
            .bind(filter.kind.map(Kind::as_str))
            .bind(filter.category.as_deref())
            .bind(filter.category.as_deref())
            .bind(day(filter.overdue_on))
            .bind(day(filter.overdue_on))
            .bind(filter.escalated)
            .bind(filter.viewer.as_deref())
            .bind(filter.viewer.as_deref())
            .bind(filter.assigned_to.as_deref())
            .bind(filter.assigned_to.as_deref())
            .bind(filter.tag.as_deref())
            .bind(filter.tag.as_deref())
            .bind(day(filter.received_from))
            .bind(day(filter.received_from))
            .bind(day(filter.received_to))
            .bind(day(filter.received_to))
            .bind(i64::from(limit))
            .bind(i64::from(offset));
        let rows = query.fetch_all(&self.pool).await?;
        let mut cases = rows
            .iter()
            .map(summary_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        if filter.forwarded_away {
            // Who works the case now is the new institution's business.
            for c in &mut cases {
                c.assigned_to = None;
            }
        }
        Ok(cases)
    }
}

/// The members' list query for an owner filter and an order. Each (owner, order) pair is its own
/// static statement, so every list reads only the `cases_list` index (never the wide case rows:
/// their envelope pushes later columns into overflow pages), as the test below checks.
fn list_sql(forwarded_away: bool, sort: CaseSort) -> &'static str {
    macro_rules! list_sql {
        ($owner:literal, $order:literal) => {
            concat!(
                "SELECT ",
                summary_cols!(),
                " FROM cases WHERE ",
                $owner,
                " AND (? IS NULL OR state = ?) AND (? IS NULL OR kind = ?) AND (? IS NULL OR category = ?) \
                 AND (? IS NULL OR due_on < ?) AND (NOT ? OR escalated_on IS NOT NULL) \
                 AND (? IS NULL OR id NOT IN (SELECT case_id FROM exclusions WHERE handle = ?)) \
                 AND (? IS NULL OR id IN (SELECT case_id FROM assignments WHERE handle = ?)) \
                 AND (? IS NULL OR id IN (SELECT case_id FROM case_tags WHERE tag = ?)) \
                 AND (? IS NULL OR received_on >= ?) AND (? IS NULL OR received_on <= ?) \
                 ORDER BY ",
                $order,
                " LIMIT ? OFFSET ?"
            )
        };
    }
    macro_rules! by_order {
        ($owner:literal) => {
            match sort {
                CaseSort::ReceivedNewest => list_sql!($owner, "received_on DESC, id DESC"),
                CaseSort::ReceivedOldest => list_sql!($owner, "received_on ASC, id ASC"),
                CaseSort::DueSoonest => list_sql!(
                    $owner,
                    "due_on IS NULL, due_on ASC, received_on DESC, id DESC"
                ),
                CaseSort::State => list_sql!(
                    $owner,
                    "CASE state WHEN 'received' THEN 0 WHEN 'verified' THEN 1 \
                     WHEN 'on_hold' THEN 2 WHEN 'not_our_authority' THEN 3 \
                     WHEN 'forwarded' THEN 4 WHEN 'in_progress' THEN 5 \
                     WHEN 'escalated' THEN 6 WHEN 'answered' THEN 7 WHEN 'closed' THEN 8 \
                     WHEN 'archived' THEN 9 ELSE 10 END, received_on DESC, id DESC"
                ),
            }
        };
    }
    if forwarded_away {
        // Forwarded by this institution and now with another one.
        by_order!(
            "institution <> ? AND id IN (SELECT case_id FROM case_past_owners WHERE institution = ?)"
        )
    } else {
        by_order!("institution = ?")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// SQLite's plan for `sql`, one line per step.
    async fn plan(store: &Store, sql: &str) -> Vec<String> {
        query(&format!("EXPLAIN QUERY PLAN {sql}"))
            .fetch_all(&store.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get::<String, _>("detail").unwrap())
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
        // (statement, may it seek case rows by primary key): the list of cases forwarded away
        // starts from this institution's past-owner rows and looks each case up by its id.
        let mut statements: Vec<(&str, bool)> = Vec::new();
        for forwarded_away in [false, true] {
            for sort in sorts {
                statements.push((list_sql(forwarded_away, sort), forwarded_away));
            }
        }
        statements.push((super::super::workflow::ESCALATED_LIST, false));
        for (sql, by_id) in statements {
            let steps = plan(&store, sql).await;
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
}
