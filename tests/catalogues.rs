//! The message catalogues (`locales/<code>.ftl`): every language holds every message the pages
//! show, with exactly the placeholders each needs, and a new language is one more file.

use bisik::web::i18n::{self, Lang};

fn source(code: &str) -> &'static str {
    i18n::sources()
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, t)| *t)
        .unwrap_or_else(|| panic!("locales/{code}.ftl is built in"))
}

#[test]
fn every_catalogue_holds_every_message_with_its_placeholders() {
    let codes: Vec<&str> = i18n::sources().iter().map(|(c, _)| *c).collect();
    assert!(codes.contains(&"id") && codes.contains(&"en"), "{codes:?}");
    for (code, text) in i18n::sources() {
        let problems = i18n::check(text);
        assert!(
            problems.is_empty(),
            "locales/{code}.ftl:\n{}",
            problems.join("\n")
        );
    }
    i18n::init().expect("the built-in catalogues load");
}

#[test]
fn the_check_names_what_a_translator_got_wrong() {
    let en = source("en");
    // A message left out.
    let missing = en.replace("\nform-title = ", "\nform-titel = ");
    let p = i18n::check(&missing);
    assert!(
        p.iter().any(|p| p.contains("`form-title` is missing")),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|p| p.contains("`form-titel` is not a message")),
        "{p:?}"
    );
    // A placeholder dropped, and one invented.
    let dropped = en.replace("{ $max } characters\n", "many characters\n");
    let p = i18n::check(&dropped);
    assert!(
        p.iter()
            .any(|p| p.contains("`max-chars` uses no placeholder")),
        "{p:?}"
    );
    let invented = en.replace("\nsite-name = Bisik", "\nsite-name = Bisik { $who }");
    let p = i18n::check(&invented);
    assert!(
        p.iter().any(|p| p.contains("`site-name` uses { $who }")),
        "{p:?}"
    );
    // A syntax error.
    let broken = format!("{en}\nbroken = {{ $oops\n");
    assert!(!i18n::check(&broken).is_empty());
    // And a catalogue with a problem does not load: the start stops with the list.
    let leaked: &'static str = Box::leak(missing.into_boxed_str());
    let err = i18n::load(&[("id", source("id")), ("en", leaked)]).unwrap_err();
    assert!(
        err.to_string().contains("en.ftl: `form-title` is missing"),
        "{err}"
    );
}

#[test]
fn a_new_language_is_one_more_file() {
    // A translator copies en.ftl to xx.ftl and translates it (here: marks every value).
    let xx: String = source("en")
        .lines()
        .map(|l| {
            if l.starts_with("language-name = ") {
                "language-name = Xish".to_owned()
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(i18n::check(&xx).is_empty());
    let xx: &'static str = Box::leak(xx.into_boxed_str());
    let loaded = i18n::load(&[("xx", xx), ("en", source("en")), ("id", source("id"))]).unwrap();
    assert_eq!(loaded.len(), 3);
    // The default stays first, English second, the new language after them.
    assert_eq!(loaded.position("id"), Some(0));
    assert_eq!(loaded.position("en"), Some(1));
    assert_eq!(loaded.position("xx"), Some(2));
}

#[test]
fn placeholders_are_filled_and_plurals_follow_the_language() {
    let en = Lang::EN.texts();
    assert_eq!(
        en.extended_by.fill(&[("days", 5.into())]),
        "Deadline extended by 5 working days"
    );
    let one = en.not_escalated_notice.fill(&[("count", 1.into())]);
    assert!(one.contains("but one item that"), "{one}");
    let three = en.not_escalated_notice.fill(&[("count", 3.into())]);
    assert!(three.contains("but 3 items that"), "{three}");
    let id = Lang::ID.texts();
    let filled = id
        .closed_for_good
        .fill(&[("case", "BSK-2026-000123".into())]);
    assert!(filled.contains("BSK-2026-000123"), "{filled}");
    // No bidi isolation marks around filled-in values.
    assert!(!filled.contains('\u{2068}') && !filled.contains('\u{2069}'));
    assert_eq!(Lang::ID.name(), "Bahasa Indonesia");
    assert_eq!(Lang::EN.name(), "English");
    assert_eq!(Lang::from_code("en"), Some(Lang::EN));
    assert_eq!(Lang::from_code("fr"), None);
}
