//! `bisik demo`: a working service in one command, for trying Bisik out.
//!
//! First run: creates `./demo-data` with demo institutions in `keys/` (public recipients only),
//! a fresh age identity per demo member in `identities/` (outside `keys/`, mode 0600, printed),
//! a config file, and the SQLite database. Later runs reuse the folder.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use age::secrecy::ExposeSecret;
use age::x25519;
use clap::Args;

use crate::config::keys::{institution_toml, load_directory};
use crate::config::{Config, Listen};
use crate::domain::institution::{Institution, Member, Role};
use crate::server;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder for the demo's database, keys and identities.
    #[arg(long, default_value = "demo-data")]
    data_dir: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Give every demo member a post-quantum key as well (ML-KEM-768 + X25519), so every case
    /// is sealed post-quantum. Applies when the demo folder is created.
    #[arg(long)]
    pq: bool,
}

/// (slug, name_id, name_en, intake desk, members: (handle, roles))
type DemoInstitution = (
    &'static str,
    &'static str,
    &'static str,
    bool,
    &'static [(&'static str, &'static [Role])],
);

/// (slug, parent, categories handled)
const TREE: &[(&str, Option<&str>, &[&str])] = &[
    ("desk", None, &[]),
    ("health", Some("desk"), &["health"]),
    ("transport", Some("desk"), &["transport", "infrastructure"]),
    ("ombudsman", None, &[]),
];

const INSTITUTIONS: &[DemoInstitution] = &[
    (
        "desk",
        "Meja Pengaduan Nasional (demo)",
        "National Intake Desk (demo)",
        true,
        &[
            ("desk-triage", &[Role::Triage]),
            ("desk-custodian", &[Role::Custodian]),
        ],
    ),
    (
        "health",
        "Dinas Kesehatan Kota Contoh (demo)",
        "Example City Health Office (demo)",
        false,
        &[
            ("health-triage", &[Role::Triage]),
            ("health-investigator", &[Role::Investigator]),
            ("health-custodian", &[Role::Custodian]),
        ],
    ),
    (
        "transport",
        "Dinas Perhubungan Kota Contoh (demo)",
        "Example City Transport Office (demo)",
        false,
        &[
            ("transport-triage", &[Role::Triage]),
            ("transport-investigator", &[Role::Investigator]),
            ("transport-custodian", &[Role::Custodian]),
        ],
    ),
    (
        "ombudsman",
        "Ombudsman Republik Contoh (demo)",
        "Ombudsman of the Example Republic (demo)",
        false,
        &[
            ("ombudsman-officer", &[Role::Triage, Role::Oversight]),
            ("ombudsman-custodian", &[Role::Custodian]),
        ],
    ),
];

/// Shipped as data in the repository (`calendars/`), embedded so the demo works anywhere.
const INDONESIAN_HOLIDAYS: &str = include_str!("../../calendars/indonesia-2026-2027.toml");

const DEMO_CONFIG_TAIL: &str = r#"
[[categories]]
slug = "health"
name_id = "Kesehatan"
name_en = "Health"

[[categories]]
slug = "transport"
name_id = "Transportasi"
name_en = "Transport"

[[categories]]
slug = "education"
name_id = "Pendidikan"
name_en = "Education"

[[categories]]
slug = "corruption"
name_id = "Korupsi dan pungutan liar"
name_en = "Corruption and illegal levies"

[[categories]]
slug = "public-service"
name_id = "Pelayanan publik"
name_en = "Public services"

[[categories]]
slug = "infrastructure"
name_id = "Infrastruktur"
name_en = "Infrastructure"
"#;

pub fn run(args: DemoArgs) -> Result<(), String> {
    super::init_logging();
    let listen = Listen::parse(&args.listen).map_err(|e| e.to_string())?;
    let config_path = args.data_dir.join("bisik.toml");
    if !config_path.exists() {
        create_with(&args.data_dir, args.pq)
            .map_err(|e| format!("cannot create the demo in {}: {e}", args.data_dir.display()))?;
    }
    let mut config = Config::load(&config_path).map_err(|e| e.to_string())?;
    config.listen = listen;
    // Members' commands need `--server` when the demo does not listen where they look first.
    let server_arg = match &config.listen {
        Listen::Tcp(addr) if addr.to_string() != "127.0.0.1:8080" => {
            format!(" --server http://{addr}")
        }
        _ => String::new(),
    };
    print_members(
        &config.keys_dir,
        &args.data_dir.join("identities"),
        &server_arg,
    )?;
    super::runtime()?.block_on(async {
        server::serve(config, |addr| {
            println!();
            println!("Bisik demo is running: open {addr} in a browser (JavaScript may be off).");
            println!(
                "Stop it with Ctrl-C. Data stays in {} for the next run.",
                args.data_dir.display()
            );
        })
        .await
        .map_err(|e| e.to_string())
    })
}

