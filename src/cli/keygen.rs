//! `bisik keygen --output FILE [--pq]`: a new age identity for a member, written to a file of
//! their own (created, never overwritten, readable by them only); its public recipient is
//! printed for the operator's keys file. `--pq` makes a post-quantum hybrid identity
//! (`AGE-SECRET-KEY-PQ-1…`, recipient `age1pq1…`, the age specification's `mlkem768x25519`), as
//! `age-keygen -pq` does. Run it on the member's own computer, never on the server.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use age::secrecy::ExposeSecret;
use clap::Args;

use crate::crypto::pq::HybridIdentity;

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Where to write the identity (a new file; an existing one is never overwritten).
    #[arg(long, short)]
    output: PathBuf,
    /// A post-quantum hybrid identity (ML-KEM-768 + X25519) instead of a classic X25519 one.
    #[arg(long)]
    pq: bool,
}

pub fn run(args: KeygenArgs) -> Result<(), String> {
    let (secret, public) = if args.pq {
        let id = HybridIdentity::generate();
        (id.to_string(), id.to_public().to_string())
    } else {
        let id = age::x25519::Identity::generate();
        (id.to_string(), id.to_public().to_string())
    };
    let today = time::OffsetDateTime::now_utc().date();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&args.output)
        .map_err(|e| format!("cannot create {}: {e}", args.output.display()))?;
    let text = zeroize::Zeroizing::new(format!(
        "# created: {today}\n# public key: {public}\n{}\n",
        secret.expose_secret()
    ));
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", args.output.display()))?;
    println!("{public}");
    eprintln!(
        "bisik: identity written to {} (keep it on this computer); give the operator the public \
         key above for the keys file.",
        args.output.display()
    );
    Ok(())
}
