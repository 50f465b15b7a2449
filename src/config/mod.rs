//! One `Config`, read from a TOML file (and a few environment variables), validated at start.
//!
//! Relative paths in the file are resolved against the file's own folder so a deployment can be
//! moved as one directory. The file itself is refused if it holds an age secret key, like every
//! file under `keys/` (DESIGN 2.1).

mod database;
mod days;
pub mod keys;
mod mail;
mod webhooks;

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;

use crate::crypto::kdf::KdfParams;
use crate::domain::calendar::Calendar;
use crate::domain::clock::Zone;
use crate::domain::deadline::DeadlineRules;

use crate::domain::report::{Category, TextLimits};
pub use database::Database;
use days::{CalendarConfig, SiteConfig, load_calendar, load_zone};
pub use mail::{MailConfig, MailTls, Password};
pub use webhooks::WebhooksConfig;

/// Where the server listens. A C tor onion service in front talks to either.
#[derive(Clone, PartialEq, Eq)]
pub enum Listen {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

impl fmt::Debug for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Listen::Tcp(a) => write!(f, "{a}"),
            Listen::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

impl Listen {
    pub fn parse(s: &str) -> Result<Self, ConfigError> {
        if let Some(path) = s.strip_prefix("unix:") {
            if path.is_empty() {
                return Err(ConfigError::Invalid(
                    "listen: unix: needs a socket path".into(),
                ));
            }
            return Ok(Listen::Unix(PathBuf::from(path)));
        }
        s.parse::<SocketAddr>().map(Listen::Tcp).map_err(|_| {
            ConfigError::Invalid(format!("listen: {s:?} is neither host:port nor unix:/path"))
        })
    }
}

/// HTTP-level limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Largest request body accepted, in bytes. Over it, the citizen gets a clear page.
    pub request_body_max_bytes: usize,
    /// Whole-request deadline, seconds.
    pub request_timeout_secs: u64,
    /// Extra origins allowed to POST (e.g. `https://lapor.example` behind a proxy that rewrites
    /// `Host`). Same-origin requests never need this.
    pub trusted_origins: Vec<String>,
    /// Deadline for requests that carry files (they may be large, over Tor), seconds.
    pub upload_timeout_secs: u64,
    /// Deadline for a client to send a request's head, seconds (slow clients are cut off).
    pub header_timeout_secs: u64,
    /// Expect tor's PROXY v1 line (`HiddenServiceExportCircuitID haproxy`) on every connection
    /// and rate-limit per circuit as well.
    pub proxy_protocol: bool,
    /// Permissions of the unix socket (octal), e.g. "0660" so only the tor user's group can use it.
    pub unix_socket_mode: String,
    /// With `onion_address`: this service is also reached over clearnet HTTPS at this origin,
    /// and pages tell Tor Browser about the onion address (`Onion-Location`).
    pub clearnet_origin: Option<String>,
    /// The onion service's address, e.g. `http://xxxxxxxx.onion`.
    pub onion_address: Option<String>,
    /// Connections open at once; at the cap the server stops accepting until one closes (so it
    /// never runs out of file descriptors).
    pub max_connections: usize,
    /// Citizen uploads (reports with files, files added from the status page) in flight at
    /// once; one more is answered "busy, nothing saved" at once.
    pub max_uploads: usize,
    /// An upload must bring at least `upload_min_bytes` in every `upload_rate_window_secs`
    /// spent waiting for it; a slower one is cut off.
    pub upload_min_bytes: u64,
    pub upload_rate_window_secs: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            request_body_max_bytes: 1024 * 1024,
            request_timeout_secs: 30,
            trusted_origins: vec![],
            upload_timeout_secs: 1800,
            header_timeout_secs: 10,
            proxy_protocol: false,
            unix_socket_mode: "0660".into(),
            clearnet_origin: None,
            onion_address: None,
            max_connections: 512,
            max_uploads: 32,
            upload_min_bytes: 1024,
            upload_rate_window_secs: 20,
        }
    }
}

