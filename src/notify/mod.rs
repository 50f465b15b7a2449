//! Telling others about case events, outward (DESIGN §8 "officer notifications"): the HTTP side
//! of webhooks and the SMTP side of officers' digests. What is due and what an outcome means is
//! `service::webhooks` and `service::digest`; this layer only sends, like `web` only answers.

mod digest_text;
pub mod mail;
pub mod webhooks;
