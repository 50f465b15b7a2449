//! Loading institutions and members from `keys/`, and refusing secret keys.
//!
//! Layout: `keys/institutions/<slug>.toml`, one file per institution with its members' public
//! age recipients (see `keys/README.md`). Every regular file under `keys/` — whatever its name —
//! is scanned for `AGE-SECRET-KEY-` first, so an identity dropped there by mistake stops the
//! server instead of silently sitting on it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;

use crate::crypto::keys::PartyKeys;
use crate::crypto::webhook::WebhookSecret;
use crate::domain::digest::{DigestScope, MailLang};
use crate::domain::institution::{Directory, DirectoryError, Institution, Member, Role};

#[derive(Debug, Error)]
pub enum KeysError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "refusing to start: {0} holds an age secret key (AGE-SECRET-KEY-…). Only public \
         recipients (age1…) belong on the server; keep identities on members' own machines."
    )]
    SecretKeyFound(PathBuf),
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: member {handle:?} has an invalid recipient {recipient:?} (expected age1…)")]
    BadRecipient {
        path: PathBuf,
        handle: String,
        recipient: String,
    },
    #[error(
        "{path}: member {handle:?} has an invalid pq_recipient {recipient:?} (expected a post-quantum \
         recipient age1pq1…, 1959 characters, as `bisik keygen --pq` or `age-keygen -pq` prints)"
    )]
    BadPqRecipient {
        path: PathBuf,
        handle: String,
        recipient: String,
    },
    #[error("{path}: the file name must be the institution's slug ({slug}.toml)")]
    NameMismatch { path: PathBuf, slug: String },
    #[error("no institution files found in {0}/institutions")]
    Empty(PathBuf),
    #[error("keys directory: {0}")]
    Directory(#[from] DirectoryError),
    #[error("refusing to start: {path}: member {handle:?}: [members.digest] {message}")]
    Digest {
        path: PathBuf,
        handle: String,
        message: String,
    },
    #[error("refusing to start: {path}: [webhook] {message}")]
    Webhook { path: PathBuf, message: String },
}

/// True if the bytes contain an age secret key marker, in any letter case.
pub fn holds_secret_key(bytes: &[u8]) -> bool {
    const NEEDLE: &[u8] = b"age-secret-key-";
    bytes
        .windows(NEEDLE.len())
        .any(|w| w.eq_ignore_ascii_case(NEEDLE))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InstitutionFile {
    slug: String,
    name_id: String,
    name_en: String,
    #[serde(default)]
    intake_desk: bool,
    #[serde(default)]
    parent: Option<String>,
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default)]
    reveal_notice_days: u32,
    #[serde(default)]
    retention_days: Option<u32>,
    #[serde(default)]
    members: Vec<MemberEntry>,
    #[serde(default)]
    webhook: Option<WebhookEntry>,
}

/// `[webhook]`: where the institution's system is told about its cases (docs/integration.md).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookEntry {
    url: String,
    /// Files holding one `whsec_<base64>` secret each; the first signs, every one adds a
    /// signature (rotation). Relative paths follow the institution file's folder.
    secret_files: Vec<PathBuf>,
}

/// An institution's webhook endpoint, read at start. The secrets are never printed.
#[derive(Debug, Clone)]
pub struct WebhookTarget {
    pub institution: String,
    pub url: String,
    pub secrets: Vec<WebhookSecret>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberEntry {
    handle: String,
    #[serde(default)]
    display_name: Option<String>,
    roles: BTreeSet<Role>,
    /// The classic key, `age1…`; optional once every member has a `pq_recipient`.
    #[serde(default)]
    recipient: Option<String>,
    /// The post-quantum key, `age1pq1…`.
    #[serde(default)]
    pq_recipient: Option<String>,
    /// `[members.digest]`: the member asked for digests by e-mail.
    #[serde(default)]
    digest: Option<DigestEntry>,
}

/// `[members.digest]`: where a member's digest goes, in which language.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DigestEntry {
    email: String,
    #[serde(default)]
    language: Option<String>,
}

