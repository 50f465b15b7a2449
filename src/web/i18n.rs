//! The citizen's language: which one a request asks for, and its texts. The words live in the
//! Fluent catalogues `locales/<code>.ftl` (see [`catalogue`]), Bahasa Indonesia by default and
//! English beside it; a language is added by adding one file.

mod catalogue;
mod texts;

use axum::extract::FromRequestParts;
use axum::http::header::ACCEPT_LANGUAGE;
use axum::http::request::Parts;

use crate::domain::case::{CHANNELS, CaseState, Kind, Privacy};
use crate::domain::institution::Role;
use crate::domain::report::Problem;

pub use catalogue::{CatalogueError, Message, check, init, load, message_id, sources};
pub use texts::{SPEC, Texts};

/// One of the loaded languages (an index into the catalogues, so it is `Copy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lang(u8);

impl Lang {
    /// Bahasa Indonesia, the default.
    pub const ID: Lang = Lang(0);
    /// English.
    pub const EN: Lang = Lang(1);

    fn at(i: usize) -> Lang {
        Lang(u8::try_from(i).unwrap_or(0))
    }

    fn index(self) -> usize {
        usize::from(self.0)
    }

    /// Every loaded language, the default first.
    pub fn all() -> impl Iterator<Item = Lang> {
        (0..catalogue::loaded().len()).map(Lang::at)
    }

    /// The other languages, for the language links.
    pub fn others(self) -> impl Iterator<Item = Lang> {
        Lang::all().filter(move |l| *l != self)
    }

    /// The desk's language switch: the officers' desk speaks Bahasa Indonesia and English.
    pub fn other(self) -> Lang {
        if self.is_en() { Lang::ID } else { Lang::EN }
    }

    /// The language code (`id`, `en`, …): the catalogue's file name.
    pub fn code(self) -> &'static str {
        catalogue::loaded().get(self).code
    }

    /// The language's name in itself ("Bahasa Indonesia", "English").
    pub fn name(self) -> &'static str {
        catalogue::loaded().get(self).name
    }

    pub fn texts(self) -> &'static Texts {
        &catalogue::loaded().get(self).texts
    }

    /// Institution names are configured in Indonesian and English; every language but English
    /// shows the Indonesian (official) name.
    pub fn is_en(self) -> bool {
        self.code() == catalogue::ENGLISH
    }

    pub fn from_code(s: &str) -> Option<Lang> {
        catalogue::loaded().position(s).map(Lang::at)
    }

    /// `?lang=` wins; then the first loaded language in `Accept-Language` by weight; then the
    /// default.
    pub fn from_parts(parts: &Parts) -> Lang {
        let from_query = parts.uri.query().and_then(|q| {
            form_urlencoded_pairs(q)
                .find_map(|(k, v)| (k == "lang").then(|| Lang::from_code(&v)).flatten())
        });
        from_query
            .or_else(|| {
                parts
                    .headers
                    .get(ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(from_accept_language)
            })
            .unwrap_or_default()
    }
}

fn form_urlencoded_pairs(q: &str) -> impl Iterator<Item = (String, String)> + '_ {
    serde_urlencoded::from_str::<Vec<(String, String)>>(q)
        .unwrap_or_default()
        .into_iter()
}

/// Picks a loaded language from an `Accept-Language` header, honouring q-values: a tag matches
/// a catalogue by its whole code (`pt-br`) or by its first part (`en-US` → `en`).
fn from_accept_language(header: &str) -> Option<Lang> {
    let mut best: Option<(f32, Lang)> = None;
    for item in header.split(',') {
        let mut parts = item.trim().split(';');
        let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .find_map(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|v| v.parse::<f32>().ok())
            })
            .unwrap_or(1.0);
        let primary = tag.split('-').next().unwrap_or("");
        // "in" is the pre-1989 code for Indonesian, still sent by some old systems.
        let primary = if primary == "in" { "id" } else { primary };
        let Some(lang) = Lang::from_code(&tag).or_else(|| Lang::from_code(primary)) else {
            continue;
        };
        if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, lang));
        }
    }
    best.map(|(_, l)| l)
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang::from_parts(parts))
    }
}

