//! The end of the conversation (issue 13): on an answered case the citizen says whether the
//! answer resolved the matter ("resolved" closes the case, "not resolved" reopens it with the
//! reason) and may rate it 1-5 with a comment; a closed case may be reopened with a reason
//! within `deadlines.reopen_window` working days of closing. After that window nothing more is
//! accepted on the case: a message nobody reads is never "saved".

use time::Date;

use super::*;
use crate::domain::workflow::{Verdict, after_verdict, is_final};
use crate::store::sql::{ReporterVerdict, VerdictStored};

/// The last day the citizen may reopen their closed case (`None` unless it is closed).
pub fn reopen_until(app: &App, summary: &CaseSummary) -> Option<Date> {
    app.config.deadlines.reopen_until(
        &app.config.calendar,
        &crate::service::deadline::times(summary),
    )
}

/// Whether the citizen may reopen their closed case today.
pub fn can_reopen(app: &App, summary: &CaseSummary, today: Date) -> bool {
    reopen_until(app, summary).is_some_and(|last| today <= last)
}

/// Whether a plain message on the case reaches anyone: not once it is closed or archived.
pub fn can_write(summary: &CaseSummary) -> bool {
    !is_final(summary.state)
}

/// A verdict, after trying to store it.
#[derive(Debug)]
pub enum Verdicted {
    Done(ReporterView),
    /// The write failed: the case as it stands, the words still in their box.
    NotSaved(ReporterView),
    /// The verdict does not apply to the case now (not answered, closed past its window, or
    /// moved meanwhile): nothing stored.
    Refused(ReporterView),
    /// A reopening or "not resolved" without a reason: nothing stored.
    ReasonNeeded(ReporterView),
}

/// Stores the citizen's verdict on their case: the move, the reason or comment sealed like a
/// message (to the case's readers and the reporter), the rating in clear (for statistics, with
/// its day). `rating` is 1-5 (checked by the caller) and kept only with "resolved" or "not
/// resolved". `None` for a receipt that opens nothing.
#[instrument(skip_all)]
pub async fn verdict(
    app: &App,
    receipt: &Receipt,
    verdict: Verdict,
    rating: Option<u8>,
    text: Option<&str>,
    nonce: Option<&[u8]>,
) -> Result<Option<Verdicted>> {
    let Some((identity, summary)) = super::opened_case(app, receipt).await? else {
        return Ok(None);
    };
    let case_id = summary.id.clone();
    let case_id = case_id.as_str();
    let today = app.clock.today();
    let Some(to) = after_verdict(summary.state, verdict, can_reopen(app, &summary, today)) else {
        return Ok(Some(Verdicted::Refused(
            view(app, case_id, &identity).await?,
        )));
    };
    if verdict.needs_reason() && text.is_none() {
        return Ok(Some(Verdicted::ReasonNeeded(
            view(app, case_id, &identity).await?,
        )));
    }
    let rating = rating
        .filter(|r| (1..=5).contains(r))
        .filter(|_| verdict != Verdict::Reopen);
    let sealed = match text {
        Some(body) => {
            let recipients = with_reporter(app.case_readers(&summary).await?, &identity)?;
            let doc = MessageDocument {
                doc_type: MESSAGE_TYPE.into(),
                version: 1,
                author: Actor::Reporter.to_column(),
                body: body.into(),
                written_on: day_string(today),
            };
            let sealed = envelope::seal(&recipients, &Zeroizing::new(serde_json::to_vec(&doc)?))?;
            drop(doc);
            Some(sealed)
        }
        None => None,
    };
    let stored = app
        .store
        .reporter_verdict(&ReporterVerdict {
            case_id,
            day: today,
            nonce,
            message: sealed.as_deref(),
            mv: super::super::deadline::next_move(app, &summary, to, today),
            rating,
            action: verdict.audit_action(),
        })
        .await;
    match stored {
        Ok(VerdictStored::Done | VerdictStored::AlreadySent) => {
            super::remember_post_quantum_key(app, &identity, case_id).await;
            Ok(Some(Verdicted::Done(view(app, case_id, &identity).await?)))
        }
        Ok(VerdictStored::Moved) => Ok(Some(Verdicted::Refused(
            view(app, case_id, &identity).await?,
        ))),
        Err(_) => {
            app.incidents.record("database");
            Ok(Some(Verdicted::NotSaved(
                view(app, case_id, &identity).await?,
            )))
        }
    }
}
