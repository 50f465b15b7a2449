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
    /// Connections per instance (PostgreSQL); default 16.
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
