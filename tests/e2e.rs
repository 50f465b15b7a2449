//! End to end with the real `bisik` binary on 127.0.0.1: production Argon2id parameters, the
//! member CLI, the Debian `age` CLI for interop, and plaintext canaries hunted through every file
//! in the data folder and every line the server printed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;

fn post(agent: &ureq::Agent, url: &str, pairs: &[(&str, &str)]) -> (u16, String) {
    let mut res = agent
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .send(form_body(pairs))
        .unwrap();
    (
        res.status().as_u16(),
        res.body_mut().read_to_string().unwrap(),
    )
}

fn canary() -> String {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).unwrap();
    format!(
        "CANARY{}",
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    )
}

/// `age -d -i identity` on a file; returns (success, stdout).
fn age_decrypt(identity: &std::path::Path, file: &std::path::Path) -> (bool, Vec<u8>) {
    let out = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(identity)
        .arg(file)
        .output()
        .expect(
            "the Debian `age` CLI must be installed (apt-get install age); .ci/run installs it",
        );
    (out.status.success(), out.stdout)
}

#[test]
fn plaintext_canaries_never_reach_disk_or_logs() {
    plaintext_canaries(false);
}

/// The same with every member holding a post-quantum key (every envelope post-quantum).
#[test]
fn plaintext_canaries_never_reach_disk_or_logs_on_a_post_quantum_directory() {
    plaintext_canaries(true);
}

fn plaintext_canaries(post_quantum: bool) {
    let fx = Fixture::new(PRODUCTION_KDF);
    if post_quantum {
        fx.add_post_quantum_keys(&[]);
    }
    // The most verbose logging there is: even at trace level nothing may leak.
    let server = ServerProcess::start(&fx.config_path, &[("BISIK_LOG", "trace")]);
    let a = loopback_agent();
    let c = canary();
    let (title, body, name, contact, place, reply) = (
        format!("T{c}"),
        format!("B{c}"),
        format!("N{c}"),
        format!("K{c}"),
        format!("L{c}"),
        format!("R{c}"),
    );
    let fields = report_fields(&[
        ("title", &title),
        ("body", &body),
        ("location", &place),
        ("privacy", "confidential"),
        ("identity_name", &name),
        ("identity_contact", &contact),
    ]);
    let (status, html) = post(&a, &format!("{}/report?lang=en", server.base), &fields);
    assert_eq!(status, 200, "{html}");
    let receipt = element_text(&html, "receipt").unwrap();
    let case_id = element_text(&html, "case-id").unwrap();

    let (status, html) = post(
        &a,
        &format!("{}/status?lang=en", server.base),
        &[("receipt", &receipt)],
    );
    assert_eq!(status, 200);
    assert!(html.contains(&body) && html.contains(&name));
    let nonce = input_value(&html, "nonce").unwrap();
    let (status, html) = post(
        &a,
        &format!("{}/status/reply?lang=en", server.base),
        &[
            ("receipt", &receipt),
            ("nonce", &nonce),
            ("message", &reply),
        ],
    );
    assert_eq!(status, 200);
    assert!(html.contains(&reply));

    // A member reads it with the CLI (decrypting on "their machine", i.e. in the CLI process).
    let inv = fx.identity_path("health-investigator");
    let (ok, out, err) = case_cli(&server.base, &inv, &["show", &case_id]);
    assert!(ok, "{err}");
    let shown = String::from_utf8(out).unwrap();
    assert!(
        shown.contains(&title) && shown.contains(&body) && shown.contains(&reply),
        "{shown}"
    );
    assert!(
        !shown.contains(&name),
        "an investigator never sees the identity"
    );

    let digits: String = receipt.chars().filter(char::is_ascii_digit).collect();
    let needles: Vec<(&str, Vec<u8>)> = vec![
        ("title", title.clone().into_bytes()),
        ("body", body.clone().into_bytes()),
        ("identity name", name.clone().into_bytes()),
        ("identity contact", contact.clone().into_bytes()),
        ("location", place.clone().into_bytes()),
        ("reply", reply.clone().into_bytes()),
        ("canary", c.clone().into_bytes()),
        ("receipt", receipt.clone().into_bytes()),
        ("receipt digits", digits.clone().into_bytes()),
        ("receipt secret", digits.as_bytes()[8..24].to_vec()),
    ];
    let on_pg = fixture_database_url(fx.data_dir()).is_some();
    let scan = |when: &str| {
        let mut files = all_files(fx.data_dir());
        if on_pg {
            // The database's own files, the cluster's WAL and the database server's log.
            let db = database_files(fx.data_dir(), true);
            assert!(db.iter().any(|f| f.to_string_lossy().contains("pg_wal")));
            files.extend(db);
        } else {
            assert!(
                files.iter().any(|f| f.ends_with("bisik.sqlite")),
                "database file exists"
            );
        }
        // The scan reads where the rows are: the case id, stored in the clear, is found.
        assert!(
            files
                .iter()
                .any(|f| contains(&std::fs::read(f).unwrap(), case_id.as_bytes())),
            "{when}: the case id is in none of the files scanned"
        );
        for f in files {
            let bytes = std::fs::read(&f).unwrap();
            for (what, n) in &needles {
                assert!(
                    !contains(&bytes, n),
                    "{when}: {what} found in {}",
                    f.display()
                );
            }
        }
    };
    // While running: the WAL holds the recent writes.
    assert!(
        on_pg
            || all_files(fx.data_dir())
                .iter()
                .any(|f| f.to_string_lossy().ends_with("-wal")),
        "WAL file exists"
    );
    scan("while running");
    let log = server.stop();
    scan("after shutdown");
    if post_quantum {
        assert!(assert_no_x25519_stanza_at_rest(fx.data_dir()) > 0);
    }

    assert!(
        log.contains("member request"),
        "the log was captured: {log}"
    );
    for (what, n) in &needles {
        assert!(
            !contains(log.as_bytes(), n),
            "{what} found in the server log"
        );
    }
    // No client address or user agent either (the only address is the server's own).
    for line in log.lines().filter(|l| l.contains("127.0.0.1")) {
        assert!(line.contains("listening"), "an address in the log: {line}");
    }
    assert!(
        !log.to_ascii_lowercase().contains("ureq"),
        "a user agent in the log"
    );
}

