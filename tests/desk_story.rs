//! Issue 12's whole story in a real headless Chromium with JavaScript off, each officer in their
//! own `bisik desk` against one real server: the intake desk verifies and forwards, and takes a
//! letter by post with its scan attached; the agency's
//! triage sees the case as new and assigns it; the investigator asks the citizen a question, the
//! citizen answers on the status page, the investigator answers with a PDF attached and the
//! citizen downloads it; a custodian approves a reveal; the Ombudsman sees an overdue escalated
//! case, writes a recommendation and a message to the citizen, and the agency reads the
//! recommendation. Every desk page is checked for its language, the strict headers and no
//! horizontal overflow at 1366×768 and 360×740, with screenshots in
//! `target/tmp/desk-screenshots/story-*.png`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::desk::*;
use common::webdriver::{Driver, Session};
use common::*;
use serde_json::json;

/// One officer's desk, with the browser holding its session.
struct Officer {
    desk: DeskProcess,
    browser: Session,
    name: &'static str,
}

impl Officer {
    /// Starts the desk, checks the strict headers of `pages` over plain HTTP with the session
    /// cookie, and hands the same cookie to a fresh browser.
    fn start(
        driver: &Driver,
        server: &str,
        fx: &Fixture,
        handle: &'static str,
        pages: &[&str],
    ) -> Self {
        let desk = DeskProcess::start(server, &fx.identity_path(handle), "en");
        let http = raw();
        let cookie = desk.cookie(&http);
        for page in pages {
            let r = http
                .get(format!("{}{page}", desk.base))
                .header("cookie", &cookie)
                .call()
                .unwrap();
            assert_eq!(r.status().as_u16(), 200, "{handle} {page}");
            let h = |name: &str| {
                r.headers()
                    .get(name)
                    .map(|v| v.to_str().unwrap().to_owned())
                    .unwrap_or_default()
            };
            let csp = h("content-security-policy");
            assert!(
                csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
                "{handle} {page}: {csp}"
            );
            assert_eq!(h("x-content-type-options"), "nosniff", "{handle} {page}");
            assert_eq!(h("referrer-policy"), "no-referrer", "{handle} {page}");
            assert!(h("cache-control").contains("no-store"), "{handle} {page}");
        }
        let browser = Session::new(driver);
        browser.window(1366, 768);
        // On the desk's origin first (a refused page), then the session cookie.
        browser.goto(&format!("{}/locked", desk.base));
        let (name, value) = cookie.split_once('=').unwrap();
        browser.must(
            "POST",
            "/cookie",
            Some(json!({ "cookie": { "name": name, "value": value, "path": "/", "httpOnly": true } })),
        );
        Self {
            desk,
            browser,
            name: handle,
        }
    }

    fn goto(&self, page: &str) {
        self.browser.goto(&format!("{}{page}", self.desk.base));
    }

    /// The page in English, screenshots at both widths, no horizontal overflow.
    fn check(&self, shots: &Path, what: &str) {
        let b = &self.browser;
        assert!(
            b.source().contains("<html lang=\"en\">"),
            "{} {what}: lang",
            self.name
        );
        let url = b.must("GET", "/url", None).as_str().unwrap().to_owned();
        b.screenshot(&shots.join(format!("story-{what}-1366.png")));
        b.assert_no_horizontal_overflow("main *", &format!("{what} at 1366"));
        b.window(360, 740);
        b.goto(&url);
        b.wait_for("main");
        b.screenshot(&shots.join(format!("story-{what}-360.png")));
        b.assert_no_horizontal_overflow("main *", &format!("{what} at 360"));
        b.window(1366, 768);
        b.goto(&url);
        b.wait_for("main");
    }

    fn choose(&self, css: &str) {
        let el = self.browser.wait_for(css);
        self.browser.click(&el);
    }

    fn type_into(&self, css: &str, text: &str) {
        let el = self.browser.wait_for(css);
        self.browser.type_into(&el, text);
    }
}

