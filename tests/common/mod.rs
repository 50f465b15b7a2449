//! Shared test harness: a demo-shaped fixture in a temp folder, the real router in-process, and
//! the real `bisik` binary as a server process. Nothing is mocked.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use age::x25519;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use bisik::config::Config;
use bisik::domain::clock::FixedClock;
use bisik::service::App;
use http_body_util::BodyExt;
use tower::ServiceExt;

pub mod desk;
pub mod store;
pub mod tls;
pub mod typage;
pub mod webdriver;

/// Cheap Argon2id for tests that run many checks. Tests that prove the receipt path also run
/// the production parameters (the default, `PRODUCTION_KDF`).
pub const CHEAP_KDF: &str = "[kdf]\nmemory_kib = 1024\niterations = 1\nparallelism = 1\n";
pub const PRODUCTION_KDF: &str = "";

/// The PostgreSQL pass: `BISIK_TEST_DATABASE_URL` names a throw-away cluster
/// (`tests/support/pg_cluster.sh`); every fixture then gets a database of its own there.
pub const PG_URL_VAR: &str = "BISIK_TEST_DATABASE_URL";

/// True in the PostgreSQL pass.
pub fn on_postgres() -> bool {
    std::env::var(PG_URL_VAR).is_ok_and(|v| !v.is_empty())
}

/// For a test about SQLite's own files (the WAL, file times, a full disk): true (and a line
/// saying so) in the PostgreSQL pass, where the test has nothing to look at. It runs in the
/// SQLite pass.
pub fn sqlite_only(what: &str) -> bool {
    if on_postgres() {
        eprintln!("SQLite only, runs in the SQLite pass: {what}");
    }
    on_postgres()
}

/// A new, empty database in the PostgreSQL pass's cluster (none outside that pass).
pub fn fresh_postgres_database() -> Option<String> {
    let base = std::env::var(PG_URL_VAR).ok().filter(|v| !v.is_empty())?;
    let mut name = [0u8; 8];
    getrandom::fill(&mut name).unwrap();
    let name = format!(
        "bisik_t_{}",
        name.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    // FILE_COPY: the template is copied as files, not written through the WAL (which every
    // canary hunt reads).
    let out = Command::new("psql")
        .arg(&base)
        .args(["-q", "-v", "ON_ERROR_STOP=1", "-c"])
        .arg(format!("CREATE DATABASE {name} STRATEGY = FILE_COPY"))
        .output()
        .expect("psql (the PostgreSQL pass needs the client)");
    assert!(
        out.status.success(),
        "CREATE DATABASE: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut url = url::Url::parse(&base).unwrap();
    url.set_path(&format!("/{name}"));
    Some(url.to_string())
}

/// The PostgreSQL URL a fixture's config names (`[database] url`), if any.
pub fn fixture_database_url(data_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(data_dir.join("bisik.toml")).ok()?;
    let doc: toml::Table = text.parse().ok()?;
    Some(doc.get("database")?.get("url")?.as_str()?.to_owned())
}

/// Runs `sql` on a fixture's database (SQLite file or PostgreSQL) and returns each row's first
/// column as text: for tests that look at or change what is stored behind the server's back.
pub fn db_sql(data_dir: &Path, sql: &str) -> Vec<String> {
    if let Some(url) = fixture_database_url(data_dir) {
        let out = Command::new("psql")
            .arg(&url)
            .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .expect("psql");
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
    }
    let path = data_dir.join("bisik.sqlite");
    let sql = sql.to_owned();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            use sqlx::{ConnectOptions as _, Row as _};
            let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(&path)
                .connect()
                .await
                .unwrap();
            let rows = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut conn)
                .await
                .unwrap();
            rows.iter()
                .map(|r| {
                    r.try_get::<String, _>(0)
                        .or_else(|_| r.try_get::<i64, _>(0).map(|n| n.to_string()))
                        .unwrap_or_default()
                })
                .collect()
        })
    })
    .join()
    .unwrap()
}

