//! Receipt codes: the citizen's only key to their case.
//!
//! 25 decimal digits shown as five groups of five (`48210-93755-12883-01274-99216`). The first
//! 8 digits are a random *lookup id* (stored, unique) that finds the row; the next 16 digits are
//! the *secret* (10^16 values, about 53.15 bits from the OS RNG) that never leaves the request:
//! it only feeds Argon2id. The last digit is a Damm check digit over the 24 before it: it
//! catches every single mistyped digit and every swap of two neighbouring digits, so such a typo
//! is answered at once ("check it") without any key derivation and without looking anything up
//! — it says nothing about whether a report exists. It adds no secret strength and takes none
//! away: anyone can compute it.
//!
//! Receipts handed out before the check digit have 24 digits (six groups of four). They are
//! still accepted exactly as before, and shown as before.
//!
//! Digits were chosen over words so the code survives being read over a phone, written on
//! paper, or typed on any keyboard.

use std::fmt;

use thiserror::Error;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Digits of the lookup id at the front.
pub const LOOKUP_DIGITS: usize = 8;
/// Digits of the secret after the lookup id.
pub const SECRET_DIGITS: usize = 16;
/// Digits of a receipt handed out before the check digit (lookup id + secret, nothing else).
pub const LEGACY_RECEIPT_DIGITS: usize = LOOKUP_DIGITS + SECRET_DIGITS;
/// Digits in a whole receipt as handed out now: lookup id, secret, check digit.
pub const RECEIPT_DIGITS: usize = LEGACY_RECEIPT_DIGITS + 1;

const LOOKUP_SPACE: u64 = 100_000_000; // 10^8
const SECRET_SPACE: u64 = 10_000_000_000_000_000; // 10^16, ~2^53.15

/// The 8-digit lookup id. Not secret by itself: it only says which row to check the secret
/// against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LookupId(u32);

impl LookupId {
    /// A fresh random lookup id.
    pub fn random() -> Result<Self, getrandom::Error> {
        Ok(Self(uniform_below(LOOKUP_SPACE)? as u32))
    }

    pub fn from_u32(v: u32) -> Option<Self> {
        (u64::from(v) < LOOKUP_SPACE).then_some(Self(v))
    }

    pub fn as_u32(self) -> u32 {
        self.0
    }
}

/// A whole receipt. Its `Debug` never shows the digits, and its memory is wiped on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Receipt {
    /// The lookup id then the secret, as ASCII digits. The check digit is not kept: it is
    /// computed from these whenever it is shown.
    digits: [u8; LEGACY_RECEIPT_DIGITS],
    /// Whether the receipt is shown with its check digit: every new one is; one typed in the
    /// old 24-digit form is shown back in that form.
    checked: bool,
}

impl fmt::Debug for Receipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Receipt(<redacted>)")
    }
}

/// Why a typed receipt was not accepted. Each maps to a clear message in the user's language.
#[derive(Debug, Clone, Copy, Error, PartialEq, Eq)]
pub enum ReceiptError {
    #[error("the receipt is empty")]
    Empty,
    #[error("the receipt may contain only digits, spaces and dashes")]
    InvalidCharacter,
    #[error("the receipt has too few digits")]
    TooShort,
    #[error("the receipt has too many digits")]
    TooLong,
    /// 25 digits whose check digit does not match: a typing mistake. Decided from the typed
    /// digits alone, so it says nothing about whether any report exists.
    #[error("the receipt has a typing mistake")]
    Mistyped,
}

impl Receipt {
    /// A new receipt for `lookup`, with a fresh secret from the OS RNG and a check digit.
    pub fn generate(lookup: LookupId) -> Result<Self, getrandom::Error> {
        let secret = Zeroizing::new(uniform_below(SECRET_SPACE)?);
        let mut r = Self {
            digits: [0u8; LEGACY_RECEIPT_DIGITS],
            checked: true,
        };
        write_digits(&mut r.digits[..LOOKUP_DIGITS], u64::from(lookup.0));
        write_digits(&mut r.digits[LOOKUP_DIGITS..], *secret);
        Ok(r)
    }

