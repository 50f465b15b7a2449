//! Use cases: each public function is one thing a citizen or member does, composed from
//! `domain` (rules), `crypto` (envelopes, keys) and `store` (persistence). Nothing here knows
//! HTTP; web handlers decode, call one of these, and render.

pub mod citizen;
pub mod deadline;
pub mod housekeeping;
pub mod kdf;
pub mod member;

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
