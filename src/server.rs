//! Starting the service: configuration → keys → store → router → listener.

use std::sync::Arc;

use axum::Router;
use thiserror::Error;
use tokio::net::{TcpListener, UnixListener};

use crate::config::keys::load_all;
use crate::config::{Config, ConfigError, Listen};
use crate::crypto::kdf::KdfParams;
use crate::domain::clock::{Clock, SystemClock, ZonedClock};
use crate::service::App;
use crate::store::StoreError;
use crate::store::blobs::BlobStore;
use crate::web;
use crate::web::listen::{self, Bound, ServeOptions};

#[derive(Debug, Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot open the database: {0}")]
    Store(#[from] StoreError),
    #[error("cannot listen on {what}: {source}")]
    Listen {
        what: String,
        source: std::io::Error,
    },
    #[error("blob folder: {0}")]
    Blobs(std::io::Error),
    #[error(transparent)]
    Catalogues(#[from] crate::web::i18n::CatalogueError),
    #[error("server stopped: {0}")]
    Serve(std::io::Error),
}

/// Builds the application (validating keys and opening the store) without listening.
pub async fn build(
    config: Config,
    clock: Arc<dyn Clock>,
) -> Result<(Arc<App>, Router), StartError> {
    let app = open_app(config, clock, true).await?;
    let router = web::router(app.clone())?;
    Ok((app, router))
}

/// Opens everything the service needs. `starting` (the server itself): clean up after a crash —
/// temporary blobs and blobs no row refers to. Operator commands that may run next to a live
/// server (purge) pass `false`, so an upload in flight is never swept away.
pub async fn open_app(
    config: Config,
    clock: Arc<dyn Clock>,
    starting: bool,
) -> Result<Arc<App>, StartError> {
    config.validate()?;
    if config.kdf.memory_kib < KdfParams::default().memory_kib
        || config.kdf.iterations < KdfParams::default().iterations
    {
        tracing::warn!(
            memory_kib = config.kdf.memory_kib,
            iterations = config.kdf.iterations,
            "Argon2id parameters are weaker than the defaults: receipts are cheaper to guess offline"
        );
    }
    let keys = load_all(&config.keys_dir).map_err(ConfigError::from)?;
    let (directory, webhooks, digests) = (keys.directory, keys.webhooks, keys.digests);
    if !digests.is_empty() && config.mail.is_none() {
        tracing::warn!(
            members = digests.len(),
            "members asked for digests ([members.digest]) but [mail] is not configured: none is sent"
        );
    }
    // age cannot seal one file to classic and post-quantum keys: an institution with a member
    // who has no post-quantum key has its cases sealed classic. Said once, at start (slugs
    // only), so the operator knows whom to ask for a `pq_recipient`.
    if starting {
        let classic = directory.not_post_quantum();
        if classic.is_empty() {
            tracing::info!(
                "every member has a post-quantum key: envelopes are sealed post-quantum"
            );
        } else {
            tracing::warn!(
                institutions = %classic.join(","),
                "not yet post-quantum: a member of these institutions has no pq_recipient, so their cases (and escalated cases, if it is the oversight body) are sealed with classic X25519 keys only"
            );
        }
    }
    let store = config.open_store().await?;
    // Case events of these institutions add outbox rows from now on (docs/integration.md).
    let subscribers: Vec<&str> = webhooks.iter().map(|w| w.institution.as_str()).collect();
    store.set_webhook_subscribers(&subscribers).await?;
    // With PostgreSQL other instances may share the blob folder and be mid-request: the
    // start-up clean-up is then left to the leader's housekeeping (stale files only).
    let shared = store.backend() == crate::store::Backend::Postgres;
    let blobs = if starting && shared {
        BlobStore::open(&config.data_dir, true).map_err(StartError::Blobs)?
    } else if starting {
        let blobs = BlobStore::open(&config.data_dir, false).map_err(StartError::Blobs)?;
        // A crash between a blob's rename and its row's commit leaves a blob nobody refers to.
        let swept = blobs
            .sweep(&store.blob_ids().await?)
            .map_err(StartError::Blobs)?;
        if swept > 0 {
            tracing::warn!(
                blobs = swept,
                "removed blobs of uploads that were never committed"
            );
        }
        // Members' uploads that no forward or rekey used were just swept with the rest.
        store.clear_member_uploads().await?;
        blobs
    } else {
        BlobStore::attach(&config.data_dir)
    };
    // Every day the app counts is the deployment's (`[site] time_zone`).
    let clock: Arc<dyn Clock> = Arc::new(ZonedClock::new(clock, config.time_zone.clone()));
    // Blob and folder times are set to the app's day.
    let blobs = blobs.with_clock(clock.clone());
    Ok(Arc::new(
        App::new(config, directory, store, blobs, clock)
            .with_webhooks(webhooks)
            .with_digests(digests),
    ))
}

/// Runs until SIGINT/SIGTERM. `ready` is called with the address once listening (the demo prints
/// it; tests read it).
pub async fn serve(config: Config, ready: impl FnOnce(&str)) -> Result<(), StartError> {
    // Every citizen text comes from the catalogues: a broken one stops the start, listed.
    crate::web::i18n::init()?;
    let listen = config.listen.clone();
    let opts = ServeOptions {
        header_timeout: std::time::Duration::from_secs(config.http.header_timeout_secs),
        proxy_protocol: config.http.proxy_protocol,
        max_connections: config.http.max_connections,
    };
    let socket_mode = u32::from_str_radix(config.http.unix_socket_mode.trim_start_matches("0o"), 8)
        .map_err(|_| {
            ConfigError::Invalid(format!(
                "http.unix_socket_mode {:?} is not octal",
                config.http.unix_socket_mode
            ))
        })?;
    let (app, router) = build(config, Arc::new(SystemClock)).await?;
    let background = tokio::spawn(lead(app.clone()));
    let settling = tokio::spawn(settle_disk(app.clone()));
    // At SIGTERM, key derivations still queued answer "busy" at once instead of running.
    let pool = app.kdf.clone();
    let shutdown = async move {
        shutdown_signal().await;
        pool.close();
    };
    match listen {
        Listen::Tcp(addr) => {
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|source| StartError::Listen {
                    what: addr.to_string(),
                    source,
                })?;
            let local = listener.local_addr().map_err(StartError::Serve)?;
            ready(&format!("http://{local}/"));
            listen::serve(Bound::Tcp(listener), router, opts, shutdown).await;
        }
        Listen::Unix(path) => {
            remove_stale_socket(&path)?;
            let listener = UnixListener::bind(&path).map_err(|source| StartError::Listen {
                what: path.display().to_string(),
                source,
            })?;
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(socket_mode)).map_err(
                |source| StartError::Listen {
                    what: path.display().to_string(),
                    source,
                },
            )?;
            ready(&format!("unix:{}", path.display()));
            listen::serve(Bound::Unix(listener), router, opts, shutdown).await;
            let _ = std::fs::remove_file(&path);
        }
    }
    background.abort();
    app.incidents.write_to_log("since the last report");
    settling.abort();
    app.store.close().await;
    // Closing removed the WAL and its index: the folder's times are the day's again.
    let _ = crate::store::disk::set_day_times(&app.config.data_dir, app.clock.today());
    Ok(())
}