    /// The same secret under another lookup id (used when a random lookup id collides with an
    /// existing one: the secret, and so the derived key, stay valid). The check digit follows.
    pub fn with_lookup(&self, lookup: LookupId) -> Self {
        let mut r = self.clone();
        write_digits(&mut r.digits[..LOOKUP_DIGITS], u64::from(lookup.0));
        r
    }

    /// The same receipt in the old 24-digit form, without a check digit (receipts handed out
    /// before it existed look like this, and still open their case).
    pub fn without_check_digit(&self) -> Self {
        let mut r = self.clone();
        r.checked = false;
        r
    }

    /// The same receipt in the current 25-digit form, with its check digit.
    pub fn with_check_digit(&self) -> Self {
        let mut r = self.clone();
        r.checked = true;
        r
    }

    /// Whether this receipt is in the current form (typed, or to be shown, with a check digit).
    pub fn has_check_digit(&self) -> bool {
        self.checked
    }

    /// Parses what a citizen typed, with any spaces or dashes between the digits: 25 digits
    /// whose last one is the check digit (refused as [`ReceiptError::Mistyped`] when it does
    /// not match), or 24 digits, a receipt from before the check digit, taken as it is.
    pub fn parse(input: &str) -> Result<Self, ReceiptError> {
        let mut typed = Zeroizing::new([0u8; RECEIPT_DIGITS]);
        let mut n = 0usize;
        for c in input.trim().chars() {
            match c {
                '0'..='9' => {
                    if n < RECEIPT_DIGITS {
                        typed[n] = c as u8;
                    }
                    n += 1;
                }
                ' ' | '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{a0}' | '\t' => {}
                _ => return Err(ReceiptError::InvalidCharacter),
            }
        }
        match n {
            0 => Err(ReceiptError::Empty),
            n if n < LEGACY_RECEIPT_DIGITS => Err(ReceiptError::TooShort),
            n if n > RECEIPT_DIGITS => Err(ReceiptError::TooLong),
            n => {
                let checked = n == RECEIPT_DIGITS;
                // Over all 25 digits the Damm fold is 0 exactly when the check digit matches.
                if checked && damm(&typed[..]) != 0 {
                    return Err(ReceiptError::Mistyped);
                }
                let mut r = Self {
                    digits: [0u8; LEGACY_RECEIPT_DIGITS],
                    checked,
                };
                r.digits.copy_from_slice(&typed[..LEGACY_RECEIPT_DIGITS]);
                Ok(r)
            }
        }
    }

    /// The lookup id (first 8 digits).
    pub fn lookup(&self) -> LookupId {
        let mut v = 0u32;
        for d in &self.digits[..LOOKUP_DIGITS] {
            v = v * 10 + u32::from(d - b'0');
        }
        LookupId(v)
    }

    /// The secret digits: the only input to Argon2id. Borrowed, never copied out unwiped. The
    /// same 16 digits whether or not the receipt carries a check digit.
    pub fn secret(&self) -> &[u8] {
        &self.digits[LOOKUP_DIGITS..]
    }

    /// The display form, in a buffer wiped on drop: `ddddd-ddddd-ddddd-ddddd-ddddd` (25 digits,
    /// the last one the check digit), or `dddd-dddd-dddd-dddd-dddd-dddd` for a receipt typed in
    /// the old 24-digit form.
    pub fn display(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::with_capacity(RECEIPT_DIGITS + 6));
        let group = if self.checked { 5 } else { 4 };
        let check = Zeroizing::new(self.checked.then(|| b'0' + damm(&self.digits)));
        for (i, d) in self.digits.iter().chain(check.iter()).enumerate() {
            if i > 0 && i % group == 0 {
                out.push('-');
            }
            out.push(char::from(*d));
        }
        out
    }
}

