//! Staff intake on the officer's machine: receipt, reporter key and envelopes made here.

use super::*;

impl Client {
    /// Staff intake: builds the report here — receipt, the reporter's key (Argon2id on this
    /// machine), envelopes — and uploads only envelopes. Returns the case id and the receipt to
    /// hand to the citizen.
    pub fn intake(&self, r: &OfflineReport) -> Result<(String, Zeroizing<String>)> {
        self.intake_with_files(r, &mut [])
    }

    /// [`Self::intake`] with scanned letters or other files: each sealed here, like the report,
    /// to the institution's readers and the reporter, uploaded, and attached to the new case.
    pub fn intake_with_files(
        &self,
        r: &OfflineReport,
        files: &mut [super::replies::OutgoingFile<'_>],
    ) -> Result<(String, Zeroizing<String>)> {
        let p: IntakeParamsResponse = self.get_json("/intake")?;
        if !p.kdf.within(&kdf::DEFAULT_MAX) {
            return Err(ClientError::Decode(format!(
                "the server asks for a key derivation costlier than this client runs \
                 (memory_kib = {}, iterations = {}, parallelism = {})",
                p.kdf.memory_kib, p.kdf.iterations, p.kdf.parallelism
            )));
        }
        let rng = |e: getrandom::Error| ClientError::Decode(format!("random: {e}"));
        let mut receipt = Receipt::generate(LookupId::random().map_err(rng)?).map_err(rng)?;
        let salt = kdf::new_salt().map_err(rng)?;
        let reporter = kdf::derive_reporter_identity(receipt.secret(), &salt, &p.kdf)
            .map_err(|e| ClientError::Decode(e.to_string()))?
            .keys();
        // The reporter's key of the kind the server's recipients are (post-quantum when the
        // institution's readers all are): age cannot seal one file to both kinds.
        let reporter_of = |list: &[Recipient]| -> Result<Recipient> {
            let kind = list
                .first()
                .map_or(crate::crypto::keys::KeyKind::X25519, Recipient::kind);
            reporter
                .of(kind)
                .ok_or_else(|| ClientError::Decode("no reporter key of that kind".into()))
        };
        let parse = |list: &[String]| -> Result<Vec<Recipient>> {
            list.iter()
                .map(|t| parse_recipient(t).ok_or_else(|| ClientError::BadRecipient(t.clone())))
                .collect()
        };
        let mut readers = parse(&p.readers)?;
        readers.push(reporter_of(&readers)?);
        let privacy = if r.identity.is_some() {
            "confidential"
        } else {
            "anonymous"
        };
        let today = crate::domain::clock::day_string(self.today());
        let doc = ReportDocument {
            doc_type: crate::domain::documents::REPORT_TYPE.into(),
            version: 1,
            kind: r.kind.clone(),
            institution: p.institution.clone(),
            category: r.category.clone().unwrap_or_default(),
            title: r.title.clone(),
            body: r.body.clone(),
            occurred_on: r.occurred_on.clone(),
            location: r.location.clone(),
            privacy: privacy.into(),
            submitted_on: today,
            concerns: None,
        };
        let json = Zeroizing::new(
            serde_json::to_vec(&doc).map_err(|e| ClientError::Decode(e.to_string()))?,
        );
        let content = token::encode(&envelope::seal(&readers, &json)?);
        let identity = match &r.identity {
            Some((name, contact)) => {
                let mut custodians = parse(&p.custodians)?;
                custodians.push(reporter_of(&custodians)?);
                let doc = IdentityDocument {
                    doc_type: crate::domain::documents::IDENTITY_TYPE.into(),
                    version: 1,
                    name: name.clone(),
                    contact: contact.clone(),
                };
                let json = Zeroizing::new(
                    serde_json::to_vec(&doc).map_err(|e| ClientError::Decode(e.to_string()))?,
                );
                Some(token::encode(&envelope::seal(&custodians, &json)?))
            }
            None => None,
        };
        let files = self.seal_files(files, &readers)?;
        for _ in 0..8 {
            let req = IntakeRequest {
                channel: r.channel.clone(),
                kind: r.kind.clone(),
                category: r.category.clone(),
                privacy: privacy.into(),
                lookup_id: receipt.lookup().as_u32(),
                kdf_salt: token::encode(&salt),
                kdf: p.kdf,
                reporter_recipient: reporter
                    .classic
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                reporter_pq_recipient: reporter.pq.as_ref().map(ToString::to_string),
                content: content.clone(),
                identity: identity.clone(),
                files: files.clone(),
            };
            match self.post::<_, IntakeResponse>("/intake", &req) {
                Ok(done) => return Ok((done.case_id, receipt.display())),
                // The random lookup id is taken: another one, same secret and key.
                Err(ClientError::Server { status: 409, .. }) => {
                    receipt = receipt.with_lookup(LookupId::random().map_err(rng)?);
                }
                Err(e) => return Err(e),
            }
        }
        Err(ClientError::Server {
            status: 409,
            message: "no free lookup id".into(),
        })
    }
}
