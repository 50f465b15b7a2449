//! Issue 11, items 3, 11 and 13, against the real router, the real `bisik serve` process and
//! the real `bisik` CLI:
//! - terminal escape injection: the citizen form refuses control characters, and whatever a
//!   citizen or another member managed to seal into a case reaches an officer's terminal with
//!   every control and format character made visible;
//! - `case files`: long multi-byte names, format characters in names, file modes whatever the
//!   umask, and no plaintext left behind when a download fails half-way;
//! - a secret key in any file the configuration names (holiday calendars too) stops the server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use common::*;

const CLEAR: &str = "\u{1b}[2J";
const OSC_TITLE: &str = "\u{1b}]0;pwned\u{7}";
const OSC_CLIPBOARD: &str = "\u{1b}]52;c;ZXZpbA==\u{7}";
const RED: &str = "\u{1b}[31m";
const FAKE_LINE: &str = "\n[verified by desk-triage]";
const C1_CSI: &str = "\u{9b}1m";
const RLO: &str = "\u{202e}";

/// Every hostile sequence at once, for one-line fields (title, names, reasons).
fn hostile_line(label: &str) -> String {
    format!("{label} {CLEAR}{OSC_TITLE}{OSC_CLIPBOARD}{RED}red{C1_CSI}{RLO}gpj.exe{FAKE_LINE}")
}

/// The same for multi-line texts (body, messages): the fake line is legitimately a line there,
/// so it is left out; a lone CR (which rewrites the line it is on) is added.
fn hostile_text(label: &str) -> String {
    format!(
        "{label} {CLEAR}{OSC_TITLE}\nsecond line{OSC_CLIPBOARD}{RED}red{C1_CSI}{RLO}gpj.exe\roverwritten"
    )
}

/// Asserts nothing in `out` can steer a terminal or fake a line.
fn assert_terminal_safe(what: &str, out: &[u8]) {
    let text = String::from_utf8_lossy(out);
    assert!(!out.contains(&0x1b), "{what}: raw ESC in\n{text}");
    assert!(!out.contains(&0x07), "{what}: raw BEL in\n{text}");
    assert!(!out.contains(&b'\r'), "{what}: raw CR in\n{text}");
    assert!(!contains(out, "\u{9b}".as_bytes()), "{what}: raw C1 CSI");
    assert!(!contains(out, RLO.as_bytes()), "{what}: raw U+202E");
    for line in text.lines() {
        assert!(
            !line.trim_start().starts_with("[verified by desk-triage]"),
            "{what}: a fake line starts a line:\n{text}"
        );
    }
}

fn run_ok(base: &str, identity: &Path, args: &[&str]) -> Vec<u8> {
    let (ok, out, err) = case_cli(base, identity, args);
    assert!(ok, "bisik case {args:?} failed: {err}");
    out
}

