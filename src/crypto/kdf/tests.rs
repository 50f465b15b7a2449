use super::*;
use age::secrecy::ExposeSecret;

const CHEAP: KdfParams = KdfParams {
    memory_kib: 256,
    iterations: 1,
    parallelism: 1,
};

#[test]
fn derivation_is_deterministic_and_salted() {
    let salt = [7u8; SALT_LEN];
    let a = derive_reporter_identity(b"1234567890123456", &salt, &CHEAP).unwrap();
    let b = derive_reporter_identity(b"1234567890123456", &salt, &CHEAP).unwrap();
    assert_eq!(a.to_public().to_string(), b.to_public().to_string());
    let other_salt =
        derive_reporter_identity(b"1234567890123456", &[8u8; SALT_LEN], &CHEAP).unwrap();
    assert_ne!(
        a.to_public().to_string(),
        other_salt.to_public().to_string()
    );
    let other_secret = derive_reporter_identity(b"1234567890123457", &salt, &CHEAP).unwrap();
    assert_ne!(
        a.to_public().to_string(),
        other_secret.to_public().to_string()
    );
    assert!(
        a.classic()
            .to_string()
            .expose_secret()
            .starts_with(crate::crypto::SECRET_KEY_PREFIX)
    );
}

#[test]
fn production_parameters_derive_a_working_identity() {
    // The real 64 MiB / t=3 cost, so tests never silently rely only on cheap parameters.
    let params = KdfParams::default();
    params.validate().unwrap();
    let salt = new_salt().unwrap();
    let id = derive_reporter_identity(b"9999888877776666", &salt, &params).unwrap();
    let sealed = age::encrypt(&id.to_public(), b"hello").unwrap();
    assert_eq!(age::decrypt(&id, &sealed).unwrap(), b"hello");
    let sealed = age::encrypt(&id.pq_public(), b"hello pq").unwrap();
    assert_eq!(age::decrypt(&id, &sealed).unwrap(), b"hello pq");
}

#[test]
fn known_answer_pins_the_construction() {
    // Pins argon2id + HKDF label + scalar encoding: if this changes, every existing receipt
    // stops opening its case.
    let id = derive_reporter_identity(b"0000000000000000", &[0u8; SALT_LEN], &CHEAP).unwrap();
    let recipient = id.to_public().to_string();
    assert!(recipient.starts_with("age1"));
    assert_eq!(recipient, KAT_RECIPIENT, "derivation changed");
    assert_eq!(
        id.post_quantum().to_string().expose_secret(),
        KAT_PQ_IDENTITY_TEST_FIXTURE.trim(),
        "post-quantum derivation changed"
    );
    assert_eq!(
        id.pq_public(),
        KAT_PQ_IDENTITY_TEST_FIXTURE
            .trim()
            .parse::<HybridIdentity>()
            .unwrap()
            .to_public()
    );
}

/// The post-quantum identity of the all-zero test receipt above (a test fixture: nothing
/// real is sealed to it), computed by the same script (`tests/kat/reporter_key_kat.py`).
const KAT_PQ_IDENTITY_TEST_FIXTURE: &str =
    include_str!("../../../tests/kat/reporter_pq_identity_test_fixture.txt");

/// Computed independently of this code (Python `argon2-cffi` + `cryptography` + a reference
/// bech32) by `tests/kat/reporter_key_kat.py`.
const KAT_RECIPIENT: &str = "age1vjz2vgsw6jgvrv4pv73yajzleay2r5wg44fdckwx50szuatnh5qsfehxnv";

/// The same Argon2id tag as the previous implementation (RustCrypto `argon2`, scalar), which
/// derived every stored case's key.
fn previous_stretch(secret: &[u8], salt: &[u8], p: &KdfParams) -> [u8; 32] {
    let params = argon2::Params::new(p.memory_kib, p.iterations, p.parallelism, Some(32)).unwrap();
    let mut out = [0u8; 32];
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password_into(secret, salt, &mut out)
        .unwrap();
    out
}