/// Writes the demo folder: keys (public), identities (secret, demo only), config. Tests use it
/// as their fixture, so the demo and the tests exercise the same institutions.
pub fn create(dir: &Path) -> std::io::Result<()> {
    create_with(dir, false)
}

/// [`create`]; with `pq`, every member also has a post-quantum key (in keys/ as `pq_recipient`,
/// its identity line in the member's identity file after the classic one).
pub fn create_with(dir: &Path, pq: bool) -> std::io::Result<()> {
    let keys = dir.join("keys").join("institutions");
    let ids = dir.join("identities");
    // The demo's data folder is this folder (and it holds secret identities): 0700.
    crate::store::disk::private_dir(dir)?;
    crate::store::disk::private_dir(&ids)?;
    std::fs::create_dir_all(&keys)?;
    for (slug, name_id, name_en, desk, members) in INSTITUTIONS {
        let mut list = Vec::new();
        for (handle, roles) in *members {
            let identity = x25519::Identity::generate();
            let pq_identity = pq.then(crate::crypto::pq::HybridIdentity::generate);
            write_identity(
                &ids.join(format!("{handle}.txt")),
                handle,
                &identity,
                pq_identity.as_ref(),
            )?;
            list.push(Member {
                handle: (*handle).into(),
                display_name: None,
                institution: (*slug).into(),
                roles: roles.iter().copied().collect::<BTreeSet<_>>(),
                keys: crate::crypto::keys::PartyKeys {
                    classic: Some(identity.to_public()),
                    pq: pq_identity
                        .as_ref()
                        .map(crate::crypto::pq::HybridIdentity::to_public),
                },
            });
        }
        let inst = Institution {
            slug: (*slug).into(),
            name_id: (*name_id).into(),
            name_en: (*name_en).into(),
            intake_desk: *desk,
            reveal_notice_days: 0,
            retention_days: None,
            parent: TREE
                .iter()
                .find(|t| t.0 == *slug)
                .and_then(|t| t.1)
                .map(Into::into),
            categories: TREE
                .iter()
                .find(|t| t.0 == *slug)
                .map(|t| t.2.iter().map(|c| (*c).to_owned()).collect())
                .unwrap_or_default(),
            members: list,
        };
        std::fs::write(keys.join(format!("{slug}.toml")), institution_toml(&inst))?;
    }
    // Indonesia's national holidays and joint leave days: deadlines count working days.
    let calendars = dir.join("calendars");
    std::fs::create_dir_all(&calendars)?;
    std::fs::write(
        calendars.join("indonesia-2026-2027.toml"),
        INDONESIAN_HOLIDAYS,
    )?;
    let config = format!(
        "# Bisik demo configuration (generated). Public keys only: identities are in ./identities.\n\
         data_dir = \".\"\nkeys_dir = \"keys\"\n\n\
         [calendar]\nholiday_files = [\"calendars/indonesia-2026-2027.toml\"]\n{DEMO_CONFIG_TAIL}"
    );
    std::fs::write(dir.join("bisik.toml"), config)
}

fn write_identity(
    path: &Path,
    handle: &str,
    identity: &x25519::Identity,
    pq: Option<&crate::crypto::pq::HybridIdentity>,
) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    writeln!(
        f,
        "# Bisik DEMO identity for member {handle}. For trying the demo only: never use it for real."
    )?;
    writeln!(f, "# public key: {}", identity.to_public())?;
    writeln!(f, "{}", identity.to_string().expose_secret())?;
    if let Some(pq) = pq {
        writeln!(
            f,
            "# post-quantum key (its public key is the member's pq_recipient)"
        )?;
        writeln!(f, "{}", pq.to_string().expose_secret())?;
    }
    f.sync_all()
}

fn print_members(keys_dir: &Path, ids: &Path, server_arg: &str) -> Result<(), String> {
    let directory = load_directory(keys_dir).map_err(|e| e.to_string())?;
    println!("Demo members (their identity files are secret keys for this demo only):");
    for inst in directory.all() {
        for m in &inst.members {
            let roles: Vec<&str> = m.roles.iter().map(|r| r.as_str()).collect();
            println!(
                "  {:<22} {:<20} {:<10} {}",
                m.handle,
                roles.join(","),
                inst.slug,
                ids.join(format!("{}.txt", m.handle)).display()
            );
        }
    }
    let example = ids.join("desk-triage.txt");
    println!();
    println!("Read cases as a member, decrypted on your machine:");
    println!(
        "  cargo run --release -- case{server_arg} --identity {} list",
        example.display()
    );
    println!(
        "  cargo run --release -- case{server_arg} --identity {} show <CASE-ID>",
        example.display()
    );
    println!();
    println!("Or work in the officers' desk (a web page on this computer, decrypting here):");
    for inst in directory.all() {
        for m in &inst.members {
            println!(
                "  cargo run --release -- desk{server_arg} --identity {}",
                ids.join(format!("{}.txt", m.handle)).display()
            );
        }
    }
    Ok(())
}