fn custody(base: &str, identity: &Path, args: &[&str]) -> Vec<u8> {
    let mut all = vec![
        "custody",
        "--server",
        base,
        "--identity",
        identity.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    let (ok, out, err) = bisik_cli(&all);
    assert!(ok, "bisik custody {args:?} failed: {err}");
    out
}

#[tokio::test]
async fn the_citizen_form_refuses_terminal_controls_and_keeps_line_breaks() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, _app, _clock) = fx.router().await;
    let title = hostile_line("Title");
    let body = hostile_text("Body");
    let location = format!("Jalan {RED}Merdeka{C1_CSI}");
    for (field, value) in [
        ("title", title.as_str()),
        ("body", body.as_str()),
        ("location", location.as_str()),
        ("concerns", "Head of ward\u{7}"),
        ("title", "Pay the fee\n[verified by desk-triage]"),
    ] {
        let r = send(
            &router,
            post_form("/report?lang=en", &report_fields(&[(field, value)])),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert!(
            r.text().contains("invisible control characters"),
            "{field}: {}",
            r.text()
        );
    }
    let r = send(
        &router,
        post_form(
            "/report?lang=id",
            &report_fields(&[("body", &format!("x{OSC_CLIPBOARD}"))]),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("karakter kontrol"), "{}", r.text());

    // What browsers really send is kept: CRLF line breaks and tabs in the body, tabs in a
    // one-line field, bidi marks and joiners that Arabic-script and emoji text need.
    let (receipt, _) = submit(
        &router,
        &[
            ("title", "Klinik\tpungli \u{202b}عربي\u{202c} 👩\u{200d}⚕️"),
            ("body", "Line one\r\nLine two\r\n\tindented"),
        ],
    )
    .await;

    // The status-page reply follows the same rule.
    let page = status_page(&router, &receipt).await;
    let nonce = input_value(&page, "nonce").unwrap();
    let r = send(
        &router,
        post_form(
            "/status/reply?lang=en",
            &[
                ("receipt", &receipt),
                ("nonce", &nonce),
                ("message", &hostile_text("Reply")),
            ],
        ),
    )
    .await;
    assert!(
        r.text().contains("invisible control characters") && !r.text().contains("is saved"),
        "{}",
        r.text()
    );
    let saved = citizen_reply(&router, &receipt, "Thanks.\r\nSee you\ttomorrow.").await;
    assert!(saved.contains("Your message is saved."), "{saved}");
}

/// Hostile text sealed into a case by another member (staff intake, a message, a state reason,
/// a reveal request, a confidential identity) — the server cannot read or filter any of it —
/// reaches `case show`, `case list`, `custody list` and `case identity` escaped.
#[test]
fn member_commands_print_hostile_text_escaped() {
    let fx = Fixture::new(CHEAP_KDF);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let base = server.base.clone();
    let triage = fx.identity_path("health-triage");
    let inv = fx.identity_path("health-investigator");
    let cus = fx.identity_path("health-custodian");

    let title = hostile_line("Title");
    let body = hostile_text("Body");
    let location = hostile_line("Location");
    let name = hostile_line("Name");
    let contact = hostile_line("Contact");
    let out = run_ok(
        &base,
        &triage,
        &[
            "intake",
            "--channel",
            "counter",
            "--kind",
            "complaint",
            "--category",
            "health",
            "--title",
            &title,
            "--body",
            &body,
            "--location",
            &location,
            "--name",
            &name,
            "--contact",
            &contact,
        ],
    );
    let out = String::from_utf8(out).unwrap();
    let case_id = out
        .split_whitespace()
        .nth(1)
        .expect("case id")
        .trim_end_matches('.')
        .to_owned();
    run_ok(
        &base,
        &triage,
        &[
            "set-state",
            &case_id,
            "on_hold",
            "--reason",
            &hostile_line("Reason"),
        ],
    );
    run_ok(&base, &inv, &["reply", &case_id, &hostile_text("Message")]);
    run_ok(
        &base,
        &inv,
        &["reveal-request", &case_id, "--reason", &hostile_line("Why")],
    );

    let shown = run_ok(&base, &inv, &["show", &case_id]);
    assert_terminal_safe("case show", &shown);
    let shown = String::from_utf8(shown).unwrap();
    // Still all there, only visible.
    for visible in [
        "Title \\u{1b}[2J\\u{1b}]0;pwned\\u{7}\\u{1b}]52;c;ZXZpbA==\\u{7}\\u{1b}[31mred\\u{9b}1m\\u{202e}gpj.exe\\n[verified by desk-triage]",
        "Location \\u{1b}[2J",
        "Reason \\u{1b}[2J",
        "Message \\u{1b}[2J",
        "second line\\u{1b}]52;c;ZXZpbA==",
        "\\roverwritten",
    ] {
        assert!(shown.contains(visible), "{visible:?} missing from\n{shown}");
    }

    let listed = run_ok(&base, &inv, &["list"]);
    assert_terminal_safe("case list", &listed);
    assert!(String::from_utf8(listed).unwrap().contains(&case_id));

    let pending = custody(&base, &cus, &["list"]);
    assert_terminal_safe("custody list", &pending);
    assert!(
        String::from_utf8(pending)
            .unwrap()
            .contains("Why \\u{1b}[2J")
    );
    custody(
        &base,
        &cus,
        &[
            "approve",
            &case_id,
            "1",
            "--reason",
            "Needed for the hearing.",
        ],
    );
    let identity = run_ok(&base, &inv, &["identity", &case_id]);
    assert_terminal_safe("case identity", &identity);
    let identity = String::from_utf8(identity).unwrap();
    assert!(
        identity.contains("Name \\u{1b}[2J") && identity.contains("Contact \\u{1b}[2J"),
        "{identity}"
    );
    server.stop();
}

/// Runs `bisik case files` with umask 022, as a member's shell usually has it.
fn files_with_umask(base: &str, identity: &Path, case_id: &str, out: &Path) -> (bool, String) {
    let o = Command::new("sh")
        .arg("-c")
        .arg("umask 022; exec \"$0\" \"$@\"")
        .arg(bisik_bin())
        .args(["case", "--server", base, "--identity"])
        .arg(identity)
        .args(["files", case_id, "--out"])
        .arg(out)
        .env("BISIK_STATE_DIR", state_dir())
        .env_remove("BISIK_IDENTITY_PASSPHRASE")
        .output()
        .unwrap();
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

#[test]
fn case_files_saves_safe_names_privately_and_leaves_nothing_half_written() {
    let fx = Fixture::new(CHEAP_KDF);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let long = format!("{}.jpg", "é".repeat(300));
    let big: Vec<u8> = b"evidence line, plain text\n".repeat(12_000); // ~300 KB
    let fields = report_fields(&[("title", "Files"), ("body", "See the files.")]);
    let body = multipart(
        &fields,
        &[
            (&long, "text/plain", b"long name"),
            ("evil\u{202e}gpj.exe", "text/plain", b"not a picture"),
            ("big.txt", "text/plain", &big),
        ],
    );
    let (status, html) = post_multipart(&server.base, "/report?lang=en", body).unwrap();
    assert_eq!(status, 200, "{html}");
    let case_id = element_text(&html, "case-id").unwrap();
    let inv = fx.identity_path("health-investigator");

    let out = fx.data_dir().join("saved");
    let (ok, listing) = files_with_umask(&server.base, &inv, &case_id, &out);
    assert!(ok, "{listing}");
    assert_terminal_safe("case files", listing.as_bytes());
    let names = names_in(&out);
    assert_eq!(names.len(), 3, "{names:?}");
    let long_saved = names
        .iter()
        .find(|n| n.starts_with('é'))
        .expect("long name");
    assert!(
        long_saved.len() <= 200 && long_saved.ends_with(".jpg"),
        "{} bytes: {long_saved}",
        long_saved.len()
    );
    assert_eq!(std::fs::read(out.join(long_saved)).unwrap(), b"long name");
    assert!(
        names.contains(&"evilgpj.exe".to_owned()),
        "U+202E stripped: {names:?}"
    );
    assert_eq!(std::fs::read(out.join("big.txt")).unwrap(), big);
    for n in &names {
        let mode = std::fs::metadata(out.join(n)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{n} has mode {:o}", mode & 0o777);
    }

    // The big file's blob is damaged on the server: its download fails after the first chunk
    // was decrypted. The command fails, and nothing half-written stays behind.
    let blobs = all_files(&fx.data_dir().join("blobs"));
    let largest = blobs
        .iter()
        .max_by_key(|p| std::fs::metadata(p).unwrap().len())
        .unwrap();
    let mut bytes = std::fs::read(largest).unwrap();
    assert!(bytes.len() > 200_000);
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(largest, bytes).unwrap();
    let out2 = fx.data_dir().join("saved-again");
    let (ok, listing) = files_with_umask(&server.base, &inv, &case_id, &out2);
    assert!(!ok, "a damaged file must fail the download: {listing}");
    let left = names_in(&out2);
    assert!(
        left.iter().all(|n| !n.starts_with('.') && n != "big.txt"),
        "partial plaintext left behind: {left:?}"
    );
    for n in &left {
        let saved = std::fs::read(out2.join(n)).unwrap();
        assert!(saved == b"long name" || saved == b"not a picture", "{n}");
    }
    server.stop();
}

/// Starts `bisik serve` and expects it to refuse; returns what it printed. A server that starts
/// anyway is killed and the test fails.
fn serve_must_refuse(config: &Path) -> String {
    let mut child = Command::new(bisik_bin())
        .arg("serve")
        .arg("--config")
        .arg(config)
        .env("BISIK_LISTEN", format!("127.0.0.1:{}", free_port()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("bisik serve started although a configured file holds a secret key");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let o = child.wait_with_output().unwrap();
    assert!(!o.status.success());
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn a_secret_key_in_a_holiday_calendar_stops_the_server() {
    let fx = Fixture::new(CHEAP_KDF);
    let calendar = fx.data_dir().join("calendars/indonesia-2026-2027.toml");
    assert!(
        std::fs::read_to_string(&fx.config_path)
            .unwrap()
            .contains("calendars/indonesia-2026-2027.toml"),
        "the fixture's config names the calendar"
    );
    let original = std::fs::read_to_string(&calendar).unwrap();
    // A real secret key made for this test only (never stored in the repository); lower case
    // too: the marker is matched whatever its letter case.
    let key =
        age::secrecy::ExposeSecret::expose_secret(&age::x25519::Identity::generate().to_string())
            .to_owned();
    for marker in [key.clone(), key.to_lowercase()] {
        std::fs::write(&calendar, format!("# {marker}\n{original}")).unwrap();
        match bisik::config::Config::load(&fx.config_path) {
            Err(bisik::config::ConfigError::SecretKeyFound(p)) => {
                assert_eq!(p, calendar, "the calendar file is named");
            }
            other => panic!("loaded a config whose calendar holds a secret key: {other:?}"),
        }
        let printed = serve_must_refuse(&fx.config_path);
        assert!(
            printed.contains("indonesia-2026-2027.toml") && printed.contains("secret key"),
            "{printed}"
        );
    }
    std::fs::write(&calendar, original).unwrap();
    assert!(bisik::config::Config::load(&fx.config_path).is_ok());
}
