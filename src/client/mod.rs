//! The member's side of the API, used by the CLI. It holds the member's age identity, answers
//! the login challenge, and decrypts envelopes locally: plaintext exists only on the member's
//! machine.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use age::x25519;
use serde::Serialize;
use serde::de::DeserializeOwned;
use thiserror::Error;
use zeroize::Zeroizing;

use crate::api::{
    CaseListResponse, CaseResponse, CaseSummaryJson, ChallengeRequest, ChallengeResponse,
    ErrorResponse, SessionRequest, SessionResponse,
};
use crate::crypto::{envelope, token};

#[derive(Debug, Error)]
pub enum ClientError {
    #[error("cannot read identity file {path}: {source}")]
    IdentityFile {
        path: String,
        source: std::io::Error,
    },
    #[error("{0} holds no age identity (the line that age-keygen writes)")]
    NoIdentity(String),
    #[error(
        "{0} is passphrase-protected; decrypt it with `age -d` first (prompting arrives with the login command)"
    )]
    Encrypted(String),
    #[error("cannot reach the server: {0}")]
    Transport(String),
    #[error("server answered {status}: {message}")]
    Server { status: u16, message: String },
    #[error("not logged in")]
    NotLoggedIn,
    #[error("the server's answer could not be read: {0}")]
    Decode(String),
    #[error("cannot decrypt: {0}")]
    Decrypt(#[from] envelope::EnvelopeError),
}

type Result<T> = std::result::Result<T, ClientError>;

/// Reads an age identity file (the format `age-keygen` writes).
pub fn read_identity(path: &Path) -> Result<x25519::Identity> {
    let shown = path.display().to_string();
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|source| {
        ClientError::IdentityFile {
            path: shown.clone(),
            source,
        }
    })?);
    if text.starts_with("age-encryption.org/") {
        return Err(ClientError::Encrypted(shown));
    }
    text.lines()
        .map(str::trim)
        .find(|l| l.starts_with(crate::crypto::SECRET_KEY_PREFIX))
        .and_then(|l| x25519::Identity::from_str(l).ok())
        .ok_or(ClientError::NoIdentity(shown))
}

/// A logged-in (or about to be) member.
pub struct Client {
    agent: ureq::Agent,
    base: String,
    identity: x25519::Identity,
    token: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub fn new(server: &str, identity: x25519::Identity) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(60)))
            .http_status_as_error(false)
            // No proxy from the environment: a member's traffic goes where they said, nowhere
            // else (an explicit Tor proxy option comes with the login command).
            .proxy(None)
            .build()
            .into();
        Self {
            agent,
            base: server.trim_end_matches('/').to_owned(),
            identity,
            token: None,
        }
    }

    pub fn identity(&self) -> &x25519::Identity {
        &self.identity
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    fn finish<T: DeserializeOwned>(
        res: std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<T> {
        let mut res = res.map_err(|e| ClientError::Transport(e.to_string()))?;
        let status = res.status().as_u16();
        if status >= 400 {
            let message = res
                .body_mut()
                .read_json::<ErrorResponse>()
                .map(|e| e.message)
                .unwrap_or_else(|_| "no details".into());
            return Err(ClientError::Server { status, message });
        }
        res.body_mut()
            .read_json::<T>()
            .map_err(|e| ClientError::Decode(e.to_string()))
    }

    fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        Self::finish(self.agent.post(&self.url(path)).send_json(body))
    }

    fn bearer(&self) -> Result<String> {
        self.token
            .as_ref()
            .map(|t| format!("Bearer {}", t.as_str()))
            .ok_or(ClientError::NotLoggedIn)
    }

    fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        Self::finish(
            self.agent
                .get(&self.url(path))
                .header("Authorization", &self.bearer()?)
                .call(),
        )
    }

    fn get_bytes(&self, path: &str) -> Result<Vec<u8>> {
        let mut res = self
            .agent
            .get(&self.url(path))
            .header("Authorization", &self.bearer()?)
            .call()
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        let status = res.status().as_u16();
        if status >= 400 {
            let message = res
                .body_mut()
                .read_json::<ErrorResponse>()
                .map(|e| e.message)
                .unwrap_or_default();
            return Err(ClientError::Server { status, message });
        }
        res.body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_vec()
            .map_err(|e| ClientError::Transport(e.to_string()))
    }

    /// Challenge–response login with the identity.
    pub fn login(&mut self) -> Result<SessionResponse> {
        let recipient = self.identity.to_public().to_string();
        let c: ChallengeResponse =
            self.post("/session/challenge", &ChallengeRequest { recipient })?;
        let sealed =
            token::decode(&c.challenge).ok_or_else(|| ClientError::Decode("challenge".into()))?;
        let secret = envelope::open(&self.identity, &sealed).map_err(|_| ClientError::Server {
            status: 401,
            message: "this identity is not a member of this server".into(),
        })?;
        let s: SessionResponse = self.post(
            "/session",
            &SessionRequest {
                challenge_id: c.challenge_id,
                response: token::encode(&secret),
            },
        )?;
        self.token = Some(Zeroizing::new(s.token.clone()));
        Ok(s)
    }

    pub fn list(&self, limit: u32, offset: u32) -> Result<Vec<CaseSummaryJson>> {
        let r: CaseListResponse =
            self.get_json(&format!("/cases?limit={limit}&offset={offset}"))?;
        Ok(r.cases)
    }

    pub fn case(&self, id: &str) -> Result<CaseResponse> {
        self.get_json(&format!("/cases/{}", path_segment(id)))
    }

    pub fn envelope(&self, id: &str) -> Result<Vec<u8>> {
        self.get_bytes(&format!("/cases/{}/envelope", path_segment(id)))
    }

    pub fn identity_envelope(&self, id: &str) -> Result<Vec<u8>> {
        self.get_bytes(&format!("/cases/{}/identity", path_segment(id)))
    }

    /// Decrypts an envelope with the member's identity and parses the JSON document inside.
    pub fn open_document<T: DeserializeOwned>(&self, sealed: &[u8]) -> Result<T> {
        let plain = envelope::open(&self.identity, sealed)?;
        serde_json::from_slice(&plain).map_err(|e| ClientError::Decode(e.to_string()))
    }
}

/// Keeps a typed id from changing the request path.
fn path_segment(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}
