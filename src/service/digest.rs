//! Which officers' digests are due, and what they count. A member is sent at most one digest
//! per scheduled time (`[mail] digest_times`, deployment zone): the first round after that
//! time counts what waits for them; nothing waiting, nothing is sent. Sending is
//! `notify::mail`'s.

use time::{Date, PrimitiveDateTime};
use tracing::instrument;

use crate::config::keys::DigestSubscriber;
use crate::domain::digest::{DigestCounts, Slot, current_slot};
use crate::error::Result;
use crate::service::App;

/// One member's digest for one scheduled time.
#[derive(Debug, Clone)]
pub struct Digest {
    pub to: DigestSubscriber,
    pub slot: Slot,
    pub counts: DigestCounts,
}

/// The scheduled time that is current now, in the deployment's zone, and how long ago it was
/// (`None`: mail is off).
pub fn slot_now(app: &App) -> Option<(Slot, time::Duration)> {
    let mail = app.config.mail.as_ref()?;
    let now = app.clock.now();
    let local = now.to_offset(app.clock.zone().offset_at(now));
    let local = PrimitiveDateTime::new(local.date(), local.time());
    let slot = current_slot(local, &mail.digest_times)?;
    Some((slot, local - PrimitiveDateTime::new(slot.day, slot.time)))
}

/// The digests due now with what they count. Members with nothing waiting are marked done for
/// this time at once (no mail). A digest not sent within `send_window_mins` of its time (the
/// server was stopped, the relay refused it) is not sent late: the next time's digest counts the
/// same things, and the schedule stays the only thing a digest's arrival tells.
#[instrument(skip_all)]
pub async fn due(app: &App) -> Result<Vec<Digest>> {
    let (Some((slot, late)), Some(mail)) = (slot_now(app), app.config.mail.as_ref()) else {
        return Ok(Vec::new());
    };
    let key = slot.key();
    let too_late = late > time::Duration::minutes(i64::from(mail.send_window_mins));
    let today = app.clock.today();
    let mut out = Vec::new();
    for to in &app.digests {
        let member = to.scope.member_key();
        if app.store.digest_slot(&member).await?.as_deref() == Some(key.as_str()) {
            continue;
        }
        if too_late {
            app.store.set_digest_slot(&member, &key).await?;
            continue;
        }
        let counts = waiting(app, to, today).await?;
        if counts.is_empty() {
            app.store.set_digest_slot(&member, &key).await?;
            continue;
        }
        out.push(Digest {
            to: to.clone(),
            slot,
            counts,
        });
    }
    Ok(out)
}

/// What waits for one subscriber today.
pub async fn waiting(app: &App, to: &DigestSubscriber, today: Date) -> Result<DigestCounts> {
    Ok(app.store.digest_waiting(&to.scope, today).await?)
}

/// The digest was handed to the relay: none again for this time.
#[instrument(skip_all)]
pub async fn sent(app: &App, d: &Digest) -> Result<()> {
    app.store
        .set_digest_slot(&d.to.scope.member_key(), &d.slot.key())
        .await?;
    Ok(())
}
