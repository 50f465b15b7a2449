//! The officers' desk on a post-quantum directory, in headless Chromium with JavaScript off: the
//! desk unlocks with an identity file holding both keys (it logs in with the post-quantum one),
//! decrypts the post-quantum case's title, and marks the case "PQ" in the inbox, explained in
//! its title attribute, and the case page says "Post-quantum (ML-KEM-768 + X25519)"; no
//! horizontal overflow at 1366 and 360 px (screenshots in
//! `target/tmp/desk-screenshots/pq-inbox-*.png`, `pq-case-*.png`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::desk::*;
use common::webdriver::{Driver, Session};
use common::*;
use serde_json::json;

#[test]
fn the_desk_marks_post_quantum_cases() {
    let fx = Fixture::new(CHEAP_KDF);
    fx.add_post_quantum_keys(&[]);
    let server = ServerProcess::start(&fx.config_path, &[]);
    let (_, case_id) = file_report(
        &server.base,
        "Jalan rusak di depan sekolah",
        "Lubang besar sejak bulan lalu.",
    );
    let desk = DeskProcess::start(&server.base, &fx.identity_path("desk-triage"), "en");
    let cookie = desk.cookie(&raw());
    let driver = Driver::start();
    let b = Session::new(&driver);
    b.window(1366, 768);
    b.goto(&format!("{}/locked", desk.base));
    let (name, value) = cookie.split_once('=').unwrap();
    b.must(
        "POST",
        "/cookie",
        Some(json!({ "cookie": { "name": name, "value": value, "path": "/", "httpOnly": true } })),
    );
    let shots = screenshot_dir();
    for (width, height) in [(1366, 768), (360, 740)] {
        b.window(width, height);
        b.goto(&format!("{}/", desk.base));
        b.wait_for("#cases");
        let source = b.source();
        assert!(source.contains("Jalan rusak di depan sekolah"), "{source}");
        assert!(source.contains(&case_id));
        assert!(
            source.contains(
                "<abbr class=\"badge\" title=\"Sealed post-quantum (ML-KEM-768 + X25519)\">PQ</abbr>"
            ),
            "{source}"
        );
        b.screenshot(&shots.join(format!("pq-inbox-{width}.png")));
        b.screenshot_of("#cases", &shots.join(format!("pq-inbox-cases-{width}.png")));
        b.assert_no_horizontal_overflow("main *", &format!("inbox at {width}"));
        // The case page says how the case is sealed.
        b.goto(&format!("{}/case/{case_id}", desk.base));
        b.wait_for("#sealing");
        let source = b.source();
        assert!(
            source.contains("<dd id=\"sealing\">Post-quantum (ML-KEM-768 + X25519)</dd>"),
            "{source}"
        );
        b.screenshot(&shots.join(format!("pq-case-{width}.png")));
        b.assert_no_horizontal_overflow("main *", &format!("case page at {width}"));
    }
    drop(desk);
    server.stop();
}
