//! The hash-chained audit log: members' acts with their time, citizens' acts by day.

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

/// PostgreSQL, under the write lock: chains up to [`FLUSH_CHUNK`] staged entries (in the order
/// staged; entries an instance left when it died come along with the next commit), then
/// `own`, and removes the staged rows. Returns how many staged entries it chained.
async fn chain_staged_then(tx: &mut Tx<'_>, own: &[AuditFields<'_>]) -> Result<usize, StoreError> {
    let rows = query_as::<rows::StagedAuditRow>(
        "SELECT id, at, actor, action, case_id FROM audit_inbox ORDER BY id LIMIT ?",
    )
    .bind(FLUSH_CHUNK)
    .fetch_all(&mut **tx)
    .await?;
    let chain: Vec<_> = rows
        .iter()
        .map(|r| AuditFields {
            seq: 0,
            at: &r.at,
            actor: &r.actor,
            action: &r.action,
            case_id: r.case_id.as_deref(),
        })
        .chain(own.iter().cloned())
        .collect();
    let ids: Vec<_> = rows.iter().map(|r| r.id).collect();
    move_into_chain(tx, "audit_inbox", &ids, &chain).await?;
    Ok(rows.len())
}

/// Chains `entries` after the chain's head, in order, and deletes the waiting rows they came
/// from (`ids` of `table`, `audit_pending` or `audit_inbox`), inside `tx`: each entry moves
/// once or not at all.
async fn move_into_chain<T>(
    tx: &mut Tx<'_>,
    table: &'static str,
    ids: &[T],
    entries: &[AuditFields<'_>],
) -> Result<(), StoreError>
where
    T: for<'q> sqlx::Encode<'q, Any> + sqlx::Type<Any> + Clone + Send + 'static,
{
    append_chain_many(tx, entries).await?;
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
        // The write lock free (one instance, or a quiet moment): chain directly, one commit.
        // Taken (another instance is committing): stage, so that its next holder — perhaps
        // another instance — chains this batch with its own, instead of each in turn.
        let Some(mut tx) = self.begin_write_if_free().await? else {
            self.stage_audit(&chain, &seen).await?;
            self.chain_staged_audit().await?;
            return Ok(());
        };
        let chain: Vec<_> = chain.into_iter().map(fields_of).collect();
        if self.backend == Backend::Postgres {
            chain_staged_then(&mut tx, &chain).await?;
        } else {
            append_chain_many(&mut tx, &chain).await?;
        }
        super::seen::mark_all_seen_in(&mut tx, &seen).await?;
        tx.commit().await?;
        Ok(())
    }

    /// [`Store::begin_write`] on the audit group's own connection if no other transaction
    /// holds the write lock; `None` if one does (PostgreSQL only: SQLite's single writer is
    /// one process, whose callers take turns).
    async fn begin_write_if_free(&self) -> Result<Option<Tx<'static>>, StoreError> {
        if self.backend != Backend::Postgres {
            return self.begin_write_on(&self.audit_pool).await.map(Some);
        }
        let mut tx = self.audit_pool.begin().await?;
        let free: bool = query_scalar("SELECT pg_try_advisory_xact_lock(?)")
            .bind(WRITE_LOCK)
            .fetch_one(&mut *tx)
            .await?;
        Ok(free.then_some(tx))
    }

    /// PostgreSQL: puts `entries` (and the seen marks) in `audit_inbox`, where any instance
    /// holding the write lock can chain them ([`Store::chain_staged_audit`]), without taking
    /// the lock. Its commit is not flushed on its own (`synchronous_commit = off`): the chain's
    /// commit that moves these rows — this instance's or another's, which could read them only
    /// once this commit was written, so it comes later in the WAL — flushes it, and no caller is
    /// answered before that. A crash first loses only entries whose callers get an error.
    async fn stage_audit(
        &self,
        entries: &[&AuditNew],
        seen: &[Option<&SeenMark>],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        query("SET LOCAL synchronous_commit = off")
            .execute(&mut *tx)
            .await?;
        for chunk in entries.chunks(CHAIN_ROWS_PER_INSERT) {
            let sql = format!(
                "INSERT INTO audit_inbox (at, actor, action, case_id) VALUES {}",
                vec!["(?, ?, ?, ?)"; chunk.len()].join(", ")
            );
            let mut q = query(&sql);
            for a in chunk {
                q = q
                    .bind(a.at.clone())
                    .bind(a.actor.clone())
                    .bind(a.action.clone())
                    .bind(a.case_id.clone());
            }
            q.execute(&mut *tx).await?;
        }
        super::seen::mark_all_seen_in(&mut tx, seen).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Moves every entry waiting in `audit_inbox` into the chain, in the order staged, under the
    /// write lock and in durable commits of up to [`FLUSH_CHUNK`]. Returns how many. Finding
    /// none after staging is success: the instance that held the lock before chained them, and
    /// its commit was flushed before it let the lock go. Only PostgreSQL stages (0 on SQLite);
    /// housekeeping calls this for rows an instance left when it died between the two steps.
    #[instrument(skip_all)]
    pub async fn chain_staged_audit(&self) -> Result<usize, StoreError> {
        if self.backend != Backend::Postgres {
            return Ok(0);
        }
        let mut moved = 0;
        loop {
            let mut tx = self.begin_write().await?;
            let n = chain_staged_then(&mut tx, &[]).await?;
            tx.commit().await?;
            moved += n;
            if n < FLUSH_CHUNK as usize {
                return Ok(moved);
            }
        }
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
            move_into_chain(&mut tx, "audit_pending", &ids, &chain).await?;
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

    async fn instance(url: &str) -> Store {
        crate::store::postgres::test_instance(url, 2).await
    }

    fn read(n: usize) -> AuditNew {
        AuditNew {
            at: "2026-12-03T09:00:00Z".into(),
            actor: "member:health/dewi".into(),
            action: format!("read {n}"),
            case_id: Some(format!("LPR-2026-{n:06}")),
        }
    }

    async fn staged(store: &Store) -> i64 {
        query_scalar("SELECT COUNT(*) FROM audit_inbox")
            .fetch_one(&store.pool)
            .await
            .unwrap()
    }

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

    /// PostgreSQL: entries one instance staged are chained by whichever instance takes the
    /// write lock next — and only once. An instance that died between staging and chaining
    /// leaves entries that the next append (from any instance) or housekeeping's sweep chains,
    /// in the order staged, in chunks.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn staged_entries_enter_the_chain_once_through_any_instance() {
        let Some(url) = crate::store::postgres::fresh_test_database().await else {
            return;
        };
        let (one, two) = (instance(&url).await, instance(&url).await);
        // One stages and "dies" before chaining; two's next read chains both, in order.
        one.stage_audit(&[&read(1)], &[None]).await.unwrap();
        two.append_audit("2026-12-03T09:00:01Z", "member:police/budi", "read 2", None)
            .await
            .unwrap();
        let actions = |e: Vec<AuditEntry>| e.into_iter().map(|e| e.action).collect::<Vec<_>>();
        assert_eq!(
            actions(one.audit_entries().await.unwrap()),
            ["read 1", "read 2"]
        );
        // One's own turn comes late and finds nothing left: nothing doubled.
        assert_eq!(one.chain_staged_audit().await.unwrap(), 0);
        // A backlog of more than a chunk, with nobody reading after: the sweep takes it all.
        let backlog: Vec<AuditNew> = (3..1203).map(read).collect();
        let refs: Vec<&AuditNew> = backlog.iter().collect();
        one.stage_audit(&refs, &vec![None; refs.len()])
            .await
            .unwrap();
        assert_eq!(staged(&one).await, 1200);
        assert_eq!(two.chain_staged_audit().await.unwrap(), 1200);
        assert_eq!(staged(&one).await, 0);
        let entries = two.audit_entries().await.unwrap();
        verify_chain(&entries).unwrap();
        assert_eq!(
            actions(entries)[2..],
            (3..1203).map(|n| format!("read {n}")).collect::<Vec<_>>()
        );
        one.close().await;
        two.close().await;
    }

    /// PostgreSQL: a read while another instance holds the write lock is staged — not chained,
    /// and its caller not answered — until the lock is let go; then it is in the chain, once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_read_while_the_lock_is_taken_waits_staged_then_is_chained() {
        let Some(url) = crate::store::postgres::fresh_test_database().await else {
            return;
        };
        let (one, two) = (instance(&url).await, instance(&url).await);
        let held = two.begin_write().await.unwrap();
        let read = tokio::spawn({
            let one = one.clone();
            async move {
                one.append_audit("2026-12-03T09:00:00Z", "member:health/dewi", "read", None)
                    .await
            }
        });
        let mut waited = 0;
        while staged(&one).await == 0 {
            waited += 1;
            assert!(waited < 500, "the read was never staged");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(!read.is_finished(), "answered before its entry was chained");
        assert!(one.audit_entries().await.unwrap().is_empty());
        held.commit().await.unwrap();
        read.await.unwrap().unwrap();
        assert_eq!(staged(&one).await, 0);
        let entries = one.audit_entries().await.unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].action, "read");
        one.close().await;
        two.close().await;
    }

    /// PostgreSQL: two instances staging the same member's reads of the same two cases at
    /// once, their batches in opposite orders, never deadlock on the seen marks' rows (each
    /// batch marks in one order). Without the ordering this failed: "deadlock detected".
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_instances_marking_the_same_cases_seen_do_not_deadlock() {
        let Some(url) = crate::store::postgres::fresh_test_database().await else {
            return;
        };
        let (one, two) = (instance(&url).await, instance(&url).await);
        let ids = ["LPR-2026-000001", "LPR-2026-000002"];
        let day = crate::domain::clock::parse_day("2026-12-01").unwrap();
        let cases: Vec<NewCase<'_>> = ids
            .iter()
            .zip(1..)
            .map(|(id, lookup_id)| super::cases::stand_in_case(id, lookup_id, "health", day))
            .collect();
        one.insert_cases(&cases).await.unwrap();
        let mark = |case_id: &str| SeenMark {
            member: "health/dewi".into(),
            notes_of: None,
            case_id: case_id.into(),
        };
        let (m1, m2) = (mark(ids[0]), mark(ids[1]));
        let entries = [read(1), read(2)];
        let both: Vec<&AuditNew> = entries.iter().collect();
        let (forward, backward) = ([Some(&m1), Some(&m2)], [Some(&m2), Some(&m1)]);
        for _ in 0..100 {
            let (a, b) = tokio::join!(
                one.stage_audit(&both, &forward),
                two.stage_audit(&both, &backward),
            );
            a.unwrap();
            b.unwrap();
        }
        assert_eq!(two.chain_staged_audit().await.unwrap(), 400);
        one.close().await;
        two.close().await;
    }
}