/// A member who asked for digests: whose, over what, to which address, in which language.
#[derive(Debug, Clone)]
pub struct DigestSubscriber {
    pub scope: DigestScope,
    pub email: lettre::Address,
    pub lang: MailLang,
}

/// Everything `keys/` says: the directory, the institutions' webhooks, the members' digests.
#[derive(Debug)]
pub struct Loaded {
    pub directory: Directory,
    pub webhooks: Vec<WebhookTarget>,
    pub digests: Vec<DigestSubscriber>,
}

/// Scans every file under `dir` for secret keys, then loads and validates the institutions.
pub fn load_directory(dir: &Path) -> Result<Directory, KeysError> {
    load_with_webhooks(dir).map(|(d, _)| d)
}

/// [`load_directory`], and the institutions' webhook endpoints with their secrets read (a
/// missing or malformed secret file, or a plain-http URL to another host, stops the start).
pub fn load_with_webhooks(dir: &Path) -> Result<(Directory, Vec<WebhookTarget>), KeysError> {
    load_all(dir).map(|l| (l.directory, l.webhooks))
}

/// [`load_with_webhooks`], and the members who asked for digests (a malformed address, an
/// unknown language or a machine member asking stops the start).
pub fn load_all(dir: &Path) -> Result<Loaded, KeysError> {
    refuse_secret_keys(dir)?;
    let inst_dir = dir.join("institutions");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&inst_dir)
        .map_err(|source| KeysError::Read {
            path: inst_dir.clone(),
            source,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(KeysError::Empty(dir.to_owned()));
    }
    let mut list = Vec::with_capacity(files.len());
    let mut webhooks = Vec::new();
    let mut digests = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).map_err(|source| KeysError::Read {
            path: path.clone(),
            source,
        })?;
        let file: InstitutionFile = toml::from_str(&text).map_err(|e| KeysError::Parse {
            path: path.clone(),
            message: e.to_string(),
        })?;
        if path.file_stem().and_then(|s| s.to_str()) != Some(file.slug.as_str()) {
            return Err(KeysError::NameMismatch {
                path,
                slug: file.slug,
            });
        }
        if let Some(w) = &file.webhook {
            webhooks.push(load_webhook(&path, &file.slug, w)?);
        }
        let mut members = Vec::with_capacity(file.members.len());
        for m in file.members {
            let keys = member_keys(&path, &m)?;
            let member = Member {
                handle: m.handle,
                display_name: m.display_name.filter(|d| !d.trim().is_empty()),
                institution: file.slug.clone(),
                roles: m.roles,
                keys,
            };
            if let Some(d) = &m.digest {
                digests.push(digest_subscriber(&path, &member, d)?);
            }
            members.push(member);
        }
        list.push(Institution {
            slug: file.slug,
            name_id: file.name_id,
            name_en: file.name_en,
            intake_desk: file.intake_desk,
            parent: file.parent,
            categories: file.categories,
            reveal_notice_days: file.reveal_notice_days,
            retention_days: file.retention_days,
            members,
        });
    }
    Ok(Loaded {
        directory: Directory::new(list)?,
        webhooks,
        digests,
    })
}

/// A member's `recipient` (classic, `age1…`) and `pq_recipient` (`age1pq1…`), each in its own
/// field: a post-quantum key in `recipient` or a classic one in `pq_recipient` is refused, so
/// an operator always knows which kind they listed.
fn member_keys(path: &Path, m: &MemberEntry) -> Result<PartyKeys, KeysError> {
    let classic = m
        .recipient
        .as_deref()
        .map(|text| {
            let text = text.trim();
            (!text.starts_with("age1pq1"))
                .then(|| text.parse::<age::x25519::Recipient>().ok())
                .flatten()
                .ok_or_else(|| KeysError::BadRecipient {
                    path: path.to_owned(),
                    handle: m.handle.clone(),
                    recipient: shortened(text),
                })
        })
        .transpose()?;
    let pq = m
        .pq_recipient
        .as_deref()
        .map(|text| {
            text.trim()
                .parse::<crate::crypto::pq::HybridRecipient>()
                .map_err(|_| KeysError::BadPqRecipient {
                    path: path.to_owned(),
                    handle: m.handle.clone(),
                    recipient: shortened(text.trim()),
                })
        })
        .transpose()?;
    Ok(PartyKeys { classic, pq })
}