/// Global token buckets. No per-IP anything: the server never sees who is asking.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateConfig {
    pub submissions_per_minute: u32,
    pub submission_burst: u32,
    pub status_checks_per_minute: u32,
    pub status_check_burst: u32,
    /// Per tor circuit (only with `http.proxy_protocol`).
    pub per_circuit_submissions_per_minute: u32,
    pub per_circuit_submission_burst: u32,
    pub per_circuit_status_checks_per_minute: u32,
    pub per_circuit_status_check_burst: u32,
    /// Public statistics (`/stats`, `/stats.json`, `/stats.csv`): a bucket of their own, so
    /// fetching them can neither cost the server much nor use up receipt checks.
    pub stats_per_minute: u32,
    pub stats_burst: u32,
    pub per_circuit_stats_per_minute: u32,
    pub per_circuit_stats_burst: u32,
    /// Submissions allowed to wait for the key derivation; more are turned away at once with a
    /// "busy" page, so a flood cannot stall receipt checks behind it.
    pub max_waiting_submissions: usize,
}

impl Default for RateConfig {
    fn default() -> Self {
        Self {
            submissions_per_minute: 60,
            submission_burst: 20,
            status_checks_per_minute: 240,
            status_check_burst: 40,
            per_circuit_submissions_per_minute: 6,
            per_circuit_submission_burst: 3,
            per_circuit_status_checks_per_minute: 20,
            per_circuit_status_check_burst: 5,
            stats_per_minute: 120,
            stats_burst: 30,
            per_circuit_stats_per_minute: 20,
            per_circuit_stats_burst: 10,
            max_waiting_submissions: 4,
        }
    }
}

/// The database and blob files on disk.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// How often the SQLite WAL is emptied (checkpointed and truncated) and the data files'
    /// times are set back to the day, seconds: the longest the order of recent writes stays in
    /// the WAL (SECURITY.md, "File times and write order").
    pub wal_checkpoint_secs: u64,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            wal_checkpoint_secs: 60,
        }
    }
}

/// Public statistics.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StatsConfig {
    /// Statistics are counted at most once per this many seconds and served from memory
    /// meanwhile (0: counted for every request).
    pub cache_secs: u64,
}

impl Default for StatsConfig {
    fn default() -> Self {
        Self { cache_secs: 300 }
    }
}

/// Evidence uploads.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttachmentConfig {
    pub max_file_bytes: u64,
    pub max_report_bytes: u64,
    pub max_files: usize,
    /// Remove EXIF/XMP/text metadata from JPEG and PNG images (the citizen can opt out).
    pub scrub_images: bool,
    /// Images are held in memory to be scrubbed; larger ones are stored as sent (and flagged).
    pub scrub_max_bytes: u64,
    /// New files are refused (the form kept) while the data folder's disk has less free space
    /// than this. Unset: 1 GiB, or a tenth of the disk if that is less.
    pub min_free_disk_bytes: Option<u64>,
}

impl AttachmentConfig {
    /// The free space to keep on a disk of `total` bytes.
    pub fn free_disk_floor(&self, total: u64) -> u64 {
        self.min_free_disk_bytes
            .unwrap_or_else(|| (1024 * 1024 * 1024).min(total / 10))
    }
}

impl Default for AttachmentConfig {
    fn default() -> Self {
        Self {
            max_file_bytes: 100 * 1024 * 1024,
            max_report_bytes: 500 * 1024 * 1024,
            max_files: 20,
            scrub_images: true,
            scrub_max_bytes: 32 * 1024 * 1024,
            min_free_disk_bytes: None,
        }
    }
}

/// Member sessions.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    pub ttl_secs: i64,
    pub challenge_ttl_secs: i64,
    /// Session lifetime of machine members (role `integration`): 12 hours by default, at most
    /// 7 days. People keep `ttl_secs`.
    pub integration_ttl_secs: i64,
}

/// The longest session a machine member may be given.
pub const MAX_INTEGRATION_TTL_SECS: i64 = 7 * 24 * 3600;

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            ttl_secs: 15 * 60,
            challenge_ttl_secs: 120,
            integration_ttl_secs: 12 * 3600,
        }
    }
}