#[test]
fn production_parameters_match_the_previous_implementation() {
    let params = KdfParams::default();
    let salt = [0x5au8; SALT_LEN];
    let now = stretch(None, b"4821736950142386", &salt, &params).unwrap();
    assert_eq!(
        *now,
        previous_stretch(b"4821736950142386", &salt, &params),
        "Argon2id output changed at the production parameters ({})",
        implementation()
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
    /// Any secret, salt and parameters (odd memory sizes, several lanes included): the
    /// SIMD implementation gives exactly the previous one's bytes.
    #[test]
    fn any_input_matches_the_previous_implementation(
        secret in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
        salt in proptest::collection::vec(proptest::prelude::any::<u8>(), 8..40),
        parallelism in 1u32..=4,
        extra_kib in 0u32..300,
        iterations in 1u32..=3,
    ) {
        let params = KdfParams {
            memory_kib: 8 * parallelism + extra_kib,
            iterations,
            parallelism,
        };
        let previous = previous_stretch(&secret, &salt, &params);
        let now = stretch(None, &secret, &salt, &params).unwrap();
        proptest::prop_assert_eq!(*now, previous);
        // Reused memory (grown, then shrunk back for the next case) gives the same bytes.
        let mut scratch = Scratch::new();
        stretch(Some(&mut scratch), b"another secret", &salt, &KdfParams { memory_kib: 512, ..params }).unwrap();
        let reused = stretch(Some(&mut scratch), &secret, &salt, &params).unwrap();
        proptest::prop_assert_eq!(*reused, previous);
    }
}

/// The SIMD backend really is in use where the CPU has one, and a run that names the
/// backend it expects (`BISIK_EXPECT_KDF_BACKEND`, set by CI when it runs these tests on an
/// emulated CPU without AVX2) gets that one: the fallback path is tested, not assumed.
#[test]
fn the_backend_follows_the_cpu() {
    let backend = argon2_rust::detected_backend();
    eprintln!("{}", implementation());
    if let Ok(expected) = std::env::var("BISIK_EXPECT_KDF_BACKEND") {
        assert_eq!(backend.name(), expected, "{}", implementation());
    }
    #[cfg(target_arch = "x86_64")]
    {
        let expected = if std::arch::is_x86_feature_detected!("avx512f") {
            "avx512"
        } else if std::arch::is_x86_feature_detected!("avx2") {
            "avx2"
        } else {
            "sse2"
        };
        assert_eq!(backend.name(), expected, "{}", implementation());
    }
}

#[test]
fn reused_memory_derives_the_same_identity() {
    let mut scratch = Scratch::new();
    assert_eq!(scratch.reserved_kib(), 0);
    let salt = [0u8; SALT_LEN];
    for _ in 0..2 {
        let id = derive_reporter_identity_with(&mut scratch, b"0000000000000000", &salt, &CHEAP)
            .unwrap();
        assert_eq!(id.to_public().to_string(), KAT_RECIPIENT);
        assert_eq!(
            scratch.reserved_kib(),
            256,
            "the memory is kept for the next one"
        );
    }
}

#[test]
fn the_reported_version_is_the_locked_one() {
    let lock = include_str!("../../../Cargo.lock");
    let entry = format!("name = \"argon2-rust\"\nversion = \"{ARGON2_RUST_VERSION}\"");
    assert!(lock.contains(&entry), "update ARGON2_RUST_VERSION");
    let manifest = include_str!("../../../Cargo.toml");
    assert!(
        manifest.contains(&format!(
            "argon2-rust = {{ version = \"={ARGON2_RUST_VERSION}\""
        )),
        "argon2-rust must stay pinned to the reviewed version (docs/argon2-review.md)"
    );
}

#[test]
#[cfg(target_os = "linux")]
fn the_derivation_memory_is_wiped_when_it_returns() {
    // Argon2's blocks are computed from the receipt secret: none may outlive the
    // derivation, in freed memory or in memory kept for the next one. `argon2-rust` owns
    // that memory, so the whole process is searched (/proc/self/mem) for Argon2's final
    // block, computed apart (RustCrypto `argon2`, memory of its own).
    let (secret, salt) = (b"wipe-test-secret", new_salt().unwrap());
    let residue = test_support::FinalBlock::of(secret, &salt, &CHEAP);
    // One-shot: the memory is freed (after the wipe).
    let id = derive_reporter_identity(secret, &salt, &CHEAP).unwrap();
    let expected = id.to_public().to_string();
    assert_eq!(
        residue.words_in_process(),
        0,
        "freed derivation memory not wiped"
    );
    // 256 KiB may be mapped apart and unmapped when freed (glibc decides); 64 KiB comes
    // from the heap, where freed memory stays readable: it must be wiped before it is freed.
    let small = KdfParams {
        memory_kib: 64,
        ..CHEAP
    };
    let residue_small = test_support::FinalBlock::of(secret, &salt, &small);
    derive_reporter_identity(secret, &salt, &small).unwrap();
    assert_eq!(
        residue_small.words_in_process(),
        0,
        "freed heap memory not wiped"
    );
    // Kept: the memory stays allocated for the next derivation, wiped.
    let mut scratch = Scratch::new();
    for _ in 0..2 {
        let id = derive_reporter_identity_with(&mut scratch, secret, &salt, &CHEAP).unwrap();
        assert_eq!(id.to_public().to_string(), expected);
    }
    assert_eq!(scratch.reserved_kib(), 256);
    assert_eq!(
        residue.words_in_process(),
        0,
        "kept derivation memory not wiped"
    );
    // Failures leave nothing either (refused before any block is written).
    assert!(derive_reporter_identity_with(&mut scratch, secret, b"short", &CHEAP).is_err());
    assert!(
        derive_reporter_identity(
            secret,
            &salt,
            &KdfParams {
                memory_kib: 1,
                ..CHEAP
            }
        )
        .is_err()
    );
    assert_eq!(residue.words_in_process(), 0);
    drop(scratch);
    assert_eq!(residue.words_in_process(), 0);
}

/// The derivation's call stack, read from another thread (`/proc/self/mem`) while the
/// deriving thread waits without calling anything: (any word of Argon2's final block found,
/// the Argon2 output found, the reporter's secret scalar found). `reuse`: the derivation
/// runs in kept memory (`Scratch`), as in the server's pool.
#[cfg(target_os = "linux")]
fn stack_residue_after_a_derivation(params: KdfParams, reuse: bool) -> (usize, bool, bool) {
    use std::io::{Read, Seek, SeekFrom};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    let (secret, salt) = (b"0000000000000000", [0u8; SALT_LEN]);
    // Argon2's final block and output, computed independently (RustCrypto `argon2`, in
    // memory of our own we can read).
    let a = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            Some(32),
        )
        .unwrap(),
    );
    let mut memory = vec![argon2::Block::default(); a.params().block_count()];
    let mut tag = [0u8; 32];
    a.hash_password_into_with_memory(secret, &salt, &mut tag, &mut memory)
        .unwrap();
    let last: Vec<u64> = memory[memory.len() - 1]
        .as_ref()
        .iter()
        .copied()
        .filter(|w| *w != 0)
        .collect();

    let sp = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(AtomicBool::new(false));
    let (sp2, release2) = (sp.clone(), release.clone());
    let worker = std::thread::spawn(move || {
        let mut scratch = Scratch::new();
        let id = if reuse {
            derive_reporter_identity_with(&mut scratch, secret, &salt, &params).unwrap()
        } else {
            derive_reporter_identity(secret, &salt, &params).unwrap()
        };
        let marker = 0u8;
        sp2.store(std::ptr::addr_of!(marker) as usize, Ordering::SeqCst);
        // Wait without a call, so no frame overwrites what the derivation left.
        while !release2.load(Ordering::SeqCst) {
            std::hint::spin_loop();
        }
        (id, scratch)
    });
    while sp.load(Ordering::SeqCst) == 0 {
        std::thread::yield_now();
    }
    let top = sp.load(Ordering::SeqCst);
    let mut mem = std::fs::File::open("/proc/self/mem").unwrap();
    let mut stack = Vec::new();
    for page in (1..=64u64).rev() {
        let mut buf = vec![0u8; 4096];
        let at = (top as u64 & !4095) - page * 4096;
        if mem.seek(SeekFrom::Start(at)).is_ok() && mem.read_exact(&mut buf).is_ok() {
            stack.extend_from_slice(&buf);
        }
    }
    release.store(true, Ordering::SeqCst);
    let (id, _scratch) = worker.join().unwrap();
    assert!(
        stack.len() >= 32 * 4096,
        "could not read the thread's stack"
    );
    let words: std::collections::HashSet<u64> = stack
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let found = last.iter().filter(|w| words.contains(w)).count();
    let holds = |needle: &[u8]| stack.windows(needle.len()).any(|w| w == needle);
    let key_bytes = |text: age::secrecy::SecretString| {
        let (_, bytes) = bech32::decode(text.expose_secret()).unwrap();
        bytes
    };
    let scalar = key_bytes(id.classic().to_string());
    let seed = key_bytes(id.post_quantum().to_string());
    (found, holds(&tag), holds(&scalar) || holds(&seed))
}

#[test]
#[cfg(target_os = "linux")]
fn no_key_material_is_left_on_the_stack() {
    // Argon2's and BLAKE2b's working state (the final block, chaining values) and HKDF's
    // and bech32's copies of the key sit in stack frames the derivation leaves behind; from
    // them the reporter's key can be recomputed without any Argon2 work. They are
    // overwritten before the derivation returns, with fresh or kept memory alike.
    for reuse in [false, true] {
        let (words, tag, scalar) = stack_residue_after_a_derivation(CHEAP, reuse);
        assert_eq!(
            (words, tag, scalar),
            (0, false, false),
            "left on the stack (kept memory: {reuse}): {words} words of Argon2's final \
             block, the Argon2 output: {tag}, the reporter's secret scalar: {scalar}"
        );
    }
}

#[test]
fn recipient_comparison() {
    assert!(recipients_match("age1abc", "age1abc"));
    assert!(!recipients_match("age1abc", "age1abd"));
    assert!(!recipients_match("age1abc", "age1ab"));
}

#[test]
fn bad_params_are_reported() {
    assert!(
        KdfParams {
            memory_kib: 1,
            iterations: 1,
            parallelism: 1
        }
        .validate()
        .is_err()
    );
}
