//! The officers' desk in tests: a real `bisik desk` process against a real server, plain HTTP
//! helpers that keep the desk's session by hand, and the citizen's report form.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{bisik_bin, element_text, form_body, input_value, loopback_agent, report_fields};

/// A running `bisik desk`, killed when dropped.
pub struct DeskProcess {
    pub child: Child,
    /// The launch URL it printed.
    pub url: String,
    /// `http://127.0.0.1:PORT`
    pub base: String,
}

impl DeskProcess {
    pub fn start(server: &str, identity: &Path, lang: &str) -> Self {
        Self::start_with(server, identity, lang, &[])
    }

    pub fn start_with(server: &str, identity: &Path, lang: &str, extra: &[&str]) -> Self {
        let mut child = Command::new(bisik_bin())
            .args(["desk", "--no-browser", "--server", server, "--lang", lang])
            .args(extra)
            .arg("--identity")
            .arg(identity)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let url = loop {
            let line = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("the desk printed its address");
            if let Some(at) = line.find("http://") {
                break line[at..].trim().to_owned();
            }
        };
        let base = url[..url.find("/open").unwrap()].to_owned();
        Self { child, url, base }
    }
}

impl DeskProcess {
    /// Opens the launch URL (once: the token is single-use) and returns the session cookie
    /// (`name=value`).
    pub fn cookie(&self, http: &ureq::Agent) -> String {
        let r = http.get(self.url.as_str()).call().unwrap();
        r.headers()
            .get("set-cookie")
            .expect("the launch URL sets the session cookie")
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned()
    }
}

impl Drop for DeskProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP client that keeps no cookies and follows no redirects.
pub fn raw() -> ureq::Agent {
    ureq::Agent::config_builder()
        .proxy(None)
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent()
}

pub fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("desk-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Files a report through the citizen form; returns (receipt, case id).
pub fn file_report(base: &str, title: &str, body: &str) -> (String, String) {
    let mut res = loopback_agent()
        .post(format!("{base}/report?lang=en"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send(form_body(&report_fields(&[
            ("institution", ""),
            ("category", ""),
            ("title", title),
            ("body", body),
        ])))
        .unwrap();
    let html = res.body_mut().read_to_string().unwrap();
    (
        element_text(&html, "receipt").expect("receipt"),
        element_text(&html, "case-id").expect("case id"),
    )
}

/// Logs a raw client into a desk: the cookie, and the CSRF token of a page.
pub fn desk_session(desk: &DeskProcess, http: &ureq::Agent, page: &str) -> (String, String) {
    let r = http.get(desk.url.as_str()).call().unwrap();
    let cookie = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let mut r = http
        .get(format!("{}{page}", desk.base))
        .header("cookie", &cookie)
        .call()
        .unwrap();
    let html = r.body_mut().read_to_string().unwrap();
    let csrf = input_value(&html, "csrf").expect("a form on the page");
    (cookie, csrf)
}

pub fn desk_post(
    http: &ureq::Agent,
    desk: &DeskProcess,
    cookie: &str,
    path: &str,
    pairs: &[(&str, &str)],
) -> (u16, String, String) {
    let mut r = http
        .post(format!("{}{path}", desk.base))
        .header("cookie", cookie)
        .header("origin", &desk.base)
        .header("content-type", "application/x-www-form-urlencoded")
        .send(form_body(pairs))
        .unwrap();
    let location = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (
        r.status().as_u16(),
        location,
        r.body_mut().read_to_string().unwrap(),
    )
}

/// GET on the desk with the session: (status, headers, body).
pub fn desk_get(
    http: &ureq::Agent,
    desk: &DeskProcess,
    cookie: &str,
    path: &str,
) -> (u16, ureq::http::HeaderMap, Vec<u8>) {
    let mut r = http
        .get(format!("{}{path}", desk.base))
        .header("cookie", cookie)
        .call()
        .unwrap();
    let headers = r.headers().clone();
    let body = r
        .body_mut()
        .with_config()
        .limit(1 << 26)
        .read_to_vec()
        .unwrap();
    (r.status().as_u16(), headers, body)
}
