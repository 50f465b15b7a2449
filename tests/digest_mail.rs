//! Officers' digests by e-mail (issue 14), against a real SMTP server on loopback (Python
//! `aiosmtpd`, `tests/support/smtp_sink.py`; `.ci/run` installs it and names its Python in
//! `BISIK_TEST_PYTHON`): the mail arrives over STARTTLS with a login or implicit TLS, trusting
//! only the test's own CA; it counts what waits and holds no title, text, receipt, case id or
//! time of a citizen's act; a refused digest is tried again and a late one skipped; bad mail
//! settings stop the start; a real `bisik serve` sends one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bisik::notify::mail::round;
use common::tls::TestCa;
use common::*;
use time::macros::datetime;

const TITLE: &str = "Canary title 7f3a: clinic fees";
const BODY: &str = "Canary body c0ffee: the head nurse asks for money.";
const PASSWORD: &str = "relay-password-9d2e";

fn make_ca(dir: &Path) -> TestCa {
    common::tls::make_ca(dir, "relay")
}

impl TestCa {
    /// The sink's arguments for TLS (`starttls` or `implicit`) with this CA's relay certificate.
    fn sink_args(&self, tls: &str) -> Vec<String> {
        let path = |p: &PathBuf| p.to_str().unwrap().to_owned();
        vec![
            "--tls".into(),
            tls.into(),
            "--cert".into(),
            path(&self.cert),
            "--key".into(),
            path(&self.key),
        ]
    }
}