/// A recipient as an error message shows it: a post-quantum one is 1959 characters.
fn shortened(text: &str) -> String {
    if text.chars().count() <= 80 {
        return text.to_owned();
    }
    let head: String = text.chars().take(40).collect();
    let tail: String = text
        .chars()
        .rev()
        .take(12)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{head}…{tail}")
}

fn digest_subscriber(
    path: &Path,
    m: &Member,
    d: &DigestEntry,
) -> Result<DigestSubscriber, KeysError> {
    let bad = |message: String| KeysError::Digest {
        path: path.to_owned(),
        handle: m.handle.clone(),
        message,
    };
    if m.is_machine() {
        return Err(bad(
            "a machine member (role integration) gets webhooks, not digests".into(),
        ));
    }
    let email: lettre::Address = d
        .email
        .trim()
        .parse()
        .map_err(|_| bad(format!("email {:?} is not an e-mail address", d.email)))?;
    let lang = match d.language.as_deref() {
        None | Some("id") => MailLang::Id,
        Some("en") => MailLang::En,
        Some(other) => return Err(bad(format!("language {other:?}: \"id\" or \"en\""))),
    };
    let scope = DigestScope {
        institution: m.institution.clone(),
        handle: m.handle.clone(),
        reader: m.is_writer(),
        assigned_only: m.has(Role::Investigator) && !m.has(Role::Triage),
        custodian: m.has(Role::Custodian),
        oversight: m.has(Role::Oversight),
    };
    Ok(DigestSubscriber { scope, email, lang })
}

fn load_webhook(path: &Path, slug: &str, w: &WebhookEntry) -> Result<WebhookTarget, KeysError> {
    let bad = |message: String| KeysError::Webhook {
        path: path.to_owned(),
        message,
    };
    check_webhook_url(&w.url).map_err(|m| bad(format!("url {:?}: {m}", w.url)))?;
    if w.secret_files.is_empty() {
        return Err(bad("secret_files must name at least one file".into()));
    }
    let base = path.parent().unwrap_or(Path::new("."));
    let mut secrets = Vec::with_capacity(w.secret_files.len());
    for f in &w.secret_files {
        let file = base.join(f);
        let bytes = zeroize::Zeroizing::new(std::fs::read(&file).map_err(|e| {
            bad(format!(
                "cannot read the secret file {}: {e}",
                file.display()
            ))
        })?);
        if holds_secret_key(&bytes) {
            return Err(KeysError::SecretKeyFound(file));
        }
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| bad(format!("{}: not a whsec_ secret", file.display())))?;
        // The error names the file, never its content.
        secrets
            .push(WebhookSecret::parse(text).map_err(|m| bad(format!("{}: {m}", file.display())))?);
    }
    Ok(WebhookTarget {
        institution: slug.to_owned(),
        url: w.url.clone(),
        secrets,
    })
}

/// `https://…` anywhere, or plain `http://` to this machine only (127.0.0.1, localhost, [::1]).
/// No user name or password in the URL.
pub fn check_webhook_url(url: &str) -> Result<(), &'static str> {
    let (https, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err("must start with https:// (or http:// to 127.0.0.1, localhost or [::1])");
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err("must not hold a user name or password");
    }
    if authority.is_empty() || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("is not a URL");
    }
    if https {
        return Ok(());
    }
    let host = if authority.starts_with('[') {
        authority.split_inclusive(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    let port_ok = match authority[host.len()..].strip_prefix(':') {
        None => authority.len() == host.len(),
        Some(p) => !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()),
    };
    if matches!(host, "127.0.0.1" | "localhost" | "[::1]") && port_ok {
        Ok(())
    } else {
        Err(
            "plain http is only allowed to this machine (127.0.0.1, localhost, [::1]); use https://",
        )
    }
}

