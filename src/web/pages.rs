//! Server-rendered citizen pages (askama templates in `templates/`). No JavaScript, nothing from
//! another origin; askama escapes every value.
//!
//! Page structs carry decrypted text, so they deliberately have no `Debug`.
#![allow(missing_debug_implementations)]

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::domain::report::TextLimits;

use super::i18n::{Lang, Texts};

/// Marks a response as a finished page, so the error-page layer leaves it alone.
#[derive(Debug, Clone, Copy)]
pub struct Rendered;

/// Renders a page into a response whose body buffer is wiped when hyper drops it: status pages
/// carry decrypted report text.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => {
            let body = Bytes::from_owner(Zeroizing::new(html.into_bytes()));
            let mut res = (status, body).into_response();
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            res.extensions_mut().insert(Rendered);
            res
        }
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The path the language links of a page lead to (a page reached by GET); each link adds its
/// `?lang=`.
pub fn switch_href(path: &str, _lang: Lang) -> String {
    path.to_owned()
}

#[derive(Template)]
#[template(path = "index.html")]
pub struct IndexPage {
    pub t: &'static Texts,
    pub lang: Lang,
    pub switch_href: String,
}

/// One option of a radio group or select.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub explain: &'static str,
    pub selected: bool,
}

/// What the citizen typed, echoed back on errors. Wiped on drop.
#[derive(Default, Clone, serde::Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct ReportValues {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub institution: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub occurred_on: String,
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub privacy: String,
    #[serde(default)]
    pub identity_name: String,
    #[serde(default)]
    pub identity_contact: String,
    #[serde(default)]
    pub concerns: String,
}

crate::redacted_debug!(ReportValues);

#[derive(Template)]
#[template(path = "report.html")]
pub struct ReportPage<'a> {
    pub t: &'static Texts,
    pub lang: Lang,
    pub switch_href: String,
    pub values: &'a ReportValues,
    pub kinds: Vec<Choice>,
    pub institutions: Vec<Choice>,
    pub categories: Vec<Choice>,
    pub limits: TextLimits,
    /// `(field name, message)` for each problem.
    pub errors: Vec<(&'static str, String)>,
    /// A problem not tied to one field (e.g. "not saved, try again").
    pub general_error: Option<&'static str>,
    /// The file limits, in words.
    pub attachment_hint: String,
    /// The hidden field naming the files already received and their one-time key (only in
    /// this page: never stored, logged, or in a URL; the page is `no-store` like every other).
    pub held_field: Option<&'a str>,
    /// The files already received, each with a box to remove it.
    pub held_files: Vec<HeldRow>,
    /// The files sent earlier could not be found: they must be chosen again.
    pub held_missing: bool,
}

/// A file already received with a report form that came back to be corrected.
pub struct HeldRow {
    /// The value of its "remove" box.
    pub tag: String,
    /// The name made safe (no path, no control or bidi characters); escaped by the template.
    pub name: String,
    pub size: String,
    pub scrubbed: bool,
}

impl ReportPage<'_> {
    pub fn err(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }
}

#[derive(Template)]
#[template(path = "receipt.html")]
pub struct ReceiptPage<'a> {
    pub t: &'static Texts,
    pub lang: Lang,
    pub switch_href: String,
    pub receipt: &'a str,
    pub case_id: &'a str,
}

#[derive(Template)]
#[template(path = "status_form.html")]
pub struct StatusFormPage<'a> {
    pub t: &'static Texts,
    pub lang: Lang,
    pub switch_href: String,
    pub error: Option<&'static str>,
    /// Echoed back only for malformed input (never for wrong or unknown receipts, whose pages
    /// must be identical).
    pub typed: &'a str,
}

pub struct HistoryRow<'a> {
    pub day: String,
    pub who: String,
    pub what: String,
    pub reason: Option<&'a str>,
}

#[derive(Debug)]
pub struct RevealRow<'a> {
    pub requested_on: String,
    pub status: &'static str,
    pub decided_on: Option<String>,
    pub available_on: Option<String>,
    pub reason: Option<&'a str>,
    pub decision: Option<&'a str>,
}

#[derive(Debug)]
pub struct MessageRow<'a> {
    pub who: String,
    pub day: String,
    pub body: &'a str,
    pub mine: bool,
    /// Documents an officer sent with this message.
    pub files: Vec<FileLink>,
}

/// A document on the status page: downloaded through a form that carries the receipt (never
/// a link: the receipt must not be in a URL).
#[derive(Debug)]
pub struct FileLink {
    /// Its position among the case's files (the form's `file` field).
    pub seq: i64,
    /// The name made safe (no path, no control or bidi characters); escaped by the template.
    pub name: String,
    pub size: String,
    /// The reporter's key does not open it.
    pub unreadable: bool,
}

