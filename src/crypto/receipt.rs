//! Receipt codes: the citizen's only key to their case.
//!
//! 24 decimal digits shown as six groups of four (`4821-0937-5512-8830-1274-9921`). The first 8
//! digits are a random *lookup id* (stored, unique) that finds the row; the last 16 digits are
//! the *secret* (about 53 bits from the OS RNG) that never leaves the request: it only feeds
//! Argon2id. Digits were chosen over words so the code survives being read over a phone, written
//! on paper, or typed on any keyboard.

use std::fmt;

use thiserror::Error;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Digits in a whole receipt.
pub const RECEIPT_DIGITS: usize = 24;
/// Digits of the lookup id at the front.
pub const LOOKUP_DIGITS: usize = 8;
/// Digits of the secret at the back.
pub const SECRET_DIGITS: usize = RECEIPT_DIGITS - LOOKUP_DIGITS;

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
    digits: [u8; RECEIPT_DIGITS],
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
}

impl Receipt {
    /// A new receipt for `lookup`, with a fresh secret from the OS RNG.
    pub fn generate(lookup: LookupId) -> Result<Self, getrandom::Error> {
        let secret = Zeroizing::new(uniform_below(SECRET_SPACE)?);
        let mut digits = [0u8; RECEIPT_DIGITS];
        write_digits(&mut digits[..LOOKUP_DIGITS], u64::from(lookup.0));
        write_digits(&mut digits[LOOKUP_DIGITS..], *secret);
        Ok(Self { digits })
    }

    /// The same secret under another lookup id (used when a random lookup id collides with an
    /// existing one: the secret, and so the derived key, stay valid).
    pub fn with_lookup(&self, lookup: LookupId) -> Self {
        let mut digits = self.digits;
        write_digits(&mut digits[..LOOKUP_DIGITS], u64::from(lookup.0));
        Self { digits }
    }

    /// Parses what a citizen typed: exactly 24 digits, with any spaces or dashes between them.
    pub fn parse(input: &str) -> Result<Self, ReceiptError> {
        let mut digits = [0u8; RECEIPT_DIGITS];
        let mut n = 0usize;
        for c in input.trim().chars() {
            match c {
                '0'..='9' => {
                    if n < RECEIPT_DIGITS {
                        digits[n] = c as u8;
                    }
                    n += 1;
                }
                ' ' | '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{a0}' | '\t' => {}
                _ => {
                    digits.zeroize();
                    return Err(ReceiptError::InvalidCharacter);
                }
            }
        }
        let result = match n {
            0 => Err(ReceiptError::Empty),
            n if n < RECEIPT_DIGITS => Err(ReceiptError::TooShort),
            n if n > RECEIPT_DIGITS => Err(ReceiptError::TooLong),
            _ => return Ok(Self { digits }),
        };
        digits.zeroize();
        result
    }

    /// The lookup id (first 8 digits).
    pub fn lookup(&self) -> LookupId {
        let mut v = 0u32;
        for d in &self.digits[..LOOKUP_DIGITS] {
            v = v * 10 + u32::from(d - b'0');
        }
        LookupId(v)
    }

    /// The secret digits: the only input to Argon2id. Borrowed, never copied out unwiped.
    pub fn secret(&self) -> &[u8] {
        &self.digits[LOOKUP_DIGITS..]
    }

    /// The display form, `dddd-dddd-dddd-dddd-dddd-dddd`, in a buffer wiped on drop.
    pub fn display(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::with_capacity(RECEIPT_DIGITS + 5));
        for (i, d) in self.digits.iter().enumerate() {
            if i > 0 && i % 4 == 0 {
                out.push('-');
            }
            out.push(char::from(*d));
        }
        out
    }
}

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

    #[test]
    fn generated_receipts_have_the_documented_shape() {
        let lookup = LookupId::from_u32(4821_0937).unwrap();
        let r = Receipt::generate(lookup).unwrap();
        let shown = r.display();
        assert_eq!(shown.len(), 29);
        assert!(shown.starts_with("4821-0937-"));
        assert_eq!(shown.split('-').count(), 6);
        assert!(
            shown
                .split('-')
                .all(|g| g.len() == 4 && g.bytes().all(|b| b.is_ascii_digit()))
        );
        assert_eq!(r.lookup(), lookup);
        assert_eq!(r.secret().len(), 16);
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
        let canonical = "4821-0937-5512-8830-1274-9921";
        for input in [
            canonical,
            "482109375512883012749921",
            " 4821 0937 5512 8830 1274 9921 ",
            "4821-0937 5512--8830-12749921",
        ] {
            let r = Receipt::parse(input).unwrap();
            assert_eq!(r.display().as_str(), canonical, "{input}");
        }
        assert_eq!(Receipt::parse("").unwrap_err(), ReceiptError::Empty);
        assert_eq!(Receipt::parse(" - ").unwrap_err(), ReceiptError::Empty);
        assert_eq!(
            Receipt::parse("4821-0937-5512-8830-1274-992O").unwrap_err(),
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
            Receipt::parse("4821-0937-5512-8830-1274-9921-1").unwrap_err(),
            ReceiptError::TooLong
        );
        assert_eq!(
            Receipt::parse("٤٨٢١").unwrap_err(),
            ReceiptError::InvalidCharacter
        );
    }

    #[test]
    fn debug_is_redacted() {
        let r = Receipt::parse("4821-0937-5512-8830-1274-9921").unwrap();
        assert_eq!(format!("{r:?}"), "Receipt(<redacted>)");
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(lookup in 0u32..100_000_000, seed in any::<u64>()) {
            let mut digits = [0u8; RECEIPT_DIGITS];
            write_digits(&mut digits[..LOOKUP_DIGITS], u64::from(lookup));
            write_digits(&mut digits[LOOKUP_DIGITS..], seed % SECRET_SPACE);
            let r = Receipt { digits };
            let shown = r.display();
            let back = Receipt::parse(&shown).unwrap();
            prop_assert_eq!(back.digits, r.digits);
            prop_assert_eq!(back.lookup().as_u32(), lookup);
            let squashed: String = shown.chars().filter(|c| *c != '-').collect();
            prop_assert_eq!(Receipt::parse(&squashed).unwrap().digits, r.digits);
        }

        #[test]
        fn anything_with_a_foreign_character_is_rejected(s in "[0-9 -]{0,30}[a-zA-Z_.,/+][0-9 -]{0,30}") {
            prop_assert_eq!(Receipt::parse(&s).unwrap_err(), ReceiptError::InvalidCharacter);
        }

        #[test]
        fn arbitrary_text_parses_or_names_its_problem(s in any::<String>()) {
            // No panic; and whatever is accepted is exactly 24 digits once separators go.
            if let Ok(r) = Receipt::parse(&s) {
                let digits: String = s.chars().filter(char::is_ascii_digit).collect();
                prop_assert_eq!(digits.len(), RECEIPT_DIGITS);
                prop_assert_eq!(r.display().replace('-', ""), digits);
            }
        }

        #[test]
        fn wrong_digit_counts_are_rejected(n in 1usize..60) {
            let s = "7".repeat(n);
            let r = Receipt::parse(&s);
            match n.cmp(&RECEIPT_DIGITS) {
                std::cmp::Ordering::Less => prop_assert_eq!(r.unwrap_err(), ReceiptError::TooShort),
                std::cmp::Ordering::Greater => prop_assert_eq!(r.unwrap_err(), ReceiptError::TooLong),
                std::cmp::Ordering::Equal => prop_assert!(r.is_ok()),
            }
        }
    }
}