/// A count from [`db_sql`].
pub fn db_count(data_dir: &Path, sql: &str) -> i64 {
    db_sql(data_dir, sql)[0].trim().parse().unwrap()
}

/// The files that hold a fixture's database at rest. SQLite: its file, WAL and index in the
/// data folder. PostgreSQL (after a checkpoint, so every page is on disk): the database's own
/// folder in the cluster, and — with `shared` — the cluster's WAL and the server's log, which
/// every test's database writes to (scan those only for a test's own random canaries).
pub fn database_files(data_dir: &Path, shared: bool) -> Vec<PathBuf> {
    let Some(url) = fixture_database_url(data_dir) else {
        return all_files(data_dir)
            .into_iter()
            .filter(|f| {
                f.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("bisik.sqlite"))
            })
            .collect();
    };
    db_sql(data_dir, "CHECKPOINT");
    let oid = db_sql(
        data_dir,
        "SELECT oid FROM pg_database WHERE datname = current_database()",
    )[0]
    .clone();
    let parsed = url::Url::parse(&url).unwrap();
    let cluster = parsed
        .query_pairs()
        .find(|(k, _)| k == "host")
        .map(|(_, v)| PathBuf::from(v.into_owned()))
        .expect("the cluster's socket folder");
    let mut files = all_files(&cluster.join("data/base").join(oid.trim()));
    if shared {
        files.extend(all_files(&cluster.join("data/pg_wal")));
        files.push(cluster.join("server.log"));
    }
    files
}

/// The demo institutions and members, in a temp folder, with extra config appended.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub config_path: PathBuf,
}

impl Fixture {
    pub fn new(extra_config: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        bisik::cli::demo::create(dir.path()).unwrap();
        let config_path = dir.path().join("bisik.toml");
        let mut text = std::fs::read_to_string(&config_path).unwrap();
        text.push('\n');
        text.push_str(extra_config);
        if let Some(url) = fresh_postgres_database() {
            text.push_str(&format!("\n[database]\nurl = \"{url}\"\npool_size = 4\n"));
        }
        std::fs::write(&config_path, text).unwrap();
        Self { dir, config_path }
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn identity_path(&self, handle: &str) -> PathBuf {
        self.dir
            .path()
            .join("identities")
            .join(format!("{handle}.txt"))
    }

    /// A member's classic identity (every demo member has one).
    pub fn identity(&self, handle: &str) -> x25519::Identity {
        classic_of(self.keys(handle))
    }

    /// Every key in a member's identity file (post-quantum first), as the CLI reads them.
    pub fn keys(&self, handle: &str) -> bisik::crypto::keys::KeyRing {
        bisik::client::read_identity(&self.identity_path(handle)).unwrap()
    }

    /// Gives every member of `institutions` (all when empty) a post-quantum key: a fresh
    /// hybrid identity appended to their identity file and its recipient as `pq_recipient` in
    /// the keys file (before starting). Returns the handles changed.
    pub fn add_post_quantum_keys(&self, institutions: &[&str]) -> Vec<String> {
        let dir = self.dir.path().join("keys/institutions");
        let mut changed = Vec::new();
        for e in std::fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            let slug = path.file_stem().unwrap().to_str().unwrap().to_owned();
            if !institutions.is_empty() && !institutions.contains(&slug.as_str()) {
                continue;
            }
            let mut doc: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
            for m in doc["members"].as_array_mut().unwrap() {
                let m = m.as_table_mut().unwrap();
                let handle = m["handle"].as_str().unwrap().to_owned();
                let id = bisik::crypto::pq::HybridIdentity::generate();
                self.append_identity(
                    &handle,
                    age::secrecy::ExposeSecret::expose_secret(&id.to_string()),
                );
                m.insert("pq_recipient".into(), id.to_public().to_string().into());
                changed.push(handle);
            }
            std::fs::write(&path, toml::to_string(&doc).unwrap()).unwrap();
        }
        changed
    }

