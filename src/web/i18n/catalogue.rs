//! Message catalogues: one Fluent file per language in `locales/` (`id.ftl`, `en.ftl`, …),
//! embedded at build time (`build.rs` lists the folder, so a new file is picked up by the next
//! build) and parsed and checked once at start. A translator adds a language by adding one
//! file; `check` tells them what is missing or wrong before anyone sees a page.
//!
//! Placeables are not wrapped in Unicode isolation marks: every value the pages fill in is a
//! number, a day, a case number or an institution's name from the configuration, and the
//! marks would put invisible bidi controls into HTML that is otherwise free of them.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use fluent_syntax::ast;

use super::Lang;
use super::texts::{SPEC, Texts};

// `SOURCES: &[(&str, &str)]`: (language code, catalogue text), written by build.rs.
include!(concat!(env!("OUT_DIR"), "/locales.rs"));

/// The default language, first in every list.
pub const DEFAULT: &str = "id";
/// The second language every deployment carries.
pub const ENGLISH: &str = "en";

/// Which messages a catalogue must hold: generated from the `texts!` list.
#[derive(Debug)]
pub struct Spec {
    /// Plain messages: no placeholder.
    pub plain: &'static [&'static str],
    /// Messages with placeholders, and the placeholders each must use.
    pub args: &'static [(&'static str, &'static [&'static str])],
    /// Numbered lists: `home-safety-1`, `home-safety-2`, … (at least one).
    pub lists: &'static [&'static str],
    /// One message per slug: `state-received`, `state-verified`, …
    pub sets: &'static [(&'static str, &'static str, &'static [&'static str])],
}

/// A message id as written in the catalogue: `form_title` → `form-title`.
pub fn message_id(name: &str) -> String {
    name.replace('_', "-")
}

fn set_id(prefix: &str, slug: &str) -> String {
    format!("{prefix}-{}", message_id(slug))
}

/// One language, loaded.
pub struct Catalogue {
    pub code: &'static str,
    /// The language's own name, for the language links (`language-name`).
    pub name: &'static str,
    bundle: FluentBundle<FluentResource>,
    pub texts: Texts,
}

impl std::fmt::Debug for Catalogue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalogue")
            .field("code", &self.code)
            .finish_non_exhaustive()
    }
}

impl Catalogue {
    /// Formats message `id` with `args`; a placeholder the call does not fill shows its name.
    pub fn format(&self, id: &str, args: Option<&FluentArgs<'_>>) -> String {
        format(&self.bundle, id, args)
    }
}

fn format(
    bundle: &FluentBundle<FluentResource>,
    id: &str,
    args: Option<&FluentArgs<'_>>,
) -> String {
    let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
        return id.to_owned();
    };
    let mut errors = vec![];
    bundle
        .format_pattern(pattern, args, &mut errors)
        .into_owned()
}

/// Builds one language's [`Texts`] from its bundle. Each text is formatted once and kept for
/// the life of the process (catalogues are loaded once).
pub(super) struct Loading<'a> {
    bundle: &'a FluentBundle<FluentResource>,
    lang: Lang,
}

impl Loading<'_> {
    fn fixed(&self, id: &str) -> &'static str {
        Box::leak(format(self.bundle, id, None).into_boxed_str())
    }

    pub(super) fn plain(&self, name: &str) -> &'static str {
        self.fixed(&message_id(name))
    }

    pub(super) fn message(&self, name: &str) -> Message {
        Message {
            lang: self.lang,
            id: Box::leak(message_id(name).into_boxed_str()),
        }
    }

    pub(super) fn list(&self, name: &str) -> &'static [&'static str] {
        let base = message_id(name);
        let items: Vec<&'static str> = (1..)
            .map(|n| format!("{base}-{n}"))
            .take_while(|id| self.bundle.has_message(id))
            .map(|id| self.fixed(&id))
            .collect();
        Box::leak(items.into_boxed_slice())
    }

    pub(super) fn set(&self, prefix: &str, slugs: &[&str]) -> &'static [&'static str] {
        let items: Vec<&'static str> = slugs
            .iter()
            .map(|s| self.fixed(&set_id(prefix, s)))
            .collect();
        Box::leak(items.into_boxed_slice())
    }
}

