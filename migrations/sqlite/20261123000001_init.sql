-- Bisik schema, version 1 (SQLite).
--
-- Rules this schema keeps (DESIGN section 2):
-- * no column holds report text, identity or message plaintext: only age envelopes (BLOB);
-- * no IP address, user agent or receipt code; only the receipt's lookup id and what is needed
--   to check its secret (salt, Argon2id parameters, the derived *public* recipient);
-- * events caused by a citizen carry a UTC day, never a time of day;
-- * no table numbers rows across cases: cases are keyed by a random id, messages and events by
--   (case, sequence within the case), all WITHOUT ROWID, so neither ids nor physical order say
--   in which order reports or messages arrived.

CREATE TABLE cases (
    id                 TEXT PRIMARY KEY NOT NULL,
    lookup_id          INTEGER NOT NULL UNIQUE CHECK (lookup_id BETWEEN 0 AND 99999999),
    institution        TEXT NOT NULL,
    kind               TEXT NOT NULL,
    category           TEXT,
    privacy            TEXT NOT NULL CHECK (privacy IN ('anonymous', 'confidential')),
    state              TEXT NOT NULL,
    received_on        TEXT NOT NULL,           -- YYYY-MM-DD, UTC
    kdf_salt           BLOB NOT NULL,
    kdf_memory_kib     INTEGER NOT NULL,
    kdf_iterations     INTEGER NOT NULL,
    kdf_parallelism    INTEGER NOT NULL,
    reporter_recipient TEXT NOT NULL,           -- age1… derived from the receipt secret
    content            BLOB NOT NULL            -- age envelope: institution readers + reporter
) WITHOUT ROWID;

CREATE INDEX cases_by_institution ON cases (institution, received_on);

-- A confidential reporter's identity: its own table, its own envelope, sealed to the
-- institution's custodians and the reporter only.
CREATE TABLE identities (
    case_id  TEXT PRIMARY KEY NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    envelope BLOB NOT NULL
) WITHOUT ROWID;

-- Messages on a case, each an envelope to the institution's readers and the reporter.
CREATE TABLE messages (
    case_id      TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,              -- 1, 2, … within the case
    author       TEXT NOT NULL,                 -- 'reporter' or 'member:<institution>/<handle>'
    written_on   TEXT NOT NULL,                 -- YYYY-MM-DD, UTC
    client_nonce BLOB,                          -- makes a re-sent form idempotent
    envelope     BLOB NOT NULL,
    PRIMARY KEY (case_id, seq),
    UNIQUE (case_id, client_nonce)
) WITHOUT ROWID;

-- The case's history, by day.
CREATE TABLE events (
    case_id         TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,           -- 1, 2, … within the case
    day             TEXT NOT NULL,
    actor           TEXT NOT NULL,
    state           TEXT NOT NULL,
    -- The reason the citizen is owed (on_hold, archived, …): an envelope like a message,
    -- sealed by the member's own machine to the institution's readers and the reporter.
    reason_envelope BLOB,
    PRIMARY KEY (case_id, seq)
) WITHOUT ROWID;

-- Free-form labels triage puts on a case (classification).
CREATE TABLE case_tags (
    case_id TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    tag     TEXT NOT NULL,
    PRIMARY KEY (case_id, tag)
) WITHOUT ROWID;

-- Member login: a challenge encrypted to the member's recipient, stored as a digest.
CREATE TABLE challenges (
    id          TEXT PRIMARY KEY NOT NULL,
    member      TEXT NOT NULL,
    digest      BLOB NOT NULL,
    expires_at  INTEGER NOT NULL                -- unix seconds
) WITHOUT ROWID;

-- Member sessions, stored as the SHA-256 of the bearer token.
CREATE TABLE sessions (
    token_digest BLOB PRIMARY KEY NOT NULL,
    member       TEXT NOT NULL,
    expires_at   INTEGER NOT NULL
) WITHOUT ROWID;

-- Citizens' actions wait here, keyed by a random id, until their day is over; then they enter
-- the audit chain in random order, stamped with the day only. Appending them at once would
-- place them between timestamped member entries and so reveal their time of day.
CREATE TABLE audit_pending (
    id      TEXT PRIMARY KEY NOT NULL,
    day     TEXT NOT NULL,
    action  TEXT NOT NULL,
    case_id TEXT
) WITHOUT ROWID;

-- Tamper-evident log of member actions: each entry's hash covers the previous one.
CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,                   -- RFC 3339 UTC (members only; citizens: a day)
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    case_id    TEXT,
    prev_hash  BLOB NOT NULL,
    hash       BLOB NOT NULL
);