/// The Damm check digit of ASCII digits `digits`; over digits that end with their own check
/// digit it is 0.
///
/// Hand-written rather than a dependency: the algorithm is one table lookup per digit, and the
/// only Rust crates for it are unmaintained single releases or pull in Python bindings; a
/// supply-chain dependency in the receipt path is not worth twenty lines. The table is the
/// weakly totally anti-symmetric quasigroup of order 10 from H. M. Damm (2004), as published
/// (e.g. on Wikipedia); with it every single-digit substitution and every swap of two
/// neighbouring digits changes the result (proved exhaustively in the tests below).
fn damm(digits: &[u8]) -> u8 {
    digits.iter().fold(0u8, |interim, d| {
        DAMM[usize::from(interim)][usize::from(d.wrapping_sub(b'0') % 10)]
    })
}

/// Damm's table (see [`damm`]): row = interim digit, column = next digit.
const DAMM: [[u8; 10]; 10] = [
    [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
    [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
    [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
    [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
    [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
    [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
    [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
    [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
    [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
    [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
];

fn write_digits(out: &mut [u8], mut v: u64) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// Uniform in `0..bound` by rejection sampling (no modulo bias).
fn uniform_below(bound: u64) -> Result<u64, getrandom::Error> {
    let zone = u64::MAX - (u64::MAX % bound);
    loop {
        let mut v = getrandom::u64()?;
        if v < zone {
            let r = v % bound;
            v.zeroize();
            return Ok(r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A receipt from a lookup id and a secret, with or without its check digit.
    fn receipt(lookup: u32, secret: u64, checked: bool) -> Receipt {
        let mut r = Receipt {
            digits: [0u8; LEGACY_RECEIPT_DIGITS],
            checked,
        };
        write_digits(&mut r.digits[..LOOKUP_DIGITS], u64::from(lookup));
        write_digits(&mut r.digits[LOOKUP_DIGITS..], secret % SECRET_SPACE);
        r
    }

    fn squashed(r: &Receipt) -> String {
        r.display().chars().filter(|c| *c != '-').collect()
    }

    #[test]
    fn generated_receipts_have_the_documented_shape() {
        let lookup = LookupId::from_u32(4821_0937).unwrap();
        let r = Receipt::generate(lookup).unwrap();
        let shown = r.display();
        assert_eq!(shown.len(), 29);
        assert!(shown.starts_with("48210-937"));
        assert_eq!(shown.split('-').count(), 5);
        assert!(
            shown
                .split('-')
                .all(|g| g.len() == 5 && g.bytes().all(|b| b.is_ascii_digit()))
        );
        assert!(r.has_check_digit());
        assert_eq!(
            damm(squashed(&r).as_bytes()),
            0,
            "the last digit checks the rest"
        );
        assert_eq!(r.lookup(), lookup);
        assert_eq!(r.secret().len(), SECRET_DIGITS);
        // The check digit follows a new lookup id.
        let moved = r.with_lookup(LookupId::from_u32(1).unwrap());
        assert!(moved.display().starts_with("00000-001"));
        assert_eq!(damm(squashed(&moved).as_bytes()), 0);
        assert_eq!(moved.secret(), r.secret());
    }

    /// 16 secret digits: 10^16 values, log2(10^16) = 53.15 bits, at least what it was before
    /// the check digit (which is computed from the rest and adds nothing secret).
    #[test]
    fn the_secret_keeps_its_strength() {
        assert_eq!(SECRET_DIGITS, 16);
        assert_eq!(SECRET_SPACE, 10u64.pow(SECRET_DIGITS as u32));
        assert!((SECRET_SPACE as f64).log2() >= 53.0);
        assert_eq!(RECEIPT_DIGITS, LOOKUP_DIGITS + SECRET_DIGITS + 1);
    }

    #[test]
    fn damm_matches_published_values() {
        // Known answers from the algorithm's description: 572 → 4, and 5724, 112946 are valid.
        assert_eq!(damm(b"572"), 4);
        assert_eq!(damm(b"5724"), 0);
        assert_eq!(damm(b"112946"), 0);
        assert_ne!(damm(b"112949"), 0);
        assert_eq!(damm(b"482109375512883012749921"), 6);
    }

    /// Exhaustive, over the table itself: from any interim digit, two different digits never
    /// lead to the same interim (so any single substitution is caught: the rest of the fold is
    /// a permutation), and `a b` never leads where `b a` does for a != b (so any swap of
    /// neighbours is caught, the check digit included).
    #[test]
    fn the_table_catches_every_substitution_and_neighbour_swap() {
        let step = |i: u8, d: u8| DAMM[usize::from(i)][usize::from(d)];
        for i in 0..10 {
            for a in 0..10 {
                for b in 0..10 {
                    if a != b {
                        assert_ne!(step(i, a), step(i, b), "substitution {a}->{b} after {i}");
                        assert_ne!(
                            step(step(i, a), b),
                            step(step(i, b), a),
                            "swap {a}{b} after {i}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn secrets_differ() {
        let lookup = LookupId::from_u32(1).unwrap();
        let a = Receipt::generate(lookup).unwrap();
        let b = Receipt::generate(lookup).unwrap();
        assert_ne!(a.secret(), b.secret());
    }

    #[test]
    fn parsing_accepts_spaces_and_dashes_only() {
        let canonical = "48210-93755-12883-01274-99216";
        for input in [
            canonical,
            "4821093755128830127499216",
            " 48210 93755 12883 01274 99216 ",
            "4821-0937 5512--8830-12749921 6",
        ] {
            let r = Receipt::parse(input).unwrap();
            assert!(r.has_check_digit());
            assert_eq!(r.display().as_str(), canonical, "{input}");
        }
        assert_eq!(Receipt::parse("").unwrap_err(), ReceiptError::Empty);
        assert_eq!(Receipt::parse(" - ").unwrap_err(), ReceiptError::Empty);
        assert_eq!(
            Receipt::parse("48210-93755-12883-01274-9921O").unwrap_err(),
            ReceiptError::InvalidCharacter
        );
        assert_eq!(
            Receipt::parse("abcd").unwrap_err(),
            ReceiptError::InvalidCharacter
        );
        assert_eq!(
            Receipt::parse("4821-0937-5512").unwrap_err(),
            ReceiptError::TooShort
        );
        assert_eq!(
            Receipt::parse("48210-93755-12883-01274-99216-1").unwrap_err(),
            ReceiptError::TooLong
        );
        assert_eq!(
            Receipt::parse("٤٨٢١").unwrap_err(),
            ReceiptError::InvalidCharacter
        );
        // One digit off, or two neighbours swapped: a typing mistake.
        assert_eq!(
            Receipt::parse("48210-93755-12883-01274-99217").unwrap_err(),
            ReceiptError::Mistyped
        );
        assert_eq!(
            Receipt::parse("48210-93755-12838-01274-99216").unwrap_err(),
            ReceiptError::Mistyped
        );
    }

    #[test]
    fn old_receipts_without_a_check_digit_parse_and_show_as_before() {
        let canonical = "4821-0937-5512-8830-1274-9921";
        for input in [
            canonical,
            "482109375512883012749921",
            " 4821 0937 5512 8830 1274 9921 ",
        ] {
            let r = Receipt::parse(input).unwrap();
            assert!(!r.has_check_digit());
            assert_eq!(r.display().as_str(), canonical, "{input}");
            assert_eq!(r.lookup().as_u32(), 4821_0937);
            assert_eq!(r.secret(), b"5512883012749921");
        }
        let old = Receipt::parse(canonical).unwrap();
        let new = Receipt::parse("48210-93755-12883-01274-99216").unwrap();
        assert_eq!(old.secret(), new.secret(), "the same key either way");
        assert_eq!(old.lookup(), new.lookup());
        assert_eq!(old.with_check_digit().display(), new.display());
        assert_eq!(new.without_check_digit().display(), old.display());
    }

    #[test]
    fn debug_is_redacted() {
        let r = Receipt::parse("48210-93755-12883-01274-99216").unwrap();
        assert_eq!(format!("{r:?}"), "Receipt(<redacted>)");
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(lookup in 0u32..100_000_000, seed in any::<u64>(), checked in any::<bool>()) {
            let r = receipt(lookup, seed, checked);
            let shown = r.display();
            let back = Receipt::parse(&shown).unwrap();
            prop_assert_eq!(back.digits, r.digits);
            prop_assert_eq!(back.checked, checked);
            prop_assert_eq!(back.lookup().as_u32(), lookup);
            let squashed = squashed(&r);
            prop_assert_eq!(squashed.len(), if checked { RECEIPT_DIGITS } else { LEGACY_RECEIPT_DIGITS });
            prop_assert_eq!(Receipt::parse(&squashed).unwrap().digits, r.digits);
        }

        /// Every single-digit substitution, anywhere in a new receipt (check digit included), is
        /// answered as a typing mistake.
        #[test]
        fn every_single_digit_substitution_is_caught(lookup in 0u32..100_000_000, seed in any::<u64>()) {
            let good: Vec<u8> = squashed(&receipt(lookup, seed, true)).into_bytes();
            for pos in 0..RECEIPT_DIGITS {
                for d in b'0'..=b'9' {
                    if d == good[pos] {
                        continue;
                    }
                    let mut typo = good.clone();
                    typo[pos] = d;
                    let typo = String::from_utf8(typo).unwrap();
                    prop_assert_eq!(Receipt::parse(&typo).unwrap_err(), ReceiptError::Mistyped, "{}", typo);
                }
            }
        }

        /// Every swap of two different neighbouring digits (the check digit included) is
        /// answered as a typing mistake, also when typed with the display's dashes.
        #[test]
        fn every_adjacent_transposition_is_caught(lookup in 0u32..100_000_000, seed in any::<u64>()) {
            let good: Vec<u8> = squashed(&receipt(lookup, seed, true)).into_bytes();
            for pos in 0..RECEIPT_DIGITS - 1 {
                if good[pos] == good[pos + 1] {
                    continue;
                }
                let mut typo = good.clone();
                typo.swap(pos, pos + 1);
                let typo = String::from_utf8(typo).unwrap();
                prop_assert_eq!(Receipt::parse(&typo).unwrap_err(), ReceiptError::Mistyped, "{}", &typo);
                let dashed: String = typo
                    .chars()
                    .enumerate()
                    .flat_map(|(i, c)| (i > 0 && i % 5 == 0).then_some('-').into_iter().chain([c]))
                    .collect();
                prop_assert_eq!(Receipt::parse(&dashed).unwrap_err(), ReceiptError::Mistyped);
            }
        }

        #[test]
        fn anything_with_a_foreign_character_is_rejected(s in "[0-9 -]{0,30}[a-zA-Z_.,/+][0-9 -]{0,30}") {
            prop_assert_eq!(Receipt::parse(&s).unwrap_err(), ReceiptError::InvalidCharacter);
        }

        #[test]
        fn arbitrary_text_parses_or_names_its_problem(s in any::<String>()) {
            // No panic; and whatever is accepted is exactly 24 digits, or 25 ending in their
            // check digit, once separators go.
            if let Ok(r) = Receipt::parse(&s) {
                let digits: String = s.chars().filter(char::is_ascii_digit).collect();
                prop_assert!(digits.len() == LEGACY_RECEIPT_DIGITS || digits.len() == RECEIPT_DIGITS);
                prop_assert_eq!(r.has_check_digit(), digits.len() == RECEIPT_DIGITS);
                prop_assert_eq!(r.display().replace('-', ""), digits);
            }
        }

        #[test]
        fn wrong_digit_counts_are_rejected(n in 1usize..60) {
            let s = "7".repeat(n);
            let r = Receipt::parse(&s);
            if n < LEGACY_RECEIPT_DIGITS {
                prop_assert_eq!(r.unwrap_err(), ReceiptError::TooShort);
            } else if n > RECEIPT_DIGITS {
                prop_assert_eq!(r.unwrap_err(), ReceiptError::TooLong);
            } else if n == LEGACY_RECEIPT_DIGITS {
                prop_assert!(r.is_ok());
            } else {
                // 25 sevens: the check digit of 24 sevens decides.
                prop_assert_eq!(r.is_ok(), damm(&[b'7'; RECEIPT_DIGITS]) == 0);
            }
        }
    }
}
