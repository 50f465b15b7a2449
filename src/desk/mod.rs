//! `bisik desk`: the officers' web interface, served on the officer's own computer.
//!
//! It listens on loopback only, talks to the Bisik server through the member API (the same
//! client as the CLI, over Tor with `--proxy`), and decrypts with the officer's age identity in
//! its own process: the server still never sees plaintext.
//!
//! Security of the desk itself (see `guard`):
//! - a request whose `Host` is not exactly the desk's own `127.0.0.1:PORT` is refused (DNS
//!   rebinding);
//! - a fresh secret per launch: the URL printed (and opened) carries a one-time token that
//!   becomes an `HttpOnly`, `SameSite=Strict` cookie; every other request needs that cookie;
//! - every POST must come from the desk's own origin and carry the page's CSRF token;
//! - the desk locks after an idle time: the identity and every decrypted text are dropped from
//!   memory, and unlocking reads the identity file again;
//! - the citizen pages' headers (strict CSP, no scripts at all, no third-party resources).

pub mod actions;
pub mod case;
pub mod desks;
pub mod guard;
pub mod inbox;
pub mod pages;
pub mod reports;
pub mod texts;
pub mod upload;
pub mod vault;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::{get, post};

use crate::crypto::token;
use crate::web::assets::{self, DESK_STYLE};
use crate::web::i18n::Lang;

use vault::Vault;

/// How the desk was started.
#[derive(Debug, Clone)]
pub struct DeskOptions {
    /// The Bisik server, e.g. `http://127.0.0.1:8080` or an onion address.
    pub server: String,
    pub identity_path: PathBuf,
    /// e.g. `socks5h://127.0.0.1:9050` to reach an onion service.
    pub proxy: Option<String>,
    /// Loopback only; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Lock after this long without a request.
    pub idle_lock: Duration,
    pub lang: Lang,
}

/// The browser session the launch token turned into: the cookie's digest and the CSRF token.
#[derive(Debug)]
struct BrowserSession {
    cookie_digest: [u8; 32],
    csrf: String,
}

/// Everything the desk's pages share.
#[derive(Debug)]
pub struct Desk {
    pub opts: DeskOptions,
    /// `127.0.0.1:PORT`: the only `Host` accepted.
    pub host: String,
    /// `http://127.0.0.1:PORT`: the only `Origin` accepted.
    pub origin: String,
    launch_token: Mutex<Option<String>>,
    session: Mutex<Option<BrowserSession>>,
    /// `None` while locked.
    vault: Mutex<Option<Vault>>,
    /// Whether the vault is open, readable without waiting for it (a forward holds the vault
    /// for as long as it re-seals; the guard and the progress page must not wait for it).
    unlocked: AtomicBool,
    /// A lock asked for while the vault was busy: done when the work ends.
    lock_pending: AtomicBool,
    /// The forward (disposisi) re-sealing in the background, if any.
    forwarding: Mutex<Option<Forwarding>>,
    last_seen: Mutex<Instant>,
    lang: Mutex<Lang>,
}

