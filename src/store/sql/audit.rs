//! The hash-chained audit log: members' acts with their time, citizens' acts by day.

use super::audit_staging::{chain_staged_then, lock_if_free_then_read};
use super::*;
use tracing::Instrument as _;

/// Audit entries of members' reads waiting to be committed together. Every list and fetch
/// appends an entry that must be durable before the answer; committed one by one they queue
/// behind each other's commit (16 members at once waited up to 165 ms, BENCHMARKS.md A). Here
/// whoever gets the writer's turn commits every entry waiting at that moment in one
/// transaction — chained in order, durable before any of their callers returns — so a crowd of
/// reads costs one commit, not one each (group commit). On PostgreSQL a batch that finds the
/// write lock taken (another instance committing) is staged and chained by whichever instance
/// holds the lock next ([`Store::chain_staged_audit`]), so one commit also takes the batches
/// other instances staged meanwhile.
#[derive(Debug, Default)]
pub struct AuditGroup {
    waiting: std::sync::Mutex<Vec<(AuditNew, Option<SeenMark>, Done)>>,
    /// Held by the task committing a batch, from before it takes the batch until every caller
    /// in it is told, even if the caller that took it is gone.
    writer: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl AuditGroup {
    /// The writer's turn: members' reads queue their entries behind it and are committed
    /// together when it is let go (taken by SQLite's truncating checkpoint, which keeps writers
    /// out while it runs).
    pub(crate) async fn turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.writer.lock().await
    }
}

/// Tells a waiting caller how its entry's commit went.
type Done = tokio::sync::oneshot::Sender<Result<(), String>>;

/// What a caller of [`Store::append_audit_seen`] is told, from its [`Done`].
fn committed(
    told: Result<Result<(), String>, tokio::sync::oneshot::error::RecvError>,
) -> Result<(), StoreError> {
    told.map_err(|_| StoreError::Audit("the audit commit was cancelled".into()))?
        .map_err(StoreError::Audit)
}