#[test]
fn envelopes_open_with_the_reference_age_cli() {
    let fx = Fixture::new(PRODUCTION_KDF);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let a = loopback_agent();
    let fields = report_fields(&[
        ("title", "Interop title"),
        ("body", "Interop body"),
        ("privacy", "confidential"),
        ("identity_name", "Interop Name"),
    ]);
    let (status, html) = post(&a, &format!("{}/report?lang=en", server.base), &fields);
    assert_eq!(status, 200, "{html}");
    let case_id = element_text(&html, "case-id").unwrap();
    let work = tempfile::tempdir().unwrap();
    let inv = fx.identity_path("health-investigator");
    let cus = fx.identity_path("health-custodian");

    // `bisik case list` names the case.
    let (ok, out, err) = case_cli(&server.base, &inv, &["list"]);
    assert!(ok, "{err}");
    let listing = String::from_utf8(out).unwrap();
    assert!(
        listing.contains(&case_id)
            && listing.contains("confidential")
            && listing.contains("received"),
        "{listing}"
    );

    // The content envelope, written raw to stdout by the CLI, opens with `age -d`.
    let (ok, envelope, err) = case_cli(&server.base, &inv, &["envelope", &case_id]);
    assert!(ok, "{err}");
    assert!(
        envelope.starts_with(b"age-encryption.org/v1\n"),
        "a binary age v1 file"
    );
    let env_file = work.path().join("content.age");
    std::fs::write(&env_file, &envelope).unwrap();
    let (ok, plain) = age_decrypt(&inv, &env_file);
    assert!(ok, "age -d with the investigator's identity");
    let doc: serde_json::Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(doc["type"], "bisik.report");
    assert_eq!(doc["title"], "Interop title");
    assert_eq!(doc["body"], "Interop body");
    assert!(doc.get("name").is_none() && !String::from_utf8_lossy(&plain).contains("Interop Name"));
    assert_eq!(plain.len(), 1024, "padded to the first bucket");
    let (ok, _) = age_decrypt(&fx.identity_path("transport-investigator"), &env_file);
    assert!(!ok, "another institution's key cannot open it");

    // The identity envelope: a custodian opens it with `age`, an investigator cannot.
    let (ok, _, err) = case_cli(&server.base, &inv, &["identity-envelope", &case_id]);
    assert!(
        !ok && err.contains("403"),
        "the API refuses investigators: {err}"
    );
    let (ok, id_env, err) = case_cli(&server.base, &cus, &["identity-envelope", &case_id]);
    assert!(ok, "{err}");
    let id_file = work.path().join("identity.age");
    std::fs::write(&id_file, &id_env).unwrap();
    let (ok, plain) = age_decrypt(&cus, &id_file);
    assert!(ok, "age -d with the custodian's identity");
    let doc: serde_json::Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(doc["name"], "Interop Name");
    let (ok, _) = age_decrypt(&inv, &id_file);
    assert!(
        !ok,
        "the investigator's identity cannot open the identity envelope"
    );
    let (ok, _) = age_decrypt(&fx.identity_path("desk-triage"), &id_file);
    assert!(!ok);
    server.stop();
}

