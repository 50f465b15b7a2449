//! The store contract's database: SQLite in a temp folder, or a fresh PostgreSQL database when
//! `BISIK_TEST_DATABASE_URL` names a cluster; and a stand-in case to put in it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use bisik::crypto::kdf::KdfParams;
use bisik::domain::case::{Kind, Privacy};
use bisik::store::{NewCase, PostgresOptions, Store};
use time::macros::date;

/// One database, and a way to open it again (another instance).
pub struct Db {
    _dir: tempfile::TempDir,
    url: Option<String>,
}

impl Db {
    pub fn new() -> Self {
        Self {
            _dir: tempfile::tempdir().unwrap(),
            url: super::fresh_postgres_database(),
        }
    }

    pub async fn open(&self) -> Store {
        match &self.url {
            Some(url) => Store::connect_postgres(&PostgresOptions {
                url: url.clone(),
                password_file: None,
                pool_size: 8,
                ca_file: None,
            })
            .await
            .unwrap(),
            None => Store::open(&self._dir.path().join("bisik.sqlite"))
                .await
                .unwrap(),
        }
    }

    /// The PostgreSQL database's URL; `None` in the SQLite pass.
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }
}

impl Db {
    /// Runs `sqlite` or `postgres` (whichever this database is) on a connection of its own,
    /// beside any store open on it: for tests that must put the schema back as an older
    /// version left it.
    pub async fn raw_sql(&self, sqlite: &str, postgres: &str) {
        sqlx::any::install_default_drivers();
        let (url, sql) = match &self.url {
            Some(url) => (url.clone(), postgres),
            None => (
                format!("sqlite:{}", self._dir.path().join("bisik.sqlite").display()),
                sqlite,
            ),
        };
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::Connection::close(conn).await.unwrap();
    }
}

pub fn case<'a>(id: &'a str, lookup_id: u32, reporter: &'a str) -> NewCase<'a> {
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
        due_on: Some(date!(2026 - 11 - 30)),
        channel: "web",
        attachments: &[],
    }
}

/// An audit entry of the health office's member `ani` on `case_id`, for store calls that write
/// one with their act.
pub fn audit(action: &str, case_id: &str) -> bisik::domain::audit::AuditNew {
    bisik::domain::audit::AuditNew {
        at: "2026-11-25T09:00:00Z".into(),
        actor: "health/ani".into(),
        action: action.into(),
        case_id: Some(case_id.into()),
    }
}

pub fn reporter() -> String {
    age::x25519::Identity::generate().to_public().to_string()
}
