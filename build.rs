//! `sqlx::migrate!` embeds `migrations/` at compile time, but cargo does not notice a new file
//! there by itself: without this a freshly added migration is silently left out of the binary.
//!
//! The message catalogues `locales/<code>.ftl` are embedded the same way: this lists the folder
//! (a translator adds a language by adding one file) into `$OUT_DIR/locales.rs`. Hand-written
//! rather than a crate such as `include_dir`, because those do not notice a *new* file without
//! a nightly compiler; this is a dozen lines.
// A build script reports a broken checkout by panicking: cargo shows the message.
#![allow(clippy::expect_used)]

use std::fmt::Write as _;

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=locales");
    let dir = std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"))
        .join("locales");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("locales/ is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "ftl"))
        .collect();
    files.sort();
    let mut out = String::from("const SOURCES: &[(&str, &str)] = &[\n");
    for f in files {
        println!("cargo:rerun-if-changed={}", f.display());
        let code = f
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("UTF-8 file name");
        writeln!(out, "    ({code:?}, include_str!({:?})),", f.display()).expect("a String");
    }
    out.push_str("];\n");
    let dest =
        std::path::Path::new(&std::env::var("OUT_DIR").expect("cargo sets it")).join("locales.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}