/// How often an instance that does not lead asks whether the leader is gone.
const LEAD_CHECK: std::time::Duration = std::time::Duration::from_secs(5);

/// Work no request asks for runs on one instance (`store::leader`): this task takes the lead
/// when nobody has it, runs housekeeping, webhook deliveries and digests while it leads, and
/// stops them if the lead is lost. With SQLite the one instance always leads.
pub async fn lead(app: Arc<App>) {
    let mut tick = tokio::time::interval(LEAD_CHECK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut leading: Option<(
        crate::store::leader::Leadership,
        Vec<tokio::task::JoinHandle<()>>,
    )> = None;
    loop {
        tick.tick().await;
        if let Some((lead, tasks)) = &mut leading {
            if lead.held().await {
                continue;
            }
            for t in tasks.drain(..) {
                t.abort();
            }
            leading = None;
            tracing::warn!("this instance lost the lead; background work stopped here");
        }
        match app.store.try_lead().await {
            Ok(Some(lead)) => {
                if app.store.backend() == crate::store::Backend::Postgres {
                    tracing::info!(
                        "this instance leads: it runs housekeeping, webhooks and digests"
                    );
                }
                leading = Some((lead, background(&app)));
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "cannot ask for the lead"),
        }
    }
}

/// The leader's tasks.
fn background(app: &Arc<App>) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = vec![tokio::spawn(housekeeping(app.clone()))];
    // Deliveries interrupted here stay pending and are sent again after the restart.
    if !app.webhooks.is_empty() {
        tasks.push(tokio::spawn(crate::notify::webhooks::run(app.clone())));
    }
    // A digest cut by a stop is sent after the restart (its time is not marked done).
    if app.config.mail.is_some() && !app.digests.is_empty() {
        tasks.push(tokio::spawn(crate::notify::mail::run(app.clone())));
    }
    tasks
}

/// Every `storage.wal_checkpoint_secs`: the WAL emptied and the data files' times set back to
/// the day (see `service::housekeeping::settle_disk`). Nothing is logged unless it fails.
pub async fn settle_disk(app: Arc<App>) {
    let every = std::time::Duration::from_secs(app.config.storage.wal_checkpoint_secs.max(1));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        // Failures of citizens' requests reach the log once a day, as counts (each instance
        // its own).
        app.incidents.report_daily(app.clock.today());
        if let Err(e) = crate::service::housekeeping::settle_disk(&app).await {
            tracing::error!(error = %e, "emptying the WAL failed");
        }
    }
}

/// Periodic work that needs no request (see `service::housekeeping`): at start, then every
/// period (ten minutes), each period once across instances; time comes from the app's clock.
pub async fn housekeeping(app: Arc<App>) {
    let every = crate::service::housekeeping::PERIOD_SECS.unsigned_abs();
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(every));
    loop {
        tick.tick().await;
        match crate::service::housekeeping::run_period(&app).await {
            Ok(None) => {}
            Ok(Some(round)) if round == Default::default() => {}
            Ok(Some(round)) => tracing::info!(
                closed = round.closed,
                audit_entries = round.audit_entries,
                purged = round.purged,
                held_expired = round.held_expired,
                webhooks_overdue = round.webhooks_overdue,
                stale_blobs = round.stale_blobs,
                "housekeeping"
            ),
            Err(e) => tracing::error!(error = %e, "housekeeping failed"),
        }
    }
}

/// A socket file left by a crashed server is removed; any other file at that path is an error.
fn remove_stale_socket(path: &std::path::Path) -> Result<(), StartError> {
    use std::os::unix::fs::FileTypeExt;
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => {
            std::fs::remove_file(path).map_err(|source| StartError::Listen {
                what: path.display().to_string(),
                source,
            })
        }
        Ok(_) => Err(StartError::Listen {
            what: path.display().to_string(),
            source: std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "a file that is not a socket is in the way",
            ),
        }),
        Err(_) => Ok(()),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