/// Reads a file that the configuration is or names, refusing it if it holds an age secret key
/// (in any letter case, DESIGN 2.1). Every file read because of the configuration goes through
/// here — the configuration itself and the holiday calendars; `keys/` is scanned whole by
/// [`keys::load_directory`]. A new setting naming a file must read it with this too.
fn read_named_file(path: &Path) -> Result<String, ConfigError> {
    let read_error = |source| ConfigError::Read {
        path: path.to_owned(),
        source,
    };
    let bytes = std::fs::read(path).map_err(read_error)?;
    if keys::holds_secret_key(&bytes) {
        return Err(ConfigError::SecretKeyFound(path.to_owned()));
    }
    String::from_utf8(bytes)
        .map_err(|e| read_error(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
}

/// `[kdf]`: the Argon2id cost of new receipts, and the most any receipt may cost to check.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
struct KdfConfig {
    #[serde(default = "default_memory_kib")]
    memory_kib: u32,
    #[serde(default = "default_iterations")]
    iterations: u32,
    #[serde(default = "default_parallelism")]
    parallelism: u32,
    /// Upper bounds for parameters stored with a case (staff intake sends its own): a stored
    /// value above them is never run. Never below the parameters above.
    max_memory_kib: Option<u32>,
    max_iterations: Option<u32>,
    max_parallelism: Option<u32>,
}

fn default_memory_kib() -> u32 {
    KdfParams::default().memory_kib
}
fn default_iterations() -> u32 {
    KdfParams::default().iterations
}
fn default_parallelism() -> u32 {
    KdfParams::default().parallelism
}

impl Default for KdfConfig {
    fn default() -> Self {
        let d = KdfParams::default();
        Self {
            memory_kib: d.memory_kib,
            iterations: d.iterations,
            parallelism: d.parallelism,
            max_memory_kib: None,
            max_iterations: None,
            max_parallelism: None,
        }
    }
}

/// Default upper bounds for Argon2id parameters (see `crypto::kdf::DEFAULT_MAX`).
pub const DEFAULT_KDF_MAX: KdfParams = crate::crypto::kdf::DEFAULT_MAX;

impl KdfConfig {
    fn params(&self) -> KdfParams {
        KdfParams {
            memory_kib: self.memory_kib,
            iterations: self.iterations,
            parallelism: self.parallelism,
        }
    }

    fn max(&self) -> KdfParams {
        let m = DEFAULT_KDF_MAX;
        KdfParams {
            memory_kib: self
                .max_memory_kib
                .unwrap_or(m.memory_kib.max(self.memory_kib)),
            iterations: self
                .max_iterations
                .unwrap_or(m.iterations.max(self.iterations)),
            parallelism: self
                .max_parallelism
                .unwrap_or(m.parallelism.max(self.parallelism)),
        }
    }
}

/// The file as written by the operator.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    keys_dir: Option<PathBuf>,
    #[serde(default)]
    kdf: KdfConfig,
    #[serde(default)]
    limits: TextLimits,
    #[serde(default)]
    http: HttpConfig,
    #[serde(default)]
    rate: RateConfig,
    #[serde(default)]
    session: SessionConfig,
    #[serde(default)]
    categories: Vec<Category>,
    #[serde(default)]
    calendar: CalendarConfig,
    #[serde(default)]
    deadlines: DeadlineRules,
    #[serde(default)]
    attachments: AttachmentConfig,
    #[serde(default)]
    storage: StorageConfig,
    #[serde(default)]
    stats: StatsConfig,
    #[serde(default)]
    site: SiteConfig,
    #[serde(default)]
    webhooks: WebhooksConfig,
    #[serde(default)]
    mail: Option<mail::RawMail>,
    #[serde(default)]
    database: database::RawDatabase,
}

/// Everything the server needs to start, validated.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: Listen,
    pub data_dir: PathBuf,
    pub keys_dir: PathBuf,
    pub kdf: KdfParams,
    /// The most a receipt's Argon2id may cost (see `[kdf] max_*`).
    pub kdf_max: KdfParams,
    pub limits: TextLimits,
    pub http: HttpConfig,
    pub rate: RateConfig,
    pub session: SessionConfig,
    pub categories: Vec<Category>,
    /// Weekends and holidays: what a working day is.
    pub calendar: Calendar,
    pub deadlines: DeadlineRules,
    pub attachments: AttachmentConfig,
    pub storage: StorageConfig,
    pub stats: StatsConfig,
    /// The zone every day is counted in (`[site] time_zone`, default Asia/Jakarta): the day a
    /// report is dated, deadlines, months in the statistics, the day files are dated at rest.
    pub time_zone: Zone,
    pub webhooks: WebhooksConfig,
    /// `[mail]`: the SMTP relay for officers' digests; none: no mail is sent.
    pub mail: Option<MailConfig>,
    /// `[database]`: SQLite in `data_dir` or PostgreSQL.
    pub database: Database,
}

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid configuration: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid configuration: {0}")]
    Invalid(String),
    #[error(
        "refusing to start: {0} holds an age secret key (AGE-SECRET-KEY-…). The server must only \
         ever see public recipients (age1…). Move the identity off this machine and put its \
         recipient (age-keygen -y) in the file instead."
    )]
    SecretKeyFound(PathBuf),
    #[error(transparent)]
    Keys(#[from] keys::KeysError),
}