/// The SMTP sink process; killed when dropped.
struct Sink {
    child: Child,
    port: u16,
    out: PathBuf,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python() -> String {
    std::env::var("BISIK_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

impl Sink {
    fn start(dir: &Path, args: &[String]) -> Self {
        let out = dir.join(format!("mailbox-{}", free_port()));
        std::fs::create_dir_all(&out).unwrap();
        let port_file = out.join("port");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
        let mut child = Command::new(python())
            .arg(&script)
            .arg("--port-file")
            .arg(&port_file)
            .arg("--out")
            .arg(&out)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 for the SMTP sink");
        let deadline = Instant::now() + Duration::from_secs(20);
        let port = loop {
            if let Ok(p) = std::fs::read_to_string(&port_file) {
                break p.trim().parse().unwrap();
            }
            if let Ok(Some(status)) = child.try_wait() {
                let mut err = String::new();
                use std::io::Read;
                child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .unwrap();
                panic!(
                    "the SMTP sink did not start ({status}); it needs aiosmtpd \
                     (`pip install aiosmtpd`, as .ci/run does; BISIK_TEST_PYTHON names the \
                     Python that has it):\n{err}"
                );
            }
            assert!(Instant::now() < deadline, "the SMTP sink did not start");
            std::thread::sleep(Duration::from_millis(50));
        };
        Self { child, port, out }
    }

    /// The messages received so far: (raw message, envelope/session facts).
    fn mails(&self) -> Vec<(String, serde_json::Value)> {
        let mut names: Vec<_> = std::fs::read_dir(&self.out)
            .unwrap()
            .filter_map(|e| {
                let n = e.unwrap().file_name().into_string().unwrap();
                n.strip_suffix(".eml").map(str::to_owned)
            })
            .collect();
        names.sort();
        names
            .iter()
            .map(|n| {
                let raw = std::fs::read_to_string(self.out.join(format!("{n}.eml"))).unwrap();
                let meta = std::fs::read_to_string(self.out.join(format!("{n}.json"))).unwrap();
                (raw, serde_json::from_str(&meta).unwrap())
            })
            .collect()
    }
}

/// Gives `handle` (of `institution`) a `[members.digest]` to `email` in `language`.
fn subscribe(fx: &Fixture, institution: &str, handle: &str, email: &str, language: &str) {
    let path = fx
        .dir
        .path()
        .join("keys/institutions")
        .join(format!("{institution}.toml"));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut blocks: Vec<String> = text.split("\n[[members]]").map(str::to_owned).collect();
    let block = blocks
        .iter_mut()
        .skip(1)
        .find(|b| b.contains(&format!("handle = \"{handle}\"")))
        .unwrap();
    block.push_str(&format!(
        "\n[members.digest]\nemail = {email:?}\nlanguage = {language:?}\n"
    ));
    std::fs::write(path, blocks.join("\n[[members]]")).unwrap();
}

fn mail_config(port: u16, tls: &str, ca: &Path, extra: &str) -> String {
    format!(
        "[mail]\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {port}\ntls = {tls:?}\n\
         ca_file = {:?}\nfrom = \"Bisik <bisik@example.go.id>\"\n\
         digest_times = [\"08:00\", \"13:00\"]\n{extra}",
        ca.to_str().unwrap()
    )
}

fn body_of(raw: &str) -> String {
    // Plain text, possibly quoted-printable: undo soft breaks and the few escapes it uses.
    let body = raw.split_once("\r\n\r\n").map_or(raw, |(_, b)| b);
    body.replace("=\r\n", "")
        .replace("=3D", "=")
        .replace("\r\n", "\n")
}

#[tokio::test]
async fn a_digest_arrives_over_starttls_with_a_login_and_counts_only() {
    let tmp = tempfile::tempdir().unwrap();
    let ca = make_ca(tmp.path());
    let sink = Sink::start(
        tmp.path(),
        &[
            ca.sink_args("starttls"),
            vec![
                "--user".into(),
                "bisik".into(),
                "--password".into(),
                PASSWORD.into(),
            ],
        ]
        .concat(),
    );
    let password_file = tmp.path().join("smtp-password");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
    let extra = format!(
        "username = \"bisik\"\npassword_file = {:?}\n",
        password_file.to_str().unwrap()
    );
    let fx = Fixture::new(&format!(
        "{CHEAP_KDF}\n{}",
        mail_config(sink.port, "starttls", &ca.ca, &extra)
    ));
    subscribe(
        &fx,
        "health",
        "health-triage",
        "triage@health.example.go.id",
        "en",
    );
    subscribe(
        &fx,
        "health",
        "health-custodian",
        "custody@health.example.go.id",
        "id",
    );
    let (router, app, clock) = fx.router().await;
    // The password is never shown.
    assert!(!format!("{:?}", app.config).contains(PASSWORD));

    // 16:30 WIB: the 13:00 digest is long past its window; nothing waits anyway.
    assert_eq!(round(&app).await.unwrap(), Default::default());
    let (receipt, case_id) = submit(&router, &[("title", TITLE), ("body", BODY)]).await;
    // Already done for 13:00: the new case waits for the next time, not for now.
    assert_eq!(round(&app).await.unwrap(), Default::default());
    clock.set(datetime!(2026-11-24 00:59:59 UTC));
    assert_eq!(round(&app).await.unwrap(), Default::default());
    assert!(sink.mails().is_empty());

    // 08:00:30 WIB: triage is told; the custodian has nothing waiting and gets nothing.
    clock.set(datetime!(2026-11-24 01:00:30 UTC));
    let r = round(&app).await.unwrap();
    assert_eq!((r.sent, r.failed), (1, 0));
    let mails = sink.mails();
    assert_eq!(mails.len(), 1);
    let (raw, meta) = &mails[0];
    assert_eq!(meta["tls"], true, "{meta}");
    assert_eq!(meta["login"], "bisik");
    assert_eq!(meta["mail_from"], "bisik@example.go.id");
    assert_eq!(meta["rcpt_tos"][0], "triage@health.example.go.id");
    assert!(
        raw.contains("Subject: Bisik: 1 thing waiting for you"),
        "{raw}"
    );
    let body = body_of(raw);
    assert!(
        body.contains("- 1 new case you have not opened\n"),
        "{body}"
    );
    assert!(body.contains("2026-11-24 08:00 (Asia/Jakarta)"), "{body}");
    assert!(body.contains("bisik desk --identity"), "{body}");
    // Counts only: no title, text, receipt, case id, or the citizen's time of day.
    let digits: String = receipt.chars().filter(char::is_ascii_digit).collect();
    for canary in [
        "7f3a",
        "c0ffee",
        "Canary",
        &digits[..8],
        &digits[8..],
        case_id.as_str(),
        "16:30",
        "09:30",
        PASSWORD,
    ] {
        assert!(!raw.contains(canary), "{canary} in {raw}");
    }
    // Once per scheduled time.
    clock.advance(time::Duration::minutes(10));
    assert_eq!(round(&app).await.unwrap(), Default::default());

    // Triage opens the case, the citizen answers: at 13:00 the reply is counted, not a new case.
    let triage = login(&router, &fx.identity("health-triage")).await;
    let r = send(
        &router,
        authed_get(&format!("/api/v1/cases/{case_id}"), &triage),
    )
    .await;
    assert!(r.status.is_success(), "{}", r.text());
    let inv = login(&router, &fx.identity("health-investigator")).await;
    let r = member_reply(
        &router,
        &inv,
        &case_id,
        "health-investigator",
        "Which clinic?",
    )
    .await;
    assert!(r.status.is_success(), "{}", r.text());
    citizen_reply(
        &router,
        &receipt,
        "Canary reply c0ffee: the one on Jalan Merdeka",
    )
    .await;
    clock.set(datetime!(2026-11-24 06:00:10 UTC));
    assert_eq!(round(&app).await.unwrap().sent, 1);
    let mails = sink.mails();
    assert_eq!(mails.len(), 2);
    let body = body_of(&mails[1].0);
    assert!(
        body.contains("- 1 case with a citizen's reply you have not read\n"),
        "{body}"
    );
    assert!(!body.contains("new case"), "{body}");
    assert!(!mails[1].0.contains("c0ffee") && !mails[1].0.contains("Merdeka"));
    app.store.close().await;
}

#[tokio::test]
async fn a_refused_digest_is_tried_again_a_late_one_skipped_and_ids_only_when_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let ca = make_ca(tmp.path());
    // Implicit TLS, no login; the relay refuses the first message (451).
    let sink = Sink::start(
        tmp.path(),
        &[
            ca.sink_args("implicit"),
            vec!["--refuse".into(), "1".into()],
        ]
        .concat(),
    );
    let fx = Fixture::new(&format!(
        "{CHEAP_KDF}\n{}",
        mail_config(
            sink.port,
            "implicit",
            &ca.ca,
            "include_case_ids = true\ndesk_hint = \"Petunjuk: https://intranet.example.go.id/bisik\"\n"
        )
    ));
    subscribe(
        &fx,
        "health",
        "health-triage",
        "triage@health.example.go.id",
        "id",
    );
    let (router, app, clock) = fx.router().await;
    let (_, case_id) = submit(&router, &[("title", TITLE), ("body", BODY)]).await;
    clock.set(datetime!(2026-11-24 01:00:05 UTC));
    let r = round(&app).await.unwrap();
    assert_eq!((r.sent, r.failed), (0, 1));
    // Not marked: the next round (the worker waits retry_secs) sends it.
    let r = round(&app).await.unwrap();
    assert_eq!((r.sent, r.failed), (1, 0));
    let mails = sink.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].1["tls"], true);
    let body = body_of(&mails[0].0);
    assert!(mails[0].0.contains("Subject: Bisik: 1 hal menunggu Anda"));
    assert!(
        body.contains("- 1 kasus baru yang belum Anda buka\n"),
        "{body}"
    );
    // The operator asked for ids: the case is named, never its title.
    assert!(body.contains(&format!("  kasus: {case_id}\n")), "{body}");
    assert!(body.contains("Petunjuk: https://intranet.example.go.id/bisik"));
    assert!(!mails[0].0.contains("7f3a") && !mails[0].0.contains("c0ffee"));

