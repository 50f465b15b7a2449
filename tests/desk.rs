//! The officers' desk (`bisik desk`): a real server, a real desk process on loopback, a real
//! headless Chromium with JavaScript off — and the desk's own defences (Host, launch token,
//! session cookie, Origin and CSRF checks, lock).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::desk::*;
use common::webdriver::{Driver, Session};
use common::*;

#[test]
fn an_officer_works_a_case_in_the_desk_with_javascript_off() {
    let fx = Fixture::new(CHEAP_KDF);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let (receipt, case_id) = file_report(
        &server.base,
        "Jembatan desa rusak <script>alert('x')</script> \u{202e}gpj.exe",
        "Jembatan di desa kami rusak sejak bulan lalu.",
    );
    let (_, lamp) = file_report(&server.base, "Lampu jalan mati", "Sudah dua minggu gelap.");
    // Staff intake can carry what the citizen form refuses: terminal escapes.
    let mut triage =
        bisik::client::Client::new(&server.base, fx.identity("desk-triage"), None).unwrap();
    triage.login().unwrap();
    triage
        .intake(&bisik::client::OfflineReport {
            channel: "phone".into(),
            kind: "complaint".into(),
            title: "Telepon \u{1b}[2J\u{1b}]0;pwned\u{7} warga".into(),
            body: "Laporan lewat telepon.".into(),
            ..Default::default()
        })
        .unwrap();

    let desk = DeskProcess::start(&server.base, &fx.identity_path("desk-triage"), "en");
    let driver = Driver::start();
    let browser = Session::new(&driver);
    let shots = screenshot_dir();

    // The launch URL becomes the session; the inbox shows decrypted titles, inert.
    browser.window(1366, 768);
    browser.goto(&desk.url);
    browser.wait_for("#cases");
    let source = browser.source();
    assert!(source.contains("<html lang=\"en\">"), "{source}");
    assert!(source.contains("Lampu jalan mati"));
    assert!(
        source.contains("Jembatan desa rusak &lt;script&gt;")
            || source.contains("Jembatan desa rusak &#60;script&#62;")
    );
    assert!(
        !source.contains("<script>"),
        "hostile title rendered as markup"
    );
    assert!(
        !source.contains('\u{1b}'),
        "terminal escape reached the page"
    );
    assert!(source.contains("\\u{1b}[2J"), "escape shown, visibly");
    assert!(
        !source.contains('\u{202e}'),
        "bidi override reached the page"
    );
    assert!(
        source.contains("\\u{202e}gpj.exe"),
        "bidi override shown, visibly"
    );
    assert!(source.contains("Received"), "human state words");
    assert!(!source.contains(">received<"), "no slugs");
    browser.screenshot(&shots.join("inbox-1366.png"));
    browser.assert_no_horizontal_overflow("main *", "inbox at 1366");
    browser.window(360, 740);
    browser.goto(&format!("{}/", desk.base));
    browser.wait_for("#cases");
    browser.screenshot(&shots.join("inbox-360.png"));
    browser.assert_no_horizontal_overflow("main *", "inbox at 360");

    // Search runs over decrypted text, here.
    browser.goto(&format!("{}/?q=jembatan", desk.base));
    browser.wait_for("#cases");
    let found = browser.source();
    assert!(found.contains(&case_id) && !found.contains("Lampu jalan mati"));

    // The case page: answer the citizen and ask them a question.
    browser.window(1366, 768);
    browser.goto(&format!("{}/case/{case_id}", desk.base));
    let message = browser.wait_for("#message");
    assert!(
        browser
            .source()
            .contains("<dd id=\"sealing\">Classic (X25519)</dd>"),
        "a classic directory seals classic, and the page says so"
    );
    browser.type_into(&message, "Terima kasih, kami periksa minggu ini.");
    let send = browser.find("#send");
    browser.click(&send);
    browser.wait_for_text("#notice", "Answer sent.");
    assert!(
        browser
            .source()
            .contains("Terima kasih, kami periksa minggu ini.")
    );
    let reason = browser.find("#reason");
    browser.type_into(&reason, "Di dusun mana jembatannya?");
    // The select's first allowed move for triage on a received case is "Verified"; choose
    // "on hold" explicitly.
    let on_hold = browser.find("#new-state option[value=on_hold]");
    browser.click(&on_hold);
    let move_button = browser.find("#move");
    browser.click(&move_button);
    browser.wait_for_text("#state", "On hold: waiting for the reporter");
    browser.wait_for_text("#notice", "State changed.");
    browser.screenshot(&shots.join("case-1366.png"));
    browser.assert_no_horizontal_overflow("main *", "case page at 1366");
    browser.window(360, 740);
    browser.goto(&format!("{}/case/{case_id}", desk.base));
    browser.wait_for("#state");
    browser.screenshot(&shots.join("case-360.png"));
    browser.assert_no_horizontal_overflow("main *", "case page at 360");

    // The citizen sees both on the status page.
    let mut res = loopback_agent()
        .post(format!("{}/status?lang=en", server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .send(form_body(&[("receipt", &receipt)]))
        .unwrap();
    let status = res.body_mut().read_to_string().unwrap();
    assert!(status.contains("Terima kasih, kami periksa minggu ini."));
    assert!(status.contains("Di dusun mana jembatannya?"));

    // Verify the other case, then forward it (disposisi) to the health office, in the browser.
    browser.goto(&format!("{}/case/{lamp}", desk.base));
    let verified = browser.wait_for("#new-state option[value=verified]");
    browser.click(&verified);
    let move_button = browser.find("#move");
    browser.click(&move_button);
    browser.wait_for_text("#state", "Verified");
    let target = browser.find("#forward-to option[value=health]");
    browser.click(&target);
    let reason = browser.find("#forward-reason");
    browser.type_into(&reason, "Kewenangan dinas kesehatan.");
    let forward = browser.find("#forward");
    browser.click(&forward);
    browser.wait_for_text("#notice", "Case forwarded.");

    // Staff intake from the desk: the receipt slip, large and printable.
    browser.window(1366, 768);
    browser.goto(&format!("{}/intake", desk.base));
    let title = browser.wait_for("#title");
    browser.type_into(&title, "Laporan lewat loket");
    let body = browser.find("#body");
    browser.type_into(&body, "Warga datang ke loket pengaduan.");
    browser.screenshot(&shots.join("intake-1366.png"));
    let submit = browser.find("#intake-submit");
    browser.click(&submit);
    let slip = browser.wait_for("#receipt");
    assert_eq!(
        browser.text(&slip).split('-').count(),
        5,
        "the whole receipt (five groups of five)"
    );
    browser.screenshot(&shots.join("slip-1366.png"));
    browser.assert_no_horizontal_overflow("main *", "slip at 1366");
    browser.window(360, 740);
    browser.screenshot(&shots.join("slip-360.png"));
    browser.assert_no_horizontal_overflow("main *", "slip at 360");
    browser.window(1366, 768);

    // Locking drops everything decrypted; unlocking reads the identity again.
    let lock = browser.find("#lock");
    browser.click(&lock);
    browser.wait_for("#locked");
    browser.goto(&format!("{}/case/{case_id}", desk.base));
    browser.wait_for("#locked");
    assert!(
        !browser.source().contains("Jembatan"),
        "locked page shows nothing decrypted"
    );
    let unlock = browser.find("#unlock");
    browser.click(&unlock);
    browser.wait_for("#cases");
}

#[test]
fn the_desk_refuses_other_hosts_other_origins_and_strangers() {
    let fx = Fixture::new(CHEAP_KDF);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let (_, case_id) = file_report(&server.base, "Sampah menumpuk", "Di pasar.");
    let desk = DeskProcess::start(&server.base, &fx.identity_path("desk-triage"), "id");
    let http = raw();

    // Before the launch URL is used, nothing opens without the cookie.
    let r = http.get(format!("{}/", desk.base)).call().unwrap();
    assert_eq!(r.status().as_u16(), 401);

    // The launch URL works once, and sets a strict, script-proof cookie.
    let r = http.get(&desk.url).call().unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let set_cookie = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"));
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let r = http.get(&desk.url).call().unwrap();
    assert_eq!(r.status().as_u16(), 401, "the launch token is single-use");

    // With the cookie: pages, in Bahasa Indonesia, with the strict headers.
    let mut r = http
        .get(format!("{}/case/{case_id}", desk.base))
        .header("cookie", &cookie)
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let csp = r
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    let page = r.body_mut().read_to_string().unwrap();
    assert!(page.contains("<html lang=\"id\">") && page.contains("Sampah menumpuk"));
    assert!(!page.contains("<script"));
    let csrf = input_value(&page, "csrf").unwrap();

    // DNS rebinding: another Host is refused even with the cookie.
    let r = http
        .get(format!("{}/", desk.base))
        .header("host", "evil.example:80")
        .header("cookie", &cookie)
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 421);
    // A wrong or old cookie.
    let r = http
        .get(format!("{}/", desk.base))
        .header("cookie", "bisik_desk=old")
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);

    let post = |origin: Option<&str>, csrf: &str, message: &str| {
        let mut req = http
            .post(format!("{}/case/{case_id}/reply", desk.base))
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded");
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req.send(form_body(&[("csrf", csrf), ("message", message)]))
            .unwrap()
            .status()
            .as_u16()
    };
    // Another web page in the same browser: another Origin, or no CSRF token.
    assert_eq!(
        post(Some("http://evil.example"), &csrf, "from elsewhere"),
        403
    );
    let cross_site = http
        .post(format!("{}/case/{case_id}/reply", desk.base))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "cross-site")
        .header("origin", "null")
        .header("content-type", "application/x-www-form-urlencoded")
        .send(form_body(&[("csrf", &csrf), ("message", "cross-site")]))
        .unwrap();
    assert_eq!(cross_site.status().as_u16(), 403);
    assert_eq!(post(Some(&desk.base), "not-the-token", "forged"), 403);
    assert_eq!(post(None, &csrf, "no origin at all"), 403);
    // The desk's own form goes through.
    assert_eq!(post(Some(&desk.base), &csrf, "Sedang kami tangani."), 303);
    let mut triage =
        bisik::client::Client::new(&server.base, fx.identity("desk-triage"), None).unwrap();
    triage.login().unwrap();
    let case = triage.case(&case_id).unwrap();
    assert_eq!(case.messages.len(), 1, "only the desk's own form wrote");

    // A locked desk shows nothing until unlocked.
    let r = http
        .post(format!("{}/lock", desk.base))
        .header("cookie", &cookie)
        .header("origin", &desk.base)
        .header("content-type", "application/x-www-form-urlencoded")
        .send(form_body(&[("csrf", &csrf)]))
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let r = http
        .get(format!("{}/case/{case_id}", desk.base))
        .header("cookie", &cookie)
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers().get("location").unwrap(), "/locked");
    assert_eq!(post(Some(&desk.base), &csrf, "while locked"), 303);
    assert_eq!(triage.case(&case_id).unwrap().messages.len(), 1);
}

