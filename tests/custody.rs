//! Confidential reporters: reveal requests the reporter sees, custodians deciding on their own
//! machines, notice periods, conflict-of-interest exclusion, and rekeying after a member left —
//! with the real server, the real CLI and the Debian `age` CLI.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

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

fn citizen_reply(base: &str, receipt: &str, text: &str) {
    let page = status(base, receipt);
    let nonce = input_value(&page, "nonce").unwrap();
    post(
        base,
        "/status/reply?lang=en",
        &[("receipt", receipt), ("nonce", &nonce), ("message", text)],
    );
}

fn ok(base: &str, identity: &Path, args: &[&str]) -> String {
    let (ok, out, err) = case_cli(base, identity, args);
    assert!(ok, "{args:?}: {err}");
    String::from_utf8(out).unwrap()
}

fn custody(base: &str, identity: &Path, args: &[&str]) -> (bool, String) {
    let mut all = vec![
        "custody",
        "--server",
        base,
        "--identity",
        identity.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    let (ok, out, err) = bisik_cli(&all);
    (ok, format!("{}{err}", String::from_utf8_lossy(&out)))
}

fn submit_confidential(base: &str) -> (String, String) {
    let fields = report_fields(&[
        ("privacy", "confidential"),
        ("identity_name", "Wulan Sari"),
        ("identity_contact", "wulan@example.org"),
        ("concerns", "Head of ward 2"),
    ]);
    let html = post(base, "/report?lang=en", &fields);
    (
        element_text(&html, "receipt").unwrap(),
        element_text(&html, "case-id").unwrap(),
    )
}

#[test]
fn reveal_requested_approved_and_denied_with_the_reporter_told() {
    reveal_requested_approved_and_denied(false);
}

/// The same with every member holding a post-quantum key: the identity, the requests' and
/// decisions' reasons and the grant are all sealed post-quantum.
#[test]
fn reveal_requested_approved_and_denied_on_a_post_quantum_directory() {
    reveal_requested_approved_and_denied(true);
}

fn reveal_requested_approved_and_denied(post_quantum: bool) {
    let fx = Fixture::new(CHEAP_KDF);
    if post_quantum {
        fx.add_post_quantum_keys(&[]);
    }
    let server = ServerProcess::start(&fx.config_path, &[]);
    let base = server.base.clone();
    let (receipt, case_id) = submit_confidential(&base);
    let inv = fx.identity_path("health-investigator");
    let triage = fx.identity_path("health-triage");
    let cus = fx.identity_path("health-custodian");

    // Investigators work the case without the identity, and cannot open it.
    let shown = ok(&base, &inv, &["show", &case_id]);
    assert!(shown.contains("concerns:  Head of ward 2") && !shown.contains("Wulan"));
    let (got, _, err) = case_cli(&base, &inv, &["identity", &case_id]);
    assert!(!got && err.contains("404"), "{err}");

    ok(
        &base,
        &inv,
        &[
            "reveal-request",
            &case_id,
            "--reason",
            "We must call the witness to testify.",
        ],
    );
    let page = status(&base, &receipt);
    assert!(
        page.contains("Requests to reveal your identity")
            && page.contains("Waiting for a decision"),
        "{page}"
    );
    assert!(page.contains("We must call the witness to testify."));

    let (listed, text) = custody(&base, &cus, &["list"]);
    assert!(
        listed
            && text.contains(&format!("{case_id} #1"))
            && text.contains("We must call the witness"),
        "{text}"
    );
    let (listed, text) = custody(&base, &inv, &["list"]);
    assert!(
        !listed && text.contains("403"),
        "only custodians decide: {text}"
    );
    let (done, text) = custody(
        &base,
        &cus,
        &[
            "approve",
            &case_id,
            "1",
            "--reason",
            "Testimony is needed; approved.",
        ],
    );
    assert!(done, "{text}");

    let page = status(&base, &receipt);
    assert!(
        page.contains("Approved") && page.contains("Testimony is needed; approved."),
        "{page}"
    );
    assert!(page.contains("Identity opened to the requester from"));
    let shown = ok(&base, &inv, &["identity", &case_id]);
    assert!(
        shown.contains("name:    Wulan Sari") && shown.contains("wulan@example.org"),
        "{shown}"
    );

    // The grant is sealed to the requester alone.
    let (got, _, _) = case_cli(&base, &triage, &["identity", &case_id]);
    assert!(!got, "another member has no grant");

    // The deny path.
    ok(
        &base,
        &triage,
        &["reveal-request", &case_id, "--reason", "Curious."],
    );
    let (done, text) = custody(
        &base,
        &cus,
        &["deny", &case_id, "2", "--reason", "No need to know."],
    );
    assert!(done, "{text}");
    let page = status(&base, &receipt);
    assert!(page.contains("Denied") && page.contains("No need to know."));
    let (got, _, err) = case_cli(&base, &triage, &["identity", &case_id]);
    assert!(!got && err.contains("404"), "{err}");
    let (_, pending) = custody(&base, &cus, &["list"]);
    assert!(pending.contains("no pending requests"));

    // Every decision is audited.
    let out = std::process::Command::new(bisik_bin())
        .args([
            "audit",
            "--config",
            fx.config_path.to_str().unwrap(),
            "show",
            "--case",
            &case_id,
        ])
        .output()
        .unwrap();
    let audit = String::from_utf8_lossy(&out.stdout);
    for a in [
        "reveal_request",
        "reveal_approve",
        "reveal_deny",
        "reveal_open",
    ] {
        assert!(audit.contains(a), "{a} missing:\n{audit}");
    }
    server.stop();
    if post_quantum {
        assert!(assert_no_x25519_stanza_at_rest(fx.data_dir()) > 0);
    }
}

#[test]
fn a_notice_period_keeps_the_identity_closed_until_the_reporter_was_told() {
    let fx = Fixture::new(CHEAP_KDF);
    fx.set_reveal_notice("health", 3);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let base = server.base.clone();
    let (receipt, case_id) = submit_confidential(&base);
    let inv = fx.identity_path("health-investigator");
    ok(
        &base,
        &inv,
        &["reveal-request", &case_id, "--reason", "Needed."],
    );
    let (done, text) = custody(
        &base,
        &fx.identity_path("health-custodian"),
        &["approve", &case_id, "1", "--reason", "OK after notice."],
    );
    assert!(done && text.contains("from"), "{text}");
    let (got, _, err) = case_cli(&base, &inv, &["identity", &case_id]);
    assert!(
        !got && err.contains("403") && err.contains("available from"),
        "{err}"
    );
    let page = status(&base, &receipt);
    // The deployment's day (the demo's zone, Asia/Jakarta), shown as people read it.
    let today = bisik::domain::clock::Zone::default().day_of(time::OffsetDateTime::now_utc());
    let from =
        bisik::web::dates::long_day(bisik::web::i18n::Lang::EN, today + time::Duration::days(3));
    assert!(
        page.contains(&format!("Identity opened to the requester from {from}")),
        "{page}"
    );
    server.stop();
}

#[test]
fn an_excluded_member_loses_the_case_and_everything_written_afterwards() {
    let fx = Fixture::new(CHEAP_KDF);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let base = server.base.clone();
    let (receipt, case_id) = submit_confidential(&base);
    let inv = fx.identity_path("health-investigator");
    let triage = fx.identity_path("health-triage");
    assert!(ok(&base, &inv, &["list"]).contains(&case_id));
    // Only triage (or the member themself) may exclude.
    let (done, _, err) = case_cli(
        &base,
        &inv,
        &["exclude", &case_id, "health-triage", "--reason", "x"],
    );
    assert!(!done && err.contains("403"), "{err}");
    ok(
        &base,
        &triage,
        &[
            "exclude",
            &case_id,
            "health-investigator",
            "--reason",
            "Named in the report.",
        ],
    );

    assert!(
        !ok(&base, &inv, &["list"]).contains(&case_id),
        "no longer listed"
    );
    for cmd in ["show", "envelope", "reveal-request"] {
        let mut args = vec![cmd, case_id.as_str()];
        if cmd == "reveal-request" {
            args.extend(["--reason", "x"]);
        }
        let (got, _, err) = case_cli(&base, &inv, &args);
        assert!(!got && err.contains("404"), "{cmd}: {err}");
    }
    // Written afterwards: not sealed to the excluded member.
    citizen_reply(&base, &receipt, "After the exclusion.");
    ok(&base, &triage, &["reply", &case_id, "Noted."]);
    let id = bisik::client::read_identity(&triage).unwrap();
    let mut client = bisik::client::Client::new(&base, id, None).unwrap();
    client.login().unwrap();
    let case = client.case(&case_id).unwrap();
    assert_eq!(case.messages.len(), 2);
    for m in &case.messages {
        let sealed = bisik::crypto::token::decode(&m.envelope).unwrap();
        assert!(bisik::crypto::envelope::open(&fx.identity("health-triage"), &sealed).is_ok());
        assert!(
            bisik::crypto::envelope::open(&fx.identity("health-investigator"), &sealed).is_err()
        );
    }
    // A custodian may step aside themself.
    let cus = fx.identity_path("health-custodian");
    ok(
        &base,
        &cus,
        &[
            "exclude",
            &case_id,
            "health-custodian",
            "--reason",
            "I know the reporter.",
        ],
    );
    let (got, _, err) = case_cli(&base, &cus, &["identity-envelope", &case_id]);
    assert!(!got && err.contains("404"), "{err}");
    let out = std::process::Command::new(bisik_bin())
        .args([
            "audit",
            "--config",
            fx.config_path.to_str().unwrap(),
            "show",
            "--case",
            &case_id,
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("exclude:health-investigator"));
    server.stop();
}

#[test]
fn after_a_member_leaves_rekeyed_copies_no_longer_open_with_their_key() {
    let fx = Fixture::new(CHEAP_KDF);
    let leaver = fx.add_member("health", "health-leaver", &["investigator"]);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let (receipt, case_id) = submit_confidential(&server.base);
    citizen_reply(&server.base, &receipt, "A message before the rekey.");
    let leaver_id = bisik::client::read_identity(&leaver).unwrap();
    let fetch = |base: &str| {
        let id = fx.identity("health-investigator");
        let mut c = bisik::client::Client::new(base, id, None).unwrap();
        c.login().unwrap();
        c.case(&case_id).unwrap()
    };
    let before = fetch(&server.base);
    assert!(
        bisik::crypto::envelope::open(
            &leaver_id,
            &bisik::crypto::token::decode(&before.content).unwrap()
        )
        .is_ok()
    );
    server.stop();

    fx.remove_member("health", "health-leaver");
    let server = ServerProcess::start(&fx.config_path, &[]);
    let base = server.base.clone();
    let (gone, _, err) = case_cli(&base, &leaver, &["list"]);
    assert!(!gone && err.contains("not a member"), "{err}");
    ok(
        &base,
        &fx.identity_path("health-investigator"),
        &["rekey", &case_id],
    );
    let after = fetch(&base);
    let inv = fx.identity("health-investigator");
    for sealed in std::iter::once(&after.content).chain(after.messages.iter().map(|m| &m.envelope))
    {
        let bytes = bisik::crypto::token::decode(sealed).unwrap();
        assert!(
            bisik::crypto::envelope::open(&leaver_id, &bytes).is_err(),
            "the leaver's key no longer opens it"
        );
        assert!(bisik::crypto::envelope::open(&inv, &bytes).is_ok());
    }
    // The Debian age CLI agrees, and the reporter still reads everything.
    let file = fx.data_dir().join("rekeyed.age");
    std::fs::write(&file, bisik::crypto::token::decode(&after.content).unwrap()).unwrap();
    let out = std::process::Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&leaver)
        .arg(&file)
        .output()
        .expect("age CLI");
    assert!(!out.status.success());
    let page = status(&base, &receipt);
    assert!(page.contains("A message before the rekey.") && page.contains("Wulan Sari"));
    server.stop();
}
