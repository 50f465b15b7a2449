//! The cached session token: one small file per (server, member key), readable only by the
//! user (mode 0600 in a 0700 folder), deleted on logout, ignored once expired.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::crypto::token;

#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct Cached {
    pub server: String,
    pub handle: String,
    pub institution: String,
    pub roles: Vec<String>,
    pub token: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// The deployment's time zone as the server named it (empty from older servers).
    #[serde(default)]
    pub time_zone: String,
}

crate::redacted_debug!(Cached);

/// `$BISIK_STATE_DIR`, else `$XDG_STATE_HOME/bisik`, else `~/.local/state/bisik`.
pub fn state_dir() -> Option<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env("BISIK_STATE_DIR")
        .or_else(|| env("XDG_STATE_HOME").map(|d| d.join("bisik")))
        .or_else(|| env("HOME").map(|h| h.join(".local/state/bisik")))
}

fn path_for(server: &str, recipient: &str) -> Option<PathBuf> {
    let key = token::digest(format!("{server}\n{recipient}").as_bytes());
    Some(state_dir()?.join(format!("session-{}.json", token::encode(&key[..12]))))
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A still-valid cached session (with a minute to spare), if any.
pub fn load(server: &str, recipient: &str) -> Option<Cached> {
    let path = path_for(server, recipient)?;
    let meta = std::fs::metadata(&path).ok()?;
    if meta.permissions().mode() & 0o077 != 0 {
        // Someone else could read it: do not trust (or use) it.
        let _ = std::fs::remove_file(&path);
        return None;
    }
    let mut text = std::fs::read_to_string(&path).ok()?;
    let cached: Option<Cached> = serde_json::from_str(&text).ok();
    text.zeroize();
    cached.filter(|c| c.server == server && c.expires_at > now() + 60)
}

/// Saves a session, readable only by the user.
pub fn save(recipient: &str, c: &Cached) -> std::io::Result<PathBuf> {
    let path = path_for(&c.server, recipient)
        .ok_or_else(|| std::io::Error::other("no state folder (set BISIK_STATE_DIR or HOME)"))?;
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    let mut json = serde_json::to_vec(c).map_err(std::io::Error::other)?;
    let written = f.write_all(&json).and_then(|()| f.sync_all());
    json.zeroize();
    written?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

/// Forgets a cached session.
pub fn remove(server: &str, recipient: &str) {
    if let Some(p) = path_for(server, recipient) {
        let _ = std::fs::remove_file(p);
    }
}