    /// Sets one member's post-quantum recipient (a key made elsewhere, e.g. by typage).
    pub fn set_pq_recipient(&self, institution: &str, handle: &str, recipient: &str) {
        let path = self
            .dir
            .path()
            .join("keys/institutions")
            .join(format!("{institution}.toml"));
        let mut doc: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
        let m = doc["members"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .map(|m| m.as_table_mut().unwrap())
            .find(|m| m["handle"].as_str() == Some(handle))
            .unwrap();
        m.insert("pq_recipient".into(), recipient.into());
        std::fs::write(&path, toml::to_string(&doc).unwrap()).unwrap();
    }

    /// Adds an identity line to a member's identity file.
    pub fn append_identity(&self, handle: &str, line: &str) {
        let path = self.identity_path(handle);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(line);
        text.push('\n');
        std::fs::write(path, text).unwrap();
    }

    /// Adds a member with a fresh identity to an institution's keys file (before starting).
    pub fn add_member(&self, institution: &str, handle: &str, roles: &[&str]) -> PathBuf {
        let id = x25519::Identity::generate();
        let path = self.identity_path(handle);
        write_identity(&path, &id);
        let keys = self
            .dir
            .path()
            .join("keys/institutions")
            .join(format!("{institution}.toml"));
        let mut text = std::fs::read_to_string(&keys).unwrap();
        let roles: Vec<String> = roles.iter().map(|r| format!("\"{r}\"")).collect();
        text.push_str(&format!(
            "\n[[members]]\nhandle = \"{handle}\"\nroles = [{}]\nrecipient = \"{}\"\n",
            roles.join(", "),
            id.to_public()
        ));
        std::fs::write(keys, text).unwrap();
        path
    }

    /// Removes a member from an institution's keys file (a member who left; restart after).
    pub fn remove_member(&self, institution: &str, handle: &str) {
        let keys = self
            .dir
            .path()
            .join("keys/institutions")
            .join(format!("{institution}.toml"));
        let text = std::fs::read_to_string(&keys).unwrap();
        let mut blocks = text.split("\n[[members]]");
        let mut out = blocks.next().unwrap().to_owned();
        for b in blocks {
            if !b.contains(&format!("handle = \"{handle}\"")) {
                out.push_str("\n[[members]]");
                out.push_str(b);
            }
        }
        assert_ne!(out, text, "{handle} was not in {institution}");
        std::fs::write(keys, out).unwrap();
    }

    /// Puts a top-level `line` at the start of an institution's keys file.
    fn prepend_to_institution(&self, institution: &str, line: &str) {
        let keys = self
            .dir
            .path()
            .join("keys/institutions")
            .join(format!("{institution}.toml"));
        let text = std::fs::read_to_string(&keys).unwrap();
        std::fs::write(keys, format!("{line}\n{text}")).unwrap();
    }

    /// Sets how long an institution keeps its closed and archived cases.
    pub fn set_retention(&self, institution: &str, days: u32) {
        self.prepend_to_institution(institution, &format!("retention_days = {days}"));
    }

    /// Sets an institution's notice period before a granted identity is handed out.
    pub fn set_reveal_notice(&self, institution: &str, days: u32) {
        self.prepend_to_institution(institution, &format!("reveal_notice_days = {days}"));
    }

    pub fn config(&self) -> Config {
        Config::load(&self.config_path).unwrap()
    }

    /// The real router and app, with a fixed clock.
    pub async fn router(&self) -> (Router, Arc<App>, Arc<FixedClock>) {
        let clock = Arc::new(FixedClock::new(
            time::macros::datetime!(2026-11-23 09:30 UTC),
        ));
        let (app, router) = bisik::server::build(self.config(), clock.clone())
            .await
            .unwrap();
        (router, app, clock)
    }
}

/// The classic key of an identity file's keys (every demo member has one).
pub fn classic_of(ring: bisik::crypto::keys::KeyRing) -> x25519::Identity {
    ring.identities()
        .iter()
        .find_map(|i| match i {
            bisik::crypto::keys::Identity::X25519(x) => Some(x.clone()),
            bisik::crypto::keys::Identity::Hybrid(_) => None,
        })
        .expect("a classic identity")
}

/// Writes an age identity file (tests only: real identities never touch the server's disk).
pub fn write_identity(path: &Path, id: &x25519::Identity) {
    let line = age::secrecy::ExposeSecret::expose_secret(&id.to_string()).to_owned();
    std::fs::write(path, format!("{line}\n")).unwrap();
}

/// A response, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
}

