//! Webhooks to institutions' systems (docs/integration.md), against a receiver on loopback
//! that checks every Standard Webhooks signature itself: retries after a 500, metadata only,
//! citizen-caused events held to the daily release, member-caused ones at once, nothing lost
//! (nor sent twice) across a restart, bad configuration refused at start.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bisik::crypto::webhook::WebhookSecret;
use bisik::domain::webhook::DeliveryStatus;
use bisik::notify::webhooks::round;
use common::*;
use hmac::{KeyInit, Mac};
use time::macros::datetime;

const TITLE: &str = "Canary title 7f3a: clinic fees";
const BODY: &str = "Canary body c0ffee: the head nurse asks for money.";

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
struct Got {
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Got {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }
}

/// A webhook receiver on 127.0.0.1: answers the statuses queued in `answers` (then 200).
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Got>>>,
    answers: Arc<Mutex<VecDeque<u16>>>,
}

impl Receiver {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hooks/bisik", listener.local_addr().unwrap());
        let got = Arc::new(Mutex::new(Vec::new()));
        let answers = Arc::new(Mutex::new(VecDeque::new()));
        let (g, a) = (got.clone(), answers.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                stream
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    continue;
                }
                assert!(line.starts_with("POST /hooks/bisik "), "{line}");
                let mut headers = HashMap::new();
                loop {
                    let mut h = String::new();
                    reader.read_line(&mut h).unwrap();
                    let h = h.trim_end();
                    if h.is_empty() {
                        break;
                    }
                    let (k, v) = h.split_once(':').unwrap();
                    headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
                }
                let len: usize = headers["content-length"].parse().unwrap();
                let mut body = vec![0; len];
                reader.read_exact(&mut body).unwrap();
                g.lock().unwrap().push(Got { headers, body });
                let status = a.lock().unwrap().pop_front().unwrap_or(200);
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
            }
        });
        Self { url, got, answers }
    }

    fn got(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }
}

/// The receiver's check, written from the specification (not with bisik's code): HMAC-SHA256
/// of `{id}.{timestamp}.{body}` with the base64-decoded part of `whsec_…`, one of the
/// space-separated `v1,<base64>` signatures.
fn verifies(secret: &str, got: &Got) -> bool {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(got.header("webhook-id").as_bytes());
    mac.update(b".");
    mac.update(got.header("webhook-timestamp").as_bytes());
    mac.update(b".");
    mac.update(&got.body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    got.header("webhook-signature")
        .split(' ')
        .any(|s| s == expected)
}

fn new_secret(byte: u8) -> String {
    WebhookSecret::from_bytes(&[byte; 32])
        .unwrap()
        .encoded()
        .to_string()
}

/// Gives `institution` a `[webhook]` to `url`, signed with `secrets` (files outside keys/).
fn subscribe(fx: &Fixture, institution: &str, url: &str, secrets: &[&str]) {
    let dir = fx.dir.path().join("webhook-secrets");
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for (i, s) in secrets.iter().enumerate() {
        let path = dir.join(format!("{institution}-{i}.secret"));
        std::fs::write(&path, format!("{s}\n")).unwrap();
        files.push(format!("{:?}", path.to_str().unwrap()));
    }
    let keys = fx
        .dir
        .path()
        .join("keys/institutions")
        .join(format!("{institution}.toml"));
    let mut text = std::fs::read_to_string(&keys).unwrap();
    text.push_str(&format!(
        "\n[webhook]\nurl = {url:?}\nsecret_files = [{}]\n",
        files.join(", ")
    ));
    std::fs::write(keys, text).unwrap();
}

#[tokio::test]
async fn a_citizen_report_waits_for_the_release_then_is_retried_after_a_500_and_signed() {
    let fx = Fixture::new(CHEAP_KDF);
    let rx = Receiver::start();
    let (new, old) = (new_secret(1), new_secret(2));
    // Rotation: the new secret signs first, the old one still signs too.
    subscribe(&fx, "health", &rx.url, &[&new, &old]);
    let (router, app, clock) = fx.router().await;
    // 2026-11-23 09:30 UTC = 16:30 WIB.
    let (receipt, case_id) = submit(&router, &[("title", TITLE), ("body", BODY)]).await;

    // Held: not now, not before 08:00 WIB the next day.
    assert_eq!(round(&app).await.unwrap().delivered, 0);
    clock.set(datetime!(2026-11-24 00:59 UTC));
    round(&app).await.unwrap();
    assert!(rx.got().is_empty(), "sent before the release");

    // 08:00 WIB: released; the receiver answers 500 first.
    rx.answers.lock().unwrap().push_back(500);
    clock.set(datetime!(2026-11-24 01:00 UTC));
    let r = round(&app).await.unwrap();
    assert_eq!((r.delivered, r.failed_attempts), (0, 1));
    assert_eq!(rx.got().len(), 1);
    // Backing off: not again at once.
    clock.advance(time::Duration::seconds(30));
    round(&app).await.unwrap();
    assert_eq!(rx.got().len(), 1);
    clock.advance(time::Duration::seconds(31));
    assert_eq!(round(&app).await.unwrap().delivered, 1);
    let got = rx.got();
    assert_eq!(got.len(), 2);
    // The same event both times, signed with both secrets each time.
    assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));
    assert!(got[0].header("webhook-id").starts_with("evt_"));
    for g in &got {
        assert!(verifies(&new, g) && verifies(&old, g), "{g:?}");
        assert!(!verifies(&new_secret(3), g));
        assert_eq!(g.header("content-type"), "application/json");
        // The timestamp is the sending time (the release), never the citizen's.
        let ts: i64 = g.header("webhook-timestamp").parse().unwrap();
        assert!(
            ts >= datetime!(2026-11-24 01:00 UTC).unix_timestamp(),
            "{ts}"
        );
    }
    let body = got[1].json();
    assert_eq!(body["type"], "case.created");
    assert_eq!(body["data"]["case_id"], case_id.as_str());
    assert_eq!(body["data"]["institution"], "health");
    assert_eq!(body["data"]["state"], "received");
    assert_eq!(body["data"]["day"], "2026-11-23");
    assert_eq!(body["data"]["id"], got[1].header("webhook-id"));
    assert!(body["data"]["due_on"].is_string());
    // Metadata only: no title, no text, no receipt, no time of the citizen's act.
    let raw = String::from_utf8(got[1].body.clone()).unwrap();
    let digits: String = receipt.chars().filter(char::is_ascii_digit).collect();
    for canary in [
        "7f3a",
        "c0ffee",
        "Canary",
        &digits[..8],
        &digits[8..],
        "09:30",
        "16:30",
    ] {
        assert!(!raw.contains(canary), "{canary} in {raw}");
    }
    // Delivered once: nothing more.
    clock.advance(time::Duration::hours(7));
    round(&app).await.unwrap();
    assert_eq!(rx.got().len(), 2);
    let log = bisik::service::webhooks::log(&app, false, 100)
        .await
        .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].status, DeliveryStatus::Delivered);
    assert_eq!((log[0].attempts, log[0].last_status), (2, Some(200)));
}

