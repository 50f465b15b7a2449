//! The parts of a member request's time, for `bisik bench load --probe-parts` only.
//!
//! Built with the `bench` feature, and switched on only when the server starts with
//! `BISIK_BENCH_PARTS=1` (the load generator sets it for the servers it starts; it says so in
//! the server's log). Then every member API response (`/api/…`, never a citizen's page) carries
//! a `Server-Timing` header: the server's own time for the request (`total`) and the own time
//! of each of Bisik's traced functions that ran inside it (`session.authenticate`,
//! `audit.append_audit_seen`, …; without the traced functions it called), by their names only. It
//! holds durations and function names, nothing a request carried.
//!
//! Hand-written rather than a crate: the parts are the spans the code already has
//! (`#[instrument]`), and what is needed is their wall time per request, on the response, which
//! no maintained tower or tracing crate gives.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::span;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// The environment variable that switches the parts on (`1`).
pub const ENV: &str = "BISIK_BENCH_PARTS";

/// The response header the parts travel in (the W3C `Server-Timing` syntax, in milliseconds).
pub const HEADER: &str = "server-timing";

/// Whether this server was started with [`ENV`]`=1`.
pub fn enabled() -> bool {
    std::env::var_os(ENV).is_some_and(|v| v == "1")
}

tokio::task_local! {
    /// The spans opened so far in the request being answered on this task.
    static PARTS: RefCell<Timed>;
}

/// The spans of one request being timed, in the order they were opened.
#[derive(Debug)]
struct Timed {
    /// Tells this request's spans from another's (see [`Slot`]).
    id: u64,
    spans: Vec<Record>,
}

#[derive(Debug)]
struct Record {
    name: String,
    /// The traced span it was opened in, if that is one of this request's.
    parent: Option<usize>,
    opened: Instant,
    /// The last time the request's task left it: when its future finished.
    left: Option<Instant>,
}

/// A span's place among its request's records.
struct Slot {
    request: u64,
    index: usize,
}

/// A tracing layer that notes, for each of Bisik's spans opened while a request is being
/// timed, its name, its parent and how long it was open: from its opening until the request's
/// task last left it (wall time: waiting for a lock or the disk counts). Its closing is not
/// used: a span lives on while a library thread holds it (sqlx's SQLite worker does, for each
/// statement), and may close there after the answer has gone.
#[derive(Debug, Clone, Copy, Default)]
pub struct SpanTimes;

impl SpanTimes {
    /// This layer, for Bisik's own spans only (not the libraries').
    pub fn layer<S>() -> impl Layer<S>
    where
        S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    {
        SpanTimes.with_filter(tracing_subscriber::filter::filter_fn(|m| {
            m.is_span() && m.target().starts_with("bisik")
        }))
    }
}

impl<S> Layer<S> for SpanTimes
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, _: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let parent = span.parent();
        let parent = parent
            .as_ref()
            .and_then(|p| p.extensions().get::<Slot>().map(|s| (s.request, s.index)));
        // Outside a timed request (housekeeping, a task of its own): nothing to note.
        let Ok(slot) = PARTS.try_with(|r| {
            let mut r = r.borrow_mut();
            let index = r.spans.len();
            let parent = parent.filter(|(req, _)| *req == r.id).map(|(_, i)| i);
            r.spans.push(Record {
                name: part_name(span.metadata()),
                parent,
                opened: Instant::now(),
                left: None,
            });
            Slot {
                request: r.id,
                index,
            }
        }) else {
            return;
        };
        span.extensions_mut().insert(slot);
    }

    fn on_exit(&self, id: &span::Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let Some((request, index)) = span
            .extensions()
            .get::<Slot>()
            .map(|s| (s.request, s.index))
        else {
            return;
        };
        // Left on another thread or task (a library's worker): not the request's time.
        let _ = PARTS.try_with(|r| {
            let mut r = r.borrow_mut();
            if r.id == request
                && let Some(rec) = r.spans.get_mut(index)
            {
                rec.left = Some(Instant::now());
            }
        });
    }
}

