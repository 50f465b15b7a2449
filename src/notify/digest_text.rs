//! The words of an officer's digest, in Bahasa Indonesia and English. Written here rather than
//! in the citizen catalogues (`locales/`): like the desk's texts (`desk/texts.rs`) they are
//! officers' words, and a digest is counts in a fixed frame with no plural rule Fluent would
//! add anything to (Indonesian has none; English has the one below).
//!
//! What a digest says: counts of what waits, the scheduled time it is for, how to open the
//! desk, and — only if the operator set `include_case_ids` — the waiting cases' ids. Never a
//! title, a text, a name or when a citizen acted.

use crate::domain::digest::{DigestCounts, MailLang, Slot, Waiting};

/// At most this many ids are named per line (with "and N more").
const MAX_IDS: usize = 20;

/// A digest rendered: subject and plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

/// What the text needs besides the counts.
#[derive(Debug, Clone)]
pub struct Frame<'a> {
    pub lang: MailLang,
    /// How the member is greeted: their display name, else their handle.
    pub name: &'a str,
    pub institution: &'a str,
    pub slot: Slot,
    pub zone: &'a str,
    /// Every scheduled time, `HH:MM`.
    pub times: &'a [String],
    pub desk_hint: Option<&'a str>,
    pub include_case_ids: bool,
}

pub fn render(f: &Frame<'_>, counts: &DigestCounts) -> Rendered {
    let total = counts.total();
    let en = f.lang == MailLang::En;
    let subject = if en {
        format!("Bisik: {} waiting for you", things(total))
    } else {
        format!("Bisik: {total} hal menunggu Anda")
    };
    let mut body = String::new();
    let when = format!("{} ({})", f.slot.key(), f.zone);
    if en {
        body.push_str(&format!("Dear {},\n\n", f.name));
        body.push_str(&format!(
            "What waits for you in Bisik ({}), as of the digest of {when}:\n\n",
            f.institution
        ));
    } else {
        body.push_str(&format!("Yth. {},\n\n", f.name));
        body.push_str(&format!(
            "Yang menunggu Anda di Bisik ({}), ringkasan {when}:\n\n",
            f.institution
        ));
    }
    for (kind, n) in counts.nonzero() {
        body.push_str(&format!("- {}\n", line(f.lang, kind, n)));
        if f.include_case_ids {
            let ids = counts.ids(kind);
            let shown = ids
                .iter()
                .take(MAX_IDS)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            let more = ids.len().saturating_sub(MAX_IDS);
            let label = if en { "cases" } else { "kasus" };
            body.push_str(&format!("  {label}: {shown}"));
            if more > 0 {
                if en {
                    body.push_str(&format!(" and {more} more"));
                } else {
                    body.push_str(&format!(" dan {more} lainnya"));
                }
            }
            body.push('\n');
        }
    }
    body.push('\n');
    if en {
        body.push_str(
            "Open the officers' desk on your own computer: bisik desk --identity <your identity file>\n",
        );
    } else {
        body.push_str(
            "Buka meja petugas di komputer Anda sendiri: bisik desk --identity <berkas identitas Anda>\n",
        );
    }
    if let Some(hint) = f.desk_hint {
        body.push_str(hint.trim());
        body.push('\n');
    }
    body.push('\n');
    let times = f.times.join(", ");
    if en {
        body.push_str(&format!(
            "This mail holds counts only: what a report says never leaves Bisik by e-mail. \
             Digests are sent at fixed times ({times}, {}), so a count tells only that something \
             happened since the previous one, not when.\n\
             You receive it because your institution's keys file lists this address for you \
             ([members.digest]); ask the operator to remove it to stop.\n",
            f.zone
        ));
    } else {
        body.push_str(&format!(
            "Surel ini hanya berisi jumlah: isi laporan tidak pernah keluar dari Bisik lewat \
             surel. Ringkasan dikirim pada jam tetap ({times}, {}), jadi sebuah angka hanya \
             menunjukkan bahwa sesuatu terjadi sejak ringkasan sebelumnya, bukan kapan.\n\
             Anda menerimanya karena berkas kunci lembaga Anda mencantumkan alamat ini untuk \
             Anda ([members.digest]); minta operator menghapusnya untuk berhenti.\n",
            f.zone
        ));
    }
    Rendered { subject, body }
}

