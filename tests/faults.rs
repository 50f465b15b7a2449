//! Faults: the server is SIGKILLed in the middle of a stream of submissions and replies; after a
//! restart on the same data, every receipt a client received opens its case with its full
//! content, and every reply a client saw acknowledged is there (DESIGN 2.8).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;

fn post(base: &str, path: &str, pairs: &[(&str, &str)]) -> Option<(u16, String)> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into();
    let mut res = agent
        .post(format!("{base}{path}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send(form_body(pairs))
        .ok()?;
    let status = res.status().as_u16();
    Some((status, res.body_mut().read_to_string().ok()?))
}

#[test]
fn nothing_acknowledged_is_lost_when_the_server_is_killed() {
    for round in 0..2 {
        // Rate limits high enough that verifying every case afterwards is not refused.
        let fx = Fixture::new(&format!(
            "{CHEAP_KDF}\n[rate]\nsubmissions_per_minute = 100000\nsubmission_burst = 100000\n\
             status_checks_per_minute = 100000\nstatus_check_burst = 100000\n"
        ));
        let server = ServerProcess::start(&fx.config_path, &[]);
        let base = server.base.clone();
        let stop = Arc::new(AtomicBool::new(false));
        // (receipt, marker) of every report acknowledged with a receipt.
        let reports: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        // (receipt, reply text) of every reply acknowledged as saved.
        let replies: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let workers: Vec<_> = (0..4)
            .map(|w| {
                let (base, stop, reports, replies) =
                    (base.clone(), stop.clone(), reports.clone(), replies.clone());
                std::thread::spawn(move || {
                    let mut n = 0;
                    while !stop.load(Ordering::SeqCst) {
                        n += 1;
                        let marker = format!("round{round}-w{w}-n{n}");
                        let body = format!("body of {marker}");
                        let fields = report_fields(&[("title", &marker), ("body", &body)]);
                        let Some((200, html)) = post(&base, "/report?lang=en", &fields) else {
                            continue;
                        };
                        let Some(receipt) = element_text(&html, "receipt") else {
                            continue;
                        };
                        reports
                            .lock()
                            .unwrap()
                            .push((receipt.clone(), marker.clone()));
                        let Some((200, page)) =
                            post(&base, "/status?lang=en", &[("receipt", &receipt)])
                        else {
                            continue;
                        };
                        let Some(nonce) = input_value(&page, "nonce") else {
                            continue;
                        };
                        let text = format!("reply to {marker}");
                        if let Some((200, page)) = post(
                            &base,
                            "/status/reply?lang=en",
                            &[("receipt", &receipt), ("nonce", &nonce), ("message", &text)],
                        ) && page.contains("Your message is saved.")
                        {
                            replies.lock().unwrap().push((receipt, text));
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(1500 + 700 * round));
        let _ = std::process::Command::new("kill")
            .arg("-KILL")
            .arg(server.child.id().to_string())
            .status();
        stop.store(true, Ordering::SeqCst);
        for w in workers {
            w.join().unwrap();
        }
        drop(server);

        let reports = reports.lock().unwrap().clone();
        let replies = replies.lock().unwrap().clone();
        assert!(
            reports.len() >= 4,
            "the load produced too little to prove anything: {}",
            reports.len()
        );
        let server = ServerProcess::start(&fx.config_path, &[]);
        for (receipt, marker) in &reports {
            let (status, page) =
                post(&server.base, "/status?lang=en", &[("receipt", receipt)]).unwrap();
            assert_eq!(status, 200, "acknowledged report {marker} is gone");
            assert_eq!(
                element_text(&page, "report-title").as_deref(),
                Some(marker.as_str())
            );
            assert!(page.contains(&format!("body of {marker}")));
        }
        for (receipt, text) in &replies {
            let (_, page) = post(&server.base, "/status?lang=en", &[("receipt", receipt)]).unwrap();
            assert!(page.contains(text), "acknowledged reply {text:?} is gone");
        }
        eprintln!(
            "round {round}: {} reports and {} replies survived the kill",
            reports.len(),
            replies.len()
        );
        server.stop();
    }
}

/// Retention: closed and archived cases go with everything that hangs off them, after their
/// institution's period; the purge is audited as counts; open cases stay.
#[tokio::test]
async fn purge_deletes_finished_cases_after_the_retention_period() {
    use axum::http::StatusCode;
    let fx = Fixture::new(CHEAP_KDF);
    fx.set_retention("health", 30);
    let (router, app, clock) = fx.router().await;
    clock.set(time::macros::datetime!(2026-01-05 10:00 UTC));
    let req = axum::http::Request::post("/report?lang=en")
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(axum::body::Body::from(multipart(
            &report_fields(&[
                ("privacy", "confidential"),
                ("identity_name", "Purged Person"),
                ("occurred_on", ""),
            ]),
            &[("evidence.txt", "text/plain", b"to be purged")],
        )))
        .unwrap();
    let html = send(&router, req).await.text();
    let (gone_receipt, gone_id) = (
        element_text(&html, "receipt").unwrap(),
        element_text(&html, "case-id").unwrap(),
    );
    assert_eq!(all_files(&fx.data_dir().join("blobs")).len(), 1);
    let (kept_receipt, _kept_id) = submit(&router, &[("occurred_on", "")]).await;
    let triage = login(&router, &fx.identity("health-triage")).await;
    let r = set_state(&router, &triage, &gone_id, "archived", Some("Duplicate.")).await;
    assert_eq!(r.status, StatusCode::OK);

    // Not yet: 29 days later.
    clock.advance(time::Duration::days(29));
    assert!(
        bisik::service::retention::plan(&app)
            .await
            .unwrap()
            .is_empty()
    );

    // The operator's dry run (system clock: months later) lists it and deletes nothing.
    let (ok, out, err) = bisik_cli(&[
        "purge",
        "--config",
        fx.config_path.to_str().unwrap(),
        "--dry-run",
    ]);
    assert!(ok, "{err}");
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains("would purge health: 1 cases") && out.contains(&gone_id),
        "{out}"
    );

    clock.advance(time::Duration::days(2));
    let done = bisik::service::retention::purge(&app).await.unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].cases, vec![gone_id.clone()]);
    let r = send(
        &router,
        post_form("/status?lang=en", &[("receipt", &gone_receipt)]),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "the purged case no longer opens"
    );
    let r = send(
        &router,
        post_form("/status?lang=en", &[("receipt", &kept_receipt)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "the open case stays");
    let entries = app.store.audit_entries().await.unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e.actor == "system" && e.action == "purge:health:1cases:1files")
    );
    assert!(
        all_files(&fx.data_dir().join("blobs")).is_empty(),
        "its file is gone too"
    );
    assert!(bisik::domain::audit::verify_chain(&entries).is_ok());
    assert!(
        bisik::service::retention::plan(&app)
            .await
            .unwrap()
            .is_empty()
    );
}
