//! Checking what a citizen typed, before anything is encrypted or stored.
//!
//! Validation returns *codes*, not sentences: the web layer words them in the citizen's
//! language and shows each next to its field, with everything typed kept.

use serde::{Deserialize, Serialize};
use time::Date;

use super::case::{Kind, Privacy};
use super::clock::parse_day;

/// The day typed into the form's plain date field (its hint and placeholder say
/// `YYYY-MM-DD`): year first, then month and day, separated by `-`, `/`, `.` or spaces, with or
/// without leading zeros (`2026-11-01`, `2026/11/1`), or eight digits (`20261101`, what a
/// phone's number pad leaves when it has no dash).
pub fn parse_typed_day(s: &str) -> Option<Date> {
    let s = s.trim();
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        return parse_day(&format!("{}-{}-{}", &s[..4], &s[4..6], &s[6..]));
    }
    let parts: Vec<&str> = s
        .split(['-', '/', '.', ' '])
        .filter(|p| !p.is_empty())
        .collect();
    let [y, m, d] = parts.as_slice() else {
        return None;
    };
    let ok = |p: &str, max: usize| {
        !p.is_empty() && p.len() <= max && p.bytes().all(|b| b.is_ascii_digit())
    };
    if y.len() != 4 || !ok(y, 4) || !ok(m, 2) || !ok(d, 2) {
        return None;
    }
    parse_day(&format!("{y}-{m:0>2}-{d:0>2}"))
}
use super::institution::Directory;
use super::text::Lines;

/// A category a report can be filed under (labels in both languages).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub slug: String,
    pub name_id: String,
    pub name_en: String,
}

/// Size limits for what citizens type, in characters. Configurable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TextLimits {
    pub title: usize,
    pub body: usize,
    pub location: usize,
    pub identity: usize,
    pub message: usize,
}

impl Default for TextLimits {
    fn default() -> Self {
        Self {
            title: 150,
            body: 20_000,
            location: 200,
            identity: 300,
            message: 10_000,
        }
    }
}

/// The form fields a problem can be attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Kind,
    Institution,
    Category,
    Title,
    Body,
    OccurredOn,
    Location,
    Privacy,
    IdentityName,
    IdentityContact,
    Concerns,
    Message,
}

/// What is wrong with a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    Required,
    TooLong {
        max: usize,
    },
    NotAnOption,
    InvalidDate,
    DateInFuture,
    /// Identity fields filled while "anonymous" is chosen: refused, so nobody sends their name
    /// by accident.
    IdentityWhileAnonymous,
    /// Control characters no browser puts in this field (ESC, BEL, CR alone, C1…; a line break
    /// in a one-line field): refused, so terminal sequences never reach a member's screen.
    ControlCharacters,
}

/// The raw form, as typed. Borrowed so the caller keeps (and wipes) the owning buffers.
#[derive(Clone, Copy, Default)]
pub struct Draft<'a> {
    pub kind: &'a str,
    pub institution: &'a str,
    pub category: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub occurred_on: &'a str,
    pub location: &'a str,
    pub privacy: &'a str,
    pub identity_name: &'a str,
    pub identity_contact: &'a str,
    /// People or units the report concerns (optional): triage keeps them away from it.
    pub concerns: &'a str,
}

/// A draft that passed every check.
#[derive(Clone)]
pub struct Checked<'a> {
    pub kind: Kind,
    /// The chosen institution; `None` lets the intake desk decide.
    pub institution: Option<&'a str>,
    pub category: Option<&'a str>,
    pub title: &'a str,
    pub body: &'a str,
    pub occurred_on: Option<Date>,
    pub location: Option<&'a str>,
    pub privacy: Privacy,
    pub identity_name: Option<&'a str>,
    pub identity_contact: Option<&'a str>,
    pub concerns: Option<&'a str>,
}

crate::redacted_debug!(Draft<'a>, Checked<'a>);

