//! Reports in the desk: the institution's statistics page (its own counts by state, answers on
//! time, its overdue cases with titles decrypted here) and the audit entries of the printed case
//! file, in human words.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::Desk;
use super::pages::{Who, html, locked_redirect, one, server_problem, who};
use super::texts::{DeskTexts, texts};
use crate::api::AuditEntryJson;
use crate::domain::case::CaseState;
use crate::web::i18n::Lang;

/// One audit entry as the printed case file shows it.
pub struct AuditRow {
    pub day: String,
    pub who: String,
    pub what: String,
}

crate::redacted_debug!(AuditRow);

/// Audit entries in words: who (handle and institution name, or "the reporter") and what
/// (the act, with the state, institution or officer it names). `name` gives an institution's
/// name from its slug.
pub fn audit_rows(
    t: &'static DeskTexts,
    entries: &[AuditEntryJson],
    name: impl Fn(&str) -> String,
) -> Vec<AuditRow> {
    entries
        .iter()
        .map(|e| {
            let who = match e.actor.strip_prefix("member:") {
                Some(m) => match m.split_once('/') {
                    Some((inst, handle)) => format!("{} · {}", one(handle), one(&name(inst))),
                    None => one(m),
                },
                None if e.actor == "reporter" => t.reporter.to_owned(),
                None => one(&e.actor),
            };
            AuditRow {
                day: one(&e.day),
                who,
                what: audit_action(t, &e.action, &name),
            }
        })
        .collect()
}

fn audit_action(t: &'static DeskTexts, action: &str, name: &impl Fn(&str) -> String) -> String {
    let (head, detail) = action.split_once(':').unwrap_or((action, ""));
    let (head, refused) = match head.strip_suffix("_refused") {
        Some(h) => (h, true),
        None => (head, false),
    };
    let Some(phrase) = t
        .audit_actions
        .iter()
        .find(|(slug, _)| *slug == head)
        .map(|(_, p)| *p)
    else {
        return format!("{} ({})", t.audit_other, one(action));
    };
    let detail = match head {
        "set_state" => CaseState::parse(detail).map_or_else(|| one(detail), |s| t.state(s).into()),
        "forward" => one(&name(detail)),
        _ => one(detail),
    };
    let mut out = phrase.to_owned();
    if !detail.is_empty() {
        out.push_str(": ");
        out.push_str(&detail);
    }
    if refused {
        out.push_str(&format!(" ({})", t.audit_refused));
    }
    out
}

pub struct StateCountRow {
    state: &'static str,
    cases: u64,
}

pub struct OverdueRow {
    id: String,
    title: Option<String>,
    state: &'static str,
    due: String,
}

crate::redacted_debug!(StateCountRow, OverdueRow);

#[derive(Template)]
#[template(path = "desk/stats.html")]
struct StatsPage {
    t: &'static DeskTexts,
    lang: Lang,
    who: Option<Who>,
    csrf: String,
    institution: String,
    total: u64,
    states: Vec<StateCountRow>,
    /// (percent, on time, late), when anything was answered.
    on_time: Option<(u64, u64, u64)>,
    public_on_time: Option<u64>,
    overdue: Vec<OverdueRow>,
}

crate::redacted_debug!(StatsPage);

/// `GET /stats`: the member's institution's own numbers (from the member API, not the public
/// statistics: exact, nothing suppressed) and its overdue cases, titles decrypted here.
pub async fn stats(State(desk): State<Arc<Desk>>) -> Response {
    let lang = desk.lang();
    let t = texts(lang);
    let en = lang.is_en();
    let Some(result) = desk
        .with_vault(move |v| {
            v.institution_stats().map(|(stats, overdue, public)| {
                let name = v.institution_name(&stats.institution, en);
                let rows: Vec<OverdueRow> = overdue
                    .into_iter()
                    .map(|c| OverdueRow {
                        title: v.title(&c.id).map(|x| one(&x)),
                        state: CaseState::parse(&c.state).map_or("?", |s| t.state(s)),
                        due: c.due_on.unwrap_or_default(),
                        id: c.id,
                    })
                    .collect();
                (stats, name, rows, public)
            })
        })
        .await
    else {
        return locked_redirect();
    };
    let (stats, institution, overdue, public_on_time) = match result {
        Ok(r) => r,
        Err(e) => return server_problem(&desk, &e),
    };
    // In the order of a case's life, states without cases left out.
    let states: Vec<StateCountRow> = CaseState::ALL
        .iter()
        .filter_map(|s| {
            let n = stats
                .states
                .iter()
                .filter(|c| c.state == s.as_str())
                .map(|c| c.cases)
                .sum::<u64>();
            (n > 0).then(|| StateCountRow {
                state: t.state(*s),
                cases: n,
            })
        })
        .collect();
    let counts = crate::domain::stats::InstitutionCounts {
        by_state: stats
            .states
            .iter()
            .map(|c| (c.state.clone(), c.cases))
            .collect(),
        answered_on_time: stats.answered_on_time,
        answered_late: stats.answered_late,
    };
    let page = StatsPage {
        t,
        lang,
        who: who(&desk).await,
        csrf: desk.csrf(),
        institution: one(&institution),
        total: counts.total(),
        states,
        on_time: counts
            .on_time_percent()
            .map(|p| (p, counts.answered_on_time, counts.answered_late)),
        public_on_time,
        overdue,
    };
    html(StatusCode::OK, &page)
}