    // The 13:00 digest cannot be sent (relay gone) until 14:01: skipped, not sent late.
    drop(sink);
    clock.set(datetime!(2026-11-24 06:00:05 UTC));
    let r = round(&app).await.unwrap();
    assert_eq!((r.sent, r.failed), (0, 1));
    clock.set(datetime!(2026-11-24 07:01 UTC));
    assert_eq!(round(&app).await.unwrap(), Default::default());
    assert_eq!(
        app.store
            .digest_slot("health/health-triage")
            .await
            .unwrap()
            .as_deref(),
        Some("2026-11-24 13:00")
    );
    app.store.close().await;
}

#[tokio::test]
async fn the_relay_must_prove_itself_with_the_configured_ca() {
    let tmp = tempfile::tempdir().unwrap();
    let ca = make_ca(tmp.path());
    let other_dir = tmp.path().join("other-ca");
    std::fs::create_dir_all(&other_dir).unwrap();
    let other = make_ca(&other_dir);
    let sink = Sink::start(tmp.path(), &ca.sink_args("starttls"));
    // Trusting another CA: the relay's certificate is refused, nothing is sent in clear.
    let fx = Fixture::new(&format!(
        "{CHEAP_KDF}\n{}",
        mail_config(sink.port, "starttls", &other.ca, "")
    ));
    subscribe(
        &fx,
        "health",
        "health-triage",
        "triage@health.example.go.id",
        "en",
    );
    let (router, app, clock) = fx.router().await;
    submit(&router, &[]).await;
    clock.set(datetime!(2026-11-24 01:00:05 UTC));
    let r = round(&app).await.unwrap();
    assert_eq!((r.sent, r.failed), (0, 1));
    assert!(sink.mails().is_empty());
    app.store.close().await;
}