fn refuse_secret_keys(dir: &Path) -> Result<(), KeysError> {
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|source| KeysError::Read {
            path: d.clone(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| KeysError::Read {
                path: d.clone(),
                source,
            })?;
            let path = entry.path();
            // `metadata` follows symlinks: a link to an identity elsewhere is caught too.
            let meta = std::fs::metadata(&path).map_err(|source| KeysError::Read {
                path: path.clone(),
                source,
            })?;
            if meta.is_dir() {
                stack.push(path);
            } else if meta.is_file() {
                let bytes = std::fs::read(&path).map_err(|source| KeysError::Read {
                    path: path.clone(),
                    source,
                })?;
                if holds_secret_key(&bytes) {
                    return Err(KeysError::SecretKeyFound(path));
                }
            }
        }
    }
    Ok(())
}

/// Writes an institution file (used by `bisik demo`). Public recipients only.
pub fn institution_toml(inst: &Institution) -> String {
    let mut out = String::new();
    out.push_str(&format!("slug = {}\n", toml_str(&inst.slug)));
    out.push_str(&format!("name_id = {}\n", toml_str(&inst.name_id)));
    out.push_str(&format!("name_en = {}\n", toml_str(&inst.name_en)));
    out.push_str(&format!("intake_desk = {}\n", inst.intake_desk));
    if let Some(p) = &inst.parent {
        out.push_str(&format!("parent = {}\n", toml_str(p)));
    }
    if let Some(d) = inst.retention_days {
        out.push_str(&format!("retention_days = {d}\n"));
    }
    if inst.reveal_notice_days > 0 {
        out.push_str(&format!(
            "reveal_notice_days = {}\n",
            inst.reveal_notice_days
        ));
    }
    if !inst.categories.is_empty() {
        let cats: Vec<String> = inst.categories.iter().map(|c| toml_str(c)).collect();
        out.push_str(&format!("categories = [{}]\n", cats.join(", ")));
    }
    for m in &inst.members {
        out.push_str("\n[[members]]\n");
        out.push_str(&format!("handle = {}\n", toml_str(&m.handle)));
        if let Some(d) = &m.display_name {
            out.push_str(&format!("display_name = {}\n", toml_str(d)));
        }
        let roles: Vec<String> = m.roles.iter().map(|r| toml_str(r.as_str())).collect();
        out.push_str(&format!("roles = [{}]\n", roles.join(", ")));
        if let Some(r) = &m.keys.classic {
            out.push_str(&format!("recipient = {}\n", toml_str(&r.to_string())));
        }
        if let Some(r) = &m.keys.pq {
            out.push_str(&format!("pq_recipient = {}\n", toml_str(&r.to_string())));
        }
    }
    out
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use age::secrecy::ExposeSecret;

    fn write_desk(dir: &Path) -> age::x25519::Identity {
        let id = age::x25519::Identity::generate();
        let c = age::x25519::Identity::generate();
        std::fs::create_dir_all(dir.join("institutions")).unwrap();
        std::fs::write(
            dir.join("institutions/desk.toml"),
            format!(
                "slug = \"desk\"\nname_id = \"Meja\"\nname_en = \"Desk\"\nintake_desk = true\n\n\
                 [[members]]\nhandle = \"ana\"\nroles = [\"triage\"]\nrecipient = \"{}\"\n\n\
                 [[members]]\nhandle = \"cus\"\nroles = [\"custodian\"]\nrecipient = \"{}\"\n",
                id.to_public(),
                c.to_public()
            ),
        )
        .unwrap();
        id
    }

    #[test]
    fn loads_a_valid_directory() {
        let dir = tempfile::tempdir().unwrap();
        write_desk(dir.path());
        let d = load_directory(dir.path()).unwrap();
        assert_eq!(d.intake_desk().slug, "desk");
        assert_eq!(d.intake_desk().members.len(), 2);
    }

    #[test]
    fn a_secret_key_anywhere_under_keys_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let id = write_desk(dir.path());
        std::fs::create_dir_all(dir.path().join("deep/er")).unwrap();
        std::fs::write(
            dir.path().join("deep/er/notes.txt"),
            id.to_string().expose_secret().to_lowercase(),
        )
        .unwrap();
        let err = load_directory(dir.path()).unwrap_err();
        assert!(
            matches!(err, KeysError::SecretKeyFound(ref p) if p.ends_with("deep/er/notes.txt")),
            "{err}"
        );
        assert!(err.to_string().contains("refusing to start"));
    }

    #[test]
    fn webhook_urls() {
        for ok in [
            "https://agency.example/hooks",
            "http://127.0.0.1:9000/h",
            "http://localhost/h",
            "http://[::1]:80",
        ] {
            assert!(check_webhook_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://agency.example/h",
            "http://127.0.0.1.evil.example/h",
            "http://localhost:80@evil.example/",
            "https://user:pw@agency.example/",
            "ftp://x",
            "http://127.0.0.1:x/",
        ] {
            assert!(check_webhook_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn demo_writer_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        write_desk(dir.path());
        let d = load_directory(dir.path()).unwrap();
        let text = institution_toml(d.intake_desk());
        std::fs::write(dir.path().join("institutions/desk.toml"), text).unwrap();
        let again = load_directory(dir.path()).unwrap();
        assert_eq!(again.intake_desk().readers().len(), 1);
    }

    #[test]
    fn post_quantum_recipients_load_in_their_own_field_and_secret_ones_are_refused() {
        use crate::crypto::pq::HybridIdentity;
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("institutions")).unwrap();
        let (a, ap) = (
            age::x25519::Identity::generate(),
            HybridIdentity::generate(),
        );
        let (c, cp) = (
            age::x25519::Identity::generate(),
            HybridIdentity::generate(),
        );
        let write = |ana: &str, cus: &str| {
            std::fs::write(
                dir.path().join("institutions/desk.toml"),
                format!(
                    "slug = \"desk\"\nname_id = \"Meja\"\nname_en = \"Desk\"\nintake_desk = true\n\n\
                     [[members]]\nhandle = \"ana\"\nroles = [\"triage\"]\n{ana}\n\n\
                     [[members]]\nhandle = \"cus\"\nroles = [\"custodian\"]\n{cus}\n"
                ),
            )
            .unwrap();
        };
        // Both kinds for ana, post-quantum only for cus: everyone has a post-quantum key.
        write(
            &format!(
                "recipient = \"{}\"\npq_recipient = \"{}\"",
                a.to_public(),
                ap.to_public()
            ),
            &format!("pq_recipient = \"{}\"", cp.to_public()),
        );
        let d = load_directory(dir.path()).unwrap();
        assert!(d.not_post_quantum().is_empty());
        let ana = d.member("ana").unwrap();
        assert_eq!(ana.keys.pq.as_ref(), Some(&ap.to_public()));
        assert_eq!(ana.keys.classic.as_ref(), Some(&a.to_public()));
        // The demo writer keeps both fields.
        let text = institution_toml(d.intake_desk());
        assert!(text.contains("pq_recipient = ") && text.contains("recipient = \"age1"));
        // Each kind in its own field, with a readable refusal.
        write(
            &format!("recipient = \"{}\"", ap.to_public()),
            &format!("recipient = \"{}\"", c.to_public()),
        );
        let err = load_directory(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("invalid recipient") && err.len() < 400,
            "{err}"
        );
        write(
            &format!("pq_recipient = \"{}\"", a.to_public()),
            &format!("recipient = \"{}\"", c.to_public()),
        );
        let err = load_directory(dir.path()).unwrap_err().to_string();
        assert!(err.contains("invalid pq_recipient"), "{err}");
        // Post-quantum only while another member has only a classic key: refused by name.
        write(
            &format!("pq_recipient = \"{}\"", ap.to_public()),
            &format!("recipient = \"{}\"", c.to_public()),
        );
        let err = load_directory(dir.path()).unwrap_err().to_string();
        assert!(err.contains("\"ana\" has only a post-quantum key"), "{err}");
        // A post-quantum secret key under keys/ stops the start like a classic one.
        write(
            &format!("recipient = \"{}\"", a.to_public()),
            &format!("recipient = \"{}\"", c.to_public()),
        );
        std::fs::write(
            dir.path().join("pq.txt"),
            ap.to_string().expose_secret().as_bytes(),
        )
        .unwrap();
        assert!(matches!(
            load_directory(dir.path()).unwrap_err(),
            KeysError::SecretKeyFound(_)
        ));
    }
}
