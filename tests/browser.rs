//! The citizen web form works in a real browser with JavaScript switched off.
//!
//! This test starts the real `bisik serve` binary and a real headless Chromium, driven through
//! `chromedriver` over the W3C WebDriver protocol (plain HTTP on 127.0.0.1, no extra crates).
//! JavaScript is disabled in the browser profile, and the test first proves that it really is
//! off (a `<noscript>` element is rendered and an inline script does not run). Then, exactly as a
//! citizen would, it:
//!
//! 1. opens the English report form, checks it ships no `<script>`, picks a kind and an
//!    institution, types a title and body, and submits; the receipt code page appears;
//! 2. opens the status page, types the receipt code, and sees its own title and body decrypted;
//! 3. sends a reply from the status page and sees it in the message list;
//! 4. opens the form without `?lang=` in a browser that prefers Indonesian and gets
//!    `<html lang="id">`.
//!
//! Every network call goes to 127.0.0.1 and every wait is bounded.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The W3C "web element identifier": the key under which WebDriver returns an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long to wait for a page to show the element a step expects.
const PAGE_WAIT: Duration = Duration::from_secs(20);

/// A running `chromedriver`, stopped (and its log shown on failure) when dropped.
struct Driver {
    child: Child,
    base: String,
    log_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Driver {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let log_path = dir.path().join("chromedriver.log");
        let port = common::free_port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .arg(format!("--log-path={}", log_path.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let mut driver = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log_path,
            _dir: dir,
        };
        let http = common::loopback_agent();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = driver.child.try_wait() {
                panic!("chromedriver exited early ({status})");
            }
            if let Ok(mut res) = http.get(format!("{}/status", driver.base)).call()
                && let Ok(v) = res.body_mut().read_json::<Value>()
                && v["value"]["ready"] == json!(true)
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        driver
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if std::thread::panicking()
            && let Ok(log) = std::fs::read_to_string(&self.log_path)
        {
            let lines: Vec<&str> = log.lines().collect();
            let tail = lines[lines.len().saturating_sub(60)..].join("\n");
            eprintln!("--- chromedriver log (tail) ---\n{tail}");
        }
        // Ask politely (it closes any browser it still runs), then make sure.
        let _ = ureq::Agent::config_builder()
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(5)))
            .build()
            .new_agent()
            .get(format!("{}/shutdown", self.base))
            .call();
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One WebDriver session (one headless Chromium), deleted when dropped.
struct Session {
    http: ureq::Agent,
    url: String,
    // Dropped after the session is deleted (field order), so the browser is gone first.
    _profile: tempfile::TempDir,
}

impl Session {
    fn new(driver: &Driver) -> Self {
        let profile = tempfile::tempdir().unwrap();
        let http = common::loopback_agent();
        let caps = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "pageLoadStrategy": "normal",
                    "goog:chromeOptions": {
                        "binary": CHROMIUM,
                        "args": [
                            "--headless",
                            "--no-sandbox",
                            "--disable-gpu",
                            "--no-first-run",
                            "--disable-background-networking",
                            "--disable-component-update",
                            "--disable-sync",
                            "--disable-quic",
                            "--disable-dev-shm-usage",
                            "--no-proxy-server",
                            "--accept-lang=id-ID,id",
                            format!("--user-data-dir={}", profile.path().display()),
                        ],
                        "prefs": {
                            "profile.managed_default_content_settings.javascript": 2,
                            "webkit.webprefs.javascript_enabled": false,
                            "intl.accept_languages": "id-ID,id",
                        },
                    },
                },
            },
        });
        let mut res = http
            .post(format!("{}/session", driver.base))
            .send_json(&caps)
            .expect("create session");
        let status = res.status();
        let v: Value = res.body_mut().read_json().unwrap();
        assert!(status.is_success(), "new session failed ({status}): {v}");
        let id = v["value"]["sessionId"]
            .as_str()
            .expect("session id")
            .to_owned();
        Self {
            http,
            url: format!("{}/session/{id}", driver.base),
            _profile: profile,
        }
    }

    /// Sends one command; returns `Ok(value)` or `Err((error code, whole body))`.
    fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, (String, Value)> {
        let url = format!("{}{path}", self.url);
        let mut res = match (method, body) {
            ("GET", _) => self.http.get(&url).call(),
            ("DELETE", _) => self.http.delete(&url).call(),
            (_, body) => self
                .http
                .post(&url)
                .send_json(body.unwrap_or_else(|| json!({}))),
        }
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let ok = res.status().is_success();
        let v: Value = res.body_mut().read_json().unwrap();
        if ok {
            Ok(v["value"].clone())
        } else {
            Err((v["value"]["error"].as_str().unwrap_or("?").to_owned(), v))
        }
    }

    fn must(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.call(method, path, body)
            .unwrap_or_else(|(_, v)| panic!("{method} {path}: {v}"))
    }

    fn goto(&self, url: &str) {
        self.must("POST", "/url", Some(json!({ "url": url })));
    }

    fn source(&self) -> String {
        self.must("GET", "/source", None)
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn title(&self) -> String {
        self.must("GET", "/title", None)
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The element for a CSS selector, if the current page has one.
    fn try_find(&self, css: &str) -> Option<String> {
        match self.call(
            "POST",
            "/element",
            Some(json!({ "using": "css selector", "value": css })),
        ) {
            Ok(v) => Some(
                v[ELEMENT_KEY]
                    .as_str()
                    .expect("element reference")
                    .to_owned(),
            ),
            Err((code, _)) if code == "no such element" => None,
            Err((_, v)) => panic!("find {css}: {v}"),
        }
    }

    fn find(&self, css: &str) -> String {
        self.try_find(css)
            .unwrap_or_else(|| panic!("no element {css} on this page:\n{}", self.source()))
    }

    /// Polls (bounded) until the page has the element, e.g. after a form was submitted.
    fn wait_for(&self, css: &str) -> String {
        let deadline = Instant::now() + PAGE_WAIT;
        loop {
            if let Some(el) = self.try_find(css) {
                return el;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {css}; page is:\n{}",
                self.source()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn click(&self, el: &str) {
        self.must("POST", &format!("/element/{el}/click"), None);
    }

    fn type_into(&self, el: &str, text: &str) {
        self.must(
            "POST",
            &format!("/element/{el}/value"),
            Some(json!({ "text": text })),
        );
    }

    fn text(&self, el: &str) -> String {
        self.must("GET", &format!("/element/{el}/text"), None)
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn selected(&self, el: &str) -> bool {
        self.must("GET", &format!("/element/{el}/selected"), None)
            .as_bool()
            .unwrap()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.http.delete(&self.url).call();
    }
}

/// `dddd-dddd-dddd-dddd-dddd-dddd`.
fn is_receipt_code(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 6
        && groups
            .iter()
            .all(|g| g.len() == 4 && g.bytes().all(|b| b.is_ascii_digit()))
}

#[test]
fn citizen_form_works_in_headless_chromium_without_javascript() {
    let started = Instant::now();
    let fx = common::Fixture::new(common::CHEAP_KDF);
    let server = common::ServerProcess::start(&fx.config_path, &[]);
    let base = server.base.clone();
    let driver = Driver::start();
    let browser = Session::new(&driver);

    // 0. JavaScript is really off: <noscript> is rendered and the inline script does not run.
    browser.goto(
        "data:text/html,<!DOCTYPE html><title>plain</title>\
         <noscript><p id=\"nojs\">off</p></noscript>\
         <script>document.title='js-ran'</script>",
    );
    let nojs = browser.find("#nojs");
    assert_eq!(browser.text(&nojs), "off");
    assert_eq!(browser.title(), "plain", "JavaScript ran in the browser");

    let marker = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let title = format!("Clinic fees {marker}");
    let body = format!(
        "At the district clinic, staff ask for money before treatment. Marker body-{marker}."
    );
    let reply = format!("I can add the date of the second visit. Reply-{marker}.");

    // 1. Report form, in English, with no script at all.
    browser.goto(&format!("{base}/report?lang=en"));
    browser.wait_for("#submit");
    let html = browser.source();
    assert!(html.contains("<html lang=\"en\">"), "{html}");
    assert!(
        !html.to_ascii_lowercase().contains("<script"),
        "the form page has a script"
    );

    let kind = browser.find("#kind-whistleblowing");
    browser.click(&kind);
    assert!(browser.selected(&kind));
    assert!(
        browser.selected(&browser.find("#privacy-anonymous")),
        "anonymous is the default"
    );
    let health = browser.find("#institution option[value=\"health\"]");
    browser.click(&health);
    assert!(browser.selected(&health));
    browser.type_into(&browser.find("#title"), &title);
    browser.type_into(&browser.find("#body"), &body);
    browser.click(&browser.find("#submit"));

    let receipt_el = browser.wait_for("#receipt");
    let receipt = browser.text(&receipt_el);
    assert!(is_receipt_code(&receipt), "not a receipt code: {receipt:?}");
    let case_id = browser.text(&browser.find("#case-id"));
    assert!(!case_id.is_empty());
    assert!(!browser.source().to_ascii_lowercase().contains("<script"));

    // 2. Status page: the receipt opens the report.
    browser.goto(&format!("{base}/status?lang=en"));
    browser.type_into(&browser.wait_for("#receipt"), &receipt);
    browser.click(&browser.find("#open"));
    let shown_title = browser.text(&browser.wait_for("#report-title"));
    assert!(shown_title.contains(&marker.to_string()), "{shown_title:?}");
    assert_eq!(shown_title, title);
    let shown_body = browser.text(&browser.find("#report-body"));
    assert!(
        shown_body.contains(&format!("body-{marker}")),
        "{shown_body:?}"
    );
    assert_eq!(browser.text(&browser.find("#case-id")), case_id);
    assert!(!browser.text(&browser.find("#state")).is_empty());

    // 3. A reply from the status page shows up in the message list.
    browser.type_into(&browser.find("#message"), &reply);
    browser.click(&browser.find("#send"));
    let messages = browser.text(&browser.wait_for("#messages"));
    assert!(
        messages.contains(&format!("Reply-{marker}")),
        "{messages:?}"
    );
    assert_eq!(browser.text(&browser.find("#report-title")), title);

    // 4. Bahasa Indonesia: no ?lang=, a browser that prefers Indonesian.
    browser.goto(&format!("{base}/report"));
    browser.wait_for("#submit");
    let html = browser.source();
    assert!(html.contains("<html lang=\"id\">"), "{html}");
    assert!(!html.to_ascii_lowercase().contains("<script"));

    drop(browser);
    drop(driver);
    let log = server.stop();
    println!(
        "browser test took {:.1?}; server log:\n{log}",
        started.elapsed()
    );
}
