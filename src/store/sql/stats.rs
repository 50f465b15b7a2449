//! Public statistics, counted in SQL from indexes.

use super::*;

impl Store {
    /// Counts of cases by state (public statistics: metadata only).
    #[instrument(skip_all)]
    pub async fn count_by_state(&self) -> Result<Vec<(CaseState, i64)>, StoreError> {
        let rows = query("SELECT state, COUNT(*) AS n FROM cases GROUP BY state ORDER BY state")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let s: String = r.try_get("state")?;
                Ok((
                    CaseState::parse(&s).ok_or_else(|| StoreError::Corrupt("state".into()))?,
                    r.try_get("n")?,
                ))
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
        use crate::domain::stats::{AnswerCount, MonthCount, StatCell, StatCounts};
        let count = |r: &Row| -> Result<u64, StoreError> {
            u64::try_from(r.try_get::<i64, _>("n")?)
                .map_err(|_| StoreError::Corrupt("negative count".into()))
        };
        let cells = query(
            "SELECT state, institution, kind, category, channel, COUNT(*) AS n FROM cases \
             GROUP BY state, institution, kind, category, channel",
        )
        .fetch_all(&self.pool)
        .await?;
        let answers = query(
            "SELECT institution, received_on, first_answered_on, answered_on_time, COUNT(*) AS n \
             FROM cases WHERE first_answered_on IS NOT NULL \
             GROUP BY institution, first_answered_on, received_on, answered_on_time",
        )
        .fetch_all(&self.pool)
        .await?;
        // `received_on` is `YYYY-MM-DD`: its first seven characters are the month.
        let months = query(
            "SELECT substr(received_on, 1, 7) AS month, COUNT(*) AS n FROM cases \
             GROUP BY month ORDER BY month",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(StatCounts {
            cells: cells
                .iter()
                .map(|r| {
                    Ok(StatCell {
                        state: r.try_get("state")?,
                        institution: r.try_get("institution")?,
                        kind: r.try_get("kind")?,
                        category: r.try_get("category")?,
                        channel: r.try_get("channel")?,
                        cases: count(r)?,
                    })
                })
                .collect::<Result<_, StoreError>>()?,
            answers: answers
                .iter()
                .map(|r| {
                    Ok(AnswerCount {
                        institution: r.try_get("institution")?,
                        received_on: date_col(r, "received_on")?,
                        first_answered_on: date_col(r, "first_answered_on")?,
                        on_time: r
                            .try_get::<Option<i64>, _>("answered_on_time")?
                            .map(|v| v != 0),
                        cases: count(r)?,
                    })
                })
                .collect::<Result<_, StoreError>>()?,
            months: months
                .iter()
                .map(|r| {
                    Ok(MonthCount {
                        month: r.try_get("month")?,
                        cases: count(r)?,
                    })
                })
                .collect::<Result<_, StoreError>>()?,
        })
    }

    /// One institution's cases by state, and how many of them were first answered by their due
    /// day or after it (the `cases_list` index: institution first).
    #[instrument(skip_all)]
    pub async fn institution_counts(
        &self,
        institution: &str,
    ) -> Result<crate::domain::stats::InstitutionCounts, StoreError> {
        let rows = query(
            "SELECT state, COUNT(*) AS n, \
             COUNT(CASE WHEN answered_on_time = 1 THEN 1 END) AS on_time, \
             COUNT(CASE WHEN answered_on_time = 0 THEN 1 END) AS late \
             FROM cases WHERE institution = ? GROUP BY state ORDER BY state",
        )
        .bind(institution)
        .fetch_all(&self.pool)
        .await?;
        let count = |r: &Row, col: &str| -> Result<u64, StoreError> {
            u64::try_from(r.try_get::<i64, _>(col)?)
                .map_err(|_| StoreError::Corrupt("negative count".into()))
        };
        let mut out = crate::domain::stats::InstitutionCounts::default();
        for r in &rows {
            out.by_state.push((r.try_get("state")?, count(r, "n")?));
            out.answered_on_time += count(r, "on_time")?;
            out.answered_late += count(r, "late")?;
        }
        Ok(out)
    }
}
