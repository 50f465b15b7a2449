//! Two officers work a case from start to finish with nothing but the real `bisik` CLI and their
//! identity files, against the real server on 127.0.0.1; the citizen follows on the status page.
//! Also: the audit chain verifies and names the row that was tampered with; sessions are cached
//! privately; passphrase-protected identities; the CLI through a SOCKS5 proxy; a member's
//! message opens with the Debian `age` CLI and the reporter's own derived identity.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;

fn post(base: &str, path: &str, pairs: &[(&str, &str)]) -> String {
    let mut res = loopback_agent()
        .post(format!("{base}{path}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send(form_body(pairs))
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    res.body_mut().read_to_string().unwrap()
}

fn status(base: &str, receipt: &str) -> String {
    post(base, "/status?lang=en", &[("receipt", receipt)])
}

fn citizen_reply(base: &str, receipt: &str, text: &str) -> String {
    let page = status(base, receipt);
    let nonce = input_value(&page, "nonce").unwrap();
    post(
        base,
        "/status/reply?lang=en",
        &[("receipt", receipt), ("nonce", &nonce), ("message", text)],
    )
}

/// Runs a member command and insists it works.
fn ok(base: &str, identity: &Path, args: &[&str]) -> String {
    let (ok, out, err) = case_cli(base, identity, args);
    assert!(ok, "bisik case {args:?} failed: {err}");
    String::from_utf8(out).unwrap()
}

fn audit(config: &Path, args: &[&str]) -> (bool, String) {
    let mut all = vec!["audit", "--config", config.to_str().unwrap()];
    all.extend_from_slice(args);
    let (ok, out, err) = bisik_cli(&all);
    (ok, format!("{}{err}", String::from_utf8_lossy(&out)))
}

#[test]
fn two_officers_work_a_case_to_the_end_with_the_cli() {
    let fx = Fixture::new(CHEAP_KDF);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let base = server.base.clone();
    let fields = report_fields(&[
        ("title", "Bus never comes"),
        ("body", "Route 7 skipped our stop all week."),
        ("institution", "transport"),
        ("category", "transport"),
    ]);
    let html = post(&base, "/report?lang=en", &fields);
    let receipt = element_text(&html, "receipt").unwrap();
    let case_id = element_text(&html, "case-id").unwrap();
    let triage = fx.identity_path("transport-triage");
    let inv = fx.identity_path("transport-investigator");

    // Log in once; the session is cached, readable only by the user.
    let (logged, out, err) = bisik_cli(&[
        "login",
        "--server",
        &base,
        "--identity",
        triage.to_str().unwrap(),
    ]);
    assert!(logged, "{err}");
    assert!(
        String::from_utf8_lossy(&out).contains("logged in as transport-triage (transport: triage)")
    );
    let cached: Vec<_> = std::fs::read_dir(state_dir())
        .unwrap()
        .filter_map(Result::ok)
        .collect();
    assert!(!cached.is_empty());
    use std::os::unix::fs::PermissionsExt;
    for f in &cached {
        assert_eq!(
            f.metadata().unwrap().permissions().mode() & 0o077,
            0,
            "session cache readable by others"
        );
    }

    assert!(ok(&base, &triage, &["list", "--state", "received"]).contains(&case_id));
    ok(&base, &triage, &["set-state", &case_id, "verified"]);
    ok(
        &base,
        &triage,
        &["classify", &case_id, "--tags", "route-7,schedule"],
    );
    ok(&base, &inv, &["set-state", &case_id, "in_progress"]);
    ok(
        &base,
        &inv,
        &[
            "reply",
            &case_id,
            "We asked the operator for the route 7 logs.",
        ],
    );

    let page = status(&base, &receipt);
    assert_eq!(element_text(&page, "state").unwrap(), "In progress");
    assert!(page.contains("We asked the operator for the route 7 logs."));
    let page = citizen_reply(&base, &receipt, "Today it skipped us again at 07:15.");
    assert!(page.contains("Your message is saved."));

    // A reply written in the member's $EDITOR (here a script that types for them).
    let editor = fx.data_dir().join("fake-editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nprintf 'Written in the editor.' > \"$1\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = Command::new(bisik_bin())
        .args([
            "case",
            "--server",
            &base,
            "--identity",
            inv.to_str().unwrap(),
            "reply",
            &case_id,
        ])
        .env("BISIK_STATE_DIR", state_dir())
        .env("EDITOR", &editor)
        .env_remove("VISUAL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(status(&base, &receipt).contains("Written in the editor."));

    // The reply from a file, then the answer.
    let answer = fx.data_dir().join("answer.txt");
    std::fs::write(
        &answer,
        "The operator has been fined; the schedule is fixed from Monday.",
    )
    .unwrap();
    ok(
        &base,
        &inv,
        &["reply", &case_id, "--file", answer.to_str().unwrap()],
    );
    ok(&base, &inv, &["set-state", &case_id, "answered"]);
    let page = status(&base, &receipt);
    assert_eq!(element_text(&page, "state").unwrap(), "Answered");
    assert!(page.contains("The operator has been fined"));

    // The citizen says the answer did not resolve it (a plain message would stay a message):
    // the case reopens.
    let page = status(&base, &receipt);
    let nonce = input_value(&page, "nonce").unwrap();
    post(
        &base,
        "/status/verdict?lang=en",
        &[
            ("receipt", &receipt),
            ("nonce", &nonce),
            ("verdict", "not_resolved"),
            ("rating", "2"),
            ("message", "Monday came and went; still no bus."),
        ],
    );
    assert_eq!(
        element_text(&status(&base, &receipt), "state").unwrap(),
        "In progress"
    );
    let shown = ok(&base, &inv, &["show", &case_id]);
    for text in [
        "Route 7 skipped our stop",
        "07:15",
        "still no bus",
        "route-7, schedule",
        "in_progress",
    ] {
        assert!(shown.contains(text), "{text} missing from:\n{shown}");
    }

    // Illegal moves and wrong roles get a clear message from the CLI.
    let (moved, _, err) = case_cli(&base, &triage, &["set-state", &case_id, "answered"]);
    assert!(
        !moved && err.contains("403") && err.contains("investigator"),
        "{err}"
    );
    let (moved, _, err) = case_cli(&base, &triage, &["set-state", &case_id, "archived"]);
    assert!(
        !moved && err.contains("a case cannot go from in_progress to archived"),
        "{err}"
    );

    // Close, with a reason-less final move by the investigator.
    ok(&base, &inv, &["set-state", &case_id, "answered"]);
    ok(&base, &inv, &["set-state", &case_id, "closed"]);
    assert_eq!(
        element_text(&status(&base, &receipt), "state").unwrap(),
        "Closed"
    );

    // A member's message opens with the Debian age CLI and the *reporter's* key, derived from
    // the receipt exactly as the server derives it.
    let reporter_key = reporter_identity_file(&fx, &receipt);
    let case_json = member_case_json(&base, &fx.identity_path("transport-investigator"), &case_id);
    let member_msg = case_json["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["author"].as_str().unwrap().starts_with("member:"))
        .unwrap();
    let sealed = bisik::crypto::token::decode(member_msg["envelope"].as_str().unwrap()).unwrap();
    let msg_file = fx.data_dir().join("message.age");
    std::fs::write(&msg_file, sealed).unwrap();
    let out = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&reporter_key)
        .arg(&msg_file)
        .output()
        .expect("age CLI");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["body"], "We asked the operator for the route 7 logs.");

    // Logout ends the session on the server too.
    let (out_ok, _, err) = bisik_cli(&[
        "logout",
        "--server",
        &base,
        "--identity",
        triage.to_str().unwrap(),
    ]);
    assert!(out_ok, "{err}");

    // The audit chain: intact, with every member action; then stop the server and tamper.
    let (verified, text) = audit(&fx.config_path, &["verify"]);
    assert!(verified && text.contains("audit log intact"), "{text}");
    let (_, shown) = audit(&fx.config_path, &["show", "--case", &case_id]);
    for action in [
        "set_state:verified",
        "classify",
        "set_state:in_progress",
        "reply",
        "set_state:answered",
        "set_state:closed",
        "view_case",
    ] {
        assert!(shown.contains(action), "{action} missing:\n{shown}");
    }
    let (_, all) = audit(&fx.config_path, &["show"]);
    let triage_logins = all
        .lines()
        .filter(|l| l.contains("transport-triage") && l.split_whitespace().nth(3) == Some("login"))
        .count();
    assert_eq!(
        triage_logins, 1,
        "later commands reused the cached session:\n{all}"
    );
    assert!(all.contains("logout"));
    server.stop();
    tamper_and_verify(&fx);
}

/// Derives the reporter's age identity from a receipt, as the server does, into a test file.
fn reporter_identity_file(fx: &Fixture, receipt: &str) -> std::path::PathBuf {
    let receipt = bisik::crypto::receipt::Receipt::parse(receipt).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let record = rt.block_on(async {
        let store = fx.config().open_store().await.unwrap();
        let r = store
            .receipt_record(receipt.lookup().as_u32())
            .await
            .unwrap()
            .unwrap();
        store.close().await;
        r
    });
    let id = bisik::crypto::kdf::derive_reporter_identity(
        receipt.secret(),
        &record.kdf_salt,
        &record.kdf,
    )
    .unwrap()
    .classic()
    .clone();
    assert_eq!(id.to_public().to_string(), record.reporter_recipient);
    let path = fx.data_dir().join("TEST-ONLY-reporter-identity.txt");
    write_identity(&path, &id);
    path
}

fn member_case_json(base: &str, identity: &Path, case_id: &str) -> serde_json::Value {
    let id = bisik::client::read_identity(identity).unwrap();
    let mut client = bisik::client::Client::new(base, id, None).unwrap();
    client.login().unwrap();
    serde_json::to_value(client.case(case_id).unwrap()).unwrap()
}

/// Copies the stopped server's data, changes one audit row, and expects `bisik audit verify` to
/// fail naming that row.
fn tamper_and_verify(fx: &Fixture) {
    if sqlite_only("tampering with a copy of the database file") {
        return;
    }
    let cases: [(&str, &[&'static str], &str); 3] = [
        (
            "edit",
            &["UPDATE audit_log SET action = 'list_cases' WHERE seq = 3"],
            "entry 3",
        ),
        (
            "delete",
            &["DELETE FROM audit_log WHERE seq = 4"],
            "entry 5",
        ),
        (
            "reorder",
            &[
                "UPDATE audit_log SET seq = -5 WHERE seq = 5",
                "UPDATE audit_log SET seq = 5 WHERE seq = 6",
                "UPDATE audit_log SET seq = 6 WHERE seq = -5",
            ],
            "entry 5",
        ),
    ];
    for (what, statements, named) in cases {
        let copy = tempfile::tempdir().unwrap();
        for f in ["bisik.toml", "bisik.sqlite"] {
            std::fs::copy(fx.data_dir().join(f), copy.path().join(f)).unwrap();
        }
        for d in ["keys", "calendars"] {
            copy_dir(&fx.data_dir().join(d), &copy.path().join(d));
        }
        let config = copy.path().join("bisik.toml");
        let (intact, text) = audit(&config, &["verify"]);
        assert!(intact, "the copy verifies before tampering: {text}");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            use sqlx::ConnectOptions;
            let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(copy.path().join("bisik.sqlite"))
                .connect()
                .await
                .unwrap();
            for sql in statements {
                sqlx::query(*sql).execute(&mut conn).await.unwrap();
            }
        });
        let (intact, text) = audit(&config, &["verify"]);
        assert!(!intact, "{what}: tampering not detected");
        assert!(
            text.contains("BROKEN") && text.contains(named),
            "{what}: {text}"
        );
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.path().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn passphrase_protected_identities_are_accepted() {
    let fx = Fixture::new(CHEAP_KDF);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let plain = std::fs::read(fx.identity_path("health-triage")).unwrap();
    let mut recipient =
        age::scrypt::Recipient::new(age::secrecy::SecretString::from("correct horse".to_owned()));
    recipient.set_work_factor(10);
    let protected = age::encrypt(&recipient, &plain).unwrap();
    let path = fx.data_dir().join("identities/health-triage.protected.age");
    std::fs::write(&path, protected).unwrap();

    let run = |passphrase: &str| {
        Command::new(bisik_bin())
            .args([
                "case",
                "--server",
                &server.base,
                "--identity",
                path.to_str().unwrap(),
                "list",
            ])
            .env("BISIK_STATE_DIR", state_dir())
            .env("BISIK_IDENTITY_PASSPHRASE", passphrase)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let good = run("correct horse");
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    let bad = run("wrong");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("wrong passphrase"));
    // No passphrase and no terminal: a clear message, not a hang.
    let (none_ok, _, err) = case_cli(&server.base, &path, &["list"]);
    assert!(!none_ok && err.contains("passphrase"), "{err}");
    server.stop();
}

/// A minimal SOCKS5 proxy (no auth, CONNECT only) on 127.0.0.1 that counts connections and only
/// ever connects to 127.0.0.1 ports.
fn socks5_proxy() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().take(16) {
            let Ok(mut client) = client else { continue };
            seen.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                let mut b = [0u8; 262];
                client.read_exact(&mut b[..2]).unwrap();
                let methods = usize::from(b[1]);
                client.read_exact(&mut b[..methods]).unwrap();
                client.write_all(&[5, 0]).unwrap();
                client.read_exact(&mut b[..4]).unwrap();
                assert_eq!(&b[..2], &[5, 1], "CONNECT");
                let port = match b[3] {
                    1 => {
                        client.read_exact(&mut b[..6]).unwrap();
                        u16::from_be_bytes([b[4], b[5]])
                    }
                    3 => {
                        client.read_exact(&mut b[..1]).unwrap();
                        let n = usize::from(b[0]);
                        client.read_exact(&mut b[..n + 2]).unwrap();
                        let host = String::from_utf8_lossy(&b[..n]).into_owned();
                        assert_eq!(host, "127.0.0.1", "the proxy only serves loopback");
                        u16::from_be_bytes([b[n], b[n + 1]])
                    }
                    t => panic!("address type {t}"),
                };
                let mut upstream = TcpStream::connect(("127.0.0.1", port)).unwrap();
                client.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0]).unwrap();
                let mut c2 = client.try_clone().unwrap();
                let mut u2 = upstream.try_clone().unwrap();
                let t = std::thread::spawn(move || {
                    let _ = std::io::copy(&mut c2, &mut u2);
                    let _ = u2.shutdown(std::net::Shutdown::Write);
                });
                let _ = std::io::copy(&mut upstream, &mut client);
                let _ = client.shutdown(std::net::Shutdown::Write);
                let _ = t.join();
            });
        }
    });
    (port, count)
}