#[tokio::test]
async fn a_member_state_change_goes_at_once_and_a_citizen_reply_waits() {
    let fx = Fixture::new(CHEAP_KDF);
    let rx = Receiver::start();
    let secret = new_secret(7);
    subscribe(&fx, "health", &rx.url, &[&secret]);
    let (router, app, _clock) = fx.router().await;
    let (receipt, case_id) = submit(&router, &[("title", TITLE), ("body", BODY)]).await;
    let triage = login(&router, &fx.identity("health-triage")).await;
    let r = set_state(&router, &triage, &case_id, "verified", None).await;
    assert!(r.status.is_success(), "{}", r.text());
    let r = round(&app).await.unwrap();
    assert_eq!(r.delivered, 1);
    let got = rx.got();
    assert_eq!(got.len(), 1);
    assert!(verifies(&secret, &got[0]));
    let body = got[0].json();
    assert_eq!(body["type"], "case.state_changed");
    assert_eq!(body["data"]["state"], "verified");
    assert_eq!(body["data"]["case_id"], case_id.as_str());
    assert_eq!(body["data"]["day"], "2026-11-23");

    // A member's message goes at once; the citizen's answer is held like the report.
    let inv = login(&router, &fx.identity("health-investigator")).await;
    let r = member_reply(
        &router,
        &inv,
        &case_id,
        "health-investigator",
        "We are looking.",
    )
    .await;
    assert!(r.status.is_success(), "{}", r.text());
    citizen_reply(&router, &receipt, "Canary reply c0ffee").await;
    assert_eq!(round(&app).await.unwrap().delivered, 1);
    let got = rx.got();
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].json()["type"], "case.message");
    let held: Vec<_> = bisik::service::webhooks::log(&app, false, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|d| d.status == DeliveryStatus::Held)
        .map(|d| d.event.as_str())
        .collect();
    assert_eq!(held.len(), 2, "{held:?}");
    assert!(held.contains(&"case.created") && held.contains(&"case.message"));
    // A retry by the operator does not send a held event early.
    let id = bisik::service::webhooks::log(&app, false, 100)
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.status == DeliveryStatus::Held)
        .unwrap()
        .id;
    assert!(!bisik::service::webhooks::retry(&app, &id).await.unwrap());
    round(&app).await.unwrap();
    assert_eq!(rx.got().len(), 2);
    for g in rx.got() {
        assert!(!String::from_utf8_lossy(&g.body).contains("c0ffee"));
    }
}

