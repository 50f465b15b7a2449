//! The list of every text a citizen can see: the fields of [`Texts`], and what each language's
//! catalogue (`locales/<code>.ftl`) must hold for them. The words themselves live only in the
//! catalogues.

use super::catalogue::{Loading, Message, Spec};

/// Declares [`Texts`], the [`SPEC`] a catalogue is checked against, and how a catalogue fills
/// the struct: `plain` texts have no placeholder, `args` texts list the placeholders they must
/// use, `lists` are numbered (`home-safety-1`, …), `sets` have one message per slug.
macro_rules! texts {
    (
        plain { $($(#[$pm:meta])* $p:ident,)* }
        args { $($(#[$am:meta])* $a:ident($($arg:ident),+),)* }
        lists { $($(#[$lm:meta])* $l:ident,)* }
        sets { $($(#[$sm:meta])* $s:ident: $prefix:literal [$($slug:literal),+],)* }
    ) => {
        /// Every sentence a citizen can see, in one language.
        #[derive(Debug)]
        pub struct Texts {
            $($(#[$pm])* pub $p: &'static str,)*
            $($(#[$am])* pub $a: Message,)*
            $($(#[$lm])* pub $l: &'static [&'static str],)*
            $($(#[$sm])* pub $s: &'static [&'static str],)*
        }

        /// What every catalogue must hold.
        pub const SPEC: Spec = Spec {
            plain: &[$(stringify!($p)),*],
            args: &[$((stringify!($a), &[$(stringify!($arg)),+])),*],
            lists: &[$(stringify!($l)),*],
            sets: &[$((stringify!($s), $prefix, &[$($slug),+])),*],
        };

        impl Texts {
            pub(super) fn build(c: &Loading<'_>) -> Texts {
                Texts {
                    $($p: c.plain(stringify!($p)),)*
                    $($a: c.message(stringify!($a)),)*
                    $($l: c.list(stringify!($l)),)*
                    $($s: c.set($prefix, &[$($slug),+]),)*
                }
            }
        }
    };
}

texts! {
    plain {
        site_name,
        tagline,
        nav_home,
        nav_report,
        nav_status,
        nav_stats,
        footer,
        home_intro,
        home_safety_title,
        home_start,
        home_check,
        form_title,
        form_intro,
        form_errors_summary,
        kind_label,
        kind_hint,
        institution_label,
        institution_desk,
        institution_hint,
        category_label,
        category_none,
        title_label,
        body_label,
        body_hint,
        occurred_label,
        occurred_hint,
        location_label,
        location_hint,
        privacy_label,
        privacy_anonymous,
        privacy_anonymous_explain,
        privacy_confidential,
        privacy_confidential_explain,
        identity_legend,
        identity_name_label,
        identity_contact_label,
        identity_hint,
        err_file_too_large,
        err_report_too_large,
        err_too_many_files,
        err_upload_interrupted,
        attachment_label,
        attachment_warning,
        keep_metadata_label,
        cannot_attach,
        no_files_chosen,
        files_added,
        add_files_title,
        add_files_submit,
        concerns_label,
        concerns_hint,
        optional,
        submit,
        submit_hint,
        not_saved_retry,
        receipt_title,
        receipt_intro,
        receipt_case,
        receipt_advice_title,
        receipt_next,
        status_title,
        status_intro,
        receipt_label,
        receipt_hint,
        status_submit,
        status_not_found,
        receipt_empty,
        receipt_bad_char,
        receipt_too_short,
        receipt_too_long,
        case_number,
        current_state,
        history_title,
        history_day,
        history_who,
        history_what,
        your_report,
        your_identity,
        your_identity_explain,
        identity_not_revealed,
        own_files_title,
        own_files_scrubbed,
        own_files_as_sent,
        own_files_added,
        messages_title,
        no_messages,
        you,
        officer_of,
        reply_label,
        reply_submit,
        reply_saved,
        reply_not_saved,
        message_files_label,
        download_file,
        file_not_found,
        leave_hint,
        stats_title,
        stats_intro,
        stats_state,
        stats_count,
        stats_empty,
        error_title,
        error_back,
        err_not_found,
        err_too_large,
        err_timeout,
        err_cross_site,
        err_method,
        err_busy,
        err_bad_request,
        err_internal,
        err_unsupported_type,
        problem_required,
        problem_not_an_option,
        problem_invalid_date,
        problem_date_in_future,
        problem_identity_while_anonymous,
        problem_control_characters,
        question_title,
        question_answer_hint,
        automatic,
        due_label,
        overdue_label,
        closes_label,
        escalate_title,
        escalate_explain,
        escalate_submit,
        escalated_notice,
        cannot_escalate,
        /// Shown in place of an item the reporter's key does not open.
        unreadable_item,
        /// Notice above a case holding such items.
        unreadable_notice,
        /// History: the oversight body wrote a recommendation to the institution / to the citizen.
        act_recommendation,
        act_oversight_message,
        reveals_title,
        reveals_explain,
        reveal_pending,
        reveal_approved,
        reveal_denied,
        reveal_requested_on,
        reveal_decided_on,
        reveal_opens_on,
        stats_total,
        stats_on_time,
        stats_median,
        stats_too_few,
        /// A 25-digit receipt whose check digit does not match: answered without looking anything
        /// up, so it must not hint whether a report exists.
        receipt_mistyped,
        verdict_title,
        verdict_explain,
        verdict_rating_label,
        verdict_rating_none,
        verdict_comment_label,
        verdict_resolved_submit,
        verdict_reason_label,
        verdict_not_resolved_submit,
        verdict_reason_needed,
        verdict_closed_notice,
        verdict_reopened_notice,
        verdict_refused,
        reopen_title,
        reopen_reason_label,
        reopen_submit,
        new_report_link,
        your_rating,
        reply_closed,
        stats_ratings_title,
        stats_ratings_count,
        stats_ratings_average,
        stats_ratings_none,
        /// The date field's placeholder: the same format its hint names.
        occurred_placeholder,
        /// Files of a report form that came back to be corrected, kept sealed.
        held_title,
        held_explain,
        /// The checkbox beside each held file.
        held_remove,
        /// Beside the file input when files are held.
        held_add_more,
        /// The form named held files that are not there (expired, or the page was not this one).
        held_missing,
    }
    args {
        attachment_hint(files, file, total),
        max_chars(max),
        /// "Held by the identity custodians of {institution}."
        identity_held_by(institution),
        /// "Revealed to an officer of {institution} on {day}."
        identity_revealed_to(institution, day),
        problem_too_long(max),
        extended_by(days),
        /// After an escalation that could not carry some items.
        not_escalated_notice(count),
        forwarded_to(institution),
        reopen_explain(day),
        closed_for_good(case),
        /// A file size under 1 KiB, in bytes.
        size_bytes(n),
        /// A file size under 1 MiB, in whole KiB.
        size_kib(n),
        /// A file size in MiB with one decimal: `whole` and `tenth` (0–9).
        size_mib(whole, tenth),
        /// A day as people read it ("4 Desember 2026"): the day of the month, the month's name
        /// (`months`) and the year, in this language's order.
        long_day(day, month, year),
    }
    lists {
        home_safety,
        receipt_advice,
    }
    sets {
        kinds: "kind" ["aspiration", "complaint", "information_request", "whistleblowing"],
        kind_explain: "kind-explain" ["aspiration", "complaint", "information_request", "whistleblowing"],
        states: "state" ["received", "verified", "on_hold", "archived", "not_our_authority", "forwarded", "in_progress", "answered", "closed", "escalated"],
        privacy_names: "privacy-name" ["anonymous", "confidential"],
        /// triage, investigator, custodian, oversight, integration
        role_names: "role" ["triage", "investigator", "custodian", "oversight", "integration"],
        /// state, institution, kind, category, channel
        stats_dimensions: "stats-by" ["state", "institution", "kind", "category", "channel"],
        /// web, phone, post, complaint_box, counter, fax, sms, email
        /// January … December
        months: "month" ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"],
        channels: "channel" ["web", "phone", "post", "complaint_box", "counter", "fax", "sms", "email"],
    }
}