impl Config {
    /// Reads and validates a config file. Environment variables `BISIK_LISTEN`,
    /// `BISIK_DATA_DIR` and `BISIK_KEYS_DIR` override the file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = read_named_file(path)?;
        let raw: RawConfig = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let listen = env("BISIK_LISTEN")
            .or(raw.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let data_dir = env("BISIK_DATA_DIR")
            .map(PathBuf::from)
            .or(raw.data_dir)
            .unwrap_or_else(|| "data".into());
        let keys_dir = env("BISIK_KEYS_DIR")
            .map(PathBuf::from)
            .or(raw.keys_dir)
            .unwrap_or_else(|| "keys".into());
        let config = Config {
            listen: Listen::parse(&listen)?,
            data_dir: base.join(data_dir),
            keys_dir: base.join(keys_dir),
            kdf: raw.kdf.params(),
            kdf_max: raw.kdf.max(),
            limits: raw.limits,
            http: raw.http,
            rate: raw.rate,
            session: raw.session,
            categories: raw.categories,
            calendar: load_calendar(&base, &raw.calendar)?,
            deadlines: raw.deadlines,
            attachments: raw.attachments,
            storage: raw.storage,
            stats: raw.stats,
            time_zone: load_zone(&raw.site)?,
            webhooks: raw.webhooks,
            mail: raw.mail.map(|m| m.load(&base)).transpose()?,
            database: raw.database.load(&base, env("BISIK_DATABASE_URL"))?,
        };
        config.validate()?;
        Ok(config)
    }

