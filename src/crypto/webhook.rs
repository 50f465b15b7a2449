//! Standard Webhooks signatures (<https://www.standardwebhooks.com/>): HMAC-SHA256 over
//! `{webhook-id}.{webhook-timestamp}.{body}`, keyed with the bytes of a `whsec_<base64>` secret,
//! written as `v1,<base64>`. Several secrets give several space-separated signatures, so a
//! receiver can rotate its secret without losing a delivery. Pure: no I/O.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

/// A webhook signing secret (the bytes after `whsec_`, base64-decoded). Never printed.
#[derive(Clone)]
pub struct WebhookSecret(Zeroizing<Vec<u8>>);

crate::redacted_debug!(WebhookSecret);

impl WebhookSecret {
    /// Parses `whsec_<base64>` (surrounding whitespace ignored). The key must be 24 to 64
    /// bytes, as the specification asks.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let body = text
            .trim()
            .strip_prefix("whsec_")
            .ok_or("a webhook secret must start with whsec_")?;
        let bytes = Zeroizing::new(
            STANDARD
                .decode(body)
                .map_err(|_| "the part after whsec_ is not base64")?,
        );
        if !(24..=64).contains(&bytes.len()) {
            return Err("a webhook secret must hold 24 to 64 bytes");
        }
        Ok(Self(bytes))
    }

    /// The secret as it is written in a file (`whsec_<base64>`), e.g. for a test or a demo.
    pub fn encoded(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("whsec_{}", STANDARD.encode(&self.0[..])))
    }

    /// A secret from raw bytes (24 to 64).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, &'static str> {
        Self::parse(&format!("whsec_{}", STANDARD.encode(bytes)))
    }

    /// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(m) => m,
            // HMAC takes a key of any length.
            Err(_) => return String::new(),
        };
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

/// The `webhook-signature` header: one `v1,…` per secret, the signing one first.
pub fn signature_header(
    secrets: &[WebhookSecret],
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .map(|s| s.sign(id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether one of the signatures in a `webhook-signature` header is `secret`'s (constant-time
/// comparison). What a receiver does; used by the tests and documented in docs/integration.md.
pub fn verify(secret: &WebhookSecret, id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
    let expected = secret.sign(id, timestamp, body);
    header.split(' ').any(|sig| {
        sig.len() == expected.len()
            && subtle::ConstantTimeEq::ct_eq(sig.as_bytes(), expected.as_bytes()).into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_webhooks_reference_vector() {
        // The example of the Standard Webhooks reference libraries.
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        let header = signature_header(
            std::slice::from_ref(&secret),
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            body,
        );
        assert!(verify(
            &secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            body,
            &header
        ));
        assert!(!verify(
            &secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265331,
            body,
            &header
        ));
    }

    #[test]
    fn bad_secrets_are_refused_and_never_printed() {
        assert!(WebhookSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
        assert!(WebhookSecret::parse("whsec_!!!").is_err());
        assert!(WebhookSecret::parse("whsec_YWJj").is_err());
        let s = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert!(!format!("{s:?}").contains("MfKQ"));
    }
}
