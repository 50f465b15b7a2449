//! The citizen asks the oversight body to follow an overdue case: the reporter's key, derived
//! from the receipt in this request, opens everything the case holds and seals it again for the
//! institution's readers, the oversight body and the reporter.

use tracing::instrument;

use super::{opened_case, remember_post_quantum_key, view, with_reporter};
use crate::crypto::envelope;
use crate::crypto::receipt::Receipt;
use crate::domain::case::CaseSummary;
use crate::domain::records::Resealed;
use crate::error::{Error, Result};
use crate::service::App;

use super::ReporterView;

/// Whether the citizen may escalate their case now: past its due day, not yet escalated, and
/// still open.
pub fn can_escalate(summary: &CaseSummary, today: time::Date) -> bool {
    summary.escalated_on.is_none()
        && !crate::domain::workflow::is_final(summary.state)
        && summary.due_on.is_some_and(|d| d < today)
}

/// The citizen asks the oversight body to follow an overdue case. Inside this request the
/// reporter's key opens the content, the messages and the reasons, and seals them again to the
/// institution's readers, the oversight body and the reporter. The identity envelope is left as
/// it is: escalation does not reveal who reported.
#[instrument(skip_all)]
pub async fn escalate(app: &App, receipt: &Receipt) -> Result<Option<ReporterView>> {
    let Some((identity, mut summary)) = opened_case(app, receipt).await? else {
        return Ok(None);
    };
    let case_id = summary.id.clone();
    let case_id = case_id.as_str();
    let today = app.clock.today();
    if !can_escalate(&summary, today) {
        return Err(Error::Invalid("this case cannot be escalated now".into()));
    }
    summary.escalated_on = Some(today);
    let recipients = with_reporter(app.case_readers(&summary).await?, &identity)?;
    let stored = app
        .store
        .case_for_reporter(case_id)
        .await?
        .ok_or(Error::NotFound)?;
    // Whatever opens with the reporter's key is sealed again for the new readers; an item that
    // does not open (a member sealed it to the wrong keys) is kept as it is and counted, so the
    // escalation never fails because of it.
    let mut not_escalated = 0usize;
    let mut reseal = |sealed: &[u8]| -> Result<Vec<u8>> {
        match envelope::open(&identity, sealed) {
            Ok(plain) => Ok(envelope::seal(&recipients, &plain)?),
            Err(_) => {
                not_escalated += 1;
                Ok(sealed.to_vec())
            }
        }
    };
    let content = reseal(&stored.content)?;
    let messages = stored
        .messages
        .iter()
        .map(|m| Ok((m.seq, reseal(&m.envelope)?)))
        .collect::<Result<Vec<_>>>()?;
    let reasons = stored
        .events
        .iter()
        .filter_map(|e| e.reason_envelope.as_ref().map(|env| (e.seq, env)))
        .map(|(seq, env)| Ok((seq, reseal(env)?)))
        .collect::<Result<Vec<_>>>()?;
    // Files too, streamed blob to blob on the blocking pool with the reporter's key. A file
    // whose blob or manifest does not open keeps its blob and manifest.
    let old = app.store.attachments(case_id).await?;
    let mut attachments = Vec::with_capacity(old.len());
    for a in &old {
        let manifest = envelope::open(&identity, &a.manifest)
            .ok()
            .map(|plain| envelope::seal(&recipients, &plain))
            .transpose()?;
        let (blobs, blob, id, rcpt) = (
            app.blobs.clone(),
            a.blob.clone(),
            identity.clone(),
            recipients.clone(),
        );
        let new_blob = match manifest {
            Some(_) => tokio::task::spawn_blocking(move || {
                crate::service::evidence::reseal_blob(&blobs, &blob, &id, &rcpt)
            })
            .await
            .map_err(|_| Error::Internal("reseal task failed".into()))?
            .ok(),
            None => None,
        };
        match (manifest, new_blob) {
            (Some(manifest), Some((blob, stored_size))) => {
                attachments.push(crate::domain::records::ResealedAttachment {
                    seq: a.seq,
                    blob,
                    manifest,
                    stored_size,
                });
            }
            _ => {
                not_escalated += 1;
                attachments.push(crate::domain::records::ResealedAttachment {
                    seq: a.seq,
                    blob: a.blob.clone(),
                    manifest: a.manifest.clone(),
                    stored_size: a.stored_size,
                });
            }
        }
    }
    // Internal notes are sealed to the readers only: the reporter's key opens none, and they
    // stay as they are (the oversight body does not read them).
    let resealed = Resealed {
        content,
        messages,
        reasons,
        attachments,
        notes: Vec::new(),
    };
    let done = app
        .store
        .escalate(case_id, today, &resealed, &app.directory.oversight_bodies())
        .await;
    crate::service::evidence::settle(&app.blobs, &old, &resealed, matches!(done, Ok(true))).await;
    if !done? {
        return Err(Error::Invalid("this case cannot be escalated now".into()));
    }
    remember_post_quantum_key(app, &identity, case_id).await;
    let mut v = view(app, case_id, &identity).await?;
    v.not_escalated = not_escalated;
    Ok(Some(v))
}
