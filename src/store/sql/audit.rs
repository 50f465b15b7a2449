//! The hash-chained audit log: members' acts with their time, citizens' acts by day.

use super::*;

/// Audit entries of members' reads waiting to be committed together. Every list and fetch
/// appends an entry that must be durable before the answer; committed one by one they queue
/// behind each other's commit (16 members at once waited up to 165 ms, BENCHMARKS.md A). Here
/// whoever gets the writer's turn commits every entry waiting at that moment in one
/// transaction — chained in order, durable before any of their callers returns — so a crowd of
/// reads costs one commit, not one each (group commit).
#[derive(Debug, Default)]
pub struct AuditGroup {
    waiting: std::sync::Mutex<Vec<(AuditNew, Option<SeenMark>, Done)>>,
    writer: tokio::sync::Mutex<()>,
}

/// Tells a waiting caller how its entry's commit went.
type Done = tokio::sync::oneshot::Sender<Result<(), String>>;

/// How many citizens' actions one transaction moves into the chain
/// ([`Store::flush_reporter_actions`]).
pub const FLUSH_CHUNK: i64 = 500;

/// A member's "seen" marker for a case they opened (`seen::mark_seen_in`), written in the same
/// grouped transaction as the read's audit entry: one commit per fetch, not two.
#[derive(Debug)]
pub struct SeenMark {
    /// `institution/handle`.
    pub member: String,
    /// The member's institution if they read its internal notes.
    pub notes_of: Option<String>,
    pub case_id: String,
}

impl Store {
    /// Appends to the hash-chained audit log, durably, committed together with the entries
    /// other callers are appending at the same moment ([`AuditGroup`]). The write lock is
    /// taken before the chain's head is read, so appends can never fork it.
    #[instrument(skip_all)]
    pub async fn append_audit(
        &self,
        at: &str,
        actor: &str,
        action: &str,
        case_id: Option<&str>,
    ) -> Result<(), StoreError> {
        self.append_audit_seen(at, actor, action, case_id, None)
            .await
    }

    /// [`Store::append_audit`], and with `seen` the member's "seen" marker for the case in the
    /// same transaction (a fetch costs one durable commit).
    #[instrument(skip_all)]
    pub async fn append_audit_seen(
        &self,
        at: &str,
        actor: &str,
        action: &str,
        case_id: Option<&str>,
        seen: Option<SeenMark>,
    ) -> Result<(), StoreError> {
        let (done, result) = tokio::sync::oneshot::channel();
        let entry = AuditNew {
            at: at.to_owned(),
            actor: actor.to_owned(),
            action: action.to_owned(),
            case_id: case_id.map(str::to_owned),
        };
        self.audit_group
            .waiting
            .lock()
            .map_err(|_| StoreError::Audit("audit queue poisoned".into()))?
            .push((entry, seen, done));
        {
            let _turn = self.audit_group.writer.lock().await;
            let batch = std::mem::take(
                &mut *self
                    .audit_group
                    .waiting
                    .lock()
                    .map_err(|_| StoreError::Audit("audit queue poisoned".into()))?,
            );
            // Empty: an earlier turn took this caller's entry along.
            if !batch.is_empty() {
                // A task of its own: the batch holds other callers' entries, and must be
                // committed (and they told) even if this caller's request is dropped.
                let store = self.clone();
                let commit = tokio::spawn(async move {
                    let outcome = store
                        .commit_audit_batch(batch.iter().map(|(e, s, _)| (e, s.as_ref())))
                        .await
                        .map_err(|e| e.to_string());
                    for (_, _, done) in batch {
                        let _ = done.send(outcome.clone());
                    }
                });
                let _ = commit.await;
            }
        }
        result
            .await
            .map_err(|_| StoreError::Audit("the audit commit was cancelled".into()))?
            .map_err(StoreError::Audit)
    }

