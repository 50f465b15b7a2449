//! A test CA and a server certificate for 127.0.0.1 signed by it (rcgen), for the TLS tests:
//! the SMTP relay of the digest tests and the PostgreSQL cluster of tests/postgres_tls.rs.

use std::path::{Path, PathBuf};

/// PEM files in `dir`: the CA's certificate, and a certificate for 127.0.0.1 with its key.
pub struct TestCa {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A new CA and server certificate, written as `{name}-ca.pem`, `{name}-cert.pem` and
/// `{name}-key.pem` in `dir`.
pub fn make_ca(dir: &Path, name: &str) -> TestCa {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let out = TestCa {
        ca: dir.join(format!("{name}-ca.pem")),
        cert: dir.join(format!("{name}-cert.pem")),
        key: dir.join(format!("{name}-key.pem")),
    };
    std::fs::write(&out.ca, ca.pem()).unwrap();
    std::fs::write(&out.cert, cert.pem()).unwrap();
    std::fs::write(&out.key, key.serialize_pem()).unwrap();
    out
}