#[tokio::test]
async fn nothing_is_lost_or_sent_twice_across_a_restart() {
    let fx = Fixture::new(CHEAP_KDF);
    let rx = Receiver::start();
    let secret = new_secret(9);
    subscribe(&fx, "health", &rx.url, &[&secret]);
    let case_id = {
        let (router, app, _clock) = fx.router().await;
        let (_, case_id) = submit(&router, &[]).await;
        let triage = login(&router, &fx.identity("health-triage")).await;
        set_state(&router, &triage, &case_id, "verified", None).await;
        // Stopped before any delivery.
        app.store.close().await;
        case_id
    };
    let clock = Arc::new(bisik::domain::clock::FixedClock::new(datetime!(
        2026-11-23 10:00 UTC
    )));
    let (app, _router) = bisik::server::build(fx.config(), clock.clone())
        .await
        .unwrap();
    assert_eq!(round(&app).await.unwrap().delivered, 1);
    clock.set(datetime!(2026-11-24 01:00 UTC));
    assert_eq!(round(&app).await.unwrap().delivered, 1);
    clock.set(datetime!(2026-11-25 01:00 UTC));
    assert_eq!(round(&app).await.unwrap(), Default::default());
    let got = rx.got();
    let mut kinds: Vec<_> = got
        .iter()
        .map(|g| g.json()["type"].as_str().unwrap().to_owned())
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["case.created", "case.state_changed"]);
    let mut ids: Vec<_> = got.iter().map(|g| g.header("webhook-id")).collect();
    ids.dedup();
    assert_eq!(ids.len(), 2);
    assert!(
        got.iter()
            .all(|g| g.json()["data"]["case_id"] == case_id.as_str())
    );
    app.store.close().await;
}

#[tokio::test]
async fn overdue_cases_are_announced_once_per_due_day() {
    let fx = Fixture::new(CHEAP_KDF);
    let rx = Receiver::start();
    subscribe(&fx, "health", &rx.url, &[&new_secret(4)]);
    let (router, app, clock) = fx.router().await;
    let (_, case_id) = submit(&router, &[]).await;
    // Weeks later, unverified: overdue. Housekeeping queues it; it goes at once.
    clock.set(datetime!(2026-12-20 03:00 UTC));
    bisik::service::housekeeping::run_once(&app).await.unwrap();
    bisik::service::housekeeping::run_once(&app).await.unwrap();
    round(&app).await.unwrap();
    let overdue: Vec<_> = rx
        .got()
        .iter()
        .map(Got::json)
        .filter(|b| b["type"] == "case.overdue")
        .collect();
    assert_eq!(overdue.len(), 1, "{overdue:?}");
    assert_eq!(overdue[0]["data"]["case_id"], case_id.as_str());
    assert_eq!(overdue[0]["data"]["day"], "2026-12-20");
}