fn things(n: usize) -> String {
    if n == 1 {
        "1 thing".into()
    } else {
        format!("{n} things")
    }
}

fn line(lang: MailLang, kind: Waiting, n: usize) -> String {
    let s = if n == 1 { "" } else { "s" };
    match (lang, kind) {
        (MailLang::En, Waiting::NewCase) => format!("{n} new case{s} you have not opened"),
        (MailLang::En, Waiting::CitizenReply) => {
            format!("{n} case{s} with a citizen's reply you have not read")
        }
        (MailLang::En, Waiting::RevealRequest) => {
            format!("{n} request{s} to reveal an identity waiting for your decision")
        }
        (MailLang::En, Waiting::Escalation) => {
            format!("{n} escalated case{s} with something you have not seen")
        }
        (MailLang::En, Waiting::DueTomorrow) => format!("{n} case{s} due tomorrow"),
        (MailLang::En, Waiting::Overdue) => format!("{n} case{s} past the due day"),
        (MailLang::Id, Waiting::NewCase) => format!("{n} kasus baru yang belum Anda buka"),
        (MailLang::Id, Waiting::CitizenReply) => {
            format!("{n} kasus dengan balasan pelapor yang belum Anda baca")
        }
        (MailLang::Id, Waiting::RevealRequest) => {
            format!("{n} permintaan membuka identitas menunggu keputusan Anda")
        }
        (MailLang::Id, Waiting::Escalation) => {
            format!("{n} kasus eskalasi dengan hal yang belum Anda lihat")
        }
        (MailLang::Id, Waiting::DueTomorrow) => format!("{n} kasus jatuh tempo besok"),
        (MailLang::Id, Waiting::Overdue) => format!("{n} kasus melewati tenggat"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, time};

    fn frame(lang: MailLang, ids: bool) -> Frame<'static> {
        Frame {
            lang,
            name: "Budi",
            institution: "Dinas Kesehatan",
            slot: Slot {
                day: date!(2026 - 12 - 02),
                time: time!(08:00),
            },
            zone: "Asia/Jakarta",
            times: &[],
            desk_hint: Some("https://intranet.example/bisik"),
            include_case_ids: ids,
        }
    }

    fn counts() -> DigestCounts {
        let mut c = DigestCounts::default();
        c.add(
            Waiting::NewCase,
            (0..25).map(|i| format!("case{i:02}")).collect(),
        );
        c.add(Waiting::DueTomorrow, vec!["case01".into()]);
        c
    }

    #[test]
    fn counts_in_both_languages_and_ids_only_when_asked() {
        let en = render(&frame(MailLang::En, false), &counts());
        assert_eq!(en.subject, "Bisik: 26 things waiting for you");
        assert!(en.body.contains("- 25 new cases you have not opened\n"));
        assert!(en.body.contains("- 1 case due tomorrow\n"));
        assert!(en.body.contains("2026-12-02 08:00 (Asia/Jakarta)"));
        assert!(en.body.contains("https://intranet.example/bisik"));
        assert!(!en.body.contains("case0"));
        let id = render(&frame(MailLang::Id, true), &counts());
        assert_eq!(id.subject, "Bisik: 26 hal menunggu Anda");
        assert!(id.body.contains("- 25 kasus baru yang belum Anda buka\n"));
        assert!(id.body.contains("case00, case01"));
        assert!(id.body.contains(" dan 5 lainnya\n"));
        assert!(!id.body.contains("case20"));
    }
}