#[test]
fn refuses_to_start_with_a_secret_key_under_keys() {
    let fx = Fixture::new(CHEAP_KDF);
    let stray = fx
        .data_dir()
        .join("keys")
        .join("institutions")
        .join("backup-of-my-key.txt");
    std::fs::copy(fx.identity_path("desk-triage"), &stray).unwrap();
    let out = Command::new(bisik_bin())
        .args(["serve", "--config", fx.config_path.to_str().unwrap()])
        .env("BISIK_LISTEN", format!("127.0.0.1:{}", free_port()))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refusing to start") && err.contains("backup-of-my-key.txt"),
        "{err}"
    );
    assert!(
        !err.contains(bisik::crypto::SECRET_KEY_PREFIX),
        "the key itself is never printed"
    );
}

#[test]
fn serves_on_a_unix_socket_replacing_a_stale_one() {
    use std::io::{Read, Write};
    use std::os::unix::net::{UnixListener, UnixStream};
    let fx = Fixture::new(CHEAP_KDF);
    let sock = fx.data_dir().join("bisik.sock");
    drop(UnixListener::bind(&sock).unwrap()); // a stale socket file from a "crashed" server
    let mut child = Command::new(bisik_bin())
        .args(["serve", "--config", fx.config_path.to_str().unwrap()])
        .env("BISIK_LISTEN", format!("unix:{}", sock.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let response = loop {
        let attempt = UnixStream::connect(&sock).and_then(|mut s| {
            s.write_all(
                b"GET /healthz HTTP/1.1\r\nHost: bisik.onion\r\nConnection: close\r\n\r\n",
            )?;
            let mut buf = String::new();
            s.read_to_string(&mut buf)?;
            Ok(buf)
        });
        match attempt {
            Ok(r) if r.starts_with("HTTP/1.1 200") => break r,
            _ if std::time::Instant::now() > deadline => panic!("no answer on the unix socket"),
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    assert!(response.ends_with("ok"));
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let meta = std::fs::metadata(&sock).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(
        meta.permissions().mode() & 0o777,
        0o660,
        "only the owner and the tor group may connect"
    );
    assert!(
        response
            .to_ascii_lowercase()
            .contains("content-security-policy")
    );
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    child.wait().unwrap();
    assert!(!sock.exists(), "the socket is removed on shutdown");
}