impl Texts {
    pub fn kind(&self, k: Kind) -> &'static str {
        self.kinds[Kind::ALL.iter().position(|x| *x == k).unwrap_or(0)]
    }

    pub fn kind_explanation(&self, k: Kind) -> &'static str {
        self.kind_explain[Kind::ALL.iter().position(|x| *x == k).unwrap_or(0)]
    }

    pub fn state(&self, s: CaseState) -> &'static str {
        self.states[CaseState::ALL.iter().position(|x| *x == s).unwrap_or(0)]
    }

    pub fn privacy(&self, p: Privacy) -> &'static str {
        self.privacy_names[Privacy::ALL.iter().position(|x| *x == p).unwrap_or(0)]
    }

    pub fn role(&self, r: Role) -> &'static str {
        match r {
            Role::Triage => self.role_names[0],
            Role::Investigator => self.role_names[1],
            Role::Custodian => self.role_names[2],
            Role::Oversight => self.role_names[3],
            Role::Integration => self.role_names[4],
        }
    }

    pub fn stats_dimension(&self, d: &str) -> &'static str {
        let i = ["state", "institution", "kind", "category", "channel"]
            .iter()
            .position(|x| *x == d)
            .unwrap_or(0);
        self.stats_dimensions[i]
    }

    pub fn channel(&self, c: &str) -> &'static str {
        CHANNELS
            .iter()
            .position(|x| *x == c)
            .map_or("?", |i| self.channels[i])
    }

    pub fn problem(&self, p: Problem) -> String {
        match p {
            Problem::Required => self.problem_required.into(),
            Problem::TooLong { max } => self.problem_too_long.fill(&[("max", max.into())]),
            Problem::NotAnOption => self.problem_not_an_option.into(),
            Problem::InvalidDate => self.problem_invalid_date.into(),
            Problem::DateInFuture => self.problem_date_in_future.into(),
            Problem::IdentityWhileAnonymous => self.problem_identity_while_anonymous.into(),
            Problem::ControlCharacters => self.problem_control_characters.into(),
        }
    }

    /// A label without its "required" star.
    pub fn plain<'a>(&self, label: &'a str) -> &'a str {
        label.trim_end_matches(" *")
    }

    /// A file's size as people read it: this language's units and decimal separator.
    pub fn size(&self, n: u64) -> String {
        const KIB: u64 = 1024;
        const MIB: u64 = 1024 * 1024;
        match n {
            n if n >= MIB => {
                let tenths = (n * 10 + MIB / 2) / MIB;
                self.size_mib.fill(&[
                    ("whole", (tenths / 10).into()),
                    ("tenth", (tenths % 10).into()),
                ])
            }
            n if n >= KIB => self.size_kib.fill(&[("n", ((n + KIB / 2) / KIB).into())]),
            n => self.size_bytes.fill(&[("n", n.into())]),
        }
    }

    pub fn max(&self, n: &usize) -> String {
        self.max_chars.fill(&[("max", (*n).into())])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_weights() {
        assert_eq!(from_accept_language("en-US,en;q=0.5"), Some(Lang::EN));
        assert_eq!(
            from_accept_language("id-ID,id;q=0.9,en;q=0.8"),
            Some(Lang::ID)
        );
        assert_eq!(
            from_accept_language("fr, en;q=0.3, id;q=0.7"),
            Some(Lang::ID)
        );
        assert_eq!(from_accept_language("de"), None);
        assert_eq!(from_accept_language("en;q=0"), None);
    }

    #[test]
    fn sizes_use_the_language_units_and_decimal_separator() {
        let (id, en) = (Lang::ID.texts(), Lang::EN.texts());
        assert_eq!(en.size(10), "10 B");
        assert_eq!(en.size(2048), "2 KiB");
        assert_eq!(en.size(1536 * 1024), "1.5 MiB");
        assert_eq!(id.size(1536 * 1024), "1,5 MiB");
    }

    #[test]
    fn every_text_has_its_own_message_id() {
        let mut ids: Vec<String> = SPEC.plain.iter().map(|p| message_id(p)).collect();
        ids.extend(SPEC.args.iter().map(|a| message_id(a.0)));
        ids.extend(SPEC.lists.iter().map(|l| format!("{}-1", message_id(l))));
        for (_, prefix, slugs) in SPEC.sets {
            ids.extend(slugs.iter().map(|s| format!("{prefix}-{}", message_id(s))));
        }
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n, "two texts share a message id");
    }

    #[test]
    fn catalogue_sets_follow_the_domain_order() {
        let set = |name: &str| {
            SPEC.sets
                .iter()
                .find(|s| s.0 == name)
                .map(|s| s.2.to_vec())
                .unwrap_or_default()
        };
        let kinds: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(set("kinds"), kinds);
        assert_eq!(set("kind_explain"), kinds);
        let states: Vec<&str> = CaseState::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(set("states"), states);
        let privacy: Vec<&str> = Privacy::ALL.iter().map(|p| p.as_str()).collect();
        assert_eq!(set("privacy_names"), privacy);
        assert_eq!(set("channels"), CHANNELS.to_vec());
    }

    #[test]
    fn every_state_and_kind_has_words() {
        assert_eq!(Lang::ID.texts().states.len(), CaseState::ALL.len());
        assert_eq!(Lang::EN.texts().kinds.len(), Kind::ALL.len());
        assert_eq!(
            Lang::EN.texts().state(CaseState::Escalated),
            "Escalated to the Ombudsman"
        );
    }
}
