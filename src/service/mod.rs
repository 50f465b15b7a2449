//! Use cases: each public function is one thing a citizen or member does, composed from
//! `domain` (rules), `crypto` (envelopes, keys) and `store` (persistence). Nothing here knows
//! HTTP; web handlers decode, call one of these, and render.

pub mod citizen;
pub mod deadline;
pub mod housekeeping;
pub mod kdf;
pub mod member;
pub mod stats;

use std::sync::Arc;

use crate::config::Config;
use crate::domain::clock::Clock;
use crate::domain::institution::Directory;
use crate::store::Store;

/// Everything a request may need, built once at start.
#[derive(Debug)]
pub struct App {
    pub config: Config,
    pub directory: Directory,
    pub store: Store,
    pub kdf: kdf::KdfPool,
    pub clock: Arc<dyn Clock>,
}

impl App {
    /// Who may read a case's content and messages now: its institution's readers, and the
    /// oversight body once the case is escalated. The reporter is added by the caller.
    pub fn case_readers(
        &self,
        case: &crate::store::CaseSummary,
    ) -> crate::error::Result<Vec<age::x25519::Recipient>> {
        let institution = self.directory.get(&case.institution).ok_or_else(|| {
            crate::error::Error::Internal(
                "case belongs to an institution no longer configured".into(),
            )
        })?;
        let mut readers = institution.readers();
        if case.escalated_on.is_some() {
            for r in self.directory.oversight() {
                if !readers.iter().any(|x| x.to_string() == r.to_string()) {
                    readers.push(r);
                }
            }
        }
        Ok(readers)
    }

    pub fn new(config: Config, directory: Directory, store: Store, clock: Arc<dyn Clock>) -> Self {
        let kdf = kdf::KdfPool::new(config.kdf);
        Self {
            config,
            directory,
            store,
            kdf,
            clock,
        }
    }
}
