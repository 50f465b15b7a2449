//! `[database]`: SQLite in the data folder (the default) or PostgreSQL for several instances.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{Config, ConfigError};
use crate::store::{PostgresOptions, Store, StoreError};

/// `[database]` as written by the operator.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDatabase {
    /// `postgres://user@host:port/name`; absent: SQLite (`bisik.sqlite` in `data_dir`).
    url: Option<String>,
    /// The password, first line of this file (never in the URL or this file).
    password_file: Option<PathBuf>,
    /// Connections per pool (PostgreSQL: one pool for reads, one for the rest); default 16.
    pool_size: Option<u32>,
    /// Verify the database server's TLS certificate against this CA (PEM file): TLS required.
    ca_file: Option<PathBuf>,
}

/// Where the cases live.
#[derive(Debug, Clone, Default)]
pub enum Database {
    /// `bisik.sqlite` in the data folder.
    #[default]
    Sqlite,
    Postgres(PostgresOptions),
}

impl RawDatabase {
    /// `BISIK_DATABASE_URL` overrides `url`; relative files are read from the config's folder.
    pub(super) fn load(
        self,
        base: &Path,
        env_url: Option<String>,
    ) -> Result<Database, ConfigError> {
        let Some(url) = env_url.or(self.url) else {
            if self.password_file.is_some() || self.ca_file.is_some() || self.pool_size.is_some() {
                return Err(ConfigError::Invalid(
                    "[database] password_file, pool_size and ca_file need a postgres:// url".into(),
                ));
            }
            return Ok(Database::Sqlite);
        };
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(ConfigError::Invalid(
                "[database] url must be a postgres:// URL (leave it out for SQLite)".into(),
            ));
        }
        let pool_size = self.pool_size.unwrap_or(16);
        if pool_size == 0 {
            return Err(ConfigError::Invalid(
                "[database] pool_size must be at least 1".into(),
            ));
        }
        Ok(Database::Postgres(PostgresOptions {
            url,
            password_file: self.password_file.map(|p| base.join(p)),
            pool_size,
            ca_file: self.ca_file.map(|p| base.join(p)),
        }))
    }
}

impl Config {
    /// Opens the configured database (running its migrations).
    pub async fn open_store(&self) -> Result<Store, StoreError> {
        match &self.database {
            Database::Sqlite => Store::open(&self.database_path()).await,
            Database::Postgres(o) => Store::connect_postgres(o).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_is_sqlite_unless_a_postgres_url_is_given() {
        // Runs only where the environment names no database (CI's PostgreSQL pass sets the
        // tests' own variable, never BISIK_DATABASE_URL).
        if std::env::var_os("BISIK_DATABASE_URL").is_some() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bisik.toml");
        std::fs::write(&p, "").unwrap();
        assert!(matches!(
            Config::load(&p).unwrap().database,
            Database::Sqlite
        ));
        std::fs::write(
            &p,
            "[database]\nurl = \"postgres://bisik@db/bisik\"\npassword_file = \"pw\"\n",
        )
        .unwrap();
        let c = Config::load(&p).unwrap();
        let Database::Postgres(o) = &c.database else {
            panic!("not PostgreSQL")
        };
        assert_eq!(o.pool_size, 16);
        assert_eq!(
            o.password_file.as_deref(),
            Some(dir.path().join("pw").as_path())
        );
        // The URL (it may carry a password) is not in the debug output.
        assert!(!format!("{c:?}").contains("db/bisik"));
        for bad in [
            "[database]\nurl = \"mysql://x/y\"\n",
            "[database]\npool_size = 4\n",
            "[database]\nurl = \"postgres://x/y\"\npool_size = 0\n",
        ] {
            std::fs::write(&p, bad).unwrap();
            let e = Config::load(&p).unwrap_err().to_string();
            assert!(e.contains("[database]"), "{bad}: {e}");
        }
    }
}