#[test]
fn the_cli_reaches_the_server_through_a_socks_proxy() {
    let fx = Fixture::new(CHEAP_KDF);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let (port, count) = socks5_proxy();
    let proxy = format!("socks5h://127.0.0.1:{port}");
    let id = fx.identity_path("desk-triage");
    let (ok, out, err) = bisik_cli(&[
        "case",
        "--server",
        &server.base,
        "--identity",
        id.to_str().unwrap(),
        "--proxy",
        &proxy,
        "list",
    ]);
    assert!(ok, "{err}");
    assert!(String::from_utf8_lossy(&out).contains("no cases"));
    assert!(
        count.load(Ordering::SeqCst) >= 1,
        "the CLI went through the proxy"
    );
    let (ok, _, err) = bisik_cli(&[
        "case",
        "--server",
        &server.base,
        "--identity",
        id.to_str().unwrap(),
        "--proxy",
        "ftp://nope",
        "list",
    ]);
    assert!(!ok && err.contains("invalid proxy"), "{err}");
    server.stop();
}

#[test]
fn forwarding_re_encrypts_for_the_institution_with_authority() {
    let fx = Fixture::new(CHEAP_KDF);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let base = server.base.clone();
    let fields = report_fields(&[
        ("institution", ""),
        ("title", "Clinic asks for money"),
        ("body", "Wrong door on purpose"),
        ("privacy", "confidential"),
        ("identity_name", "Sari Handayani"),
    ]);
    let html = post(&base, "/report?lang=en", &fields);
    let receipt = element_text(&html, "receipt").unwrap();
    let case_id = element_text(&html, "case-id").unwrap();
    citizen_reply(&base, &receipt, "Before the forward.");
    let desk = fx.identity_path("desk-triage");
    ok(
        &base,
        &desk,
        &[
            "set-state",
            &case_id,
            "not_our_authority",
            "--reason",
            "The health office has authority.",
        ],
    );
    let (moved, _, err) = case_cli(&base, &desk, &["set-state", &case_id, "verified"]);
    assert!(
        !moved && err.contains("a case cannot go from not_our_authority to verified"),
        "{err}"
    );
    ok(
        &base,
        &desk,
        &[
            "forward",
            &case_id,
            "--to",
            "health",
            "--reason",
            "Dinas Kesehatan handles clinics.",
        ],
    );

    // The target reads content, messages and reasons (re-sealed on the desk officer's machine).
    let inv = fx.identity_path("health-investigator");
    let shown = ok(&base, &inv, &["show", &case_id]);
    for text in [
        "Wrong door on purpose",
        "Before the forward.",
        "The health office has authority.",
        "Dinas Kesehatan handles clinics.",
        "forwarded to health",
    ] {
        assert!(shown.contains(text), "{text} missing:\n{shown}");
    }
    assert!(ok(&base, &inv, &["list"]).contains(&case_id));

    // The citizen sees where it went and why.
    let page = status(&base, &receipt);
    assert!(
        page.contains("Forwarded to Example City Health Office (demo)"),
        "{page}"
    );
    assert!(page.contains("Dinas Kesehatan handles clinics."));

    // The source keeps state and history, not content.
    let shown = ok(&base, &desk, &["show", &case_id]);
    assert!(
        shown.contains("no longer yours to read") && shown.contains("forwarded to health"),
        "{shown}"
    );
    assert!(!shown.contains("Wrong door"));
    let (got, _, err) = case_cli(&base, &desk, &["envelope", &case_id]);
    assert!(!got && err.contains("404"), "{err}");

    // A message written after the forward is sealed for health, not for the desk.
    citizen_reply(&base, &receipt, "After the forward.");
    let case = member_case_json(&base, &inv, &case_id);
    let last = case["messages"].as_array().unwrap().last().unwrap()["envelope"]
        .as_str()
        .unwrap()
        .to_owned();
    let sealed = bisik::crypto::token::decode(&last).unwrap();
    assert!(bisik::crypto::envelope::open(&fx.identity("health-investigator"), &sealed).is_ok());
    assert!(bisik::crypto::envelope::open(&fx.identity("desk-triage"), &sealed).is_err());
    // The reporter still reads everything.
    let page = status(&base, &receipt);
    assert!(
        page.contains("Before the forward.")
            && page.contains("After the forward.")
            && page.contains("Sari Handayani")
    );

    // The identity moves only when a custodian of the source hands it over.
    let hc = fx.identity_path("health-custodian");
    let dc = fx.identity_path("desk-custodian");
    let (got, _, err) = case_cli(&base, &hc, &["identity-envelope", &case_id]);
    assert!(!got && err.contains("404"), "{err}");
    let (handed, _, err) = case_cli(&base, &hc, &["hand-over-identity", &case_id]);
    assert!(
        !handed,
        "the target's custodian cannot hand over what it does not hold: {err}"
    );
    ok(&base, &dc, &["hand-over-identity", &case_id]);
    let (got, env, err) = case_cli(&base, &hc, &["identity-envelope", &case_id]);
    assert!(got, "{err}");
    let file = fx.data_dir().join("identity.age");
    std::fs::write(&file, env).unwrap();
    let out = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&hc)
        .arg(&file)
        .output()
        .expect("age CLI");
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("Sari Handayani")
    );
    let out = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&inv)
        .arg(&file)
        .output()
        .expect("age CLI");
    assert!(!out.status.success(), "investigators never open identities");
    let (got, _, _) = case_cli(&base, &dc, &["identity-envelope", &case_id]);
    assert!(!got, "the desk no longer holds it");
    assert!(
        status(&base, &receipt).contains("Sari Handayani"),
        "the reporter still reads their identity"
    );
    server.stop();
}

