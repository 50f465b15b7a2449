//! The C2SP CCTV age vectors for the post-quantum hybrid recipient type (`mlkem768x25519`),
//! decrypted with `bisik::crypto::pq::HybridIdentity` (and age's X25519 identity where a vector
//! lists one). Vectors: tests/vectors/cctv-hybrid/ (see its README.md). All 19 are run; the
//! armored one through age's `armor` feature (enabled for tests), the zlib-compressed ones are
//! inflated first (that is only how the vector file is stored).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::path::Path;

use age::DecryptError;
use bisik::crypto::pq::HybridIdentity;
use sha2::{Digest, Sha256};

struct Vector {
    expect: String,
    payload: Option<String>,
    identities: Vec<String>,
    armored: bool,
    file: Vec<u8>,
}

fn parse(path: &Path) -> Vector {
    let raw = std::fs::read(path).unwrap();
    let split = raw
        .windows(2)
        .position(|w| w == b"\n\n")
        .expect("header and body");
    let header = std::str::from_utf8(&raw[..split]).unwrap();
    let mut body = raw[split + 2..].to_vec();
    let mut v = Vector {
        expect: String::new(),
        payload: None,
        identities: vec![],
        armored: false,
        file: vec![],
    };
    let mut compressed = false;
    for line in header.lines() {
        let (k, val) = line.split_once(": ").expect("key: value");
        match k {
            "expect" => v.expect = val.to_owned(),
            "payload" => v.payload = Some(val.to_owned()),
            "identity" => v.identities.push(val.to_owned()),
            "armored" => v.armored = val == "yes",
            "compressed" => {
                assert_eq!(val, "zlib");
                compressed = true
            }
            "file key" | "comment" => {}
            other => panic!("{}: unknown header {other}", path.display()),
        }
    }
    if compressed {
        let mut out = vec![];
        flate2::read::ZlibDecoder::new(&body[..])
            .read_to_end(&mut out)
            .unwrap();
        body = out;
    }
    v.file = body;
    v
}

/// What happened, in CCTV's words.
fn outcome(v: &Vector) -> (String, Option<Vec<u8>>) {
    let mut ids: Vec<Box<dyn age::Identity>> = vec![];
    for s in &v.identities {
        if s.starts_with("AGE-SECRET-KEY-PQ-1") {
            ids.push(Box::new(s.parse::<HybridIdentity>().unwrap()));
        } else {
            ids.push(Box::new(s.parse::<age::x25519::Identity>().unwrap()));
        }
    }
    let input: Box<dyn Read> = if v.armored {
        Box::new(age::armor::ArmoredReader::new(&v.file[..]))
    } else {
        Box::new(&v.file[..])
    };
    let classify = |e: DecryptError| -> String {
        match e {
            DecryptError::NoMatchingKeys => "no match".into(),
            DecryptError::InvalidHeader => "header failure".into(),
            // age's own header parser refused the file before any identity saw a stanza (here:
            // `hybrid_not_canonical_body`, whose stanza body is non-canonical base64). age's
            // testkit (age 0.12.1 tests/testkit.rs) counts this as a header failure too.
            DecryptError::UnknownFormat => "header failure".into(),
            DecryptError::InvalidMac => "HMAC failure".into(),
            DecryptError::Io(e) => format!("io: {e}"),
            other => format!("other: {other:?}"),
        }
    };
    let dec = match age::Decryptor::new(input) {
        Ok(d) => d,
        Err(e) => return (classify(e), None),
    };
    let mut r = match dec.decrypt(ids.iter().map(|i| i.as_ref() as &dyn age::Identity)) {
        Ok(r) => r,
        Err(e) => return (classify(e), None),
    };
    let mut out = vec![];
    match r.read_to_end(&mut out) {
        Ok(_) => ("success".into(), Some(out)),
        Err(e) => (format!("payload failure: {e}"), None),
    }
}

#[test]
fn cctv_hybrid_vectors() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/cctv-hybrid");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "README.md")
        .collect();
    names.sort();
    assert_eq!(names.len(), 19, "{names:?}");
    let mut failures = vec![];
    for name in &names {
        let v = parse(&dir.join(name));
        assert!(
            ["success", "no match", "header failure"].contains(&v.expect.as_str()),
            "{name}: unexpected expectation {}",
            v.expect
        );
        let (got, payload) = outcome(&v);
        if got != v.expect {
            failures.push(format!("{name}: expected {}, got {got}", v.expect));
            continue;
        }
        if let Some(want) = &v.payload {
            let hash: String = Sha256::digest(payload.unwrap())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            if &hash != want {
                failures.push(format!("{name}: payload SHA-256 {hash}, expected {want}"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