pub async fn send(router: &Router, req: Request<Body>) -> Reply {
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

pub fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

pub fn form_body(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap()
}

pub fn post_form(path: &str, pairs: &[(&str, &str)]) -> Request<Body> {
    Request::post(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(form_body(pairs)))
        .unwrap()
}

/// The text of the element with `id="…"` (first occurrence, up to the next `<`).
pub fn element_text(html: &str, id: &str) -> Option<String> {
    let marker = format!("id=\"{id}\"");
    let at = html.find(&marker)?;
    let start = at + html[at..].find('>')? + 1;
    let end = start + html[start..].find('<')?;
    Some(html[start..end].to_owned())
}

/// The value attribute of the input named `name`.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let rest = &html[at..];
    let tag_end = rest.find('>')?;
    let v = rest[..tag_end].find("value=\"")? + 7;
    let end = v + rest[v..].find('"')?;
    Some(rest[v..end].to_owned())
}

/// A report's fields, with sensible defaults.
pub fn report_fields<'a>(overrides: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields: BTreeMap<&str, &str> = [
        ("kind", "complaint"),
        ("institution", "health"),
        ("category", "health"),
        ("title", "Clinic asks for illegal fees"),
        (
            "body",
            "At the district clinic, staff ask for money before treatment.",
        ),
        ("occurred_on", "2026-11-01"),
        ("location", "Kecamatan Contoh"),
        ("privacy", "anonymous"),
        ("identity_name", ""),
        ("identity_contact", ""),
    ]
    .into_iter()
    .collect();
    for (k, v) in overrides {
        fields.insert(k, v);
    }
    fields.into_iter().collect()
}