    async fn commit_audit_batch(
        &self,
        entries: impl Iterator<Item = (&AuditNew, Option<&SeenMark>)>,
    ) -> Result<(), StoreError> {
        let (chain, seen): (Vec<_>, Vec<_>) = entries
            .map(|(a, s)| {
                let fields = AuditFields {
                    seq: 0,
                    at: &a.at,
                    actor: &a.actor,
                    action: &a.action,
                    case_id: a.case_id.as_deref(),
                };
                (fields, s)
            })
            .unzip();
        let mut tx = self.begin_write().await?;
        append_chain_many(&mut tx, &chain).await?;
        for s in seen.into_iter().flatten() {
            super::seen::mark_seen_in(&mut tx, &s.member, s.notes_of.as_deref(), &s.case_id)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Appends one entry per case, in one transaction (one commit for a bulk read).
    #[instrument(skip_all)]
    pub async fn append_audit_many(
        &self,
        at: &str,
        actor: &str,
        action: &str,
        case_ids: &[&str],
    ) -> Result<(), StoreError> {
        let chain: Vec<_> = case_ids
            .iter()
            .map(|id| AuditFields {
                seq: 0,
                at,
                actor,
                action,
                case_id: Some(id),
            })
            .collect();
        let mut tx = self.begin_write().await?;
        append_chain_many(&mut tx, &chain).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Moves citizens' actions of days before `today` from the waiting table into the chain, in
    /// random order (their ids are random), stamped with their day only. Returns how many.
    ///
    /// In transactions of [`FLUSH_CHUNK`] actions: a day of a national service's reports (or a
    /// backlog after days down) moved in one transaction held the write lock for seconds —
    /// every submission and member act waited behind it (3–4 s at 100,000 actions,
    /// BENCHMARKS.md D) — and held every row in memory at once. Each chunk moves its actions
    /// atomically; a crash between chunks leaves the rest waiting for the next round.
    #[instrument(skip_all)]
    pub async fn flush_reporter_actions(&self, today: Date) -> Result<usize, StoreError> {
        let mut moved = 0;
        loop {
            let mut tx = self.begin_write().await?;
            let rows = query(
                "SELECT id, day, action, case_id FROM audit_pending WHERE day < ? \
                 ORDER BY id LIMIT ?",
            )
            .bind(day_string(today))
            .bind(FLUSH_CHUNK)
            .fetch_all(&mut *tx)
            .await?;
            let mut ids = Vec::with_capacity(rows.len());
            let mut actions = Vec::with_capacity(rows.len());
            for r in &rows {
                ids.push(r.try_get::<String, _>("id")?);
                actions.push((
                    r.try_get::<String, _>("day")?,
                    r.try_get::<String, _>("action")?,
                    r.try_get::<Option<String>, _>("case_id")?,
                ));
            }
            let reporter = Actor::Reporter.to_column();
            let chain: Vec<_> = actions
                .iter()
                .map(|(day, action, case_id)| AuditFields {
                    seq: 0,
                    at: day,
                    actor: &reporter,
                    action,
                    case_id: case_id.as_deref(),
                })
                .collect();
            append_chain_many(&mut tx, &chain).await?;
            for chunk in ids.chunks(CHAIN_ROWS_PER_INSERT) {
                let sql = format!(
                    "DELETE FROM audit_pending WHERE id IN ({})",
                    vec!["?"; chunk.len()].join(", ")
                );
                let mut q = query(&sql);
                for id in chunk {
                    q = q.bind(id.clone());
                }
                q.execute(&mut *tx).await?;
            }
            tx.commit().await?;
            moved += rows.len();
            if rows.len() < FLUSH_CHUNK as usize {
                return Ok(moved);
            }
            // A gap for the writers that queued behind this chunk: SQLite's waiting writers
            // retry after 1–25 ms at first (its busy handler), PostgreSQL's are queued.
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }

    /// Audit entries that concern one case, in order.
    #[instrument(skip_all)]
    pub async fn audit_entries_for_case(
        &self,
        case_id: &str,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = query_as::<rows::AuditRow>(
            "SELECT seq, at, actor, action, case_id, prev_hash, hash FROM audit_log WHERE case_id = ? ORDER BY seq",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// The whole audit log in order (for verification and display).
    #[instrument(skip_all)]
    pub async fn audit_entries(&self) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = query_as::<rows::AuditRow>(
            "SELECT seq, at, actor, action, case_id, prev_hash, hash FROM audit_log ORDER BY seq",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