/// Deletes the waiting rows `ids` of `table` (`audit_pending` or `audit_inbox`) whose entries
/// were chained in `tx`: each entry moves once or not at all.
pub(super) async fn delete_moved<T>(
    tx: &mut Tx<'_>,
    table: &'static str,
    ids: &[T],
) -> Result<(), StoreError>
where
    T: for<'q> sqlx::Encode<'q, Any> + sqlx::Type<Any> + Clone + Send + 'static,
{
    for chunk in ids.chunks(CHAIN_ROWS_PER_INSERT) {
        let sql = format!(
            "DELETE FROM {table} WHERE id IN ({})",
            vec!["?"; chunk.len()].join(", ")
        );
        let mut q = query(&sql);
        for id in chunk {
            q = q.bind(id.clone());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// An entry to chain, as [`append_chain_many`] takes it (its `seq` is set there).
fn fields_of(a: &AuditNew) -> AuditFields<'_> {
    AuditFields {
        seq: 0,
        at: &a.at,
        actor: &a.actor,
        action: &a.action,
        case_id: a.case_id.as_deref(),
    }
}

/// How many citizens' actions one transaction moves into the chain
/// ([`Store::flush_reporter_actions`]).
pub const FLUSH_CHUNK: i64 = 500;

/// A member's "seen" marker for a case they opened (`seen::mark_all_seen_in`), written in the same
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
        let mut result = result;
        // Whichever comes first: this caller's entry committed by another caller's turn (then
        // it returns at once, instead of queueing for a turn it no longer needs behind the
        // batches after it), or the writer's turn. Two spans (debug: no log shows them by
        // default) for `bench load --probe-parts`: the wait, and this caller's batch's commit.
        let turn = tokio::select! {
            biased;
            outcome = &mut result => return committed(outcome),
            turn = self
                .audit_group
                .writer
                .clone()
                .lock_owned()
                .instrument(tracing::debug_span!("turn")) => turn,
        };
        let batch = std::mem::take(
            &mut *self
                .audit_group
                .waiting
                .lock()
                .map_err(|_| StoreError::Audit("audit queue poisoned".into()))?,
        );
        // Empty: an earlier turn took this caller's entry along (and, its commit's task having
        // held the turn until it ended, has told it how it went).
        if batch.is_empty() {
            drop(turn);
        } else {
            // A task of its own, holding the turn: the batch holds other callers' entries, and
            // must be committed (and they told) even if this caller's request is dropped, and
            // no other batch or checkpoint may start before it ends.
            let store = self.clone();
            let commit = tokio::spawn(async move {
                let _turn = turn;
                let outcome = store
                    .commit_audit_batch(batch.iter().map(|(e, s, _)| (e, s.as_ref())))
                    .await
                    .map_err(|e| e.to_string());
                for (_, _, done) in batch {
                    let _ = done.send(outcome.clone());
                }
            });
            let _ = commit.instrument(tracing::debug_span!("commit")).await;
        }
        committed(result.await)
    }

    async fn commit_audit_batch(
        &self,
        entries: impl Iterator<Item = (&AuditNew, Option<&SeenMark>)>,
    ) -> Result<(), StoreError> {
        let (chain, seen): (Vec<_>, Vec<_>) = entries.unzip();
        let own: Vec<_> = chain.iter().copied().map(fields_of).collect();
        let mut tx = if self.backend == Backend::Postgres {
            // The write lock free (one instance, or a quiet moment): chain directly, one
            // commit, taking along what other instances staged. Taken (another instance is
            // committing): stage, so that its next holder — perhaps another instance — chains
            // this batch with its own, instead of each in turn.
            let mut tx = self.pool.begin().await?;
            let Some((head, staged)) = lock_if_free_then_read(&mut tx).await? else {
                drop(tx);
                self.stage_audit(&chain, &seen).await?;
                self.chain_staged_audit().await?;
                return Ok(());
            };
            chain_staged_then(&mut tx, head, &staged, &own).await?;
            tx
        } else {
            let mut tx = self.begin_write().await?;
            append_chain_many(&mut tx, &own).await?;
            tx
        };
        super::seen::mark_all_seen_in(&mut tx, &seen).await?;
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
            let rows = query_as::<rows::PendingActionRow>(
                "SELECT id, day, action, case_id FROM audit_pending WHERE day < ? \
                 ORDER BY id LIMIT ?",
            )
            .bind(day_string(today))
            .bind(FLUSH_CHUNK)
            .fetch_all(&mut *tx)
            .await?;
            let reporter = Actor::Reporter.to_column();
            let chain: Vec<_> = rows
                .iter()
                .map(|r| AuditFields {
                    seq: 0,
                    at: &r.day,
                    actor: &reporter,
                    action: &r.action,
                    case_id: r.case_id.as_deref(),
                })
                .collect();
            let ids: Vec<_> = rows.iter().map(|r| r.id.clone()).collect();
            append_chain_many(&mut tx, &chain).await?;
            delete_moved(&mut tx, "audit_pending", &ids).await?;
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::domain::audit::verify_chain;

    /// A caller whose entry another caller's turn committed is answered then, not after
    /// queueing for a turn of its own behind the batches after it (here a turn the test takes
    /// and holds). Before, it waited for every turn queued ahead of it: under a crowd of reads,
    /// most of a read's time (BENCHMARKS.md R).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_entry_committed_by_another_turn_is_answered_at_once() {
        use std::time::Duration;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("bisik.sqlite")).await.unwrap();
        let append = |n: usize| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .append_audit(
                        "2026-12-03T09:00:00Z",
                        "member:health/dewi",
                        &format!("read {n}"),
                        None,
                    )
                    .await
            })
        };
        let pause = || tokio::time::sleep(Duration::from_millis(200));
        // A commit is in progress (the test holds the turn); A queues for the next turn.
        let first = store.audit_group.turn().await;
        let a = append(1);
        pause().await;
        // Another turn queues after A's: the test's, which it will hold.
        let (held, is_held) = tokio::sync::oneshot::channel();
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let later = {
            let store = store.clone();
            tokio::spawn(async move {
                let _turn = store.audit_group.turn().await;
                let _ = held.send(());
                let _ = released.await;
            })
        };
        pause().await;
        // B's entry waits beside A's; B's own turn would come after the test's.
        let b = append(2);
        pause().await;
        drop(first);
        // A's turn commits both entries; then the test's turn comes, and is held.
        is_held.await.unwrap();
        a.await.unwrap().unwrap();
        let b_answered = tokio::time::timeout(Duration::from_secs(10), b).await;
        let _ = release.send(());
        later.await.unwrap();
        b_answered
            .expect("B was answered while a later turn was held")
            .unwrap()
            .unwrap();
        let entries = store.audit_entries().await.unwrap();
        verify_chain(&entries).unwrap();
        let actions: Vec<_> = entries.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["read 1", "read 2"]);
    }

    /// The writer's turn is held by the task committing a batch, not by the caller that took
    /// the batch: a caller dropped mid-commit (an officer closing the page) lets no other batch
    /// or checkpoint start before the commit has ended.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dropped_caller_leaves_the_turn_with_its_commit() {
        use sqlx::Connection as _;
        use std::time::Duration;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bisik.sqlite");
        let store = Store::open(&path).await.unwrap();
        // Another connection holds SQLite's write lock: the batch's commit waits for it.
        let mut blocker = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut blocker)
            .await
            .unwrap();
        let reader = {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .append_audit("2026-12-03T09:00:00Z", "member:health/dewi", "read 1", None)
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        reader.abort();
        assert!(reader.await.unwrap_err().is_cancelled());
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            store.audit_group.writer.try_lock().is_err(),
            "the turn was let go while the batch's commit still waited"
        );
        sqlx::query("COMMIT").execute(&mut blocker).await.unwrap();
        let turn = tokio::time::timeout(Duration::from_secs(10), store.audit_group.turn())
            .await
            .expect("the turn let go once the commit ended");
        drop(turn);
        let entries = store.audit_entries().await.unwrap();
        verify_chain(&entries).unwrap();
        assert_eq!(entries.len(), 1, "the dropped caller's entry was committed");
    }
}