#[test]
fn bad_mail_settings_and_bad_subscriptions_stop_the_start() {
    let tmp = tempfile::tempdir().unwrap();
    let ca = make_ca(tmp.path());
    let load = |mail: &str| {
        let fx = Fixture::new(mail);
        bisik::config::Config::load(&fx.config_path).map(|_| ())
    };
    let err = |mail: &str| load(mail).unwrap_err().to_string();
    // Plain SMTP only to this machine.
    assert!(
        err("[mail]\nsmtp_host = \"mail.example.go.id\"\ntls = \"none\"\nfrom = \"b@example.go.id\"\n")
            .contains("only allowed to a relay on this machine")
    );
    load("[mail]\nsmtp_host = \"127.0.0.1\"\ntls = \"none\"\nfrom = \"b@example.go.id\"\n")
        .unwrap();
    assert!(
        err("[mail]\nsmtp_host = \"mail.example.go.id\"\nfrom = \"not an address\"\n")
            .contains("mail.from")
    );
    assert!(
        err("[mail]\nsmtp_host = \"mail.example.go.id\"\nfrom = \"b@example.go.id\"\ndigest_times = [\"8am\"]\n")
            .contains("digest_times")
    );
    assert!(
        err("[mail]\nsmtp_host = \"mail.example.go.id\"\nfrom = \"b@example.go.id\"\nusername = \"u\"\n")
            .contains("go together")
    );
    let bad_ca = tmp.path().join("not-a-cert.pem");
    std::fs::write(&bad_ca, "hello").unwrap();
    assert!(
        err(&format!(
            "[mail]\nsmtp_host = \"mail.example.go.id\"\nfrom = \"b@example.go.id\"\nca_file = {:?}\n",
            bad_ca.to_str().unwrap()
        ))
        .contains("ca_file")
    );
    load(&mail_config(25, "starttls", &ca.ca, "")).unwrap();
    // A password file holding an age identity is refused like any other file.
    let secret = tmp.path().join("pw");
    std::fs::write(&secret, concat!("AGE-SECRET-", "KEY-1QQQQ")).unwrap();
    assert!(
        err(&mail_config(
            25,
            "starttls",
            &ca.ca,
            &format!(
                "username = \"u\"\npassword_file = {:?}\n",
                secret.to_str().unwrap()
            )
        ))
        .contains("secret key")
    );

    // Subscriptions: a malformed address, an unknown language, a machine member.
    let keys_err = |institution: &str, handle: &str, email: &str, lang: &str, roles: &[&str]| {
        let fx = Fixture::new("");
        if !roles.is_empty() {
            fx.add_member(institution, handle, roles);
        }
        subscribe(&fx, institution, handle, email, lang);
        bisik::config::keys::load_all(&fx.dir.path().join("keys"))
            .map(|_| ())
            .unwrap_err()
            .to_string()
    };
    assert!(keys_err("health", "health-triage", "nobody", "en", &[]).contains("not an e-mail"));
    assert!(keys_err("health", "health-triage", "a@b.example", "fr", &[]).contains("language"));
    assert!(
        keys_err(
            "health",
            "health-bot",
            "a@b.example",
            "en",
            &["integration"]
        )
        .contains("machine member")
    );
}