/// A forward re-sealing a case on this computer: how far it is, and how it ended.
#[derive(Debug, Clone, Default)]
pub struct Forwarding {
    pub case_id: String,
    pub done: usize,
    pub total: usize,
    /// `None` while it runs; then `Ok` or the problem, shown once.
    pub outcome: Option<Result<(), String>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Desk {
    /// A desk bound to `addr` (already listening), unlocked with `vault`.
    pub fn new(opts: DeskOptions, addr: SocketAddr, vault: Option<Vault>) -> Result<Self, String> {
        let launch = token::encode(token::random_32().map_err(|e| e.to_string())?.as_ref());
        let lang = opts.lang;
        Ok(Self {
            host: addr.to_string(),
            origin: format!("http://{addr}"),
            opts,
            launch_token: Mutex::new(Some(launch)),
            session: Mutex::new(None),
            unlocked: AtomicBool::new(vault.is_some()),
            lock_pending: AtomicBool::new(false),
            forwarding: Mutex::new(None),
            vault: Mutex::new(vault),
            last_seen: Mutex::new(Instant::now()),
            lang: Mutex::new(lang),
        })
    }

    /// The URL that opens the desk once (it carries the launch token).
    pub fn launch_url(&self) -> String {
        let t = lock(&self.launch_token).clone().unwrap_or_default();
        format!("{}/open?t={t}", self.origin)
    }

    pub fn lang(&self) -> Lang {
        *lock(&self.lang)
    }

    pub fn set_lang(&self, lang: Lang) {
        *lock(&self.lang) = lang;
    }

    /// Trades the launch token (once) for a browser session; returns the cookie value.
    fn open_session(&self, offered: &str) -> Option<String> {
        let mut launch = lock(&self.launch_token);
        let expected = launch.as_deref()?;
        if !token::digests_match(
            &token::digest(expected.as_bytes()),
            &token::digest(offered.as_bytes()),
        ) {
            return None;
        }
        *launch = None;
        let cookie = token::encode(token::random_32().ok()?.as_ref());
        let csrf = token::encode(token::random_32().ok()?.as_ref());
        *lock(&self.session) = Some(BrowserSession {
            cookie_digest: token::digest(cookie.as_bytes()),
            csrf,
        });
        Some(cookie)
    }

    /// Whether `cookie` is this launch's browser session.
    fn session_matches(&self, cookie: &str) -> bool {
        lock(&self.session).as_ref().is_some_and(|s| {
            token::digests_match(&s.cookie_digest, &token::digest(cookie.as_bytes()))
        })
    }

    /// The CSRF token forms must carry.
    pub fn csrf(&self) -> String {
        lock(&self.session)
            .as_ref()
            .map(|s| s.csrf.clone())
            .unwrap_or_default()
    }

    fn csrf_matches(&self, offered: &str) -> bool {
        lock(&self.session).as_ref().is_some_and(|s| {
            token::digests_match(
                &token::digest(s.csrf.as_bytes()),
                &token::digest(offered.as_bytes()),
            )
        })
    }

    /// Notes a request; locks first if the desk was idle too long. Returns whether it is locked.
    fn touch(&self) -> bool {
        let mut last = lock(&self.last_seen);
        if last.elapsed() >= self.opts.idle_lock {
            self.lock_now();
        }
        *last = Instant::now();
        self.is_locked()
    }

    pub fn is_locked(&self) -> bool {
        !self.unlocked.load(Ordering::SeqCst)
    }

    /// Drops the identity and every decrypted text — at once, or, while a forward still holds
    /// them, as soon as it ends (no page is served from them meanwhile).
    pub fn lock_now(&self) {
        self.unlocked.store(false, Ordering::SeqCst);
        match self.vault.try_lock() {
            Ok(mut v) => drop(v.take()),
            Err(std::sync::TryLockError::Poisoned(p)) => drop(p.into_inner().take()),
            Err(std::sync::TryLockError::WouldBlock) => {
                self.lock_pending.store(true, Ordering::SeqCst);
            }
        }
    }

    /// Unlocks with a fresh vault.
    pub fn unlock(&self, vault: Vault) {
        let mut v = lock(&self.vault);
        *v = Some(vault);
        self.lock_pending.store(false, Ordering::SeqCst);
        self.unlocked.store(true, Ordering::SeqCst);
    }

    /// The background forward's state (the progress page reads it without the vault).
    pub fn forwarding(&self) -> Option<Forwarding> {
        lock(&self.forwarding).clone()
    }

    /// Starts re-sealing a case for a forward in the background; `false` if one is running.
    pub fn start_forward(self: &Arc<Self>, id: String, to: String, reason: String) -> bool {
        {
            let mut f = lock(&self.forwarding);
            if f.as_ref().is_some_and(|f| f.outcome.is_none()) {
                return false;
            }
            *f = Some(Forwarding {
                case_id: id.clone(),
                ..Forwarding::default()
            });
        }
        let desk = self.clone();
        tokio::spawn(async move {
            let progress_desk = desk.clone();
            let result = desk
                .with_vault(move |v| {
                    v.forward_with_progress(&id, &to, &reason, &move |done, total| {
                        if let Some(f) = lock(&progress_desk.forwarding).as_mut() {
                            f.done = done;
                            f.total = total;
                        }
                    })
                })
                .await;
            let outcome = match result {
                None => Err(String::new()),
                Some(r) => r.map_err(|e| e.to_string()),
            };
            if let Some(f) = lock(&desk.forwarding).as_mut() {
                f.outcome = Some(outcome);
            }
        });
        true
    }

    /// Forgets a finished forward once its outcome was shown.
    pub fn clear_forward(&self) {
        let mut f = lock(&self.forwarding);
        if f.as_ref().is_some_and(|f| f.outcome.is_some()) {
            *f = None;
        }
    }

    /// Runs `f` on the unlocked vault, on the blocking pool. `None` when locked.
    pub async fn with_vault<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut Vault) -> T + Send + 'static,
    ) -> Option<T> {
        if self.is_locked() {
            return None;
        }
        let desk = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut v = lock(&desk.vault);
            let out = v.as_mut().map(f);
            if desk.lock_pending.swap(false, Ordering::SeqCst) {
                drop(v.take());
            }
            out
        })
        .await
        .ok()
        .flatten()
    }
}

