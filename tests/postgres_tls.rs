//! PostgreSQL over TLS with the password in a file (`[database] ca_file`, `password_file`),
//! against a cluster of this test's own that accepts nothing else: only `hostssl` on 127.0.0.1
//! with scram-sha-256 (`tests/support/pg_cluster.sh start-tls`). The store connects, migrates
//! and works; a wrong password, a certificate from another CA and a connection without TLS are
//! each refused; no error shows the password. PostgreSQL pass only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use std::process::Command;

use bisik::store::{PostgresOptions, Store};

const PASSWORD: &str = "pg-password-canary-41f7";

/// The cluster; stopped and removed when dropped.
struct TlsCluster {
    dir: PathBuf,
}

impl Drop for TlsCluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg("tests/support/pg_cluster.sh")
            .arg("stop")
            .arg(&self.dir)
            .status();
    }
}

fn options(port: u16, password_file: &Path, ca: &Path, query: &str) -> PostgresOptions {
    PostgresOptions {
        url: format!("postgres://postgres@127.0.0.1:{port}/postgres{query}"),
        password_file: Some(password_file.to_owned()),
        pool_size: 2,
        ca_file: Some(ca.to_owned()),
    }
}

fn without_password(e: &impl std::fmt::Debug, what: &str) -> String {
    let text = format!("{e:?}");
    assert!(!text.contains(PASSWORD), "{what}: the password in {text}");
    eprintln!("{what}: {text}");
    text
}

#[tokio::test]
async fn tls_with_a_password_file_and_nothing_else() {
    if !common::on_postgres() {
        eprintln!("PostgreSQL only (a cluster of its own): runs in the PostgreSQL pass");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let common::tls::TestCa { ca, cert, key } = common::tls::make_ca(tmp.path(), "server");
    let other_ca = common::tls::make_ca(tmp.path(), "other").ca;
    let password = tmp.path().join("password");
    std::fs::write(&password, format!("{PASSWORD}\n")).unwrap();
    let wrong = tmp.path().join("wrong-password");
    std::fs::write(&wrong, "not-the-password\n").unwrap();
    let port = common::free_port();
    let cluster = TlsCluster {
        dir: std::env::temp_dir().join(format!("bisik-pg-tls-{port}")),
    };
    let started = Command::new("bash")
        .arg("tests/support/pg_cluster.sh")
        .arg("start-tls")
        .arg(&cluster.dir)
        .arg(port.to_string())
        .args([&cert, &key, &password])
        .output()
        .unwrap();
    assert!(
        started.status.success(),
        "{}",
        String::from_utf8_lossy(&started.stderr)
    );

    // TLS verified against the CA, the password from its file: the store migrates and works.
    let store = Store::connect_postgres(&options(port, &password, &ca, ""))
        .await
        .unwrap();
    assert_eq!(store.backend(), bisik::store::Backend::Postgres);
    store
        .append_audit("2026-11-24T09:00:00Z", "member:health/dewi", "read", None)
        .await
        .unwrap();
    assert_eq!(store.audit_entries().await.unwrap().len(), 1);
    store.close().await;

    // A wrong password.
    let e = Store::connect_postgres(&options(port, &wrong, &ca, ""))
        .await
        .unwrap_err();
    let text = without_password(&e, "wrong password");
    assert!(text.contains("password"), "{text}");
    // A server certificate the configured CA did not sign.
    let e = Store::connect_postgres(&options(port, &password, &other_ca, ""))
        .await
        .unwrap_err();
    without_password(&e, "other CA");
    // No TLS at all (the URL asks for none; no CA file): the cluster accepts only TLS.
    let plain = PostgresOptions {
        ca_file: None,
        ..options(port, &password, &ca, "?sslmode=disable")
    };
    let e = Store::connect_postgres(&plain).await.unwrap_err();
    let text = without_password(&e, "no TLS");
    assert!(
        text.contains("pg_hba.conf") || text.contains("no encryption"),
        "{text}"
    );
    drop(cluster);
}