#[test]
fn a_real_server_sends_the_digest_and_logs_no_address_or_case() {
    let tmp = tempfile::tempdir().unwrap();
    let ca = make_ca(tmp.path());
    let sink = Sink::start(tmp.path(), &ca.sink_args("starttls"));
    // The scheduled time is this minute in Jakarta, so the server's first round sends it.
    let now =
        time::OffsetDateTime::now_utc().to_offset(time::UtcOffset::from_hms(7, 0, 0).unwrap());
    let times = format!("{:02}:{:02}", now.hour(), now.minute());
    let fx = Fixture::new(&format!(
        "{CHEAP_KDF}\n{}",
        mail_config(sink.port, "starttls", &ca.ca, "")
            .replace("[\"08:00\", \"13:00\"]", &format!("[{times:?}]"))
    ));
    subscribe(
        &fx,
        "health",
        "health-triage",
        "triage@health.example.go.id",
        "en",
    );
    // A case filed before the server starts (a report from the day before, say).
    let case_id = {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let (router, app, _clock) = fx.router().await;
            let (_, id) = submit(&router, &[("title", TITLE), ("body", BODY)]).await;
            app.store.close().await;
            id
        })
    };
    let server = ServerProcess::start(&fx.config_path, &[("RUST_LOG", "info")]);
    let deadline = Instant::now() + Duration::from_secs(30);
    // The mail arrives, then the server marks it sent and says so (counts only).
    while sink.mails().is_empty() || !server.log.lock().unwrap().contains("digests") {
        assert!(
            Instant::now() < deadline,
            "no digest:\n{}",
            server.log.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = server.stop();
    let (raw, meta) = &sink.mails()[0];
    assert_eq!(meta["tls"], true);
    assert!(
        body_of(raw).contains("- 1 new case you have not opened"),
        "{raw}"
    );
    for secret in ["triage@health", case_id.as_str(), "7f3a", "health-triage"] {
        assert!(!log.contains(secret), "{secret} in the log:\n{log}");
    }

    // The operator's view: who gets digests, when the last went, how much waits (counts).
    let config = fx.config_path.to_str().unwrap();
    let (ok, out, err) = bisik_cli(&["digest", "list", "--config", config]);
    let out = String::from_utf8(out).unwrap();
    assert!(ok, "{err}");
    let line = out
        .lines()
        .find(|l| l.starts_with("health/health-triage"))
        .unwrap();
    assert!(
        line.contains("triage@health.example.go.id") && line.contains(" en "),
        "{out}"
    );
    assert!(
        line.contains(&times) && line.trim_end().ends_with(" 2"),
        "{out}"
    );
    assert!(!out.contains(&case_id));
    // A test mail checks the relay settings; a wrong address is refused before sending.
    let (ok, out, err) = bisik_cli(&["digest", "test", "ops@example.go.id", "--config", config]);
    assert!(ok, "{err}");
    assert!(
        String::from_utf8(out)
            .unwrap()
            .starts_with("sent: the relay 127.0.0.1:")
    );
    let mails = sink.mails();
    assert_eq!(mails.len(), 2);
    assert!(mails[1].0.contains("Subject: Bisik: uji surel / mail test"));
    assert_eq!(mails[1].1["rcpt_tos"][0], "ops@example.go.id");
    let (ok, _, err) = bisik_cli(&["digest", "test", "not-an-address", "--config", config]);
    assert!(!ok && err.contains("not an e-mail address"), "{err}");
}