/// The largest form with files (a reply with documents, an intake with scanned letters) the
/// desk takes (held in memory until sealed).
pub const UPLOAD_MAX_BYTES: usize = 256 * 1024 * 1024;

/// The desk's routes, behind its guard and the strict headers.
pub fn router(desk: Arc<Desk>) -> Router {
    let routes = Router::new()
        .route("/", get(inbox::inbox))
        .route("/open", get(pages::open))
        .route("/case/{id}", get(case::case))
        .route(
            "/case/{id}/reply",
            post(case::reply).layer(axum::extract::DefaultBodyLimit::max(UPLOAD_MAX_BYTES)),
        )
        .route("/case/{id}/state", post(case::set_state))
        .route("/case/{id}/act", post(actions::act))
        .route("/case/{id}/identity", post(actions::identity))
        .route("/case/{id}/hand-over", post(actions::hand_over))
        .route("/case/{id}/file/{seq}", get(actions::file))
        .route("/case/{id}/print", get(case::print))
        .route("/case/{id}/files.zip", get(actions::files_zip))
        .route("/stats", get(reports::stats))
        .route("/custody", get(desks::custody))
        .route("/custody/{id}/{seq}", post(desks::decide))
        .route(
            "/intake",
            get(desks::intake_form)
                .post(desks::intake)
                .layer(axum::extract::DefaultBodyLimit::max(UPLOAD_MAX_BYTES)),
        )
        .route("/oversight", get(desks::oversight))
        .route("/forwarding", get(actions::forwarding))
        .route("/lock", post(pages::lock))
        .route("/locked", get(pages::locked))
        .route("/unlock", post(pages::unlock))
        .route("/lang/{code}", get(pages::set_lang))
        .route(
            DESK_STYLE.href(),
            get(assets::desk_style).layer(assets::compression()),
        )
        .route(DESK_STYLE.legacy_path(), get(assets::desk_style_legacy))
        .fallback(pages::not_found)
        .with_state(desk.clone())
        .layer(axum::middleware::from_fn_with_state(desk, guard::guard))
        .layer(axum::extract::DefaultBodyLimit::max(1024 * 1024));
    crate::web::layers::with_security_headers(routes)
}

/// Reads the identity (asking for its passphrase on the terminal if needed), logs in, listens
/// on loopback and serves until Ctrl-C. `ready` gets the launch URL.
pub async fn run(opts: DeskOptions, ready: impl FnOnce(&str)) -> Result<(), String> {
    if !opts.listen.ip().is_loopback() {
        return Err(format!(
            "the desk listens on loopback only (127.0.0.1), not {}",
            opts.listen
        ));
    }
    let identity = crate::client::read_identity(&opts.identity_path).map_err(|e| e.to_string())?;
    let (server, proxy) = (opts.server.clone(), opts.proxy.clone());
    let vault =
        tokio::task::spawn_blocking(move || Vault::open(&server, identity, proxy.as_deref()))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", opts.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let desk = Arc::new(Desk::new(opts, addr, Some(vault))?);
    ready(&desk.launch_url());
    let app = router(desk.clone());
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| e.to_string())?;
    desk.lock_now();
    Ok(())
}
