//! Use cases: each public function is one thing a citizen or member does, composed from
//! `domain` (rules), `crypto` (envelopes, keys) and `store` (persistence). Nothing here knows
//! HTTP; web handlers decode, call one of these, and render.

pub mod citizen;
pub mod deadline;
pub mod digest;
pub mod evidence;
pub mod housekeeping;
pub mod incidents;
pub mod kdf;
pub mod member;
pub mod retention;
pub mod stats;
pub mod webhooks;

use std::sync::Arc;

use crate::config::Config;
use crate::crypto::keys::{PartyKeys, Sealing};
use crate::domain::clock::Clock;
use crate::domain::institution::Directory;
use crate::store::Store;

/// Everything a request may need, built once at start.
#[derive(Debug)]
pub struct App {
    pub config: Config,
    pub directory: Directory,
    pub store: Store,
    pub blobs: crate::store::blobs::BlobStore,
    pub kdf: kdf::KdfPool,
    pub clock: Arc<dyn Clock>,
    /// Failures of citizens' requests, counted (never logged when they happen).
    pub incidents: incidents::Incidents,
    /// Institutions' webhook endpoints (`[webhook]` in their keys files), secrets read.
    pub webhooks: Vec<crate::config::keys::WebhookTarget>,
    /// Members who asked for digests (`[members.digest]` in the keys files).
    pub digests: Vec<crate::config::keys::DigestSubscriber>,
    /// Which member each session token last opened here: hints for members' reads, never
    /// trusted alone (`member::SessionHints`).
    pub sessions: member::SessionHints,
}

/// The recipients of one envelope sealed to `parties`: post-quantum when every party has a
/// post-quantum key, else classic (`crypto::keys::choose`). The loader refuses a directory
/// whose members share no kind, but a case's reporter from before reporters had a
/// post-quantum key has a classic key only: once members drop their classic keys, nothing can
/// be sealed to such a case's readers and reporter together — refused with a clear answer.
pub fn sealing_for(parties: &[PartyKeys]) -> crate::error::Result<Sealing> {
    crate::crypto::keys::choose(parties).map_err(|_| {
        crate::error::Error::Conflict(
            "this case cannot be sealed to its recipients: some have only a classic key and some \
             only a post-quantum one (a report filed before reporters had a post-quantum key, \
             while members have dropped their classic keys); put the members' classic \
             recipients back in keys/ until such cases are closed"
                .into(),
        )
    })
}

impl App {
    /// Who may read a case's content and messages now: its institution's readers, and the
    /// oversight body once the case is escalated — minus members excluded from the case. The
    /// reporter is added by the caller.
    pub async fn case_readers(
        &self,
        case: &crate::domain::case::CaseSummary,
    ) -> crate::error::Result<Vec<PartyKeys>> {
        self.case_readers_without(case, None).await
    }

    /// [`Self::case_readers`], also leaving out one more member (the one being excluded).
    pub async fn case_readers_without(
        &self,
        case: &crate::domain::case::CaseSummary,
        also_without: Option<&str>,
    ) -> crate::error::Result<Vec<PartyKeys>> {
        use crate::domain::institution::Role;
        let institution = self.directory.get(&case.institution).ok_or_else(|| {
            crate::error::Error::Internal(
                "case belongs to an institution no longer configured".into(),
            )
        })?;
        let excluded = self.store.excluded(&case.id).await?;
        let keep = |h: &str| !excluded.iter().any(|e| e == h) && also_without != Some(h);
        let mut readers: Vec<PartyKeys> = institution
            .members
            .iter()
            .filter(|m| m.is_reader() && keep(&m.handle))
            .map(|m| m.keys.clone())
            .collect();
        if case.escalated_on.is_some() {
            for m in self
                .directory
                .all()
                .flat_map(|i| i.members.iter())
                .filter(|m| m.has(Role::Oversight))
            {
                if keep(&m.handle) && !readers.iter().any(|x| x.overlaps(&m.keys)) {
                    readers.push(m.keys.clone());
                }
            }
        }
        Ok(readers)
    }

    /// The custodians of an institution for a case, minus members excluded from it.
    pub async fn case_custodians(
        &self,
        case_id: &str,
        institution: &str,
    ) -> crate::error::Result<Vec<PartyKeys>> {
        use crate::domain::institution::Role;
        let excluded = self.store.excluded(case_id).await?;
        Ok(self
            .directory
            .get(institution)
            .map(|i| {
                i.members
                    .iter()
                    .filter(|m| m.has(Role::Custodian) && !excluded.contains(&m.handle))
                    .map(|m| m.keys.clone())
                    .collect()
            })
            .unwrap_or_default())
    }

    pub fn new(
        config: Config,
        directory: Directory,
        store: Store,
        blobs: crate::store::blobs::BlobStore,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let kdf = kdf::KdfPool::new(config.kdf, config.rate.max_waiting_submissions)
            .with_max(config.kdf_max);
        Self {
            config,
            directory,
            store,
            blobs,
            kdf,
            clock,
            incidents: incidents::Incidents::default(),
            webhooks: Vec::new(),
            digests: Vec::new(),
            sessions: member::SessionHints::default(),
        }
    }

    /// With the members who asked for digests.
    pub fn with_digests(mut self, digests: Vec<crate::config::keys::DigestSubscriber>) -> Self {
        self.digests = digests;
        self
    }

    /// With the institutions' webhook endpoints.
    pub fn with_webhooks(mut self, webhooks: Vec<crate::config::keys::WebhookTarget>) -> Self {
        self.webhooks = webhooks;
        self
    }
}