/// Each span's own time: from its opening until it was last left, less that of the spans
/// opened inside it (which may exceed it when they ran at the same time: then zero).
fn own_times(spans: &[Record]) -> Vec<(String, Duration)> {
    let open: Vec<Duration> = spans
        .iter()
        .map(|s| {
            s.left
                .map_or(Duration::ZERO, |l| l.saturating_duration_since(s.opened))
        })
        .collect();
    let mut children = vec![Duration::ZERO; spans.len()];
    for (s, d) in spans.iter().zip(&open) {
        if let Some(p) = s.parent {
            children[p] += *d;
        }
    }
    spans
        .iter()
        .zip(open.iter().zip(children))
        .map(|(s, (d, c))| (s.name.clone(), d.saturating_sub(c)))
        .collect()
}

/// A span's part name: its module's last name and its own (`audit.append_audit_seen`; a dot,
/// since `Server-Timing` names are HTTP tokens).
fn part_name(m: &tracing::Metadata<'_>) -> String {
    let module = m.target().rsplit("::").next().unwrap_or_default();
    format!("{module}.{}", m.name())
}

/// Middleware: times a member API request and puts its parts in [`HEADER`].
pub async fn server_timing(req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/api/") {
        return next.run(req).await;
    }
    static REQUESTS: AtomicU64 = AtomicU64::new(0);
    let request = Timed {
        id: REQUESTS.fetch_add(1, Ordering::Relaxed),
        spans: Vec::new(),
    };
    PARTS
        .scope(RefCell::new(request), async move {
            let started = Instant::now();
            let mut res = next.run(req).await;
            let total = started.elapsed();
            let parts = PARTS.with(|r| own_times(&r.borrow().spans));
            if let Ok(v) = HeaderValue::from_str(&header_value(total, &parts)) {
                res.headers_mut().insert(HEADER, v);
            }
            res
        })
        .await
}

/// `total;dur=3.104, session.authenticate;dur=0.412, …` (milliseconds, in the order the spans
/// were opened).
pub fn header_value(total: Duration, parts: &[(String, Duration)]) -> String {
    std::iter::once(("total", total))
        .chain(parts.iter().map(|(n, d)| (n.as_str(), *d)))
        .map(|(name, d)| format!("{name};dur={:.3}", d.as_secs_f64() * 1e3))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads a [`HEADER`] value back: `(name, milliseconds)` in order; `None` if any entry is not
/// `name;dur=number`.
pub fn parse_header(value: &str) -> Option<Vec<(String, f64)>> {
    value
        .split(',')
        .map(|entry| {
            let (name, dur) = entry.trim().split_once(";dur=")?;
            Some((name.to_owned(), dur.parse().ok()?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_s_own_time_leaves_out_the_spans_inside_it() {
        let t = Instant::now();
        let ms = Duration::from_millis;
        let record = |name: &str, parent, from: u64, to: Option<u64>| Record {
            name: name.to_owned(),
            parent,
            opened: t + ms(from),
            left: to.map(|to| t + ms(to)),
        };
        let spans = [
            record("member.list", None, 0, Some(10)),
            record("cases.list_cases", Some(0), 1, Some(4)),
            record("audit.append_audit_seen", Some(0), 4, Some(9)),
            // Two at the same time inside one span of 3 ms: it is left no time of its own.
            record("view.case_view", None, 20, Some(23)),
            record("casework.notes", Some(3), 20, Some(23)),
            record("audit.append_audit_seen", Some(3), 20, Some(22)),
            // Never left on the request's task: no time.
            record("sessions.never", None, 30, None),
        ];
        let own: Vec<u128> = own_times(&spans)
            .iter()
            .map(|(_, d)| d.as_millis())
            .collect();
        assert_eq!(own, [2, 3, 5, 0, 3, 2, 0]);
    }

    #[test]
    fn the_header_reads_back_as_written() {
        let parts = [
            ("authenticate".to_owned(), Duration::from_micros(412)),
            ("append_audit_seen".to_owned(), Duration::from_micros(2_250)),
        ];
        let v = header_value(Duration::from_micros(3_104), &parts);
        assert_eq!(
            v,
            "total;dur=3.104, authenticate;dur=0.412, append_audit_seen;dur=2.250"
        );
        assert_eq!(
            parse_header(&v),
            Some(vec![
                ("total".to_owned(), 3.104),
                ("authenticate".to_owned(), 0.412),
                ("append_audit_seen".to_owned(), 2.25),
            ])
        );
        assert_eq!(parse_header("total;dur=x"), None);
        assert_eq!(parse_header("total"), None);
    }
}