/// Polls (bounded) until the page's source contains `text`.
fn wait_for_source(b: &Session, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if b.source().contains(text) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {text:?}; page is:\n{}",
            b.source()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// An overdue case the citizen escalated, made before the server starts (a fixed clock in the
/// past, the real router): returns (receipt, case id).
fn escalated_case(fx: &Fixture) -> (String, String) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (router, app, clock) = fx.router().await;
        let (receipt, case_id) = submit(
            &router,
            &[
                ("title", "Pungutan liar di puskesmas"),
                ("body", "Petugas meminta uang sebelum berobat."),
            ],
        )
        .await;
        clock.advance(time::Duration::days(6));
        let r = send(
            &router,
            post_form("/status/escalate?lang=en", &[("receipt", &receipt)]),
        )
        .await;
        assert!(
            r.text()
                .contains("The Ombudsman now follows your report too.")
        );
        app.store.close().await;
        (receipt, case_id)
    })
}

fn screenshot_dir_story() -> PathBuf {
    screenshot_dir()
}

#[test]
fn the_whole_story_in_the_desk_with_javascript_off() {
    let fx = Fixture::new(CHEAP_KDF);
    let (late_receipt, late) = escalated_case(&fx);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let base = server.base.clone();
    let shots = screenshot_dir_story();
    let driver = Driver::start();

    // A citizen reports to the national intake desk (no institution chosen), and another one,
    // confidentially, to the health office.
    let (receipt, case_id) = file_report(
        &base,
        "Obat kosong di puskesmas",
        "Sudah tiga minggu obat darah tinggi tidak tersedia.",
    );
    let mut res = loopback_agent()
        .post(format!("{base}/report?lang=en"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send(form_body(&report_fields(&[
            ("title", "Saksi pungutan di loket"),
            ("privacy", "confidential"),
            ("identity_name", "Sari Wulandari"),
        ])))
        .unwrap();
    let html = res.body_mut().read_to_string().unwrap();
    let witness = element_text(&html, "case-id").unwrap();

    // 1. The intake desk verifies and forwards (disposisi) to the health office.
    {
        let desk = Officer::start(
            &driver,
            &base,
            &fx,
            "desk-triage",
            &["/", &format!("/case/{case_id}"), "/intake", "/stats"],
        );
        desk.goto("/");
        desk.browser.wait_for("#cases");
        desk.check(&shots, "inbox-intake");
        desk.goto(&format!("/case/{case_id}"));
        desk.choose("#new-state option[value=verified]");
        desk.choose("#move");
        desk.browser.wait_for_text("#state", "Verified");
        desk.choose("#forward-to option[value=health]");
        desk.type_into("#forward-reason", "Kewenangan Dinas Kesehatan.");
        desk.choose("#forward");
        desk.browser.wait_for_text("#notice", "Case forwarded.");

        // A letter that came by post: staff intake with the scanned letter attached.
        let scan = fx.data_dir().join("surat-warga.pdf");
        std::fs::write(&scan, b"%PDF-1.4\n% pindaian surat warga\n%%EOF\n").unwrap();
        desk.goto("/intake");
        desk.check(&shots, "intake");
        desk.choose("#channel option[value=post]");
        desk.type_into("#title", "Surat warga tentang jalan berlubang");
        desk.type_into("#body", "Surat terlampir, diterima lewat pos.");
        desk.type_into("#intake-files", scan.to_str().unwrap());
        desk.choose("#intake-submit");
        let slip = desk.browser.wait_for("#case-id");
        let posted = desk.browser.text(&slip);
        desk.goto(&format!("/case/{posted}"));
        desk.browser.wait_for("#files");
        assert!(desk.browser.source().contains("surat-warga.pdf"));
    }

    // 2. Health's triage sees it as new, and assigns it to its investigator.
    let triage = Officer::start(&driver, &base, &fx, "health-triage", &["/", "/stats"]);
    triage.goto("/");
    triage.browser.wait_for("#cases");
    let row = triage.browser.source();
    assert!(row.contains("unseen-badge"), "a new case is marked");
    triage.check(&shots, "inbox-triage");
    triage.goto(&format!("/case/{case_id}"));
    triage.type_into("#assign-handle", "health-investigator");
    triage.choose("#assign");
    triage
        .browser
        .wait_for_text("#assigned-to", "health-investigator");
    triage.goto("/stats");
    triage.browser.wait_for("main");
    triage.check(&shots, "stats");

    // 3. The investigator finds it under "assigned to me", takes it up, and asks a question.
    let inv = Officer::start(
        &driver,
        &base,
        &fx,
        "health-investigator",
        &["/?mine=on", &format!("/case/{case_id}")],
    );
    inv.goto("/?mine=on");
    inv.browser.wait_for("#cases");
    assert!(inv.browser.source().contains(&case_id));
    inv.goto(&format!("/case/{case_id}"));
    inv.choose("#new-state option[value=in_progress]");
    inv.choose("#move");
    inv.browser.wait_for_text("#state", "In progress");
    let question = "Di puskesmas mana obat itu kosong?";
    inv.choose("#new-state option[value=on_hold]");
    assert!(inv.browser.source().contains("id=\"hold-hint\""));
    inv.type_into("#reason", question);
    inv.choose("#move");
    inv.browser
        .wait_for_text("#state", "On hold: waiting for the reporter");
    inv.check(&shots, "case-on-hold");

    // 4. The citizen reads the question and answers, on the status page, JavaScript off.
    {
        let citizen = Session::new(&driver);
        citizen.window(1366, 768);
        citizen.goto(&format!("{base}/status?lang=en"));
        let field = citizen.wait_for("#receipt");
        citizen.type_into(&field, &receipt);
        let open = citizen.find("#open");
        citizen.click(&open);
        wait_for_source(&citizen, question);
        let message = citizen.find("#message");
        citizen.type_into(&message, "Puskesmas Melati, Kecamatan Contoh.");
        let send = citizen.find("#send");
        citizen.click(&send);
        wait_for_source(&citizen, "Your message is saved.");
    }

    // 5. The answer came back to the investigator (not to intake), marked as updated; they
    //    answer with a PDF attached.
    inv.goto("/");
    inv.browser.wait_for("#cases");
    assert!(
        inv.browser.source().contains("Updated"),
        "the citizen's answer is marked"
    );
    inv.goto(&format!("/case/{case_id}"));
    inv.browser.wait_for_text("#state", "In progress");
    let pdf_bytes =
        b"%PDF-1.4\n% Surat jawaban resmi Dinas Kesehatan\n1 0 obj <<>> endobj\n%%EOF\n";
    let pdf = fx.data_dir().join("surat-jawaban.pdf");
    std::fs::write(&pdf, pdf_bytes).unwrap();
    inv.type_into("#message", "Jawaban resmi kami terlampir.");
    inv.type_into("#reply-files", pdf.to_str().unwrap());
    inv.choose("#send");
    inv.browser.wait_for_text("#notice", "Answer sent.");
    assert!(inv.browser.source().contains("surat-jawaban.pdf"));
    inv.browser
        .screenshot_of("#messages", &shots.join("story-conversation-1366.png"));

    // 6. The citizen sees the document and downloads exactly those bytes.
    let status = post_status(&base, &receipt);
    assert!(
        status.contains("Jawaban resmi kami terlampir.") && status.contains("surat-jawaban.pdf")
    );
    let seq = {
        let at = status.find("name=\"file\" value=\"").unwrap() + "name=\"file\" value=\"".len();
        status[at..status[at..].find('"').unwrap() + at].to_owned()
    };
    let mut dl = loopback_agent()
        .post(format!("{base}/status/file?lang=en"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send(form_body(&[("receipt", &receipt), ("file", &seq)]))
        .unwrap();
    assert_eq!(dl.status().as_u16(), 200);
    assert_eq!(dl.body_mut().read_to_vec().unwrap(), pdf_bytes.to_vec());

    // 7. The investigator asks for the witness's identity; the custodian approves it.
    inv.goto(&format!("/case/{witness}"));
    inv.type_into(
        "#reveal-reason",
        "Keterangan saksi diperlukan untuk pemeriksaan.",
    );
    inv.choose("#reveal");
    inv.browser.wait_for("#notice");
    {
        let custodian = Officer::start(&driver, &base, &fx, "health-custodian", &["/custody"]);
        custodian.goto("/custody");
        custodian.browser.wait_for(&format!("#request-{witness}-1"));
        assert!(
            custodian
                .browser
                .source()
                .contains("Keterangan saksi diperlukan")
        );
        custodian.check(&shots, "custody");
        custodian.choose(&format!("#request-{witness}-1 input[value=approve]"));
        custodian.type_into("#reason-1", "Disetujui untuk pemeriksaan.");
        custodian.choose(&format!("#request-{witness}-1 .decide"));
        custodian.browser.wait_for("#notice");
        assert!(custodian.browser.source().contains("Decision saved."));
    }

    // 8. The Ombudsman sees the overdue escalated case, writes a recommendation to the
    //    institution and a message to the citizen; both are in the history.
    let recommendation = "Kembalikan pungutan kepada pelapor dalam 14 hari kerja.";
    let to_citizen = "Ombudsman telah meminta Dinas Kesehatan menindaklanjuti laporan Anda.";
    {
        let omb = Officer::start(
            &driver,
            &base,
            &fx,
            "ombudsman-officer",
            &["/oversight", &format!("/case/{late}")],
        );
        omb.goto("/oversight");
        omb.browser.wait_for("main");
        omb.check(&shots, "oversight");
        omb.choose(&format!("a[href=\"/case/{late}\"]"));
        omb.type_into("#recommend", recommendation);
        omb.choose("#send-recommendation");
        omb.browser.wait_for_text(
            "#notice",
            "Recommendation sent and recorded in the history.",
        );
        omb.type_into("#oversight-message", to_citizen);
        omb.choose("#send-oversight-message");
        omb.browser.wait_for_text(
            "#notice",
            "Message to the reporter sent and recorded in the history.",
        );
        let page = omb.browser.source();
        assert!(page.contains("The Ombudsman wrote a recommendation to the institution"));
        assert!(page.contains(recommendation) && page.contains(to_citizen));
        assert!(
            !page.contains("id=\"reply-form\""),
            "the Ombudsman only gets its own forms"
        );
        omb.check(&shots, "case-ombudsman");
        omb.browser.screenshot_of(
            "#recommendations",
            &shots.join("story-recommendations-1366.png"),
        );
        omb.browser
            .screenshot_of("table.history", &shots.join("story-history-1366.png"));
    }
    let status = post_status(&base, &late_receipt);
    assert!(status.contains(to_citizen) && !status.contains(recommendation));

    // 9. Health's triage reads the recommendation, apart from its own notes.
    triage.goto(&format!("/case/{late}"));
    triage.browser.wait_for("#recommendations");
    let page = triage.browser.source();
    let at = page.find("id=\"recommendations\"").unwrap();
    assert!(page[at..].contains(recommendation));
    triage.check(&shots, "case-recommendation");
    triage.browser.window(360, 740);
    triage.browser.screenshot_of(
        "#recommendations",
        &shots.join("story-recommendations-360.png"),
    );
    triage.browser.window(1366, 768);
    triage.goto(&format!("/case/{late}/print"));
    triage.browser.wait_for("#print-recommendations");
    assert!(triage.browser.source().contains(recommendation));
    drop(inv);
    drop(triage);
    server.stop();
}
