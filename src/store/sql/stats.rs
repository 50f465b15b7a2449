//! Public statistics, counted in SQL from indexes.

use super::rows::{Count, Day, MaybeFlag};
use super::*;
use crate::domain::stats::{AnswerCount, InstitutionCounts, MonthCount, StatCell, StatCounts};

impl Store {
    /// Counts of cases by state (public statistics: metadata only).
    #[instrument(skip_all)]
    pub async fn count_by_state(&self) -> Result<Vec<(CaseState, i64)>, StoreError> {
        let rows = query_as::<(String, i64)>(
            "SELECT state, COUNT(*) AS n FROM cases GROUP BY state ORDER BY state",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(state, n)| {
                let state = rows::Named::<CaseState>::try_from(state)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                Ok((state.0, n))
            })
            .collect()
    }

    /// Public statistics counted in SQL (no content, no ids, no row per case): cases by state,
    /// institution, kind, category and channel (read from the `cases_list` index), and
    /// answered cases by institution and their received and first-answered days (the
    /// `cases_answers` index), and cases by the month they arrived.
    /// `answered_on_time` is set in the same statement as `first_answered_on` (`move_state`).
    #[instrument(skip_all)]
    pub async fn stat_counts(&self) -> Result<crate::domain::stats::StatCounts, StoreError> {
        let cells = query_as::<CellRow>(
            "SELECT state, institution, kind, category, channel, COUNT(*) AS n FROM cases \
             GROUP BY state, institution, kind, category, channel",
        )
        .fetch_all(&self.pool)
        .await?;
        let answers = query_as::<AnswerRow>(
            "SELECT institution, received_on, first_answered_on, answered_on_time, COUNT(*) AS n \
             FROM cases WHERE first_answered_on IS NOT NULL \
             GROUP BY institution, first_answered_on, received_on, answered_on_time",
        )
        .fetch_all(&self.pool)
        .await?;
        // `received_on` is `YYYY-MM-DD`: its first seven characters are the month.
        let months = query_as::<MonthRow>(
            "SELECT substr(received_on, 1, 7) AS month, COUNT(*) AS n FROM cases \
             GROUP BY month ORDER BY month",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(StatCounts {
            cells: cells.into_iter().map(Into::into).collect(),
            answers: answers.into_iter().map(Into::into).collect(),
            months: months.into_iter().map(Into::into).collect(),
        })
    }

    /// One institution's cases by state, and how many of them were first answered by their due
    /// day or after it (the `cases_list` index: institution first).
    #[instrument(skip_all)]
    pub async fn institution_counts(
        &self,
        institution: &str,
    ) -> Result<InstitutionCounts, StoreError> {
        let rows = query_as::<StateCountRow>(
            "SELECT state, COUNT(*) AS n, \
             COUNT(CASE WHEN answered_on_time = 1 THEN 1 END) AS on_time, \
             COUNT(CASE WHEN answered_on_time = 0 THEN 1 END) AS late \
             FROM cases WHERE institution = ? GROUP BY state ORDER BY state",
        )
        .bind(institution)
        .fetch_all(&self.pool)
        .await?;
        let mut out = InstitutionCounts::default();
        for r in rows {
            out.by_state.push((r.state, r.n.0));
            out.answered_on_time += r.on_time.0;
            out.answered_late += r.late.0;
        }
        Ok(out)
    }
}

/// One cell of the public counts (state, institution, kind, category, channel).
#[derive(sqlx::FromRow)]
struct CellRow {
    state: String,
    institution: String,
    kind: String,
    category: Option<String>,
    channel: String,
    #[sqlx(try_from = "i64")]
    n: Count,
}

impl From<CellRow> for StatCell {
    fn from(r: CellRow) -> Self {
        StatCell {
            state: r.state,
            institution: r.institution,
            kind: r.kind,
            category: r.category,
            channel: r.channel,
            cases: r.n.0,
        }
    }
}

/// Answered cases of one institution by received day, first-answered day and timeliness.
#[derive(sqlx::FromRow)]
struct AnswerRow {
    institution: String,
    #[sqlx(try_from = "String")]
    received_on: Day,
    #[sqlx(try_from = "String")]
    first_answered_on: Day,
    #[sqlx(try_from = "Option<i64>")]
    answered_on_time: MaybeFlag,
    #[sqlx(try_from = "i64")]
    n: Count,
}

impl From<AnswerRow> for AnswerCount {
    fn from(r: AnswerRow) -> Self {
        AnswerCount {
            institution: r.institution,
            received_on: r.received_on.0,
            first_answered_on: r.first_answered_on.0,
            on_time: r.answered_on_time.0,
            cases: r.n.0,
        }
    }
}

/// Cases by the month they arrived.
#[derive(sqlx::FromRow)]
struct MonthRow {
    month: String,
    #[sqlx(try_from = "i64")]
    n: Count,
}

impl From<MonthRow> for MonthCount {
    fn from(r: MonthRow) -> Self {
        MonthCount {
            month: r.month,
            cases: r.n.0,
        }
    }
}

/// One institution's cases in one state, and how many were answered on time or late.
#[derive(sqlx::FromRow)]
struct StateCountRow {
    state: String,
    #[sqlx(try_from = "i64")]
    n: Count,
    #[sqlx(try_from = "i64")]
    on_time: Count,
    #[sqlx(try_from = "i64")]
    late: Count,
}