fn non_blank(s: &str) -> Option<&str> {
    let t = s.trim();
    (!t.is_empty()).then_some(t)
}

fn check_len(problems: &mut Vec<(Field, Problem)>, field: Field, value: &str, max: usize) {
    if value.chars().count() > max {
        problems.push((field, Problem::TooLong { max }));
    }
}

/// True if `text` holds a control character a browser never sends in such a field. Tabs are
/// kept everywhere; a multi-line field (a textarea) also keeps newlines and the CR of a CRLF
/// pair, which is how browsers send line breaks. Format characters (bidi marks, zero-width
/// joiners) are legitimate in Arabic-script and emoji text and are kept: members' tools show
/// them escaped (see `domain::text`).
pub fn holds_controls(text: &str, lines: Lines) -> bool {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let allowed = match c {
            '\t' => true,
            '\n' => lines == Lines::Many,
            '\r' => lines == Lines::Many && chars.peek() == Some(&'\n'),
            c => !c.is_control(),
        };
        if !allowed {
            return true;
        }
    }
    false
}

fn check_text(
    problems: &mut Vec<(Field, Problem)>,
    field: Field,
    value: &str,
    max: usize,
    lines: Lines,
) {
    check_len(problems, field, value, max);
    if holds_controls(value, lines) {
        problems.push((field, Problem::ControlCharacters));
    }
}

/// Checks a message a citizen or member writes on a case.
pub fn check_message<'a>(text: &'a str, limits: &TextLimits) -> Result<&'a str, Problem> {
    let t = non_blank(text).ok_or(Problem::Required)?;
    if holds_controls(t, Lines::Many) {
        return Err(Problem::ControlCharacters);
    }
    if t.chars().count() > limits.message {
        return Err(Problem::TooLong {
            max: limits.message,
        });
    }
    Ok(t)
}

