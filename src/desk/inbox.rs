//! The inbox: a page of cases with titles decrypted here, filters, paging, and a search over
//! decrypted titles and bodies held in memory only.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::Desk;
use super::pages::{Choice, Who, html, locked_redirect, one, server_problem, who};
use super::texts::{DeskTexts, texts};
use super::vault::{InboxQuery, Row};
use crate::domain::case::{CaseState, Kind};

/// The list orders the member API knows (`sort=`), the default first.
pub const SORTS: [&str; 4] = ["newest", "oldest", "due", "state"];
use crate::web::i18n::Lang;

#[derive(Debug, Deserialize, Default)]
pub struct InboxForm {
    #[serde(default)]
    state: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    overdue: Option<String>,
    #[serde(default)]
    escalated: Option<String>,
    #[serde(default)]
    mine: Option<String>,
    #[serde(default)]
    q: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    tag: String,
    /// Received from / to: `YYYY-MM-DD` (what `<input type=date>` sends).
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    forwarded: Option<String>,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    page: u32,
    #[serde(default)]
    done: String,
}

pub struct InboxRow {
    id: String,
    title: String,
    unreadable: bool,
    state: &'static str,
    institution: String,
    received: String,
    due: Option<String>,
    overdue: bool,
    escalated: bool,
    /// Sealed post-quantum.
    post_quantum: bool,
    assigned_to: Option<String>,
    /// "New" / "Updated" for this member, if so.
    unseen: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "desk/inbox.html")]
struct InboxPage {
    t: &'static DeskTexts,
    lang: Lang,
    who: Option<Who>,
    csrf: String,
    states: Vec<Choice>,
    kinds: Vec<Choice>,
    overdue: bool,
    escalated: bool,
    mine: bool,
    q: String,
    categories: Vec<(String, String, bool)>,
    tag: String,
    from: String,
    to: String,
    forwarded: bool,
    sorts: Vec<Choice>,
    /// Why a filter was left out (a date that is not a date).
    filter_note: Option<&'static str>,
    rows: Vec<InboxRow>,
    notice: Option<&'static str>,
    page: u32,
    newer: Option<String>,
    older: Option<String>,
}

fn inbox_link(f: &InboxForm, page: u32) -> String {
    let mut pairs = vec![("page", page.to_string())];
    for (k, v) in [
        ("state", &f.state),
        ("kind", &f.kind),
        ("q", &f.q),
        ("category", &f.category),
        ("tag", &f.tag),
        ("from", &f.from),
        ("to", &f.to),
        ("sort", &f.sort),
    ] {
        if !v.is_empty() {
            pairs.push((k, v.clone()));
        }
    }
    if f.forwarded.is_some() {
        pairs.push(("forwarded", "on".into()));
    }
    if f.overdue.is_some() {
        pairs.push(("overdue", "on".into()));
    }
    if f.escalated.is_some() {
        pairs.push(("escalated", "on".into()));
    }
    if f.mine.is_some() {
        pairs.push(("mine", "on".into()));
    }
    format!(
        "/?{}",
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    )
}

/// A day from a date field (`YYYY-MM-DD`); anything else is left out (and said so).
fn day(s: &str) -> Option<String> {
    crate::domain::clock::parse_day(s.trim()).map(crate::domain::clock::day_string)
}

fn inbox_row(t: &'static DeskTexts, row: Row, institution: String, today: &str) -> InboxRow {
    let s = row.summary;
    let overdue = s
        .due_on
        .as_deref()
        .is_some_and(|d| d < today && !matches!(s.state.as_str(), "closed" | "archived"));
    InboxRow {
        state: CaseState::parse(&s.state).map_or("?", |x| t.state(x)),
        title: one(&row.opened.title),
        unreadable: row.opened.unreadable,
        received: s.received_on.clone(),
        due: s.due_on.clone(),
        escalated: s.escalated_on.is_some(),
        post_quantum: s.post_quantum,
        assigned_to: s.assigned_to.as_deref().map(one),
        unseen: row.unseen.map(|u| match u {
            crate::domain::case::Unseen::New => t.unseen_new,
            crate::domain::case::Unseen::Updated => t.unseen_updated,
        }),
        overdue,
        institution,
        id: s.id,
    }
}

