//! The public statistics pages (`/stats`, `/stats.json`, `/stats.csv`): counts only, cached,
//! rate-limited like receipt checks.

use super::*;
use crate::domain::stats::{Names, publish};

/// What a row of a statistics dimension is called in a language.
fn label(state: &AppState, lang: Lang, dimension: &str, k: &str) -> String {
    let t = lang.texts();
    let app = &state.app;
    match dimension {
        "state" => CaseState::parse(k).map_or(k.to_owned(), |s| t.state(s).to_owned()),
        "kind" => Kind::parse(k).map_or(k.to_owned(), |x| t.kind(x).to_owned()),
        "institution" => app
            .directory
            .get(k)
            .map_or(k.to_owned(), |i| i.name(lang.is_en()).to_owned()),
        "category" => app
            .config
            .categories
            .iter()
            .find(|c| c.slug == k)
            .map_or_else(
                || {
                    if k == "-" {
                        t.category_none.to_owned()
                    } else {
                        k.to_owned()
                    }
                },
                |c| {
                    if lang.is_en() {
                        c.name_en.clone()
                    } else {
                        c.name_id.clone()
                    }
                },
            ),
        "channel" => t.channel(k).to_owned(),
        _ => k.to_owned(),
    }
}

/// A row's names in both languages, for `/stats.json` and `/stats.csv`.
fn names(state: &AppState, dimension: &str, k: &str) -> Names {
    Names {
        name_id: label(state, Lang::ID, dimension, k),
        name_en: label(state, Lang::EN, dimension, k),
    }
}

fn chart(state: &AppState, lang: Lang, group: &Group) -> Chart {
    let t = lang.texts();
    let label = |k: &str| label(state, lang, group.dimension, k);
    let max = group
        .rows
        .iter()
        .filter_map(|(_, n)| n.exact())
        .max()
        .unwrap_or(1)
        .max(1);
    let bars = group
        .rows
        .iter()
        .enumerate()
        .map(|(i, (k, n))| Bar {
            short: {
                let l = label(k);
                if l.chars().count() > 36 {
                    format!("{}…", l.chars().take(35).collect::<String>())
                } else {
                    l
                }
            },
            label: label(k),
            value: n.to_string(),
            // A label line above each bar (the chart is 280 units wide, so at 320 px its
            // 12-unit text is still about 11.7 px high), the count after the bar.
            y: 20 + 38 * i as u32,
            text_y: 32 + 38 * i as u32,
            width: n.exact().map_or(0, |v| ((v * 220).div_ceil(max)) as u32),
        })
        .collect::<Vec<_>>();
    Chart {
        id: group.dimension,
        title: t.stats_dimension(group.dimension),
        height: 4 + 38 * bars.len() as u32,
        bars,
    }
}

/// The statistics for a request: counted in SQL at most once per `stats.cache_secs`, and
/// rate-limited like receipt checks (in a bucket of their own). The error is the page to answer.
#[allow(clippy::result_large_err)]
async fn cached_stats(
    state: &AppState,
    lang: Lang,
    circuit: Option<Circuit>,
) -> Result<std::sync::Arc<crate::domain::stats::Stats>, Response> {
    let t = lang.texts();
    if !state.limits.allow_stats(circuit) {
        return Err(error_page(StatusCode::TOO_MANY_REQUESTS, lang, t.err_busy));
    }
    state.stats.get(&state.app).await.map_err(|e| {
        // Counted, never logged as it happens (see service::incidents).
        state.app.incidents.record(e.kind());
        error_page(StatusCode::INTERNAL_SERVER_ERROR, lang, t.err_internal)
    })
}

pub async fn stats(
    State(state): State<AppState>,
    CircuitOf(circuit): CircuitOf,
    lang: Lang,
) -> Response {
    let s = match cached_stats(&state, lang, circuit).await {
        Ok(s) => s,
        Err(page) => return page,
    };
    render(
        StatusCode::OK,
        &StatsPage {
            t: lang.texts(),
            lang,
            switch_href: switch_href("/stats", lang),
            total: s.total.to_string(),
            on_time: s.answered_on_time_percent,
            median: s.median_working_days_to_first_answer,
            charts: s.groups.iter().map(|g| chart(&state, lang, g)).collect(),
            ratings: s
                .ratings
                .iter()
                .map(|r| {
                    (
                        state.app.directory.get(&r.institution).map_or_else(
                            || r.institution.clone(),
                            |i| i.name(lang.is_en()).to_owned(),
                        ),
                        r.ratings.to_string(),
                        r.average_tenths.map(|a| format!("{}.{}", a / 10, a % 10)),
                    )
                })
                .collect(),
        },
    )
}

pub async fn stats_json(
    State(state): State<AppState>,
    CircuitOf(circuit): CircuitOf,
    lang: Lang,
) -> Response {
    match cached_stats(&state, lang, circuit).await {
        Ok(s) => axum::Json(publish(&s, &|d, k| names(&state, d, k))).into_response(),
        Err(page) => page,
    }
}

pub async fn stats_csv(
    State(state): State<AppState>,
    CircuitOf(circuit): CircuitOf,
    lang: Lang,
) -> Response {
    match cached_stats(&state, lang, circuit).await {
        Ok(s) => (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            crate::domain::stats::to_csv(&publish(&s, &|d, k| names(&state, d, k))),
        )
            .into_response(),
        Err(page) => page,
    }
}