#[derive(Template)]
#[template(path = "status.html")]
pub struct StatusPage<'a> {
    pub t: &'static Texts,
    pub lang: Lang,
    pub switch_href: String,
    pub notice: Option<&'static str>,
    /// Something the citizen asked for that was refused (shown as an error, not a success).
    pub refusal: Option<&'static str>,
    /// A warning shown above the case (items that did not open, an escalation that could not
    /// carry everything).
    pub warning: Option<String>,
    pub case_id: &'a str,
    pub state: &'static str,
    pub institution: &'a str,
    pub history: Vec<HistoryRow<'a>>,
    /// The officers' open question when the case is on hold, shown first.
    pub question: Option<&'a str>,
    /// (label, day, overdue) for the current stage's deadline.
    pub deadline: Option<(&'static str, String, bool)>,
    /// Overdue and not yet escalated: offer the escalation form.
    pub can_escalate: bool,
    pub report_title: &'a str,
    pub report_body: &'a str,
    pub kind: &'static str,
    pub category: Option<String>,
    pub occurred_on: Option<&'a str>,
    pub location: Option<&'a str>,
    pub privacy: &'static str,
    pub identity: Option<(&'a str, Option<&'a str>)>,
    /// Who holds the identity and whether it was revealed, truthfully.
    pub identity_explain: String,
    pub reveals: Vec<RevealRow<'a>>,
    /// The citizen's own files: (name, size, "photo metadata removed" or not, day added).
    pub own_files: Vec<OwnFileRow<'a>>,
    pub messages: Vec<MessageRow<'a>>,
    pub receipt: &'a str,
    pub nonce: String,
    pub limits: TextLimits,
    pub reply_error: Option<String>,
    pub reply_typed: &'a str,
    /// An answered case: ask whether it resolved the matter, with a 1-5 rating.
    pub ask_verdict: bool,
    /// A closed case within its window: the reopening form's explanation (with the last day).
    pub reopen_explain: Option<String>,
    /// Closed for good: what to do instead (a new report referring to this case).
    pub closed_for_good: Option<String>,
    /// Messages and files still reach someone (the case is not closed or archived).
    pub can_write: bool,
    /// The citizen's rating of the answer, if given.
    pub rating: Option<u8>,
    /// A problem with the verdict or reopening form, and the words typed there.
    pub verdict_error: Option<String>,
    pub verdict_typed: &'a str,
    /// The rating chosen in the verdict form (0: none), kept when the form comes back.
    pub verdict_rating: u8,
}

/// One of the citizen's own files on the status page.
pub struct OwnFileRow<'a> {
    /// `None` when the reporter's key does not open its manifest.
    pub name: Option<&'a str>,
    pub size: String,
    pub scrubbed: bool,
    pub added_on: String,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub t: &'static Texts,
    pub lang: Lang,
    pub switch_href: String,
    pub message: &'static str,
}

/// One bar of a chart: suppressed cells get no bar, only their "<5".
pub struct Bar {
    pub label: String,
    /// The label cut to fit beside the bar (the table has it whole).
    pub short: String,
    pub value: String,
    pub y: u32,
    pub text_y: u32,
    pub width: u32,
}

pub struct Chart {
    pub id: &'static str,
    pub title: &'static str,
    pub height: u32,
    pub bars: Vec<Bar>,
}

#[derive(Template)]
#[template(path = "stats.html")]
pub struct StatsPage {
    pub t: &'static Texts,
    pub lang: Lang,
    pub switch_href: String,
    pub total: String,
    pub on_time: Option<u64>,
    pub median: Option<i64>,
    pub charts: Vec<Chart>,
    /// Citizens' ratings per institution: (name, how many, average "4.3" or none).
    pub ratings: Vec<(String, String, Option<String>)>,
}

/// An error page in the citizen's language.
pub fn error_page(status: StatusCode, lang: Lang, message: &'static str) -> Response {
    render(
        status,
        &ErrorPage {
            t: lang.texts(),
            lang,
            switch_href: switch_href("/", lang),
            message,
        },
    )
}

#[derive(Template)]
#[template(path = "notice.html")]
pub struct NoticePage {
    pub t: &'static Texts,
    pub lang: Lang,
    pub switch_href: String,
    pub message: &'static str,
}

/// A page confirming something was saved.
pub fn notice_page(lang: Lang, message: &'static str) -> Response {
    render(
        StatusCode::OK,
        &NoticePage {
            t: lang.texts(),
            lang,
            switch_href: switch_href("/status", lang),
            message,
        },
    )
}