/// Submits a report through the router and returns (receipt, case id).
pub async fn submit(router: &Router, overrides: &[(&str, &str)]) -> (String, String) {
    let r = send(
        router,
        post_form("/report?lang=en", &report_fields(overrides)),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let html = r.text();
    (
        element_text(&html, "receipt").expect("receipt"),
        element_text(&html, "case-id").expect("case id"),
    )
}

pub fn json_post(path: &str, body: &str) -> Request<Body> {
    Request::post(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

pub fn authed_post(path: &str, token: &str, body: &serde_json::Value) -> Request<Body> {
    Request::post(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// Seals a JSON document the way a member's client does: to the case's readers and reporter,
/// as the API lists them.
pub async fn seal_for_case(
    router: &Router,
    token: &str,
    case_id: &str,
    doc: &serde_json::Value,
) -> String {
    let r = send(
        router,
        authed_get(&format!("/api/v1/cases/{case_id}/recipients"), token),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let rec: bisik::api::RecipientsResponse = serde_json::from_slice(&r.body).unwrap();
    let recipients: Vec<bisik::crypto::keys::Recipient> = rec
        .readers
        .iter()
        .chain(std::iter::once(&rec.reporter))
        .map(|t| t.parse().unwrap())
        .collect();
    let sealed = bisik::crypto::envelope::seal(&recipients, doc.to_string().as_bytes()).unwrap();
    bisik::crypto::token::encode(&sealed)
}

/// A member moves a case through the API (sealing the reason like the CLI does).
pub async fn set_state(
    router: &Router,
    token: &str,
    case_id: &str,
    state: &str,
    reason: Option<&str>,
) -> Reply {
    let reason_envelope = match reason {
        Some(text) => {
            let doc = serde_json::json!({"type": "bisik.reason", "version": 1, "state": state, "text": text});
            Some(seal_for_case(router, token, case_id, &doc).await)
        }
        None => None,
    };
    let body = serde_json::json!({ "state": state, "reason_envelope": reason_envelope });
    send(
        router,
        authed_post(&format!("/api/v1/cases/{case_id}/state"), token, &body),
    )
    .await
}

/// A member writes to the citizen through the API (sealed like the CLI does).
pub async fn member_reply(
    router: &Router,
    token: &str,
    case_id: &str,
    author: &str,
    text: &str,
) -> Reply {
    let doc = serde_json::json!({"type": "bisik.message", "version": 1, "author": author, "body": text, "written_on": "2026-11-23"});
    let envelope = seal_for_case(router, token, case_id, &doc).await;
    send(
        router,
        authed_post(
            &format!("/api/v1/cases/{case_id}/messages"),
            token,
            &serde_json::json!({ "envelope": envelope }),
        ),
    )
    .await
}

/// The citizen's status page (English) for a receipt.
pub async fn status_page(router: &Router, receipt: &str) -> String {
    let r = send(
        router,
        post_form("/status?lang=en", &[("receipt", receipt)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.text()
}

/// The citizen replies from the status page.
pub async fn citizen_reply(router: &Router, receipt: &str, text: &str) -> String {
    let page = status_page(router, receipt).await;
    let nonce = input_value(&page, "nonce").unwrap();
    let r = send(
        router,
        post_form(
            "/status/reply?lang=en",
            &[("receipt", receipt), ("nonce", &nonce), ("message", text)],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.text()
}

pub fn authed_get(path: &str, token: &str) -> Request<Body> {
    Request::get(path)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap()
}

/// Logs a member in through the API with their identity; returns the bearer token.
pub async fn login(router: &Router, identity: &x25519::Identity) -> String {
    login_with(router, &identity.to_public().to_string(), identity).await
}

/// Logs a member in naming `recipient` (either kind) and opening the challenge with `identity`.
pub async fn login_with(router: &Router, recipient: &str, identity: &dyn age::Identity) -> String {
    let body = serde_json::json!({ "recipient": recipient }).to_string();
    let r = send(router, json_post("/api/v1/session/challenge", &body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let c: bisik::api::ChallengeResponse = serde_json::from_slice(&r.body).unwrap();
    let sealed = bisik::crypto::token::decode(&c.challenge).unwrap();
    let secret = bisik::crypto::envelope::open(identity, &sealed).unwrap();
    let body = serde_json::json!({
        "challenge_id": c.challenge_id,
        "response": bisik::crypto::token::encode(&secret),
    })
    .to_string();
    let r = send(router, json_post("/api/v1/session", &body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let s: bisik::api::SessionResponse = serde_json::from_slice(&r.body).unwrap();
    s.token
}

/// The `bisik` binary built by cargo for this test run.
pub fn bisik_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_bisik"))
}

/// A real `bisik serve` process on 127.0.0.1 (a free port), its output captured.
pub struct ServerProcess {
    pub child: Child,
    pub base: String,
    pub log: Arc<Mutex<String>>,
}

impl ServerProcess {
    pub fn start(config: &Path, extra_env: &[(&str, &str)]) -> Self {
        Self::start_in(&[], config, extra_env)
    }

    /// Like [`Self::start`], through `wrapper` (a program and its arguments; the `bisik` command
    /// line is appended), e.g. to give the server a tiny filesystem of its own.
    pub fn start_in(wrapper: &[&str], config: &Path, extra_env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let mut cmd = match wrapper.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(bisik_bin());
                c
            }
            None => Command::new(bisik_bin()),
        };
        cmd.arg("serve")
            .arg("--config")
            .arg(config)
            .env("BISIK_LISTEN", format!("127.0.0.1:{port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let streams: [Box<dyn std::io::Read + Send>; 2] = [
            Box::new(child.stdout.take().unwrap()),
            Box::new(child.stderr.take().unwrap()),
        ];
        for stream in streams {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut l = log.lock().unwrap();
                    l.push_str(&line);
                    l.push('\n');
                }
            });
        }
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("server exited early ({status}):\n{}", log.lock().unwrap());
            }
            if loopback_agent()
                .get(&format!("{base}/healthz"))
                .call()
                .is_ok()
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "server did not start:\n{}",
                log.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, base, log }
    }

    /// SIGTERM, then wait for a clean exit; returns everything the server printed.
    pub fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "server did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(200));
        self.log.lock().unwrap().clone()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP client for 127.0.0.1: no proxy from the environment, bounded, statuses as values.
pub fn loopback_agent() -> ureq::Agent {
    loopback_agent_waiting(Duration::from_secs(60))
}

/// [`loopback_agent`] that waits up to `timeout` for an answer.
pub fn loopback_agent_waiting(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs the `bisik` CLI; returns (success, stdout bytes, stderr text).
pub fn bisik_cli(args: &[&str]) -> (bool, Vec<u8>, String) {
    let out = Command::new(bisik_bin())
        .args(args)
        .env("BISIK_STATE_DIR", state_dir())
        .env_remove("BISIK_IDENTITY_PASSPHRASE")
        .output()
        .unwrap();
    (
        out.status.success(),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Where the CLI caches sessions during tests (not the developer's home).
pub fn state_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bisik-sessions")
}

/// Runs a member command: `bisik case --server <server> --identity <identity> <args…>`.
pub fn case_cli(server: &str, identity: &Path, args: &[&str]) -> (bool, Vec<u8>, String) {
    let mut all = vec![
        "case",
        "--server",
        server,
        "--identity",
        identity.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    bisik_cli(&all)
}

/// Every regular file under `dir`, recursively.
pub fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.is_file() {
                out.push(p);
            }
        }
    }
    out
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && memchr::memmem::find(haystack, needle).is_some()
}

pub const BOUNDARY: &str = "----bisik-test-boundary-7Q2";

/// POSTs a [`multipart`] body to a real server; `None` if the connection failed.
pub fn post_multipart(base: &str, path: &str, body: Vec<u8>) -> Option<(u16, String)> {
    let mut res = loopback_agent()
        .post(format!("{base}{path}"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .send(&body[..])
        .ok()?;
    let status = res.status().as_u16();
    Some((status, res.body_mut().read_to_string().ok()?))
}

/// Asserts that no file of a data folder (database, WAL, blobs; not the members' identity
/// files) — nor, on PostgreSQL, of the database's own folder in the cluster — holds an X25519
/// recipient stanza, and returns how many hold a post-quantum one.
pub fn assert_no_x25519_stanza_at_rest(data_dir: &Path) -> usize {
    let mut post_quantum = 0;
    let mut files = all_files(data_dir);
    if fixture_database_url(data_dir).is_some() {
        files.extend(database_files(data_dir, false));
    }
    for f in files {
        if f.starts_with(data_dir.join("identities")) {
            continue;
        }
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !contains(&bytes, b"\n-> X25519 "),
            "an X25519 stanza in {}",
            f.display()
        );
        if contains(&bytes, b"\n-> mlkem768x25519 ") {
            post_quantum += 1;
        }
    }
    post_quantum
}

/// The citizen's status page (English) for a receipt, from a real server.
pub fn post_status(base: &str, receipt: &str) -> String {
    let mut res = loopback_agent()
        .post(format!("{base}/status?lang=en"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send(form_body(&[("receipt", receipt)]))
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    res.body_mut().read_to_string().unwrap()
}

/// A multipart body: text fields, then files (name, content type, bytes).
pub fn multipart(fields: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> Vec<u8> {
    use std::io::Write as _;
    let mut b = Vec::new();
    for (k, v) in fields {
        write!(
            b,
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        )
        .unwrap();
    }
    for (name, ct, data) in files {
        write!(
            b,
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"{name}\"\r\nContent-Type: {ct}\r\n\r\n"
        )
        .unwrap();
        b.extend_from_slice(data);
        b.extend_from_slice(b"\r\n");
    }
    write!(b, "--{BOUNDARY}--\r\n").unwrap();
    b
}