#[tokio::test]
async fn an_institution_without_a_webhook_is_told_nothing() {
    let fx = Fixture::new(CHEAP_KDF);
    let rx = Receiver::start();
    subscribe(&fx, "transport", &rx.url, &[&new_secret(5)]);
    let (router, app, clock) = fx.router().await;
    submit(&router, &[]).await;
    clock.set(datetime!(2026-11-24 02:00 UTC));
    round(&app).await.unwrap();
    assert!(rx.got().is_empty());
    assert!(
        bisik::service::webhooks::log(&app, false, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[test]
fn bad_webhook_configuration_stops_the_start_with_a_clear_message() {
    let fx = Fixture::new(CHEAP_KDF);
    subscribe(
        &fx,
        "health",
        "http://agency.example/hooks",
        &[&new_secret(1)],
    );
    let (ok, _, err) = bisik_cli(&["serve", "--config", fx.config_path.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        err.contains("health.toml") && err.contains("plain http"),
        "{err}"
    );

    let fx = Fixture::new(CHEAP_KDF);
    let keys = fx.dir.path().join("keys/institutions/health.toml");
    let mut text = std::fs::read_to_string(&keys).unwrap();
    text.push_str("\n[webhook]\nurl = \"https://agency.example/hooks\"\nsecret_files = [\"/nonexistent/health.secret\"]\n");
    std::fs::write(&keys, text).unwrap();
    let (ok, _, err) = bisik_cli(&["serve", "--config", fx.config_path.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        err.contains("cannot read the secret file /nonexistent/health.secret"),
        "{err}"
    );

    // A secret that is not whsec_: named by file, never printed.
    let fx = Fixture::new(CHEAP_KDF);
    subscribe(
        &fx,
        "health",
        "https://agency.example/hooks",
        &["hunter2hunter2"],
    );
    let (ok, _, err) = bisik_cli(&["serve", "--config", fx.config_path.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("whsec_") && !err.contains("hunter2"), "{err}");
}

#[test]
fn the_running_server_delivers_and_the_operator_reads_the_log() {
    let fx = Fixture::new(&format!("{CHEAP_KDF}\n[webhooks]\npoll_secs = 1\n"));
    let rx = Receiver::start();
    let secret = new_secret(6);
    subscribe(&fx, "health", &rx.url, &[&secret]);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let agent = loopback_agent();
    let form = form_body(&report_fields(&[("title", TITLE), ("body", BODY)]));
    let mut resp = agent
        .post(&format!("{}/report?lang=en", server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .send(form.as_bytes())
        .unwrap();
    assert_eq!(resp.status(), 200);
    let html = resp.body_mut().read_to_string().unwrap();
    let case_id = element_text(&html, "case-id").unwrap();
    let (ok, _, err) = case_cli(
        &server.base,
        &fx.identity_path("health-triage"),
        &["set-state", &case_id, "verified"],
    );
    assert!(ok, "{err}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while rx.got().is_empty() {
        assert!(Instant::now() < deadline, "nothing delivered");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Only the member's act: the report itself waits for tomorrow's release.
    std::thread::sleep(Duration::from_millis(1500));
    let got = rx.got();
    assert_eq!(got.len(), 1);
    assert!(verifies(&secret, &got[0]));
    assert_eq!(got[0].json()["type"], "case.state_changed");
    let log = server.stop();
    assert!(!log.contains(&secret) && !log.contains(&case_id), "{log}");

    let (ok, out, err) = bisik_cli(&[
        "webhooks",
        "log",
        "--config",
        fx.config_path.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains("case.state_changed") && out.contains("delivered"),
        "{out}"
    );
    assert!(
        out.contains("case.created") && out.contains("held"),
        "{out}"
    );
    let id = got[0].header("webhook-id");
    let (ok, out, _) = bisik_cli(&[
        "webhooks",
        "retry",
        id,
        "--config",
        fx.config_path.to_str().unwrap(),
    ]);
    assert!(ok);
    assert!(String::from_utf8(out).unwrap().contains("sent again"));
    let (ok, out, _) = bisik_cli(&[
        "webhooks",
        "log",
        "--failed",
        "--config",
        fx.config_path.to_str().unwrap(),
    ]);
    assert!(ok);
    assert!(String::from_utf8(out).unwrap().contains("no deliveries"));
}

#[test]
fn a_forward_tells_both_institutions() {
    let fx = Fixture::new(&format!("{CHEAP_KDF}\n[webhooks]\npoll_secs = 1\n"));
    let (desk_rx, health_rx) = (Receiver::start(), Receiver::start());
    let (desk_secret, health_secret) = (new_secret(11), new_secret(12));
    subscribe(&fx, "desk", &desk_rx.url, &[&desk_secret]);
    subscribe(&fx, "health", &health_rx.url, &[&health_secret]);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let form = form_body(&report_fields(&[
        ("institution", ""),
        ("category", ""),
        ("title", TITLE),
        ("body", BODY),
    ]));
    let mut resp = loopback_agent()
        .post(&format!("{}/report?lang=en", server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .send(form.as_bytes())
        .unwrap();
    let html = resp.body_mut().read_to_string().unwrap();
    let case_id = element_text(&html, "case-id").unwrap();
    let desk = fx.identity_path("desk-triage");
    for args in [
        &[
            "set-state",
            &case_id,
            "not_our_authority",
            "--reason",
            "Health has authority.",
        ][..],
        &[
            "forward", &case_id, "--to", "health", "--reason", "Clinics.",
        ][..],
    ] {
        let (ok, _, err) = case_cli(&server.base, &desk, args);
        assert!(ok, "{err}");
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while desk_rx.got().len() < 2 || health_rx.got().is_empty() {
        assert!(Instant::now() < deadline, "not delivered");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Deliveries carry no order: sort them by type.
    let mut desk_got = desk_rx.got();
    desk_got.sort_by_key(|g| g.json()["type"].as_str().unwrap().to_owned());
    assert!(desk_got.iter().all(|g| verifies(&desk_secret, g)));
    let desk_types: Vec<_> = desk_got.iter().map(|g| g.json()["type"].clone()).collect();
    assert_eq!(desk_types, ["case.forwarded", "case.state_changed"]);
    assert_eq!(desk_got[1].json()["data"]["state"], "not_our_authority");
    let health_got = health_rx.got();
    assert_eq!(health_got.len(), 1);
    assert!(verifies(&health_secret, &health_got[0]));
    assert!(!verifies(&desk_secret, &health_got[0]));
    for (g, told) in [(&desk_got[0], "desk"), (&health_got[0], "health")] {
        let b = g.json();
        assert_eq!(b["type"], "case.forwarded");
        assert_eq!(b["data"]["institution"], told);
        assert_eq!(b["data"]["from_institution"], "desk");
        assert_eq!(b["data"]["to_institution"], "health");
        assert_eq!(b["data"]["state"], "forwarded");
        assert_eq!(b["data"]["case_id"], case_id.as_str());
    }
    assert_ne!(
        desk_got[0].header("webhook-id"),
        health_got[0].header("webhook-id")
    );
    server.stop();
}

#[tokio::test]
async fn a_deadline_extension_goes_at_once_and_the_ombudsman_hears_of_an_escalation() {
    let fx = Fixture::new(CHEAP_KDF);
    let rx = Receiver::start();
    let (health, ombudsman) = (new_secret(11), new_secret(12));
    subscribe(&fx, "health", &rx.url, &[&health]);
    subscribe(&fx, "ombudsman", &rx.url, &[&ombudsman]);
    let (router, app, clock) = fx.router().await;
    let (receipt, case_id) = submit(&router, &[("title", TITLE), ("body", BODY)]).await;

    // A member extends the deadline: told at once, with the new due day.
    let triage = login(&router, &fx.identity("health-triage")).await;
    let reason = serde_json::json!({"type": "bisik.reason", "version": 1, "state": "extension",
        "text": "Canary reason c0ffee"});
    let envelope = seal_for_case(&router, &triage, &case_id, &reason).await;
    let r = send(
        &router,
        authed_post(
            &format!("/api/v1/cases/{case_id}/extend"),
            &triage,
            &serde_json::json!({"days": 3, "reason_envelope": envelope}),
        ),
    )
    .await;
    assert!(r.status.is_success(), "{}", r.text());
    let due: bisik::api::ExtendResponse = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(round(&app).await.unwrap().delivered, 1);
    let got = rx.got();
    assert_eq!(got.len(), 1);
    assert!(verifies(&health, &got[0]));
    let body = got[0].json();
    assert_eq!(body["type"], "case.deadline_extended");
    assert_eq!(body["data"]["due_on"], due.due_on.unwrap().as_str());
    assert_eq!(body["data"]["institution"], "health");
    assert!(!String::from_utf8_lossy(&got[0].body).contains("c0ffee"));

    // The case runs late and the citizen escalates it: the institution and the oversight body
    // each hear of it (signed with their own secrets) at the next daily release.
    clock.advance(time::Duration::days(20));
    let r = send(
        &router,
        post_form("/status/escalate?lang=en", &[("receipt", &receipt)]),
    )
    .await;
    assert!(
        r.text()
            .contains("The Ombudsman now follows your report too.")
    );
    round(&app).await.unwrap();
    let escalated = |g: &&Got| g.json()["type"] == "case.escalated";
    assert_eq!(
        rx.got().iter().filter(escalated).count(),
        0,
        "before the release"
    );
    clock.advance(time::Duration::days(1));
    round(&app).await.unwrap();
    let got = rx.got();
    let escalations: Vec<_> = got.iter().filter(escalated).collect();
    assert_eq!(escalations.len(), 2, "{got:?}");
    let to_health = escalations
        .iter()
        .find(|g| g.json()["data"]["institution"] == "health")
        .unwrap();
    assert!(verifies(&health, to_health) && !verifies(&ombudsman, to_health));
    let to_ombudsman = escalations
        .iter()
        .find(|g| g.json()["data"]["institution"] == "ombudsman")
        .unwrap();
    assert!(verifies(&ombudsman, to_ombudsman) && !verifies(&health, to_ombudsman));
    let data = &to_ombudsman.json()["data"];
    assert_eq!(data["case_id"], case_id.as_str());
    assert_eq!(data["from_institution"], "health");
    assert_eq!(data["to_institution"], "ombudsman");
}
