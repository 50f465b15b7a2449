//! A case's life: messages, moves between states, deadlines, escalation, classification, and
//! what the reporter's key could not open.

use super::*;

impl Store {
    /// Adds a message and, if `transition` says so, moves the case (`from` → `to`) in the same
    /// transaction, recording the event. Returns `false` if the same form was already sent (same
    /// nonce): nothing changes then.
    #[instrument(skip_all)]
    #[allow(clippy::too_many_arguments)]
    pub async fn add_message(
        &self,
        case_id: &str,
        author: &Actor,
        day: Date,
        nonce: Option<&[u8]>,
        envelope: &[u8],
        transition: Option<Move>,
        audit: Option<&AuditNew>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let res = query(
            "INSERT INTO messages (case_id, seq, author, written_on, client_nonce, envelope) \
             SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ? FROM messages WHERE case_id = ? \
             ON CONFLICT (case_id, client_nonce) DO NOTHING",
        )
        .bind(case_id)
        .bind(author.to_column())
        .bind(day_string(day))
        .bind(nonce)
        .bind(envelope)
        .bind(case_id)
        .execute(&mut *tx)
        .await;
        // The same form sent again (same nonce) inserts nothing: acknowledged once, stored
        // once. Any other conflict is an error, never a silent "saved".
        if res?.rows_affected() == 0 {
            return Ok(false);
        }
        if let Some(mv) = transition {
            move_state(&mut tx, case_id, None, mv, day, author, None).await?;
        }
        webhooks::enqueue(
            &mut tx,
            case_id,
            WebhookEvent::Message,
            webhooks::held_for(author),
            day,
            None,
            None,
        )
        .await?;
        if *author == Actor::Reporter {
            queue_reporter_action(&mut tx, day, "reply", case_id).await?;
        }
        if let Some(a) = audit {
            append_new(&mut tx, a).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Moves a case of `institution` from `from` to `to` and records the event. Returns `false`
    /// (and changes nothing) if the case is not in `from` any more.
    #[instrument(skip_all)]
    #[allow(clippy::too_many_arguments)]
    pub async fn transition(
        &self,
        institution: &str,
        case_id: &str,
        mv: Move,
        day: Date,
        actor: &Actor,
        reason_envelope: Option<&[u8]>,
        audit: Option<&AuditNew>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let moved = move_state(
            &mut tx,
            case_id,
            Some(institution),
            mv,
            day,
            actor,
            reason_envelope,
        )
        .await?;
        if let Some(a) = audit {
            append_new(&mut tx, a).await?;
        }
        tx.commit().await?;
        Ok(moved)
    }

    /// Extends the current stage's deadline by `days` working days (the new due day computed by
    /// the caller); recorded as an event with its reason. `false` if the case moved meanwhile.
    #[instrument(skip_all)]
    #[allow(clippy::too_many_arguments)]
    pub async fn extend(
        &self,
        institution: &str,
        case_id: &str,
        state: CaseState,
        days: u32,
        due_on: Date,
        day: Date,
        actor: &Actor,
        reason_envelope: &[u8],
        audit: &AuditNew,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let updated = query(
            "UPDATE cases SET extended_days = extended_days + ?, due_on = ? \
             WHERE id = ? AND institution = ? AND state = ?",
        )
        .bind(i64::from(days))
        .bind(day_string(due_on))
        .bind(case_id)
        .bind(institution)
        .bind(state.as_str())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() != 1 {
            return Ok(false);
        }
        insert_event(
            &mut tx,
            case_id,
            day,
            actor,
            state,
            Some(reason_envelope),
            Some(days),
        )
        .await?;
        // A member's act: told at once, with the new due day.
        webhooks::enqueue(
            &mut tx,
            case_id,
            WebhookEvent::DeadlineExtended,
            false,
            day,
            None,
            None,
        )
        .await?;
        append_new(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Re-seals a case for the oversight body (done in the citizen's request with the
    /// reporter's key) and marks it escalated — all in one transaction. `false` if it already
    /// was escalated. `oversight`: the institutions of the oversight body, told too (their
    /// delivery names the case's institution as `from_institution`).
    #[instrument(skip_all)]
    pub async fn escalate(
        &self,
        case_id: &str,
        day: Date,
        r: &Resealed,
        oversight: &[&str],
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        // The reporter's key opens no internal note: notes stay as they are.
        if !covers_all(&mut tx, case_id, r, Notes::Untouched).await? {
            return Ok(false);
        }
        let updated = query(
            "UPDATE cases SET escalated_on = ?, content = ?, sealed_kind = ? \
             WHERE id = ? AND escalated_on IS NULL",
        )
        .bind(day_string(day))
        .bind(&r.content)
        .bind(sealed_kind(&r.content))
        .bind(case_id)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() != 1 {
            return Ok(false);
        }
        replace_envelopes(&mut tx, case_id, r).await?;
        insert_event(
            &mut tx,
            case_id,
            day,
            &Actor::Reporter,
            CaseState::Escalated,
            None,
            None,
        )
        .await?;
        webhooks::enqueue(
            &mut tx,
            case_id,
            WebhookEvent::Escalated,
            true,
            day,
            None,
            None,
        )
        .await?;
        let owner: String = query_scalar("SELECT institution FROM cases WHERE id = ?")
            .bind(case_id)
            .fetch_one(&mut *tx)
            .await?;
        for body in oversight.iter().filter(|o| **o != owner) {
            webhooks::enqueue(
                &mut tx,
                case_id,
                WebhookEvent::Escalated,
                true,
                day,
                Some(body),
                Some((&owner, body)),
            )
            .await?;
        }
        queue_reporter_action(&mut tx, day, "escalate", case_id).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// [`Reads::list_escalated`] on a connection of its own.
    pub async fn list_escalated(
        &self,
        viewer: &str,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<CaseSummary>, StoreError> {
        self.reads()
            .await?
            .list_escalated(viewer, limit, offset)
            .await
    }

    /// How many cases each institution has past their due day (metadata only).
    #[instrument(skip_all)]
    pub async fn overdue_counts(&self, today: Date) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(query_as::<(String, i64)>(
            "SELECT institution, COUNT(*) AS n FROM cases WHERE due_on < ? \
             GROUP BY institution ORDER BY institution",
        )
        .bind(day_string(today))
        .fetch_all(&self.pool)
        .await?)
    }

    /// The cases past their due day, every institution (metadata only), oldest due day first.
    #[instrument(skip_all)]
    pub async fn overdue_cases(
        &self,
        today: Date,
        limit: u32,
    ) -> Result<Vec<CaseSummary>, StoreError> {
        const ORDER: &str = "due_on, institution, id";
        let rows = format!(
            concat!(
                "SELECT ",
                summary_cols!(),
                " FROM cases WHERE due_on < ? ORDER BY {} LIMIT ?"
            ),
            ORDER
        );
        let q = query(&summaries_statement(self.backend, &rows, ORDER))
            .bind(day_string(today))
            .bind(i64::from(limit));
        fetch_summaries(self.backend, &self.pool, q).await
    }

    /// Answered cases (all institutions): candidates for closing after the citizen's silence.
    #[instrument(skip_all)]
    pub async fn answered_cases(&self) -> Result<Vec<CaseSummary>, StoreError> {
        let rows = query(ANSWERED_CASES).fetch_all(&self.pool).await?;
        rows.iter().map(summary_from_row).collect()
    }

    /// Reclassifies a case of `institution`. `None` leaves a field as it is; `drop_identity`
    /// tightens a confidential case to anonymous by destroying its identity envelope (secure
    /// delete overwrites it).
    #[instrument(skip_all)]
    pub async fn classify(
        &self,
        institution: &str,
        case_id: &str,
        change: &Classification,
        audit: &AuditNew,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let exists: Option<String> =
            query_scalar("SELECT id FROM cases WHERE id = ? AND institution = ?")
                .bind(case_id)
                .bind(institution)
                .fetch_optional(&mut *tx)
                .await?;
        if exists.is_none() {
            return Ok(false);
        }
        if let Some(kind) = change.kind {
            query("UPDATE cases SET kind = ? WHERE id = ?")
                .bind(kind.as_str())
                .bind(case_id)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(category) = &change.category {
            query("UPDATE cases SET category = ? WHERE id = ?")
                .bind(category.as_deref())
                .bind(case_id)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(tags) = &change.tags {
            query("DELETE FROM case_tags WHERE case_id = ?")
                .bind(case_id)
                .execute(&mut *tx)
                .await?;
            for tag in tags {
                query("INSERT INTO case_tags (case_id, tag) VALUES (?, ?) ON CONFLICT DO NOTHING")
                    .bind(case_id)
                    .bind(tag)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        if change.drop_identity {
            query("DELETE FROM identities WHERE case_id = ?")
                .bind(case_id)
                .execute(&mut *tx)
                .await?;
            query("UPDATE cases SET privacy = 'anonymous' WHERE id = ?")
                .bind(case_id)
                .execute(&mut *tx)
                .await?;
        }
        append_new(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Flags items of a case that the reporter's key could not open, for its officers. Writes
    /// nothing when they were flagged before.
    #[instrument(skip_all)]
    pub async fn flag_reporter_unreadable(
        &self,
        case_id: &str,
        items: &[(&str, i64)],
        day: Date,
    ) -> Result<(), StoreError> {
        if items.is_empty() {
            return Ok(());
        }
        let known = self.reporter_unreadable(case_id).await?;
        let mut tx = self.pool.begin().await?;
        for (item, seq) in items {
            if known.iter().any(|(k, s, _)| k == item && s == seq) {
                continue;
            }
            query(
                "INSERT INTO reporter_unreadable (case_id, item, seq, flagged_on) \
                 VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            )
            .bind(case_id)
            .bind(*item)
            .bind(seq)
            .bind(day_string(day))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Items of a case the reporter could not open (`("message", 3)`, `("reason", 2)`, …), with
    /// the day each was flagged.
    #[instrument(skip_all)]
    pub async fn reporter_unreadable(
        &self,
        case_id: &str,
    ) -> Result<Vec<(String, i64, Date)>, StoreError> {
        reporter_unreadable_on(&self.pool, case_id).await
    }
}

/// The answered cases, for auto-close: through the partial index `cases_in_answered`, never a
/// scan of every case (the test in `cases.rs` checks SQLite's plan). The state is written in
/// the text, not bound: only then do SQLite and PostgreSQL know the partial index applies.
pub(super) const ANSWERED_CASES: &str = concat!(
    "SELECT ",
    summary_cols!(),
    " FROM cases WHERE state = 'answered'"
);

/// The oversight body's list of escalated cases, one page (reads only the `cases_list`
/// index), and the page's numbers to bind after the viewer ([`super::cases::page`]: the first
/// page's are written into the text so PostgreSQL keeps a generic plan for it).
pub(super) fn escalated_list(
    backend: Backend,
    claim: Option<&SessionClaim>,
    limit: u32,
    offset: u32,
) -> (String, Option<[i64; 2]>) {
    const ORDER: &str = "escalated_on DESC, id";
    let mut sql = String::from(concat!(
        "SELECT ",
        summary_cols!(),
        " FROM cases WHERE escalated_on IS NOT NULL \
         AND id NOT IN (SELECT case_id FROM exclusions WHERE handle = ?)"
    ));
    // On both backends at the end of the `WHERE`: this list reads every case's index entry
    // and sorts whatever it finds, live session or not, so SQLite's test of the session on
    // each entry (`auth::SESSION_CLAUSE`) changes neither what it reads nor, much, how long;
    // with the session first (`auth::SESSION_FIRST`) SQLite read the case rows instead.
    if claim.is_some() {
        sql.push_str(super::auth::SESSION_CLAUSE);
    }
    sql.push_str(" ORDER BY ");
    sql.push_str(ORDER);
    let page = super::cases::page(&mut sql, limit, offset);
    (summaries_statement(backend, &sql, ORDER), page)
}

/// What the reporter could not open of a case (item, seq, the day it was flagged).
pub(super) async fn reporter_unreadable_on<'e>(
    ex: impl sqlx::Executor<'e, Database = Any>,
    case_id: &str,
) -> Result<Vec<(String, i64, Date)>, StoreError> {
    /// One item the reporter's key could not open.
    #[derive(sqlx::FromRow)]
    struct UnreadableRow {
        item: String,
        seq: i64,
        #[sqlx(try_from = "String")]
        flagged_on: rows::Day,
    }
    let rows = query_as::<UnreadableRow>(
        "SELECT item, seq, flagged_on FROM reporter_unreadable WHERE case_id = ? \
         ORDER BY item, seq",
    )
    .bind(case_id)
    .fetch_all(ex)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.item, r.seq, r.flagged_on.0))
        .collect())
}

impl Reads {
    /// Escalated cases of every institution (for the oversight body), newest day first,
    /// without those `viewer` is excluded from.
    #[instrument(skip_all)]
    pub async fn list_escalated(
        &mut self,
        viewer: &str,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<CaseSummary>, StoreError> {
        let claim = self.pending_claim();
        let (sql, page) = escalated_list(self.backend, claim.as_ref(), limit, offset);
        let mut args = vec![Arg::Text(viewer)];
        args.extend(claim.iter().flat_map(super::auth::claim_args));
        args.extend(page.into_iter().flatten().map(Arg::Int));
        let cases = self.summaries(&sql, &args).await?;
        if claim.is_some() {
            self.settle_claim(!cases.is_empty());
        }
        Ok(cases)
    }

    /// An escalated case as `reader`, of the oversight body, sees it (no identity envelope);
    /// `None` if it is not escalated or the reader is excluded from it.
    #[instrument(skip_all)]
    pub async fn escalated_case(
        &mut self,
        case_id: &str,
        reader: &str,
    ) -> Result<Option<CaseRecord>, StoreError> {
        let sql = concat!(
            "SELECT ",
            member_record_cols!(),
            " FROM cases WHERE id = ? AND escalated_on IS NOT NULL",
            reader_not_excluded!()
        );
        self.member_record(sql, case_id, None, reader).await
    }
}
