//! Interoperability of the post-quantum hybrid recipient type (`bisik::crypto::pq`) with typage,
//! the TypeScript age implementation (npm `age-encryption` 0.3.1), both ways, through
//! tests/support/typage.mjs. Only the local filesystem is used.
//!
//! Needs `node` on the PATH and `BISIK_TEST_NODE_MODULES` naming a folder that holds
//! `node_modules/age-encryption`; `.ci/run` installs it into target/test-node and sets it. Without
//! them these tests fail (they never pass silently).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};

use std::process::Command;

use common::typage::typage;

use age::secrecy::ExposeSecret;
use bisik::crypto::pq::{HybridIdentity, HybridRecipient};
use sha2::{Digest, Sha256};

fn payload(len: usize) -> Vec<u8> {
    // Deterministic, incompressible enough, and not a multiple of age's 64 KiB chunk.
    let mut x: u32 = 0x9e37_79b9;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x.to_le_bytes()[0]
        })
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn typage_encrypts_bisik_decrypts() {
    let dir = tempfile::tempdir().unwrap();
    let plain = payload(70_001);
    std::fs::write(dir.path().join("plain.bin"), &plain).unwrap();
    typage("encrypt", dir.path());

    let id_s = std::fs::read_to_string(dir.path().join("identity.txt")).unwrap();
    let rcpt_s = std::fs::read_to_string(dir.path().join("recipient.txt")).unwrap();
    let (id_s, rcpt_s) = (id_s.trim(), rcpt_s.trim());
    assert!(
        id_s.starts_with("AGE-SECRET-KEY-PQ-1"),
        "typage identity prefix"
    );
    let id: HybridIdentity = id_s.parse().unwrap();
    let rcpt: HybridRecipient = rcpt_s.parse().unwrap();
    assert_eq!(rcpt, id.to_public());
    assert_eq!(id.to_public().to_string(), rcpt_s);
    assert_eq!(id.to_string().expose_secret(), id_s);
    let lower: HybridIdentity = id_s.to_lowercase().parse().unwrap();
    assert_eq!(lower.to_public(), rcpt);

    let ct = std::fs::read(dir.path().join("typage.age")).unwrap();
    let dec = age::Decryptor::new(&ct[..]).unwrap();
    let mut r = dec
        .decrypt(std::iter::once(&id as &dyn age::Identity))
        .unwrap();
    let mut got = vec![];
    r.read_to_end(&mut got).unwrap();
    assert_eq!(Sha256::digest(&got), Sha256::digest(&plain));

    // Another identity finds no stanza of its own.
    let dec = age::Decryptor::new(&ct[..]).unwrap();
    let other = HybridIdentity::generate();
    assert!(matches!(
        dec.decrypt(std::iter::once(&other as &dyn age::Identity)),
        Err(age::DecryptError::NoMatchingKeys)
    ));
}

#[test]
fn bisik_encrypts_typage_decrypts() {
    let dir = tempfile::tempdir().unwrap();
    let id = HybridIdentity::generate();
    std::fs::write(
        dir.path().join("identity.txt"),
        format!("{}\n", id.to_string().expose_secret()),
    )
    .unwrap();
    let plain = payload(200 * 1024 + 17);
    let others: Vec<HybridRecipient> = (0..2)
        .map(|_| HybridIdentity::generate().to_public())
        .collect();
    let rcpt = id.to_public();
    let recipients: Vec<&dyn age::Recipient> = vec![&others[0], &rcpt, &others[1]];
    let enc = age::Encryptor::with_recipients(recipients.into_iter()).unwrap();
    let mut ct = vec![];
    let mut w = enc.wrap_output(&mut ct).unwrap();
    w.write_all(&plain).unwrap();
    w.finish().unwrap();
    std::fs::write(dir.path().join("bisik.age"), &ct).unwrap();

    let out = typage("decrypt", dir.path());
    let want = format!("sha256 {}", hex(&Sha256::digest(&plain)));
    assert!(
        out.lines().any(|l| l == want),
        "typage said:\n{out}\nwanted {want}"
    );
}

/// `bisik keygen --pq`: a member's new identity, in a file of their own, opens in typage what
/// Bisik sealed to the recipient it printed; the file is the member's only and never overwritten.
#[test]
fn a_bisik_keygen_pq_identity_opens_in_typage() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("member-pq.txt");
    let keygen = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_bisik"))
            .arg("keygen")
            .args(extra)
            .arg("--output")
            .arg(&path)
            .output()
            .unwrap()
    };
    let out = keygen(&["--pq"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let recipient = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(recipient.starts_with("age1pq1"), "{recipient}");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(&format!("# public key: {recipient}\n")));
    let line = text
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-PQ-1"))
        .unwrap();
    let id: HybridIdentity = line.parse().unwrap();
    assert_eq!(id.to_public().to_string(), recipient);
    // Never overwritten.
    assert!(!keygen(&["--pq"]).status.success());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);

    std::fs::write(dir.path().join("identity.txt"), format!("{line}\n")).unwrap();
    let plain = payload(4097);
    let rcpt: HybridRecipient = recipient.parse().unwrap();
    let enc =
        age::Encryptor::with_recipients(std::iter::once(&rcpt as &dyn age::Recipient)).unwrap();
    let mut ct = vec![];
    let mut w = enc.wrap_output(&mut ct).unwrap();
    w.write_all(&plain).unwrap();
    w.finish().unwrap();
    std::fs::write(dir.path().join("bisik.age"), &ct).unwrap();
    let out = typage("decrypt", dir.path());
    assert!(
        out.contains(&format!("sha256 {}", hex(&Sha256::digest(&plain)))),
        "{out}"
    );

    // A classic identity, the same way.
    let classic = dir.path().join("member.txt");
    let out = Command::new(env!("CARGO_BIN_EXE_bisik"))
        .args(["keygen", "--output"])
        .arg(&classic)
        .output()
        .unwrap();
    assert!(out.status.success());
    let recipient = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let id = bisik::client::read_identity(&classic).unwrap();
    assert_eq!(id.to_public().to_string(), recipient);
}