#[test]
fn triage_forwards_and_a_custodian_opens_an_identity_in_the_desk() {
    let fx = Fixture::new(CHEAP_KDF);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let mut res = loopback_agent()
        .post(format!("{}/report?lang=en", server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .send(form_body(&report_fields(&[
            ("institution", ""),
            ("category", ""),
            ("title", "Pungutan liar di puskesmas"),
            ("privacy", "confidential"),
            ("identity_name", "Sari <b>Wulandari</b>"),
            ("identity_contact", "sari@example.org"),
        ])))
        .unwrap();
    let html = res.body_mut().read_to_string().unwrap();
    let case_id = element_text(&html, "case-id").unwrap();
    let http = raw();

    // The desk's custodian opens the identity (a POST: it is a recorded act).
    let custodian = DeskProcess::start(&server.base, &fx.identity_path("desk-custodian"), "en");
    let (cookie_c, csrf_c) = desk_session(&custodian, &http, &format!("/case/{case_id}"));
    let (status, _, page) = desk_post(
        &http,
        &custodian,
        &cookie_c,
        &format!("/case/{case_id}/identity"),
        &[("csrf", &csrf_c)],
    );
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Sari &#60;b&#62;Wulandari&#60;/b&#62;")
            || page.contains("Sari &lt;b&gt;Wulandari&lt;/b&gt;"),
        "{page}"
    );
    assert!(page.contains("sari@example.org"));

    // Triage classifies, then forwards to the health office with a reason.
    let triage = DeskProcess::start(&server.base, &fx.identity_path("desk-triage"), "en");
    let (cookie, csrf) = desk_session(&triage, &http, &format!("/case/{case_id}"));
    let (status, location, _) = desk_post(
        &http,
        &triage,
        &cookie,
        &format!("/case/{case_id}/act"),
        &[
            ("csrf", &csrf),
            ("action", "classify"),
            ("kind", "whistleblowing"),
            ("tags", "pungli, puskesmas"),
        ],
    );
    assert_eq!(
        (status, location.as_str()),
        (303, format!("/case/{case_id}?done=act").as_str())
    );
    // A forward without a reason is refused with the page, nothing moved.
    let (status, _, page) = desk_post(
        &http,
        &triage,
        &cookie,
        &format!("/case/{case_id}/act"),
        &[("csrf", &csrf), ("action", "forward"), ("to", "health")],
    );
    assert_eq!(status, 422, "{page}");
    let (status, location, _) = desk_post(
        &http,
        &triage,
        &cookie,
        &format!("/case/{case_id}/act"),
        &[
            ("csrf", &csrf),
            ("action", "forward"),
            ("to", "health"),
            ("reason", "Kewenangan Dinas Kesehatan."),
        ],
    );
    // The forward re-seals in the background; its page refreshes itself until it is done.
    assert_eq!((status, location.as_str()), (303, "/forwarding"));
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (status, headers, body) = desk_get(&http, &triage, &cookie, "/forwarding");
        if status == 303 {
            assert_eq!(headers.get("location").unwrap(), "/?done=forward");
            break;
        }
        let page = String::from_utf8(body).unwrap();
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("http-equiv=\"refresh\""), "{page}");
        assert!(
            std::time::Instant::now() < deadline,
            "the forward never ended"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // The desk's custodian hands the identity over to the health office's custodians.
    let (status, location, _) = desk_post(
        &http,
        &custodian,
        &cookie_c,
        &format!("/case/{case_id}/hand-over"),
        &[("csrf", &csrf_c)],
    );
    assert_eq!(
        (status, location.as_str()),
        (303, format!("/case/{case_id}?done=act").as_str())
    );
    let mut hc =
        bisik::client::Client::new(&server.base, fx.identity("health-custodian"), None).unwrap();
    hc.login().unwrap();
    let sealed = hc.identity_envelope(&case_id).unwrap();
    let id = bisik::crypto::envelope::open(&fx.identity("health-custodian"), &sealed).unwrap();
    assert!(String::from_utf8_lossy(&id).contains("sari@example.org"));

    // The health investigator reads it (re-sealed on the triage's computer), classified.
    let mut inv =
        bisik::client::Client::new(&server.base, fx.identity("health-investigator"), None).unwrap();
    inv.login().unwrap();
    let case = inv.case(&case_id).unwrap();
    assert_eq!(case.case.institution, "health");
    assert_eq!(case.case.kind, "whistleblowing");
    assert_eq!(case.tags, ["pungli", "puskesmas"]);
    let content = bisik::crypto::token::decode(&case.content).unwrap();
    let doc = bisik::crypto::envelope::open(&fx.identity("health-investigator"), &content).unwrap();
    assert!(String::from_utf8_lossy(&doc).contains("Pungutan liar di puskesmas"));
}

#[test]
fn staff_intake_prints_a_receipt_and_a_custodian_decides_a_reveal_in_the_desk() {
    let fx = Fixture::new(CHEAP_KDF);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let http = raw();

    // Intake by the health office's triage: a confidential report taken by phone.
    let triage = DeskProcess::start(&server.base, &fx.identity_path("health-triage"), "en");
    let (cookie, csrf) = desk_session(&triage, &http, "/intake");
    let (status, _, page) = desk_post(
        &http,
        &triage,
        &cookie,
        "/intake",
        &[
            ("csrf", &csrf),
            ("channel", "phone"),
            ("kind", "complaint"),
            ("title", ""),
            ("body", "x"),
        ],
    );
    assert_eq!(status, 422, "a title is needed");
    assert!(page.contains("Fill in the title"));
    let (status, _, page) = desk_post(
        &http,
        &triage,
        &cookie,
        "/intake",
        &[
            ("csrf", &csrf),
            ("channel", "phone"),
            ("kind", "whistleblowing"),
            ("title", "Laporan telepon: pungli"),
            ("body", "Warga menelepon tentang pungutan liar."),
            ("name", "Budi Santoso"),
            ("contact", "0812-0000-0000"),
        ],
    );
    assert_eq!(status, 200, "{page}");
    let receipt = element_text(&page, "receipt").expect("the slip shows the receipt");
    let case_id = element_text(&page, "case-id").unwrap();
    // The receipt opens the case on the citizen's status page.
    let mut res = loopback_agent()
        .post(format!("{}/status?lang=en", server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .send(form_body(&[("receipt", &receipt)]))
        .unwrap();
    let status_page = res.body_mut().read_to_string().unwrap();
    assert!(
        status_page.contains("Laporan telepon: pungli"),
        "{status_page}"
    );

    // Triage assigns it to the investigator, who finds it under "assigned to me".
    let (status, _, _) = desk_post(
        &http,
        &triage,
        &cookie,
        &format!("/case/{case_id}/act"),
        &[
            ("csrf", &csrf),
            ("action", "assign"),
            ("handle", "health-investigator"),
        ],
    );
    assert_eq!(status, 303);
    let inv = DeskProcess::start(&server.base, &fx.identity_path("health-investigator"), "en");
    let (icookie, icsrf) = desk_session(&inv, &http, &format!("/case/{case_id}"));
    let mut r = http
        .get(format!("{}/?mine=on", inv.base))
        .header("cookie", &icookie)
        .call()
        .unwrap();
    let mine = r.body_mut().read_to_string().unwrap();
    assert!(
        mine.contains(&case_id) && mine.contains("Laporan telepon: pungli"),
        "{mine}"
    );

    // An internal note: shown to the officers apart from the conversation, never to the citizen.
    let (status, _, _) = desk_post(
        &http,
        &inv,
        &icookie,
        &format!("/case/{case_id}/act"),
        &[
            ("csrf", &icsrf),
            ("action", "note"),
            ("reason", "Catatan: cek saksi di kelurahan."),
        ],
    );
    assert_eq!(status, 303);
    let mut r = http
        .get(format!("{}/case/{case_id}", triage.base))
        .header("cookie", &cookie)
        .call()
        .unwrap();
    let page = r.body_mut().read_to_string().unwrap();
    assert!(
        page.contains("Catatan: cek saksi di kelurahan.") && page.contains("health-investigator"),
        "{page}"
    );
    let mut res = loopback_agent()
        .post(format!("{}/status?lang=en", server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .send(form_body(&[("receipt", &receipt)]))
        .unwrap();
    assert!(
        !res.body_mut()
            .read_to_string()
            .unwrap()
            .contains("cek saksi")
    );

    // The investigator asks for the identity through the desk; the custodian approves.
    let (status, _, _) = desk_post(
        &http,
        &inv,
        &icookie,
        &format!("/case/{case_id}/act"),
        &[
            ("csrf", &icsrf),
            ("action", "reveal"),
            ("reason", "Saksi kunci untuk pemeriksaan."),
        ],
    );
    assert_eq!(status, 303);
    let custodian = DeskProcess::start(&server.base, &fx.identity_path("health-custodian"), "en");
    let (ccookie, ccsrf) = desk_session(&custodian, &http, "/custody");
    let mut r = http
        .get(format!("{}/custody", custodian.base))
        .header("cookie", &ccookie)
        .call()
        .unwrap();
    let queue = r.body_mut().read_to_string().unwrap();
    assert!(
        queue.contains(&case_id) && queue.contains("Saksi kunci untuk pemeriksaan."),
        "{queue}"
    );
    let (status, location, _) = desk_post(
        &http,
        &custodian,
        &ccookie,
        &format!("/custody/{case_id}/1"),
        &[
            ("csrf", &ccsrf),
            ("decision", "approve"),
            ("reason", "Disetujui untuk pemeriksaan."),
        ],
    );
    assert_eq!(status, 303);
    assert!(location.starts_with("/custody?done=true"), "{location}");
    // The investigator can now read the identity (sealed to them alone by the custodian's desk).
    let mut c =
        bisik::client::Client::new(&server.base, fx.identity("health-investigator"), None).unwrap();
    c.login().unwrap();
    let id = c.granted_identity(&case_id).unwrap();
    assert_eq!(id.name, "Budi Santoso");
}

#[test]
fn files_download_under_safe_names_and_only_real_images_show_inline() {
    use base64::Engine as _;
    let fx = Fixture::new(CHEAP_KDF);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let png = base64::engine::general_purpose::STANDARD
        .decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
        .unwrap();
    let text = b"Daftar pungutan: Rp 50.000 per pasien.\n".to_vec();
    let body = multipart(
        &report_fields(&[
            ("institution", ""),
            ("category", ""),
            ("title", "Bukti pungli"),
        ]),
        &[
            ("foto.png", "image/png", &png),
            ("evil\u{202e}gpj.exe", "image/png", &text),
        ],
    );
    let (status, html) = post_multipart(&server.base, "/report?lang=en", body).unwrap();
    assert_eq!(status, 200, "{html}");
    let case_id = element_text(&html, "case-id").unwrap();

    let desk = DeskProcess::start(&server.base, &fx.identity_path("desk-triage"), "en");
    let http = raw();
    let (cookie, _) = desk_session(&desk, &http, &format!("/case/{case_id}"));
    let get = |path: &str| desk_get(&http, &desk, &cookie, path);
    let (_, _, page) = get(&format!("/case/{case_id}"));
    let page = String::from_utf8(page).unwrap();
    assert!(
        page.contains("foto.png") && page.contains("evil\\u{202e}gpj.exe"),
        "{page}"
    );
    assert!(!page.contains('\u{202e}'));
    assert!(
        page.contains(&format!("/case/{case_id}/file/1?inline=true")),
        "the photo is previewed"
    );

    // The photo: inline as a PNG, byte for byte what was sent (it had no metadata to remove).
    let (status, headers, bytes) = get(&format!("/case/{case_id}/file/1?inline=true"));
    assert_eq!(status, 200);
    assert_eq!(headers.get("content-type").unwrap(), "image/png");
    assert_eq!(bytes.len(), png.len());
    // Text claiming to be an image is never shown inline: a download under a safe name.
    let (status, headers, bytes) = get(&format!("/case/{case_id}/file/2?inline=true"));
    assert_eq!(status, 200);
    assert_eq!(
        headers.get("content-type").unwrap(),
        "application/octet-stream"
    );
    let disposition = headers
        .get("content-disposition")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(
        !disposition.contains('\u{202e}') && !disposition.contains("%E2%80%AE"),
        "{disposition}"
    );
    assert_eq!(bytes, text, "the file, without its padding");
    assert_eq!(headers.get("x-content-type-options").unwrap(), "nosniff");

    // The printable case file names each file with the SHA-256 of its decrypted bytes.
    let (status, _, page) = get(&format!("/case/{case_id}/print"));
    assert_eq!(status, 200);
    let page = String::from_utf8(page).unwrap();
    use sha2::Digest as _;
    let digest: String = sha2::Sha256::digest(&text)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(page.contains(&digest), "{page}");
    assert!(page.contains("Bukti pungli") && page.contains("foto.png"));

    // The Ombudsman's desk: overdue counts per institution, by name.
    let omb = DeskProcess::start(&server.base, &fx.identity_path("ombudsman-officer"), "en");
    let (ocookie, _) = desk_session(&omb, &http, "/oversight");
    let mut r = http
        .get(format!("{}/oversight", omb.base))
        .header("cookie", &ocookie)
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let page = r.body_mut().read_to_string().unwrap();
    assert!(
        page.contains("id=\"overdue\"") && page.contains("id=\"nav-oversight\""),
        "{page}"
    );
}

#[test]
fn an_idle_desk_locks_itself_and_forgets_what_it_decrypted() {
    let fx = Fixture::new(CHEAP_KDF);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let (_, case_id) = file_report(&server.base, "Air PDAM keruh", "Sudah seminggu.");
    let desk = DeskProcess::start_with(
        &server.base,
        &fx.identity_path("desk-triage"),
        "en",
        &["--idle-lock-seconds", "2"],
    );
    let http = raw();
    let (cookie, _) = desk_session(&desk, &http, &format!("/case/{case_id}"));
    std::thread::sleep(Duration::from_millis(2500));
    let r = http
        .get(format!("{}/case/{case_id}", desk.base))
        .header("cookie", &cookie)
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 303, "an idle desk locks");
    assert_eq!(r.headers().get("location").unwrap(), "/locked");
    let mut r = http
        .get(format!("{}/locked", desk.base))
        .header("cookie", &cookie)
        .call()
        .unwrap();
    let page = r.body_mut().read_to_string().unwrap();
    assert!(page.contains("id=\"unlock\"") && !page.contains("Air PDAM keruh"));
}

/// The desk reads envelopes in bulk: only cases the member may read come back, each read is
/// audited, and nobody else's case is revealed to exist.
#[tokio::test]
async fn bulk_contents_return_only_readable_cases_and_are_audited() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, app, _clock) = fx.router().await;
    let (_, a) = submit(&router, &[("title", "Satu")]).await;
    let (_, b) = submit(&router, &[("title", "Dua")]).await;
    let (_, other) = submit(&router, &[("institution", "transport"), ("category", "")]).await;
    let inv = login(&router, &fx.identity("health-investigator")).await;
    let body = serde_json::json!({ "ids": [a, b, other, "NOPE-NOPE"] });
    let r = send(&router, authed_post("/api/v1/contents", &inv, &body)).await;
    assert_eq!(r.status, axum::http::StatusCode::OK, "{}", r.text());
    let got: bisik::api::ContentsResponse = serde_json::from_slice(&r.body).unwrap();
    let ids: Vec<&str> = got.contents.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, [a.as_str(), b.as_str()]);
    let sealed = bisik::crypto::token::decode(&got.contents[0].content).unwrap();
    assert!(bisik::crypto::envelope::open(&fx.identity("health-investigator"), &sealed).is_ok());
    let audit = app.store.audit_entries().await.unwrap();
    let reads: Vec<_> = audit
        .iter()
        .filter(|e| e.action == "download_content")
        .filter_map(|e| e.case_id.clone())
        .collect();
    assert_eq!(reads, [a.clone(), b.clone()]);
    // A custodian reads no content; too many ids at once is refused.
    let cust = login(&router, &fx.identity("health-custodian")).await;
    let r = send(&router, authed_post("/api/v1/contents", &cust, &body)).await;
    assert_eq!(r.status, axum::http::StatusCode::FORBIDDEN);
    let many: Vec<String> = (0..501).map(|i| format!("X{i}")).collect();
    let r = send(
        &router,
        authed_post(
            "/api/v1/contents",
            &inv,
            &serde_json::json!({ "ids": many }),
        ),
    )
    .await;
    assert_eq!(r.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY);
}

/// The Ombudsman lists every institution's overdue cases — metadata only, no envelope — and
/// nobody else may.
#[tokio::test]
async fn oversight_lists_overdue_cases_of_every_institution_as_metadata() {
    let fx = Fixture::new(CHEAP_KDF);
    let (router, app, clock) = fx.router().await;
    let (_, late) = submit(&router, &[("title", "Terlambat")]).await;
    clock.advance(time::Duration::days(30));
    let omb = login(&router, &fx.identity("ombudsman-officer")).await;
    let r = send(&router, authed_get("/api/v1/oversight/overdue-cases", &omb)).await;
    assert_eq!(r.status, axum::http::StatusCode::OK, "{}", r.text());
    let list: bisik::api::CaseListResponse = serde_json::from_slice(&r.body).unwrap();
    assert!(
        list.cases
            .iter()
            .any(|c| c.id == late && c.institution == "health")
    );
    assert!(!r.text().contains("content"), "metadata only");
    let inv = login(&router, &fx.identity("health-investigator")).await;
    let r = send(&router, authed_get("/api/v1/oversight/overdue-cases", &inv)).await;
    assert_eq!(r.status, axum::http::StatusCode::FORBIDDEN);
    let audit = app.store.audit_entries().await.unwrap();
    assert!(audit.iter().any(|e| e.action == "view_overdue_cases"));
}

/// The printed case file holds the internal notes, and the reporter's identity only for a
/// custodian who opened it (a recorded act) in this desk session — never fetched for printing.
#[test]
fn the_printed_file_holds_notes_and_an_identity_only_once_opened() {
    let fx = Fixture::new(CHEAP_KDF);
    fx.add_member("health", "health-lead", &["triage", "custodian"]);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let mut res = loopback_agent()
        .post(format!("{}/report?lang=en", server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .send(form_body(&report_fields(&[
            ("title", "Pungutan di loket"),
            ("privacy", "confidential"),
            ("identity_name", "Sari Wulandari"),
            ("identity_contact", "sari@example.org"),
        ])))
        .unwrap();
    let html = res.body_mut().read_to_string().unwrap();
    let case_id = element_text(&html, "case-id").unwrap();
    let http = raw();
    let lead = DeskProcess::start(&server.base, &fx.identity_path("health-lead"), "en");
    let (cookie, csrf) = desk_session(&lead, &http, &format!("/case/{case_id}"));
    let (status, _, page) = desk_post(
        &http,
        &lead,
        &cookie,
        &format!("/case/{case_id}/act"),
        &[
            ("csrf", &csrf),
            ("action", "note"),
            (
                "reason",
                "Saksi kunci; jangan hubungi lewat telepon kantor.",
            ),
        ],
    );
    assert_eq!(status, 303, "{page}");
    let print = |cookie: &str| {
        let (status, _, body) = desk_get(&http, &lead, cookie, &format!("/case/{case_id}/print"));
        let page = String::from_utf8(body).unwrap();
        assert_eq!(status, 200, "{page}");
        page
    };
    let page = print(&cookie);
    assert!(page.contains("id=\"print-notes\"") && page.contains("jangan hubungi lewat telepon"));
    assert!(!page.contains("Sari Wulandari"), "not opened: not printed");
    let (status, _, _) = desk_post(
        &http,
        &lead,
        &cookie,
        &format!("/case/{case_id}/identity"),
        &[("csrf", &csrf)],
    );
    assert_eq!(status, 200);
    let page = print(&cookie);
    let at = page
        .find("id=\"print-identity\"")
        .expect("the opened identity");
    assert!(page[at..].contains("Sari Wulandari") && page[at..].contains("sari@example.org"));
    // Locking forgets it: unlocked again, the printed file holds no identity until reopened.
    let (status, _, _) = desk_post(&http, &lead, &cookie, "/lock", &[("csrf", &csrf)]);
    assert_eq!(status, 303);
    let (status, location, _) = desk_post(&http, &lead, &cookie, "/unlock", &[("csrf", &csrf)]);
    assert_eq!((status, location.as_str()), (303, "/"));
    let page = print(&cookie);
    assert!(!page.contains("Sari Wulandari") && !page.contains("print-identity"));
    server.stop();
}