pub async fn inbox(State(desk): State<Arc<Desk>>, Query(f): Query<InboxForm>) -> Response {
    let lang = desk.lang();
    let (t, w) = (texts(lang), lang.texts());
    let query = InboxQuery {
        state: Some(f.state.clone()).filter(|s| CaseState::parse(s).is_some()),
        kind: Some(f.kind.clone()).filter(|k| Kind::parse(k).is_some()),
        overdue: f.overdue.is_some(),
        escalated: f.escalated.is_some(),
        mine: f.mine.is_some(),
        q: Some(f.q.clone()).filter(|q| !q.trim().is_empty()),
        page: f.page.min(10_000),
        category: Some(f.category.clone()).filter(|c| !c.is_empty()),
        tag: Some(f.tag.trim().to_lowercase()).filter(|t| !t.is_empty()),
        received_from: day(&f.from),
        received_to: day(&f.to),
        forwarded_away: f.forwarded.is_some(),
        sort: SORTS
            .iter()
            .find(|s| **s == f.sort)
            .map(|s| (*s).to_owned()),
    };
    let bad_day = (!f.from.trim().is_empty() && query.received_from.is_none())
        || (!f.to.trim().is_empty() && query.received_to.is_none());
    let en = lang.is_en();
    let Some(result) = desk
        .with_vault(move |v| {
            let categories = (v.categories(en), v.today());
            v.inbox(&query).map(|(rows, more)| {
                let rows: Vec<(Row, String)> = rows
                    .into_iter()
                    .map(|r| {
                        let name = v.institution_name(&r.summary.institution, en);
                        (r, name)
                    })
                    .collect();
                (rows, more, categories)
            })
        })
        .await
    else {
        return locked_redirect();
    };
    let (rows, more, (categories, today)) = match result {
        Ok(r) => r,
        Err(e) => return server_problem(&desk, &e),
    };
    let today = crate::domain::clock::day_string(today);
    let page = f.page.min(10_000);
    let states = std::iter::once(("", t.any, f.state.is_empty()))
        .chain(
            CaseState::ALL
                .iter()
                .map(|s| (s.as_str(), t.state(*s), f.state == s.as_str())),
        )
        .collect();
    let kinds = std::iter::once(("", t.any, f.kind.is_empty()))
        .chain(
            Kind::ALL
                .iter()
                .map(|k| (k.as_str(), w.kind(*k), f.kind == k.as_str())),
        )
        .collect();
    let page_html = InboxPage {
        t,
        lang,
        who: who(&desk).await,
        csrf: desk.csrf(),
        states,
        kinds,
        overdue: f.overdue.is_some(),
        escalated: f.escalated.is_some(),
        mine: f.mine.is_some(),
        q: f.q.clone(),
        categories: categories
            .into_iter()
            .map(|(slug, name)| {
                let on = slug == f.category;
                (slug, name, on)
            })
            .collect(),
        tag: f.tag.clone(),
        from: f.from.clone(),
        to: f.to.clone(),
        forwarded: f.forwarded.is_some(),
        sorts: SORTS
            .iter()
            .zip(t.sorts)
            .enumerate()
            .map(|(i, (s, name))| (*s, name, *s == f.sort || (i == 0 && f.sort.is_empty())))
            .collect(),
        filter_note: bad_day.then_some(t.bad_day),
        rows: rows
            .into_iter()
            .map(|(r, name)| inbox_row(t, r, name, &today))
            .collect(),
        notice: (f.done == "forward").then_some(t.done_forward),
        page,
        newer: (page > 0).then(|| inbox_link(&f, page - 1)),
        older: more.then(|| inbox_link(&f, page + 1)),
    };
    html(StatusCode::OK, &page_html)
}

crate::redacted_debug!(InboxRow);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_links_keep_every_filter_and_the_order() {
        let f = InboxForm {
            state: "received".into(),
            category: "health".into(),
            tag: "pungli".into(),
            from: "2026-11-01".into(),
            to: "2026-11-30".into(),
            forwarded: Some("on".into()),
            sort: "due".into(),
            q: "jembatan rusak".into(),
            ..InboxForm::default()
        };
        let link = inbox_link(&f, 2);
        for part in [
            "page=2",
            "state=received",
            "category=health",
            "tag=pungli",
            "from=2026-11-01",
            "to=2026-11-30",
            "forwarded=on",
            "sort=due",
            "q=jembatan+rusak",
        ] {
            assert!(link.contains(part), "{part} in {link}");
        }
    }
}
