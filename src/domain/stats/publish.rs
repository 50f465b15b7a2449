//! The statistics as `/stats.json` and `/stats.csv` publish them (schema in docs/stats.md):
//! every count a number or `null`, with a boolean saying whether it was hidden.

use serde::Serialize;

use super::{Shown, Stats, THRESHOLD};

/// What a published row is called, in both languages (see docs/stats.md).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Names {
    pub name_id: String,
    pub name_en: String,
}

/// A published count: the number, or `null` with `suppressed: true` when it is 1 to 4.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// The slug (state, institution, kind, category, channel) or the month `YYYY-MM`.
    pub slug: String,
    #[serde(flatten)]
    pub names: Names,
    pub cases: Option<u64>,
    pub suppressed: bool,
}

fn published_row(slug: &str, names: Names, n: &Shown) -> Row {
    Row {
        slug: slug.to_owned(),
        names,
        cases: n.exact(),
        suppressed: n.exact().is_none(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedGroup {
    pub dimension: &'static str,
    pub rows: Vec<Row>,
}

/// One institution's row of `institutions` (see docs/stats.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedInstitution {
    pub slug: String,
    #[serde(flatten)]
    pub names: Names,
    pub cases: Option<u64>,
    pub suppressed: bool,
    pub answered: Option<u64>,
    pub answered_suppressed: bool,
    pub answered_on_time_percent: Option<u64>,
    pub answered_on_time_suppressed: bool,
    pub median_working_days_to_first_answer: Option<i64>,
    pub median_suppressed: bool,
}

/// The statistics as `/stats.json` publishes them (schema in docs/stats.md): every count a
/// number or `null`, with a boolean saying whether it was hidden.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Published {
    pub schema: &'static str,
    pub threshold: u64,
    pub total: Option<u64>,
    pub total_suppressed: bool,
    pub answered_on_time_percent: Option<u64>,
    pub answered_on_time_suppressed: bool,
    pub median_working_days_to_first_answer: Option<i64>,
    pub median_suppressed: bool,
    pub groups: Vec<PublishedGroup>,
    pub months: Vec<Row>,
    pub institutions: Vec<PublishedInstitution>,
    /// Citizens' ratings of the answers, per institution.
    pub ratings: Vec<PublishedRating>,
}

/// One institution's ratings as published (see docs/stats.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedRating {
    pub slug: String,
    #[serde(flatten)]
    pub names: Names,
    /// How many ratings; `null` (suppressed) for 1 to 4.
    pub ratings: Option<u64>,
    pub suppressed: bool,
    /// The average rating times ten (43 = 4.3); `null` under the threshold.
    pub average_tenths: Option<u64>,
}

/// The schema name in every `/stats.json`.
pub const SCHEMA: &str = "bisik-stats/2";

