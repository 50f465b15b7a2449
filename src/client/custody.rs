//! Identity custody on the member's side: reveal requests, custodians' decisions (the
//! identity sealed here to the requester alone), grants, hand-over after a forward.

use super::*;

impl Client {
    /// Asks the custodians for the reporter's identity; the reporter sees the request.
    pub fn request_reveal(&self, id: &str, reason: &str) -> Result<i64> {
        let recipients =
            self.recipients_at(&format!("/cases/{}/reveal-recipients", path_segment(id)))?;
        let reason_envelope = Self::seal_reason(&recipients, "reveal_request", reason)?;
        let r: RevealCreated = self.post(
            &format!("/cases/{}/reveal-requests", path_segment(id)),
            &RevealRequestBody { reason_envelope },
        )?;
        Ok(r.seq)
    }

    /// Pending reveal requests this custodian can decide.
    pub fn pending_reveals(&self) -> Result<Vec<PendingRevealJson>> {
        let r: PendingRevealsResponse = self.get_json("/custody/requests")?;
        Ok(r.requests)
    }

    /// Decides a reveal request. Approving opens the identity here and seals it to the
    /// requester alone.
    pub fn decide_reveal(
        &self,
        id: &str,
        seq: i64,
        approve: bool,
        reason: &str,
    ) -> Result<Option<String>> {
        let pending = self.pending_reveals()?;
        let p = pending
            .iter()
            .find(|p| p.case_id == id && p.seq == seq)
            .ok_or_else(|| ClientError::Server {
                status: 404,
                message: "no such pending request".into(),
            })?;
        let recipients = p
            .recipients
            .iter()
            .map(|t| parse_recipient(t).ok_or_else(|| ClientError::BadRecipient(t.clone())))
            .collect::<Result<Vec<_>>>()?;
        let decision_envelope = Self::seal_reason(
            &recipients,
            if approve {
                "reveal_approved"
            } else {
                "reveal_denied"
            },
            reason,
        )?;
        let grant_envelope = if approve {
            let requester = parse_recipient(&p.requester_recipient)
                .ok_or_else(|| ClientError::BadRecipient(p.requester_recipient.clone()))?;
            let plain = envelope::open(&self.identity, &self.identity_envelope(id)?)?;
            Some(token::encode(&envelope::seal(&[requester], &plain)?))
        } else {
            None
        };
        let r: RevealDecided = self.post(
            &format!("/cases/{}/reveal-requests/{seq}/decision", path_segment(id)),
            &RevealDecisionBody {
                approve,
                decision_envelope,
                grant_envelope,
            },
        )?;
        Ok(r.available_on)
    }

    /// The identity a custodian granted to this member, decrypted here.
    pub fn granted_identity(&self, id: &str) -> Result<IdentityDocument> {
        let sealed = self.get_bytes(&format!("/cases/{}/identity-grant", path_segment(id)))?;
        self.open_document(&sealed)
    }

    /// A custodian of the institution holding a confidential identity re-seals it for the
    /// custodians of the case's current institution (and the reporter).
    pub fn hand_over_identity(&self, id: &str) -> Result<()> {
        let sealed = self.identity_envelope(id)?;
        let plain = envelope::open(&self.identity, &sealed)?;
        let recipients =
            self.recipients_at(&format!("/cases/{}/identity-recipients", path_segment(id)))?;
        let envelope = token::encode(&envelope::seal(&recipients, &plain)?);
        let _: OkResponse = self.post(
            &format!("/cases/{}/identity", path_segment(id)),
            &IdentityRequest { envelope },
        )?;
        Ok(())
    }
}
