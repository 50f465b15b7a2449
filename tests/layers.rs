//! DESIGN §7, checked on the source: arrows point down only. SQL lives in `store/` alone; the
//! domain's nouns are named from `domain/`, never from `store/`, by every layer above it; the
//! domain is pure (it names no other part of Bisik but `crypto`, the one layer below it, as
//! DESIGN §7's arrows say) and `crypto` names none at all; the member's tools (client, desk) and the
//! wire types never reach into the server's `service/` or `store/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn src(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(rel)
}

/// Every line of the files under `dirs` (or the files themselves) naming one of `needles`.
fn offenders(dirs: &[&str], needles: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for d in dirs {
        let p = src(d);
        let files = if p.is_dir() { rust_files(&p) } else { vec![p] };
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                if needles.iter().any(|x| code.contains(x)) {
                    out.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
                }
            }
        }
    }
    out
}

#[test]
fn only_the_store_speaks_sql() {
    let above: Vec<String> = rust_files(&src(""))
        .into_iter()
        .filter(|p| !p.starts_with(src("store")))
        .map(|p| p.strip_prefix(src("")).unwrap().display().to_string())
        .collect();
    let above: Vec<&str> = above.iter().map(String::as_str).collect();
    assert_eq!(offenders(&above, &["sqlx::"]), Vec::<String>::new());
}

/// Everything above the domain, and what does I/O: neither the domain nor `crypto` names any.
const ABOVE_THE_DOMAIN: &[&str] = &[
    "crate::store",
    "crate::service",
    "crate::web",
    "crate::desk",
    "crate::client",
    "crate::cli",
    "crate::notify",
    "crate::config",
    "crate::server",
    "sqlx",
    "tokio",
];

#[test]
fn the_domain_is_pure() {
    let found = offenders(&["domain"], ABOVE_THE_DOMAIN);
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn crypto_is_the_bottom_layer() {
    let mut needles = ABOVE_THE_DOMAIN.to_vec();
    needles.push("crate::domain");
    let found = offenders(&["crypto"], &needles);
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn layers_above_name_the_domain_not_the_store() {
    // The web layer, the notifiers, the member's tools and the wire types reach data through
    // `service` (server side) or the API (member side); the nouns they share are the domain's.
    let found = offenders(
        &["web", "notify", "desk", "client", "api.rs"],
        &["crate::store"],
    );
    assert_eq!(found, Vec::<String>::new());
    let found = offenders(&["desk", "client", "api.rs", "crypto"], &["crate::service"]);
    assert_eq!(found, Vec::<String>::new());
}
