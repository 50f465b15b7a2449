//! The `bisik` binary allocates with mimalloc (BENCHMARKS Y; SECURITY.md "The allocator"):
//! mimalloc names itself on standard error when `MIMALLOC_VERBOSE` is set; glibc's allocator
//! ignores the variable.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[test]
fn the_binary_allocates_with_mimalloc() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bisik"))
        .arg("--version")
        .env("MIMALLOC_VERBOSE", "1")
        .output()
        .expect("bisik --version runs");
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("mimalloc: process init"),
        "not mimalloc's binary; standard error: {stderr}"
    );
}
