//! Runs typage, the TypeScript age implementation (npm `age-encryption` 0.3.1), through
//! tests/support/typage.mjs: an independent implementation of the post-quantum recipient type.
//! Only the local filesystem is used.
//!
//! Needs `node` on the PATH and `BISIK_TEST_NODE_MODULES` naming a folder that holds
//! `node_modules/age-encryption`; `.ci/run` installs it into target/test-node and sets it. Without
//! them the tests that use it fail (they never pass silently).

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn node_modules() -> PathBuf {
    let dir = std::env::var_os("BISIK_TEST_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!(
                "BISIK_TEST_NODE_MODULES is not set: the typage interop tests need npm \
             `age-encryption@0.3.1` installed and named by it; run .ci/run (it installs it into \
             target/test-node and sets the variable)"
            )
        });
    assert!(
        dir.join("node_modules/age-encryption/package.json")
            .is_file(),
        "{} has no node_modules/age-encryption; run .ci/run (it installs age-encryption@0.3.1 \
         there)",
        dir.display()
    );
    dir
}

/// Runs the typage helper in `mode` (encrypt, decrypt, keygen) on `dir`; returns its output.
pub fn typage(mode: &str, dir: &Path) -> String {
    let base = node_modules();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/typage.mjs");
    let out = Command::new("node")
        .arg(&script)
        .arg(&base)
        .arg(mode)
        .arg(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `node` ({e}); the typage interop tests need Node.js: run .ci/run")
        });
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "typage {mode} failed: {}\n{stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("typage 0.3.1"), "{stdout}");
    stdout
}
