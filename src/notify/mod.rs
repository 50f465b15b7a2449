//! Telling others about case events, outward (DESIGN §8 "officer notifications"): the HTTP side
//! of webhooks. What is due and what an outcome means is `service::webhooks`; this layer only
//! sends, like `web` only answers.

pub mod webhooks;