/// Checks every field and returns all problems at once.
pub fn check<'a>(
    d: &Draft<'a>,
    limits: &TextLimits,
    categories: &[Category],
    directory: &Directory,
    today: Date,
) -> Result<Checked<'a>, Vec<(Field, Problem)>> {
    let mut problems = Vec::new();

    let kind = match non_blank(d.kind) {
        None => {
            problems.push((Field::Kind, Problem::Required));
            None
        }
        Some(k) => Kind::parse(k).or_else(|| {
            problems.push((Field::Kind, Problem::NotAnOption));
            None
        }),
    };

    let institution = non_blank(d.institution);
    if let Some(slug) = institution
        && !directory.get(slug).is_some_and(|i| i.accepts_reports())
    {
        problems.push((Field::Institution, Problem::NotAnOption));
    }

    let category = non_blank(d.category);
    if let Some(c) = category
        && !categories.iter().any(|k| k.slug == c)
    {
        problems.push((Field::Category, Problem::NotAnOption));
    }

    let title = non_blank(d.title);
    match title {
        None => problems.push((Field::Title, Problem::Required)),
        Some(t) => check_text(&mut problems, Field::Title, t, limits.title, Lines::One),
    }
    let body = non_blank(d.body);
    match body {
        None => problems.push((Field::Body, Problem::Required)),
        Some(b) => check_text(&mut problems, Field::Body, b, limits.body, Lines::Many),
    }

    let occurred_on = match non_blank(d.occurred_on) {
        None => None,
        Some(s) => match parse_typed_day(s) {
            None => {
                problems.push((Field::OccurredOn, Problem::InvalidDate));
                None
            }
            // One day of slack: the citizen's "today" may already be tomorrow in UTC+7..+9.
            Some(day) if day > today.next_day().unwrap_or(today) => {
                problems.push((Field::OccurredOn, Problem::DateInFuture));
                None
            }
            Some(day) => Some(day),
        },
    };

    let location = non_blank(d.location);
    if let Some(l) = location {
        check_text(
            &mut problems,
            Field::Location,
            l,
            limits.location,
            Lines::One,
        );
    }

    let privacy = match non_blank(d.privacy) {
        None => {
            problems.push((Field::Privacy, Problem::Required));
            None
        }
        Some(p) => Privacy::parse(p).or_else(|| {
            problems.push((Field::Privacy, Problem::NotAnOption));
            None
        }),
    };

    let concerns = non_blank(d.concerns);
    if let Some(c) = concerns {
        check_text(
            &mut problems,
            Field::Concerns,
            c,
            limits.identity,
            Lines::One,
        );
    }

    let identity_name = non_blank(d.identity_name);
    let identity_contact = non_blank(d.identity_contact);
    match privacy {
        Some(Privacy::Anonymous) => {
            if identity_name.is_some() {
                problems.push((Field::IdentityName, Problem::IdentityWhileAnonymous));
            }
            if identity_contact.is_some() {
                problems.push((Field::IdentityContact, Problem::IdentityWhileAnonymous));
            }
        }
        Some(Privacy::Confidential) => {
            match identity_name {
                None => problems.push((Field::IdentityName, Problem::Required)),
                Some(n) => check_text(
                    &mut problems,
                    Field::IdentityName,
                    n,
                    limits.identity,
                    Lines::One,
                ),
            }
            if let Some(c) = identity_contact {
                check_text(
                    &mut problems,
                    Field::IdentityContact,
                    c,
                    limits.identity,
                    Lines::One,
                );
            }
        }
        None => {}
    }

    match (kind, title, body, privacy) {
        (Some(kind), Some(title), Some(body), Some(privacy)) if problems.is_empty() => {
            Ok(Checked {
                kind,
                institution,
                category,
                title,
                body,
                occurred_on,
                location,
                privacy,
                identity_name: identity_name.filter(|_| privacy == Privacy::Confidential),
                identity_contact: identity_contact.filter(|_| privacy == Privacy::Confidential),
                concerns,
            })
        }
        _ => Err(problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_days_are_read_year_first() {
        use time::macros::date;
        for ok in [
            "2026-11-01",
            " 2026-11-1 ",
            "2026/11/01",
            "2026.11.1",
            "20261101",
            "2026 11 01",
        ] {
            assert_eq!(parse_typed_day(ok), Some(date!(2026 - 11 - 01)), "{ok}");
        }
        for bad in [
            "01-11-2026",
            "11/01/2026",
            "2026-13-01",
            "2026-02-30",
            "26-11-01",
            "2026-11",
            "2026-011-01",
            "x",
        ] {
            assert_eq!(parse_typed_day(bad), None, "{bad}");
        }
    }
    use crate::domain::institution::{Institution, Role, tests::member};
    use time::macros::date;

    fn directory() -> Directory {
        let (t, _) = member("t", "desk", &[Role::Triage]);
        let (c, _) = member("c", "desk", &[Role::Custodian]);
        let (o, _) = member("o", "ombudsman", &[Role::Oversight]);
        Directory::new(vec![
            Institution {
                slug: "desk".into(),
                name_id: "Meja".into(),
                name_en: "Desk".into(),
                intake_desk: true,
                reveal_notice_days: 0,
                retention_days: None,
                parent: None,
                categories: vec![],
                members: vec![t, c],
            },
            Institution {
                slug: "ombudsman".into(),
                name_id: "O".into(),
                name_en: "O".into(),
                intake_desk: false,
                reveal_notice_days: 0,
                retention_days: None,
                parent: None,
                categories: vec![],
                members: vec![o],
            },
        ])
        .unwrap()
    }

    fn good() -> Draft<'static> {
        Draft {
            kind: "complaint",
            institution: "",
            category: "health",
            title: "Broken clinic",
            body: "The clinic asks for bribes.",
            occurred_on: "2026-11-01",
            location: "",
            privacy: "anonymous",
            identity_name: "",
            identity_contact: "",
            concerns: "",
        }
    }

    fn cats() -> Vec<Category> {
        vec![Category {
            slug: "health".into(),
            name_id: "Kesehatan".into(),
            name_en: "Health".into(),
        }]
    }

    const TODAY: Date = date!(2026 - 11 - 23);

    #[test]
    fn a_good_anonymous_draft_passes() {
        let c = check(
            &good(),
            &TextLimits::default(),
            &cats(),
            &directory(),
            TODAY,
        )
        .unwrap();
        assert_eq!(c.kind, Kind::Complaint);
        assert_eq!(c.institution, None);
        assert_eq!(c.identity_name, None);
        assert_eq!(c.occurred_on, Some(date!(2026 - 11 - 01)));
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let long = "x".repeat(151);
        let d = Draft {
            kind: "gossip",
            institution: "ombudsman", // no readers: not selectable
            category: "nope",
            title: &long,
            body: "   ",
            occurred_on: "2027-01-01",
            location: "",
            privacy: "anonymous",
            identity_name: "Budi",
            identity_contact: "",
            concerns: "",
        };
        let p = check(&d, &TextLimits::default(), &cats(), &directory(), TODAY).unwrap_err();
        assert!(p.contains(&(Field::Kind, Problem::NotAnOption)));
        assert!(p.contains(&(Field::Institution, Problem::NotAnOption)));
        assert!(p.contains(&(Field::Category, Problem::NotAnOption)));
        assert!(p.contains(&(Field::Title, Problem::TooLong { max: 150 })));
        assert!(p.contains(&(Field::Body, Problem::Required)));
        assert!(p.contains(&(Field::OccurredOn, Problem::DateInFuture)));
        assert!(p.contains(&(Field::IdentityName, Problem::IdentityWhileAnonymous)));
    }

    #[test]
    fn confidential_needs_a_name() {
        let d = Draft {
            privacy: "confidential",
            ..good()
        };
        let p = check(&d, &TextLimits::default(), &cats(), &directory(), TODAY).unwrap_err();
        assert_eq!(p, vec![(Field::IdentityName, Problem::Required)]);
        let d = Draft {
            privacy: "confidential",
            identity_name: "Siti",
            identity_contact: "0812",
            ..good()
        };
        let c = check(&d, &TextLimits::default(), &cats(), &directory(), TODAY).unwrap();
        assert_eq!(c.identity_name, Some("Siti"));
        assert_eq!(c.identity_contact, Some("0812"));
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        let title = "é".repeat(150);
        let d = Draft {
            title: &title,
            ..good()
        };
        assert!(check(&d, &TextLimits::default(), &cats(), &directory(), TODAY).is_ok());
    }

    #[test]
    fn control_characters_are_refused_but_line_breaks_tabs_and_marks_kept() {
        let l = TextLimits::default();
        let d = Draft {
            title: "Pay\n[verified by desk-triage]",
            body: "x\u{1b}[2J",
            location: "Jl. \u{9b}31m",
            concerns: "a\u{7}",
            ..good()
        };
        let p = check(&d, &l, &cats(), &directory(), TODAY).unwrap_err();
        for f in [Field::Title, Field::Body, Field::Location, Field::Concerns] {
            assert!(p.contains(&(f, Problem::ControlCharacters)), "{f:?}");
        }
        let d = Draft {
            title: "Tab\there, \u{202b}عربي\u{202c} and 👩\u{200d}⚕️",
            body: "line one\r\nline two\n\tindented",
            ..good()
        };
        assert!(check(&d, &l, &cats(), &directory(), TODAY).is_ok());
        assert_eq!(
            check_message("lone\rcr", &l),
            Err(Problem::ControlCharacters)
        );
        assert_eq!(check_message("a\r\nb", &l), Ok("a\r\nb"));
    }

    #[test]
    fn messages() {
        let l = TextLimits::default();
        assert_eq!(check_message("  ", &l), Err(Problem::Required));
        assert_eq!(check_message(" hi ", &l), Ok("hi"));
        assert_eq!(
            check_message(&"a".repeat(10_001), &l),
            Err(Problem::TooLong { max: 10_000 })
        );
    }
}
