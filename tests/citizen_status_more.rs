//! Issue 13, items 3, 5, 6 and 8, against a real server: a refused escalation reads as an
//! error; the citizen sees their own files (name, size, photo metadata removed or not) apart
//! from the officers' documents; adding evidence answers with the status page itself (the code
//! need not be typed again); the identity section says truthfully who holds it and whether it
//! was revealed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::webdriver::{Driver, Session};
use common::*;

/// A JPEG with an EXIF (APP1) segment, as a phone would send.
fn photo() -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8];
    let exif = b"Exif\0\0GPS-CANARY";
    v.extend_from_slice(&[0xFF, 0xE1]);
    v.extend_from_slice(&u16::try_from(exif.len() + 2).unwrap().to_be_bytes());
    v.extend_from_slice(exif);
    // A minimal scan segment and the end marker.
    v.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x02, 0x11, 0x22, 0xFF, 0xD9]);
    v
}

#[test]
fn the_citizen_sees_their_own_files_and_adding_evidence_ends_on_the_status_page() {
    let fx = Fixture::new(CHEAP_KDF);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let base = server.base.clone();
    let mut fields = report_fields(&[("title", "Jalan berlubang")]);
    fields.push(("lang", "en"));
    let jpeg = photo();
    let body = multipart(
        &fields,
        &[
            ("lubang.jpg", "image/jpeg", &jpeg),
            ("catatan.txt", "text/plain", b"Sudah tiga bulan."),
        ],
    );
    let (code, html) = post_multipart(&base, "/report?lang=en", body).unwrap();
    assert_eq!(code, 200, "{html}");
    let receipt = element_text(&html, "receipt").unwrap();
    let page = post_status(&base, &receipt);
    let at = page
        .find("id=\"own-files\"")
        .expect("the citizen's own files are listed");
    let own = &page[at..page[at..].find("</ul>").unwrap() + at];
    assert!(
        own.contains("lubang.jpg") && own.contains("photo metadata removed"),
        "{own}"
    );
    assert!(
        own.contains("catatan.txt") && own.contains("kept as sent"),
        "{own}"
    );

    // Adding evidence answers with the status page itself, the new file listed.
    let body = multipart(
        &[("receipt", &receipt)],
        &[("tambahan.txt", "text/plain", b"Foto kedua menyusul.")],
    );
    let (code, page) = post_multipart(&base, "/status/attach?lang=en", body).unwrap();
    assert_eq!(code, 200, "{page}");
    assert!(page.contains("Your files are encrypted and saved with your report."));
    assert!(
        page.contains("id=\"case-id\"") && page.contains("id=\"message\""),
        "{page}"
    );
    let at = page.find("id=\"own-files\"").unwrap();
    assert!(page[at..].contains("tambahan.txt"));

    // In Chromium, JavaScript off: the status page with the files, at 1366 and 360 px.
    {
        let shots = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("citizen-status");
        std::fs::create_dir_all(&shots).unwrap();
        let driver = Driver::start();
        let browser = Session::new(&driver);
        for (w, h) in [(1366, 768), (360, 740)] {
            browser.window(w, h);
            browser.goto(&format!("{base}/status?lang=en"));
            let field = browser.wait_for("#receipt");
            browser.type_into(&field, &receipt);
            let open = browser.find("#open");
            browser.click(&open);
            browser.wait_for("#own-files");
            browser.assert_no_horizontal_overflow("main *", &format!("status at {w}"));
            browser.screenshot(&shots.join(format!("status-{w}.png")));
            browser.screenshot_of("#own-files", &shots.join(format!("own-files-{w}.png")));
        }
    }

    // An officer's document is shown with its message, not among the citizen's own files.
    let (ok, _, err) = case_cli(
        &base,
        &fx.identity_path("health-investigator"),
        &[
            "reply",
            element_text(&html, "case-id").unwrap().as_str(),
            "Terlampir surat.",
            "--attach",
            fx.config_path.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    let page = post_status(&base, &receipt);
    let at = page.find("id=\"own-files\"").unwrap();
    let own = &page[at..page[at..].find("</ul>").unwrap() + at];
    assert!(!own.contains("bisik.toml"), "{own}");
    assert!(
        page.contains("bisik.toml"),
        "listed with the officer's message"
    );
    server.stop();
}

#[test]
fn a_refused_escalation_is_an_error_and_the_identity_section_tells_the_truth() {
    let fx = Fixture::new(CHEAP_KDF);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let base = server.base.clone();
    let mut res = loopback_agent()
        .post(format!("{base}/report?lang=en"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send(form_body(&report_fields(&[
            ("privacy", "confidential"),
            ("identity_name", "Wulan Sari"),
        ])))
        .unwrap();
    let html = res.body_mut().read_to_string().unwrap();
    let receipt = element_text(&html, "receipt").unwrap();
    let case_id = element_text(&html, "case-id").unwrap();

    // Not overdue: the refusal is an error, not a success.
    let mut res = loopback_agent()
        .post(format!("{base}/status/escalate?lang=en"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send(form_body(&[("receipt", &receipt)]))
        .unwrap();
    let page = res.body_mut().read_to_string().unwrap();
    let refused = element_text(&page, "refused").expect("shown as a refusal");
    assert!(refused.contains("cannot be escalated now"), "{refused}");
    assert!(!page.contains("class=\"success\""), "{page}");

    // Who holds the identity, and that nobody saw it yet.
    let page = post_status(&base, &receipt);
    let explain = element_text(&page, "identity-explain").unwrap();
    assert!(
        explain.contains("identity custodians of Example City Health Office (demo)")
            && explain.contains("has not been revealed to anyone"),
        "{explain}"
    );

    // After a reveal is approved, it says so (never "sealed" as if nobody had seen it).
    let (ok, _, err) = case_cli(
        &base,
        &fx.identity_path("health-investigator"),
        &["reveal-request", &case_id, "--reason", "Saksi diperlukan."],
    );
    assert!(ok, "{err}");
    let (ok, _, err) = bisik_cli(&[
        "custody",
        "--server",
        &base,
        "--identity",
        fx.identity_path("health-custodian").to_str().unwrap(),
        "approve",
        &case_id,
        "1",
        "--reason",
        "Disetujui.",
    ]);
    assert!(ok, "{err}");
    let page = post_status(&base, &receipt);
    let explain = element_text(&page, "identity-explain").unwrap();
    assert!(
        explain.contains("Revealed to an officer of Example City Health Office (demo) on")
            && !explain.contains("not been revealed"),
        "{explain}"
    );
    server.stop();
}
