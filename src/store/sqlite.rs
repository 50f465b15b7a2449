//! SQLite, the embedded default: one file, one writer, no server.
//!
//! WAL, `synchronous=FULL` (a commit is on disk before a receipt is shown, DESIGN 2.8),
//! `secure_delete=ON` (deleted rows are overwritten with zeros, not left in free pages), foreign
//! keys, nothing spilled to temp files. The file's WAL is emptied and its times set to the day by
//! [`Store::settle_wal`].

use std::path::Path;
use std::time::Duration;

use sqlx::ConnectOptions as _;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;
use time::Date;
use tracing::instrument;

use super::dialect::{Backend, query, query_scalar};
use super::{Store, StoreError};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Run on every new connection (sqlx's `Any` driver takes options only as a URL).
const PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA secure_delete = ON; \
     PRAGMA temp_store = MEMORY;";

/// `path` with `suffix` appended to its file name (`bisik.sqlite-wal`).
fn sibling(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    s.into()
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Db(sqlx::Error::Io(e))
}

impl Store {
    /// Opens (creating if needed) the SQLite database file and runs migrations. The folder is
    /// made (or tightened to) 0700 and the file 0600 before SQLite opens it: SQLite gives its
    /// `-wal` and `-shm` files the main file's mode, whatever the umask.
    #[instrument(skip_all)]
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        if let Some(dir) = path.parent() {
            super::disk::private_dir(dir).map_err(io)?;
        }
        super::disk::private_file(path).map_err(io)?;
        for suffix in ["-wal", "-shm"] {
            super::disk::tighten(&sibling(path, suffix), super::disk::FILE_MODE).map_err(io)?;
        }
        let url = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .to_url_lossy();
        let options = AnyConnectOptions::from_url(&url)?;
        let pool_options = AnyPoolOptions::new()
            // sqlx pings every connection it hands out: a round trip to the connection's thread
            // per acquire that can find nothing wrong with an embedded file (a failed write is
            // caught on release, below). Two or three acquires per request (BENCHMARKS.md I).
            .test_before_acquire(false)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::raw_sql(PRAGMAS).execute(&mut *conn).await?;
                    Ok(())
                })
            })
            // A connection goes back to the pool only outside any transaction. When a write
            // fails (SQLITE_FULL on a full disk, an I/O error) SQLite may roll the transaction
            // back by itself; sqlx's ROLLBACK on drop then fails and its depth counter stays at
            // one, so the next "transaction" on that connection would be a savepoint inside a
            // dead one — and a receipt could be shown for a report that was never committed
            // (tests/faults.rs, full disk). The queued rollback runs first, then this probe:
            // `BEGIN` fails inside a real transaction, and the depth must be back to zero.
            // Either way the connection is closed, never reused. A connection whose depth is
            // already zero (every committed transaction, every plain read) goes back as it is:
            // nothing in Bisik begins a transaction behind sqlx's counter, and the probe's round
            // trip to the connection's thread cost every request two or three (BENCHMARKS.md I).
            .after_release(|conn, _| {
                Box::pin(async move {
                    if !sqlx::Connection::is_in_transaction(conn) {
                        return Ok(true);
                    }
                    sqlx::raw_sql("BEGIN; ROLLBACK").execute(&mut *conn).await?;
                    Ok(!sqlx::Connection::is_in_transaction(conn))
                })
            })
            .acquire_timeout(Duration::from_secs(30));
        let pool = pool_options
            .clone()
            .max_connections(8)
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&pool).await?;
        let audit_pool = pool_options
            .max_connections(1)
            .connect_with(options)
            .await?;
        Ok(Self {
            pool,
            read_pool: None,
            backend: Backend::Sqlite,
            path: Some(path.to_owned()),
            audit_group: std::sync::Arc::default(),
            audit_pool,
        })
    }

    /// Empties the WAL so that the order of recent writes (a citizen's report between two
    /// timestamped member audit entries) does not stay on disk, and dates the database files
    /// and their folder to 00:00 UTC of `day` (writes and reads moved their times to the
    /// moment). Frames in the WAL are checkpointed into the database and the WAL truncated to
    /// zero bytes; the shared-memory index (`-shm`) still lists the pages of the last frames in
    /// order until the next write, so one fixed row is written and checkpointed again — the
    /// index then holds only that page. Returns false when readers kept SQLite from truncating
    /// (the next round tries again). PostgreSQL has no such files here: true at once.
    ///
    /// A truncating checkpoint keeps writers out while it copies and syncs, and a writer turned
    /// away sleeps on SQLite's busy handler (1, 2, 5, 10, 15, 20, 25 ms …), so members' reads,
    /// whose audit entries must be durable before their answer, could wait up to 25 ms past
    /// its end (BENCHMARKS.md L). So a passive checkpoint, which keeps nobody out, first copies
    /// back most of the WAL; the truncating ones then have only the last moment's frames left,
    /// and run in the audit group's turn: the reads that come meanwhile queue on that turn and
    /// are committed together the moment it ends.
    #[instrument(skip_all)]
    pub async fn settle_wal(&self, day: Date) -> Result<bool, StoreError> {
        let Some(path) = &self.path else {
            return Ok(true);
        };
        let wal = sibling(path, "-wal");
        let written = std::fs::metadata(&wal)
            .map(|m| m.len() > 0)
            .unwrap_or(false);
        let mut settled = !written;
        if written {
            // Its numbers (busy, frames, frames copied) are not needed: the truncating
            // checkpoints below say whether the WAL was emptied.
            let _: i64 = query_scalar("PRAGMA wal_checkpoint(PASSIVE)")
                .fetch_one(&self.pool)
                .await?;
            let _turn = self.audit_group.turn().await;
            if self.checkpoint().await? {
                query("UPDATE wal_scrub SET n = n + 1 WHERE id = 1")
                    .execute(&self.pool)
                    .await?;
                settled = self.checkpoint().await?;
            }
        }
        for p in [path.clone(), wal, sibling(path, "-shm")] {
            super::disk::set_day_times(&p, day).map_err(io)?;
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            super::disk::set_day_times(dir, day).map_err(io)?;
        }
        Ok(settled)
    }

    /// `PRAGMA wal_checkpoint(TRUNCATE)`; false if SQLite could not finish it (busy).
    async fn checkpoint(&self) -> Result<bool, StoreError> {
        // The first of its three numbers: 1 when a reader or writer kept it from finishing.
        let busy: i64 = query_scalar("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(&self.pool)
            .await?;
        Ok(busy == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Settling the WAL while members read (each read appending an audit entry through the
    /// group) neither loses nor forks an entry nor deadlocks on the audit group's turn, which
    /// the truncating checkpoints hold; the last settle, with the reads done, empties the WAL.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn settling_the_wal_while_members_read_keeps_every_entry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bisik.sqlite");
        let store = Store::open(&path).await.unwrap();
        let day = crate::domain::clock::parse_day("2026-12-03").unwrap();
        let reads: Vec<_> = (0..200)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .append_audit(
                            "2026-12-03T09:00:00Z",
                            "health/ani",
                            &format!("read {i}"),
                            None,
                        )
                        .await
                })
            })
            .collect();
        let settles: Vec<_> = (0..5)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store.settle_wal(day).await })
            })
            .collect();
        // Bounded: a deadlock fails the test instead of hanging it.
        let joined = tokio::time::timeout(Duration::from_secs(60), async {
            for r in reads {
                r.await.unwrap().unwrap();
            }
            for s in settles {
                s.await.unwrap().unwrap();
            }
        });
        joined.await.expect("reads and settlings finished");
        assert!(store.settle_wal(day).await.unwrap());
        assert_eq!(std::fs::metadata(sibling(&path, "-wal")).unwrap().len(), 0);
        let entries = store.audit_entries().await.unwrap();
        crate::domain::audit::verify_chain(&entries).unwrap();
        let mut actions: Vec<_> = entries.iter().map(|e| e.action.clone()).collect();
        actions.sort();
        let mut expected: Vec<_> = (0..200).map(|i| format!("read {i}")).collect();
        expected.sort();
        assert_eq!(actions, expected);
    }

    /// The truncating checkpoints run in the audit group's turn: while the turn is taken (here
    /// by the test, standing in for a group commit), settling a written WAL waits for it, and
    /// goes on once it is let go.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn settling_the_wal_takes_the_audit_groups_turn() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bisik.sqlite");
        let store = Store::open(&path).await.unwrap();
        store
            .append_audit("2026-12-03T09:00:00Z", "health/ani", "read", None)
            .await
            .unwrap();
        assert!(std::fs::metadata(sibling(&path, "-wal")).unwrap().len() > 0);
        let day = crate::domain::clock::parse_day("2026-12-03").unwrap();
        let turn = store.audit_group.turn().await;
        let settling = {
            let store = store.clone();
            tokio::spawn(async move { store.settle_wal(day).await })
        };
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(
            !settling.is_finished(),
            "settled without the audit group's turn"
        );
        drop(turn);
        let settled = tokio::time::timeout(Duration::from_secs(30), settling)
            .await
            .expect("settled once the turn was let go");
        assert!(settled.unwrap().unwrap());
        assert_eq!(std::fs::metadata(sibling(&path, "-wal")).unwrap().len(), 0);
    }

    /// SQLite is built with `.cargo/config.toml`'s flags: without them every malloc and free in
    /// SQLite takes one global mutex (memory statistics) and every page fetched from the cache
    /// another (page caches shared across connections); without them a list under 16 members
    /// costs the server about a fifth less CPU (BENCHMARKS.md T). A build without the file would
    /// pass every other test.
    #[tokio::test]
    async fn sqlite_is_built_without_its_global_memory_locks() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("bisik.sqlite")).await.unwrap();
        let options: Vec<String> =
            query_scalar("SELECT compile_options FROM pragma_compile_options")
                .fetch_all(&store.pool)
                .await
                .unwrap();
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "SQLite counts its memory under a global mutex: {options:?}"
        );
        assert!(
            !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
            "SQLite's page caches share one mutex: {options:?}"
        );
    }
}
