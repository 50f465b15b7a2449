//! PostgreSQL, for several `bisik serve` instances sharing one database.
//!
//! The same SQL as SQLite runs here (see [`super::dialect`]); what this module adds is the
//! connection: TLS, the password from a file, the pool size, and the settings each connection
//! must have. Writes that read and then write shared state (the next `seq` of a case, the audit
//! chain's head) take one transaction-scoped advisory lock, so they stay as serial across
//! instances as SQLite's single writer keeps them in one process; reads and citizens' new reports
//! take no lock.

use std::path::PathBuf;
use std::time::Duration;

use sqlx::ConnectOptions as _;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::postgres::PgConnectOptions;
use tracing::instrument;

use super::dialect::Backend;
use super::{Store, StoreError, read_pool};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Every connection: a commit is durable (flushed on the server, and on a synchronous standby
/// when one is configured) before the statement returns — so before a receipt is shown.
pub(super) const SETTINGS: &str =
    "SET synchronous_commit = on; SET default_transaction_isolation = 'read committed';";

/// A pooled connection idle this long is pinged before it is handed out ([`Store::connect_postgres`]).
pub const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// How to reach the database. `Debug` never shows the URL (it may carry a password).
#[derive(Clone)]
pub struct PostgresOptions {
    /// `postgres://user@host:port/db` or `postgres://user@/db?host=/run/postgresql`.
    pub url: String,
    /// A file whose first line is the password (kept out of the URL and the config file).
    pub password_file: Option<PathBuf>,
    /// Connections per pool: an instance has one for requests' reads and one for the rest
    /// (and one connection for its audit commits).
    pub pool_size: u32,
    /// Verify the server's certificate against this CA (PEM); TLS is then required.
    pub ca_file: Option<PathBuf>,
}

impl std::fmt::Debug for PostgresOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresOptions")
            .field("pool_size", &self.pool_size)
            .field("ca_file", &self.ca_file)
            .finish_non_exhaustive()
    }
}

fn config_error(what: &str) -> StoreError {
    StoreError::Db(sqlx::Error::Configuration(what.to_owned().into()))
}

impl PostgresOptions {
    /// The URL with the password and TLS settings applied.
    fn connect_url(&self) -> Result<url::Url, StoreError> {
        let mut url = url::Url::parse(&self.url)
            .map_err(|_| config_error("database url is not a valid postgres:// URL"))?;
        if !matches!(url.scheme(), "postgres" | "postgresql") {
            return Err(config_error("database url must start with postgres://"));
        }
        if let Some(file) = &self.password_file {
            let text =
                std::fs::read_to_string(file).map_err(|e| StoreError::Db(sqlx::Error::Io(e)))?;
            let password = text.lines().next().unwrap_or("").trim_end();
            url.set_password(Some(password))
                .map_err(|()| config_error("database url cannot carry a password"))?;
        }
        if let Some(ca) = &self.ca_file {
            let ca = ca
                .to_str()
                .ok_or_else(|| config_error("database CA file path is not UTF-8"))?;
            url.query_pairs_mut()
                .append_pair("sslmode", "verify-full")
                .append_pair("sslrootcert", ca);
        }
        Ok(url)
    }
}

impl Store {
    /// Connects to PostgreSQL and runs its migrations (sqlx takes an advisory lock for them,
    /// so instances starting together migrate once).
    #[instrument(skip_all)]
    pub async fn connect_postgres(options: &PostgresOptions) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let url = options.connect_url()?;
        let any = AnyConnectOptions::from_url(&url)?;
        let pool_options = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(30))
            // sqlx pings every connection it hands out and every one given back. A connection
            // given back moments ago was pinged then: one more round trip to find it alive
            // cost every request one or two (BENCHMARKS.md X). Only a connection idle long
            // enough for the server to have gone (a restart, a failover, a killed backend) is
            // pinged first; one that fails is closed and another taken. (Reads have a pool of
            // their own without the ping on giving back: [`read_pool`].)
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= PING_AFTER_IDLE {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::raw_sql(SETTINGS).execute(&mut *conn).await?;
                    Ok(())
                })
            });
        let pool = pool_options
            .clone()
            .max_connections(options.pool_size.max(1))
            .connect_with(any.clone())
            .await?;
        MIGRATOR.run(&pool).await?;
        // The audit group's commits have a connection of their own ([`Store::audit_pool`]).
        let audit_pool = pool_options
            .max_connections(1)
            .connect_with(any.clone())
            .await?;
        Ok(Self {
            pool,
            // Reads run on the driver's own connections, not `Any`'s ([`super::Reads`]).
            read_pool: Some(read_pool::new(
                PgConnectOptions::from_url(&url)?,
                options.pool_size,
            )?),
            backend: Backend::Postgres,
            path: None,
            audit_group: std::sync::Arc::default(),
            audit_pool,
        })
    }
}

/// For the crate's own tests in the PostgreSQL pass: a fresh database on the cluster
/// `BISIK_TEST_DATABASE_URL` names, or `None` in the SQLite pass. Panics if the cluster named
/// cannot give one (a PostgreSQL pass must not pass without PostgreSQL).
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) async fn fresh_test_database() -> Option<String> {
    use sqlx::Connection as _;
    let base = std::env::var("BISIK_TEST_DATABASE_URL")
        .ok()
        .filter(|v| !v.is_empty())?;
    sqlx::any::install_default_drivers();
    let mut name = [0u8; 8];
    getrandom::fill(&mut name).unwrap();
    let name = format!(
        "bisik_u_{}",
        name.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let mut admin = sqlx::AnyConnection::connect(&base).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let mut url = url::Url::parse(&base).unwrap();
    url.set_path(&format!("/{name}"));
    Some(url.to_string())
}

/// For the crate's own tests: an instance on the test database `url`
/// ([`fresh_test_database`]) with a pool of `pool_size`.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) async fn test_instance(url: &str, pool_size: u32) -> Store {
    Store::connect_postgres(&PostgresOptions {
        url: url.to_owned(),
        password_file: None,
        pool_size,
        ca_file: None,
    })
    .await
    .unwrap()
}
