//! The end of the conversation on the status page: "resolved" / "not resolved — tell us why"
//! with a 1-5 rating on an answered case, and reopening a closed case within its window. One
//! POST with the receipt in a hidden field, one Argon2id check, like every citizen action.

use super::status::{failed, form_with_receipt};
use super::*;
use crate::domain::workflow::Verdict;

#[derive(Deserialize, Zeroize, ZeroizeOnDrop, Default)]
struct VerdictForm {
    #[serde(default)]
    receipt: String,
    #[serde(default)]
    nonce: String,
    /// `resolved`, `not_resolved` or `reopen`.
    #[serde(default)]
    verdict: String,
    /// 1-5, or empty for none.
    #[serde(default)]
    rating: String,
    /// The reason (required for `not_resolved` and `reopen`) or the comment (optional).
    #[serde(default)]
    message: String,
}

#[instrument(skip_all)]
pub async fn status_verdict(
    State(state): State<AppState>,
    lang: Lang,
    CircuitOf(circuit): CircuitOf,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (form, receipt) =
        match form_with_receipt(&state, lang, circuit, &headers, body, |f: &VerdictForm| {
            &f.receipt
        }) {
            Ok(v) => v,
            Err(page) => return page,
        };
    let t = lang.texts();
    let app = &state.app;
    let Some(verdict) = Verdict::parse(&form.verdict) else {
        return error_page(StatusCode::UNPROCESSABLE_ENTITY, lang, t.verdict_refused);
    };
    // Anything but 1-5 counts as no rating.
    let rating = form
        .rating
        .trim()
        .parse::<u8>()
        .ok()
        .filter(|r| (1..=5).contains(r));
    // The form again, a problem next to the box, the words and the rating kept, nothing stored.
    let back = |view: &svc::ReporterView, problem: String| {
        status_page_with(
            &state,
            lang,
            view,
            &receipt,
            None,
            (None, ""),
            (Some(problem), &form.message, rating.unwrap_or(0)),
        )
    };
    // The words are optional with "resolved", required otherwise.
    let text = match report::check_message(&form.message, &app.config.limits) {
        Ok(text) => Some(text),
        Err(report::Problem::Required) => None,
        Err(p) => {
            return match svc::open_case(app, &receipt).await {
                Ok(Some(view)) => back(&view, t.problem(p)),
                Ok(None) => not_found_page(lang),
                Err(e) => failed(&state, lang, e.kind(), StatusCode::SERVICE_UNAVAILABLE),
            };
        }
    };
    let nonce = token::decode(&form.nonce).filter(|n| n.len() == 16);
    match svc::verdict(app, &receipt, verdict, rating, text, nonce.as_deref()).await {
        Ok(Some(svc::Verdicted::Done(view))) => {
            let notice = if view.state() == CaseState::Closed {
                t.verdict_closed_notice
            } else {
                t.verdict_reopened_notice
            };
            status_page(
                &state,
                lang,
                &view,
                &receipt,
                Some(Notice::Done(notice)),
                None,
                "",
            )
        }
        Ok(Some(svc::Verdicted::NotSaved(view))) => back(&view, t.reply_not_saved.to_owned()),
        Ok(Some(svc::Verdicted::ReasonNeeded(view))) => {
            back(&view, t.verdict_reason_needed.to_owned())
        }
        Ok(Some(svc::Verdicted::Refused(view))) => status_page(
            &state,
            lang,
            &view,
            &receipt,
            Some(Notice::Refused(t.verdict_refused)),
            None,
            "",
        ),
        Ok(None) => not_found_page(lang),
        Err(e) => failed(&state, lang, e.kind(), StatusCode::SERVICE_UNAVAILABLE),
    }
}