#[test]
fn staff_intake_prints_a_receipt_that_opens_the_status_page() {
    let fx = Fixture::new(CHEAP_KDF);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let base = server.base.clone();
    let desk = fx.identity_path("desk-triage");
    let out = ok(
        &base,
        &desk,
        &[
            "intake",
            "--channel",
            "phone",
            "--kind",
            "complaint",
            "--category",
            "health",
            "--title",
            "Called in: clinic fees",
            "--body",
            "The caller says the clinic charges for free vaccines.",
            "--name",
            "Pak Budi",
            "--contact",
            "0812-555",
        ],
    );
    let receipt = out
        .lines()
        .find_map(|l| l.split(": ").nth(1).filter(|r| r.len() == 29))
        .expect(&out)
        .to_owned();
    let case_id = out.split_whitespace().nth(1).unwrap().to_owned();
    let page = status(&base, &receipt);
    assert_eq!(
        element_text(&page, "report-title").unwrap(),
        "Called in: clinic fees"
    );
    assert!(
        page.contains("Pak Budi"),
        "the reporter sees their sealed identity"
    );
    assert_eq!(element_text(&page, "case-id").unwrap(), case_id);
    let shown = ok(&base, &desk, &["show", &case_id]);
    assert!(
        shown.contains("channel:   phone") && shown.contains("free vaccines"),
        "{shown}"
    );
    // The identity envelope is the custodian's, as for web reports.
    let (got, env, err) = case_cli(
        &base,
        &fx.identity_path("desk-custodian"),
        &["identity-envelope", &case_id],
    );
    assert!(got, "{err}");
    assert!(bisik::crypto::envelope::open(&fx.identity("desk-custodian"), &env).is_ok());
    assert!(bisik::crypto::envelope::open(&fx.identity("desk-triage"), &env).is_err());
    // The channel is counted (and small counts hidden).
    let mut res = loopback_agent()
        .get(format!("{base}/stats.csv"))
        .call()
        .unwrap();
    let csv = res.body_mut().read_to_string().unwrap();
    assert!(
        csv.contains("\nchannel,phone,Telepon,Phone,,true\n"),
        "{csv}"
    );
    // Members see the institution tree; the oversight body gets overdue counts (none yet).
    let tree = ok(&base, &desk, &["institutions"]);
    assert!(
        tree.contains("health") && tree.contains("desk") && tree.contains("(intake desk)"),
        "{tree}"
    );
    let counts = ok(
        &base,
        &fx.identity_path("ombudsman-officer"),
        &["overdue-counts"],
    );
    assert!(
        !counts.contains("desk "),
        "nothing is overdue on the day it arrived: {counts}"
    );
    // Bad input and the wrong role are refused.
    let (done, _, err) = case_cli(
        &base,
        &desk,
        &[
            "intake",
            "--channel",
            "web",
            "--kind",
            "complaint",
            "--title",
            "x",
            "--body",
            "y",
        ],
    );
    assert!(!done && err.contains("unknown channel"), "{err}");
    let (done, _, err) = case_cli(
        &base,
        &fx.identity_path("health-investigator"),
        &[
            "intake",
            "--channel",
            "post",
            "--kind",
            "complaint",
            "--title",
            "x",
            "--body",
            "y",
        ],
    );
    assert!(!done && err.contains("403"), "{err}");
    server.stop();
}