/// A message with placeholders, filled in where it is shown.
#[derive(Debug, Clone, Copy)]
pub struct Message {
    lang: Lang,
    id: &'static str,
}

impl Message {
    /// The message with `args` (name, value) filled in.
    pub fn fill(&self, args: &[(&str, FluentValue<'_>)]) -> String {
        let mut a = FluentArgs::new();
        for (k, v) in args {
            a.set(*k, v.clone());
        }
        loaded().get(self.lang).format(self.id, Some(&a))
    }
}

/// Every loaded language: the default first, English second, then the rest by code.
#[derive(Debug)]
pub struct Catalogues(Vec<Catalogue>);

impl Catalogues {
    pub fn get(&self, lang: Lang) -> &Catalogue {
        self.0.get(lang.index()).unwrap_or(&self.0[0])
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn position(&self, code: &str) -> Option<usize> {
        self.0.iter().position(|c| c.code == code)
    }
}

static LOADED: OnceLock<Catalogues> = OnceLock::new();

/// The catalogues, loaded on first use. The server calls [`init`] at start, so a broken
/// catalogue stops the start with its problems listed instead of failing here.
pub fn loaded() -> &'static Catalogues {
    LOADED.get_or_init(|| load(SOURCES).unwrap_or_else(|e| panic!("{e}")))
}

/// Loads and checks every catalogue built into the binary.
pub fn init() -> Result<(), CatalogueError> {
    if LOADED.get().is_none() {
        let c = load(SOURCES)?;
        let _ = LOADED.set(c);
    }
    Ok(())
}

/// The catalogues built into this binary: (code, text).
pub fn sources() -> &'static [(&'static str, &'static str)] {
    SOURCES
}

#[derive(Debug, thiserror::Error)]
#[error("message catalogues in locales/ are not usable:\n{}", .0.join("\n"))]
pub struct CatalogueError(pub Vec<String>);

fn order(code: &str) -> (u8, &str) {
    match code {
        DEFAULT => (0, code),
        ENGLISH => (1, code),
        _ => (2, code),
    }
}

/// Parses, checks and loads `sources`; every problem of every file is listed at once.
pub fn load(sources: &[(&'static str, &'static str)]) -> Result<Catalogues, CatalogueError> {
    let mut sorted: Vec<_> = sources.to_vec();
    sorted.sort_by(|a, b| order(a.0).cmp(&order(b.0)));
    let mut problems = Vec::new();
    for (code, text) in &sorted {
        problems.extend(check(text).into_iter().map(|p| format!("{code}.ftl: {p}")));
    }
    if sorted.first().map(|s| s.0) != Some(DEFAULT) || !sorted.iter().any(|s| s.0 == ENGLISH) {
        problems.push(format!("{DEFAULT}.ftl and {ENGLISH}.ftl are required"));
    }
    if !problems.is_empty() {
        return Err(CatalogueError(problems));
    }
    let mut out = Vec::new();
    for (i, (code, text)) in sorted.into_iter().enumerate() {
        let lang_id = code
            .parse::<unic_langid::LanguageIdentifier>()
            .map_err(|e| CatalogueError(vec![format!("{code}.ftl: bad language code: {e}")]))?;
        let resource = FluentResource::try_new(text.to_owned())
            .map_err(|_| CatalogueError(vec![format!("{code}.ftl: does not parse")]))?;
        let mut bundle = FluentBundle::new_concurrent(vec![lang_id]);
        bundle.set_use_isolating(false);
        bundle
            .add_resource(resource)
            .map_err(|e| CatalogueError(vec![format!("{code}.ftl: {e:?}")]))?;
        let loading = Loading {
            bundle: &bundle,
            lang: Lang::at(i),
        };
        let name = loading.fixed("language-name");
        let texts = Texts::build(&loading);
        out.push(Catalogue {
            code,
            name,
            bundle,
            texts,
        });
    }
    Ok(Catalogues(out))
}

/// What is wrong with one catalogue's text: syntax errors, missing or unknown messages, and
/// placeholders that are missing, unknown or used where none is expected.
pub fn check(text: &str) -> Vec<String> {
    let resource = match fluent_syntax::parser::parse(text) {
        Ok(r) => r,
        Err((_, errors)) => {
            return errors
                .iter()
                .map(|e| format!("syntax error at byte {}: {:?}", e.pos.start, e.kind))
                .collect();
        }
    };
    let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut problems = Vec::new();
    for entry in &resource.body {
        if let ast::Entry::Message(m) = entry {
            if m.value.is_none() {
                problems.push(format!("`{}` has no value", m.id.name));
            }
            let mut vars = BTreeSet::new();
            if let Some(p) = &m.value {
                pattern_variables(p, &mut vars);
            }
            if found.insert(m.id.name.to_owned(), vars).is_some() {
                problems.push(format!("`{}` is defined twice", m.id.name));
            }
        }
    }
    let mut expected: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    expected.insert("language-name".into(), BTreeSet::new());
    for p in SPEC.plain {
        expected.insert(message_id(p), BTreeSet::new());
    }
    for (name, args) in SPEC.args {
        expected.insert(
            message_id(name),
            args.iter().map(|a| (*a).to_owned()).collect(),
        );
    }
    for (_, prefix, slugs) in SPEC.sets {
        for s in *slugs {
            expected.insert(set_id(prefix, s), BTreeSet::new());
        }
    }
    for list in SPEC.lists {
        let base = message_id(list);
        let n = (1..)
            .take_while(|n| found.contains_key(&format!("{base}-{n}")))
            .count();
        if n == 0 {
            problems.push(format!(
                "`{base}-1` is missing (a list needs at least one item)"
            ));
        }
        for i in 1..=n {
            expected.insert(format!("{base}-{i}"), BTreeSet::new());
        }
    }
    for (id, want) in &expected {
        match found.get(id) {
            None => problems.push(format!("`{id}` is missing")),
            Some(got) if got != want => problems.push(format!(
                "`{id}` uses {} but must use exactly {}",
                names(got),
                names(want)
            )),
            Some(_) => {}
        }
    }
    for id in found.keys() {
        if !expected.contains_key(id) {
            problems.push(format!("`{id}` is not a message the pages show"));
        }
    }
    problems
}

fn names(set: &BTreeSet<String>) -> String {
    if set.is_empty() {
        return "no placeholder".into();
    }
    set.iter()
        .map(|v| format!("{{ ${v} }}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn pattern_variables(p: &ast::Pattern<&str>, out: &mut BTreeSet<String>) {
    for el in &p.elements {
        if let ast::PatternElement::Placeable { expression } = el {
            expression_variables(expression, out);
        }
    }
}

fn expression_variables(e: &ast::Expression<&str>, out: &mut BTreeSet<String>) {
    match e {
        ast::Expression::Select { selector, variants } => {
            inline_variables(selector, out);
            for v in variants {
                pattern_variables(&v.value, out);
            }
        }
        ast::Expression::Inline(i) => inline_variables(i, out),
    }
}

fn inline_variables(e: &ast::InlineExpression<&str>, out: &mut BTreeSet<String>) {
    match e {
        ast::InlineExpression::VariableReference { id } => {
            out.insert(id.name.to_owned());
        }
        ast::InlineExpression::FunctionReference { arguments, .. } => {
            for a in &arguments.positional {
                inline_variables(a, out);
            }
            for a in &arguments.named {
                inline_variables(&a.value, out);
            }
        }
        ast::InlineExpression::TermReference {
            arguments: Some(arguments),
            ..
        } => {
            for a in &arguments.positional {
                inline_variables(a, out);
            }
            for a in &arguments.named {
                inline_variables(&a.value, out);
            }
        }
        ast::InlineExpression::Placeable { expression } => expression_variables(expression, out),
        _ => {}
    }
}
