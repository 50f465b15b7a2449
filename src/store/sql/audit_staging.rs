//! PostgreSQL's staging of audit batches across instances: a batch that finds the write lock
//! taken (another instance committing) waits in `audit_inbox`, and whichever instance holds
//! the lock next chains it with its own ([`super::audit::AuditGroup`]).

use super::audit::{FLUSH_CHUNK, SeenMark, delete_moved};
use super::*;

/// PostgreSQL, under the write lock: chains up to [`FLUSH_CHUNK`] staged entries (in the order
/// staged) and removes their rows. Returns how many.
async fn chain_staged(tx: &mut Tx<'_>) -> Result<usize, StoreError> {
    let rows = query_as::<rows::StagedAuditRow>(
        "SELECT id, at, actor, action, case_id FROM audit_inbox ORDER BY id LIMIT ?",
    )
    .bind(FLUSH_CHUNK)
    .fetch_all(&mut **tx)
    .await?;
    if !rows.is_empty() {
        let head = chain_head(tx).await?;
        chain_staged_then(tx, head, &rows, &[]).await?;
    }
    Ok(rows.len())
}

/// PostgreSQL, under the write lock: chains `staged` (rows of `audit_inbox`, in order; entries
/// an instance left when it died come along with the next commit), then `own`, after `head`,
/// and removes the staged rows.
pub(super) async fn chain_staged_then(
    tx: &mut Tx<'_>,
    head: ChainHead,
    staged: &[rows::StagedAuditRow],
    own: &[AuditFields<'_>],
) -> Result<(), StoreError> {
    let chain: Vec<_> = staged
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
    append_chain_after(tx, head, &chain).await?;
    let ids: Vec<_> = staged.iter().map(|r| r.id).collect();
    delete_moved(tx, "audit_inbox", &ids).await
}

/// PostgreSQL, inside `tx`: takes the write lock if no other transaction holds it and reads
/// what a commit under it needs — the chain's head and up to [`FLUSH_CHUNK`] staged entries —
/// in one round trip: three statements in one message (no bound values; the constants are
/// ours). In READ COMMITTED each statement takes its own snapshot, when it starts: the two
/// reads see every commit made before the lock was taken (a holder's commit is visible before
/// its lock is let go), as separate statements after it would. `None` if the lock is taken.
pub(super) async fn lock_if_free_then_read(
    tx: &mut Tx<'_>,
) -> Result<Option<(ChainHead, Vec<rows::StagedAuditRow>)>, StoreError> {
    use sqlx::{FromRow as _, Row as _};
    let sql = format!(
        "SELECT pg_try_advisory_xact_lock({WRITE_LOCK}) AS free; \
         SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1; \
         SELECT id, at, actor, action, case_id FROM audit_inbox ORDER BY id LIMIT {FLUSH_CHUNK}"
    );
    let (mut free, mut head, mut staged) = (None, None, Vec::new());
    // The rows of all three, in order.
    for row in sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut **tx)
        .await?
    {
        match row.columns().first().map(sqlx::Column::name) {
            Some("free") => free = Some(row.try_get::<bool, _>(0)?),
            Some("seq") => head = Some((row.try_get(0)?, row.try_get(1)?)),
            _ => staged.push(rows::StagedAuditRow::from_row(&row)?),
        }
    }
    match free {
        Some(true) => Ok(Some((head, staged))),
        Some(false) => Ok(None),
        None => Err(StoreError::Corrupt(
            "the write lock's answer is missing".into(),
        )),
    }
}

impl Store {
    /// PostgreSQL: puts `entries` (and the seen marks) in `audit_inbox`, where any instance
    /// holding the write lock can chain them ([`Store::chain_staged_audit`]), without taking
    /// the lock. Its commit is not flushed on its own (`synchronous_commit = off`): the chain's
    /// commit that moves these rows — this instance's or another's, which could read them only
    /// once this commit was written, so it comes later in the WAL — flushes it, and no caller is
    /// answered before that. A crash first loses only entries whose callers get an error.
    pub(super) async fn stage_audit(
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
            let n = chain_staged(&mut tx).await?;
            tx.commit().await?;
            moved += n;
            if n < FLUSH_CHUNK as usize {
                return Ok(moved);
            }
        }
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

    /// PostgreSQL: the one-message read under the lock sees what another instance committed
    /// just before (the head it moved, the rows it staged, in order), and nothing while that
    /// instance holds the lock.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_lock_and_what_a_commit_needs_come_in_one_round_trip() {
        let Some(url) = crate::store::postgres::fresh_test_database().await else {
            return;
        };
        let (one, two) = (instance(&url).await, instance(&url).await);
        let mut tx = one.pool.begin().await.unwrap();
        let (head, staged) = lock_if_free_then_read(&mut tx).await.unwrap().unwrap();
        assert!(
            head.is_none() && staged.is_empty(),
            "an empty chain, nothing staged"
        );
        drop(tx);
        two.append_audit("2026-12-03T09:00:00Z", "member:police/budi", "read 0", None)
            .await
            .unwrap();
        two.stage_audit(&[&read(1), &read(2)], &[None, None])
            .await
            .unwrap();
        let held = two.begin_write().await.unwrap();
        let mut tx = one.pool.begin().await.unwrap();
        assert!(
            lock_if_free_then_read(&mut tx).await.unwrap().is_none(),
            "the lock is held"
        );
        drop(tx);
        held.commit().await.unwrap();
        let mut tx = one.pool.begin().await.unwrap();
        let (head, staged) = lock_if_free_then_read(&mut tx).await.unwrap().unwrap();
        let last = two.audit_entries().await.unwrap().pop().unwrap();
        assert_eq!(head, Some((last.seq, last.hash)));
        let actions: Vec<_> = staged.iter().map(|r| r.action.as_str()).collect();
        assert_eq!(actions, ["read 1", "read 2"]);
        drop(tx);
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
