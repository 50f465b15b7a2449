//! A headless Chromium with JavaScript off, driven through `chromedriver` over the W3C
//! WebDriver protocol (plain HTTP on 127.0.0.1, no extra crates). Shared by the browser tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The W3C "web element identifier": the key under which WebDriver returns an element reference.
pub const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long to wait for a page to show the element a step expects.
pub const PAGE_WAIT: Duration = Duration::from_secs(20);
/// How long a screenshot may take. Headless Chromium on two busy cores has once taken over a
/// minute for one (its compositor idle; a known stall that ends by itself), past the 60 s every
/// other command gets.
pub const SCREENSHOT_WAIT: Duration = Duration::from_secs(180);

/// A running `chromedriver`, stopped (and its log shown on failure) when dropped.
pub struct Driver {
    child: Child,
    base: String,
    log_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Driver {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let log_path = dir.path().join("chromedriver.log");
        let port = super::free_port();
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
        let http = super::loopback_agent();
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
pub struct Session {
    http: ureq::Agent,
    /// For screenshots ([`SCREENSHOT_WAIT`]).
    slow_http: ureq::Agent,
    url: String,
    // Dropped after the session is deleted (field order), so the browser is gone first.
    _profile: tempfile::TempDir,
}

impl Session {
    pub fn new(driver: &Driver) -> Self {
        let profile = tempfile::tempdir().unwrap();
        let http = super::loopback_agent();
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
            slow_http: super::loopback_agent_waiting(SCREENSHOT_WAIT),
            url: format!("{}/session/{id}", driver.base),
            _profile: profile,
        }
    }

    /// Sends one command; returns `Ok(value)` or `Err((error code, whole body))`.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, (String, Value)> {
        let url = format!("{}{path}", self.url);
        let http = if path.ends_with("/screenshot") || path == "/goog/cdp/execute" {
            &self.slow_http
        } else {
            &self.http
        };
        let mut res = match (method, body) {
            ("GET", _) => http.get(&url).call(),
            ("DELETE", _) => http.delete(&url).call(),
            (_, body) => http.post(&url).send_json(body.unwrap_or_else(|| json!({}))),
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

    pub fn must(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.call(method, path, body)
            .unwrap_or_else(|(_, v)| panic!("{method} {path}: {v}"))
    }

    pub fn goto(&self, url: &str) {
        self.must("POST", "/url", Some(json!({ "url": url })));
    }

    pub fn source(&self) -> String {
        self.must("GET", "/source", None)
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub fn title(&self) -> String {
        self.must("GET", "/title", None)
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The element for a CSS selector, if the current page has one.
    ///
    /// A click's navigation may still be under way when the search is sent; Chromium then
    /// aborts the search ("aborted by navigation"). That is "look again" (bounded), for
    /// every caller: the answer must come from the page the navigation ends on.
    pub fn try_find(&self, css: &str) -> Option<String> {
        let deadline = Instant::now() + PAGE_WAIT;
        loop {
            match self.call(
                "POST",
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            ) {
                Ok(v) => {
                    return Some(
                        v[ELEMENT_KEY]
                            .as_str()
                            .expect("element reference")
                            .to_owned(),
                    );
                }
                Err((code, _)) if code == "no such element" => return None,
                Err((code, _)) if code == "aborted by navigation" && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err((_, v)) => panic!("find {css}: {v}"),
            }
        }
    }

    pub fn find(&self, css: &str) -> String {
        self.try_find(css)
            .unwrap_or_else(|| panic!("no element {css} on this page:\n{}", self.source()))
    }

    /// Polls (bounded) until the page has the element, e.g. after a form was submitted.
    pub fn wait_for(&self, css: &str) -> String {
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

    pub fn click(&self, el: &str) {
        self.must("POST", &format!("/element/{el}/click"), None);
    }

    pub fn type_into(&self, el: &str, text: &str) {
        self.must(
            "POST",
            &format!("/element/{el}/value"),
            Some(json!({ "text": text })),
        );
    }

    pub fn text(&self, el: &str) -> String {
        self.must("GET", &format!("/element/{el}/text"), None)
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub fn selected(&self, el: &str) -> bool {
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

impl Session {
    /// Polls (bounded) until an element matching `css` shows exactly `expected`: after a form
    /// was sent, the old page may still be there for a moment (its elements go stale).
    pub fn wait_for_text(&self, css: &str, expected: &str) {
        let deadline = Instant::now() + PAGE_WAIT;
        loop {
            if let Some(el) = self.try_find(css)
                && let Ok(v) = self.call("GET", &format!("/element/{el}/text"), None)
                && v.as_str() == Some(expected)
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {css} to read {expected:?}; page is:\n{}",
                self.source()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sets the window's outer size (the viewport is a little smaller).
    pub fn window(&self, width: u32, height: u32) {
        self.must(
            "POST",
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        );
    }

    /// Writes a PNG screenshot of the viewport.
    pub fn screenshot(&self, path: &Path) {
        use base64::Engine as _;
        let b64 = self.must("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
    }

    /// Writes a PNG screenshot of one element (below the fold too).
    pub fn screenshot_of(&self, css: &str, path: &Path) {
        use base64::Engine as _;
        let el = self.find(css);
        let b64 = self.must("GET", &format!("/element/{el}/screenshot"), None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
    }

    /// An element's rectangle: (x, y, width, height).
    pub fn rect(&self, el: &str) -> (f64, f64, f64, f64) {
        let r = self.must("GET", &format!("/element/{el}/rect"), None);
        let f = |k: &str| r[k].as_f64().unwrap();
        (f("x"), f("y"), f("width"), f("height"))
    }

    /// Every element matching a CSS selector.
    pub fn find_all(&self, css: &str) -> Vec<String> {
        self.must(
            "POST",
            "/elements",
            Some(json!({ "using": "css selector", "value": css })),
        )
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v[ELEMENT_KEY].as_str().unwrap().to_owned())
        .collect()
    }

    /// The page is no wider than the viewport: no element of `selector` reaches past the
    /// right edge of the document element.
    pub fn assert_no_horizontal_overflow(&self, selector: &str, what: &str) {
        let page = self.find("html");
        let (_, _, width, _) = self.rect(&page);
        for el in self.find_all(selector) {
            let (x, _, w, _) = self.rect(&el);
            assert!(
                x + w <= width + 1.0,
                "{what}: an element ({selector}) ends at {} px, the page is {width} px wide",
                x + w
            );
        }
    }
}