/// The statistics to publish; `names(dimension, slug)` names a row in both languages.
pub fn publish(s: &Stats, names: &dyn Fn(&str, &str) -> Names) -> Published {
    // An answered measure is suppressed when there were answers but it is not shown.
    let any_answers = s.institutions.iter().any(|i| i.answered != Shown::Exact(0));
    let cases_of = |inst: &str| {
        s.groups
            .iter()
            .find(|g| g.dimension == "institution")
            .and_then(|g| g.rows.iter().find(|(k, _)| k == inst))
            .map_or(Shown::Exact(0), |(_, n)| n.clone())
    };
    Published {
        schema: SCHEMA,
        threshold: THRESHOLD,
        total: s.total.exact(),
        total_suppressed: s.total.exact().is_none(),
        answered_on_time_percent: s.answered_on_time_percent,
        answered_on_time_suppressed: any_answers && s.answered_on_time_percent.is_none(),
        median_working_days_to_first_answer: s.median_working_days_to_first_answer,
        median_suppressed: any_answers && s.median_working_days_to_first_answer.is_none(),
        groups: s
            .groups
            .iter()
            .map(|g| PublishedGroup {
                dimension: g.dimension,
                rows: g
                    .rows
                    .iter()
                    .map(|(k, n)| published_row(k, names(g.dimension, k), n))
                    .collect(),
            })
            .collect(),
        months: s
            .months
            .iter()
            .map(|(m, n)| published_row(m, Names::default(), n))
            .collect(),
        institutions: s
            .institutions
            .iter()
            .map(|i| {
                let cases = cases_of(&i.institution);
                let answered = i.answered != Shown::Exact(0);
                PublishedInstitution {
                    slug: i.institution.clone(),
                    names: names("institution", &i.institution),
                    cases: cases.exact(),
                    suppressed: cases.exact().is_none(),
                    answered: i.answered.exact(),
                    answered_suppressed: i.answered.exact().is_none(),
                    answered_on_time_percent: i.answered_on_time_percent,
                    answered_on_time_suppressed: answered && i.answered_on_time_percent.is_none(),
                    median_working_days_to_first_answer: i.median_working_days_to_first_answer,
                    median_suppressed: answered && i.median_working_days_to_first_answer.is_none(),
                }
            })
            .collect(),
        ratings: s
            .ratings
            .iter()
            .map(|r| PublishedRating {
                slug: r.institution.clone(),
                names: names("institution", &r.institution),
                ratings: r.ratings.exact(),
                suppressed: r.ratings.exact().is_none(),
                average_tenths: r.average_tenths,
            })
            .collect(),
    }
}

/// The CSV header: one row per published number, fixed columns (see docs/stats.md).
pub const CSV_HEADER: &str = "section,slug,name_id,name_en,value,suppressed\n";

/// The same numbers as CSV: `section,slug,name_id,name_en,value,suppressed`, the value empty
/// where it is suppressed (or where there is nothing to measure).
pub fn to_csv(p: &Published) -> String {
    fn field(v: &str) -> String {
        if v.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", v.replace('"', "\"\""))
        } else {
            v.to_owned()
        }
    }
    let mut out = String::from(CSV_HEADER);
    let mut line =
        |section: &str, slug: &str, names: &Names, value: Option<String>, suppressed: bool| {
            out.push_str(&format!(
                "{},{},{},{},{},{}\n",
                field(section),
                field(slug),
                field(&names.name_id),
                field(&names.name_en),
                value.unwrap_or_default(),
                suppressed
            ));
        };
    let none = Names::default();
    let s = |v: Option<u64>| v.map(|v| v.to_string());
    line("total", "all", &none, s(p.total), p.total_suppressed);
    line(
        "answered_on_time_percent",
        "all",
        &none,
        s(p.answered_on_time_percent),
        p.answered_on_time_suppressed,
    );
    line(
        "median_working_days_to_first_answer",
        "all",
        &none,
        p.median_working_days_to_first_answer.map(|v| v.to_string()),
        p.median_suppressed,
    );
    for g in &p.groups {
        for r in &g.rows {
            line(g.dimension, &r.slug, &r.names, s(r.cases), r.suppressed);
        }
    }
    for r in &p.months {
        line("month", &r.slug, &r.names, s(r.cases), r.suppressed);
    }
    for i in &p.institutions {
        line(
            "institution_answered",
            &i.slug,
            &i.names,
            s(i.answered),
            i.answered_suppressed,
        );
        line(
            "institution_answered_on_time_percent",
            &i.slug,
            &i.names,
            s(i.answered_on_time_percent),
            i.answered_on_time_suppressed,
        );
        line(
            "institution_median_working_days_to_first_answer",
            &i.slug,
            &i.names,
            i.median_working_days_to_first_answer.map(|v| v.to_string()),
            i.median_suppressed,
        );
    }
    for r in &p.ratings {
        line(
            "institution_ratings",
            &r.slug,
            &r.names,
            s(r.ratings),
            r.suppressed,
        );
        line(
            "institution_rating_average_tenths",
            &r.slug,
            &r.names,
            s(r.average_tenths),
            r.suppressed,
        );
    }
    out
}