    /// Defaults for a given data and keys folder (demo and tests).
    pub fn with_dirs(data_dir: PathBuf, keys_dir: PathBuf) -> Self {
        Self {
            listen: Listen::Tcp(SocketAddr::from(([127, 0, 0, 1], 8080))),
            data_dir,
            keys_dir,
            kdf: KdfParams::default(),
            kdf_max: DEFAULT_KDF_MAX,
            limits: TextLimits::default(),
            http: HttpConfig::default(),
            rate: RateConfig::default(),
            session: SessionConfig::default(),
            categories: vec![],
            calendar: Calendar::default(),
            deadlines: DeadlineRules::default(),
            attachments: AttachmentConfig::default(),
            storage: StorageConfig::default(),
            stats: StatsConfig::default(),
            time_zone: Zone::default(),
            webhooks: WebhooksConfig::default(),
            mail: None,
            database: Database::Sqlite,
        }
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        self.kdf
            .validate()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        let (k, m) = (&self.kdf, &self.kdf_max);
        if m.memory_kib < k.memory_kib
            || m.iterations < k.iterations
            || m.parallelism < k.parallelism
        {
            return Err(ConfigError::Invalid(
                "kdf.max_memory_kib, kdf.max_iterations and kdf.max_parallelism must not be \
                 below memory_kib, iterations and parallelism"
                    .into(),
            ));
        }
        let l = &self.limits;
        if [l.title, l.body, l.location, l.identity, l.message].contains(&0) {
            return Err(ConfigError::Invalid(
                "limits must be greater than zero".into(),
            ));
        }
        if self.http.request_body_max_bytes < 16 * 1024 {
            return Err(ConfigError::Invalid(
                "http.request_body_max_bytes must be at least 16384".into(),
            ));
        }
        let h = &self.http;
        if [
            h.request_timeout_secs,
            h.upload_timeout_secs,
            h.header_timeout_secs,
        ]
        .contains(&0)
        {
            return Err(ConfigError::Invalid(
                "http timeouts (request, upload, header) must be greater than zero".into(),
            ));
        }
        if [h.max_connections, h.max_uploads].contains(&0) || h.upload_rate_window_secs == 0 {
            return Err(ConfigError::Invalid(
                "http.max_connections, http.max_uploads and http.upload_rate_window_secs must \
                 be greater than zero"
                    .into(),
            ));
        }
        let r = &self.rate;
        if [
            r.submissions_per_minute,
            r.submission_burst,
            r.status_checks_per_minute,
            r.status_check_burst,
            r.stats_per_minute,
            r.stats_burst,
        ]
        .contains(&0)
        {
            return Err(ConfigError::Invalid(
                "rate limits must be greater than zero".into(),
            ));
        }
        if !(1..=3600).contains(&self.storage.wal_checkpoint_secs) {
            return Err(ConfigError::Invalid(
                "storage.wal_checkpoint_secs must be between 1 and 3600".into(),
            ));
        }
        if self.session.ttl_secs <= 0 || self.session.challenge_ttl_secs <= 0 {
            return Err(ConfigError::Invalid(
                "session lifetimes must be positive".into(),
            ));
        }
        if !(1..=MAX_INTEGRATION_TTL_SECS).contains(&self.session.integration_ttl_secs) {
            return Err(ConfigError::Invalid(format!(
                "session.integration_ttl_secs must be between 1 and {MAX_INTEGRATION_TTL_SECS} (7 days)"
            )));
        }
        let w = &self.webhooks;
        if crate::domain::webhook::parse_time_of_day(&w.citizen_release_time).is_none() {
            return Err(ConfigError::Invalid(format!(
                "webhooks.citizen_release_time {:?} is not HH:MM",
                w.citizen_release_time
            )));
        }
        if w.max_attempts == 0
            || w.retry_base_secs == 0
            || w.retry_cap_secs < w.retry_base_secs
            || w.timeout_secs == 0
            || w.concurrency == 0
            || w.poll_secs == 0
        {
            return Err(ConfigError::Invalid(
                "webhooks: max_attempts, retry_base_secs, timeout_secs, concurrency and \
                 poll_secs must be greater than zero, retry_cap_secs not below retry_base_secs"
                    .into(),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for c in &self.categories {
            if c.slug.is_empty() || !seen.insert(c.slug.as_str()) {
                return Err(ConfigError::Invalid(format!(
                    "category {:?} is empty or declared twice",
                    c.slug
                )));
            }
        }
        Ok(())
    }

    /// The SQLite database file.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("bisik.sqlite")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_forms() {
        assert_eq!(
            Listen::parse("127.0.0.1:9000").unwrap(),
            Listen::Tcp("127.0.0.1:9000".parse().unwrap())
        );
        assert_eq!(
            Listen::parse("unix:/tmp/b.sock").unwrap(),
            Listen::Unix("/tmp/b.sock".into())
        );
        assert!(Listen::parse("unix:").is_err());
        assert!(Listen::parse("localhost").is_err());
    }

    #[test]
    fn config_file_with_a_secret_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bisik.toml");
        std::fs::write(
            &p,
            format!(
                "# {}QQQ\nlisten = \"127.0.0.1:1\"\n",
                crate::crypto::SECRET_KEY_PREFIX
            ),
        )
        .unwrap();
        assert!(matches!(
            Config::load(&p),
            Err(ConfigError::SecretKeyFound(_))
        ));
    }

    #[test]
    fn relative_paths_follow_the_file_and_unknown_keys_fail() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bisik.toml");
        std::fs::write(
            &p,
            "data_dir = \"d\"\n[kdf]\nmemory_kib = 1024\niterations = 1\nparallelism = 1\n",
        )
        .unwrap();
        let c = Config::load(&p).unwrap();
        assert_eq!(c.data_dir, dir.path().join("d"));
        assert_eq!(c.kdf.memory_kib, 1024);
        std::fs::write(&p, "dat_dir = \"d\"\n").unwrap();
        assert!(matches!(Config::load(&p), Err(ConfigError::Parse { .. })));
    }

    #[test]
    fn the_time_zone_defaults_to_wib_and_a_wrong_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bisik.toml");
        std::fs::write(&p, "").unwrap();
        assert_eq!(Config::load(&p).unwrap().time_zone.name(), "Asia/Jakarta");
        std::fs::write(&p, "[site]\ntime_zone = \"WIT\"\n").unwrap();
        assert_eq!(Config::load(&p).unwrap().time_zone.name(), "Asia/Jayapura");
        std::fs::write(&p, "[site]\ntime_zone = \"Asia/Atlantis\"\n").unwrap();
        let e = Config::load(&p).unwrap_err().to_string();
        assert!(
            e.contains("site.time_zone") && e.contains("Asia/Atlantis"),
            "{e}"
        );
    }
}
