-- Bisik on PostgreSQL: the schema SQLite reaches through migrations/sqlite/ (up to
-- 20261202000021), in one step. Same tables, columns and keys; INTEGER is BIGINT, BLOB is BYTEA,
-- days stay 'YYYY-MM-DD' text so that both backends run the same SQL (src/store/dialect.rs).
-- A later change adds a migration here and one in migrations/sqlite/.

CREATE TABLE cases (
    id                    TEXT PRIMARY KEY NOT NULL,
    lookup_id             BIGINT NOT NULL UNIQUE CHECK (lookup_id BETWEEN 0 AND 99999999),
    institution           TEXT NOT NULL,
    kind                  TEXT NOT NULL,
    category              TEXT,
    privacy               TEXT NOT NULL CHECK (privacy IN ('anonymous', 'confidential')),
    state                 TEXT NOT NULL,
    received_on           TEXT NOT NULL,        -- YYYY-MM-DD, UTC
    kdf_salt              BYTEA NOT NULL,
    kdf_memory_kib        BIGINT NOT NULL,
    kdf_iterations        BIGINT NOT NULL,
    kdf_parallelism       BIGINT NOT NULL,
    reporter_recipient    TEXT NOT NULL,        -- age1… derived from the receipt secret
    content               BYTEA NOT NULL,       -- age envelope: institution readers + reporter
    state_since           TEXT,
    accepted_on           TEXT,
    due_on                TEXT,
    extended_days         BIGINT NOT NULL DEFAULT 0,
    escalated_on          TEXT,
    channel               TEXT NOT NULL DEFAULT 'web',
    first_answered_on     TEXT,
    answered_on_time      BIGINT,
    reporter_pq_recipient TEXT,
    sealed_kind           TEXT NOT NULL DEFAULT 'x25519'
        CHECK (sealed_kind IN ('x25519', 'mlkem768x25519'))
);

CREATE TABLE identities (
    case_id  TEXT PRIMARY KEY NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    envelope BYTEA NOT NULL
, holder TEXT);

CREATE TABLE messages (
    case_id      TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    seq          BIGINT NOT NULL,              -- 1, 2, … within the case
    author       TEXT NOT NULL,                 -- 'reporter' or 'member:<institution>/<handle>'
    written_on   TEXT NOT NULL,                 -- YYYY-MM-DD, UTC
    client_nonce BYTEA,                          -- makes a re-sent form idempotent
    envelope     BYTEA NOT NULL,
    PRIMARY KEY (case_id, seq),
    UNIQUE (case_id, client_nonce)
);

CREATE TABLE events (
    case_id         TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    seq             BIGINT NOT NULL,           -- 1, 2, … within the case
    day             TEXT NOT NULL,
    actor           TEXT NOT NULL,
    state           TEXT NOT NULL,
    -- The reason the citizen is owed (on_hold, archived, …): an envelope like a message,
    -- sealed by the member's own machine to the institution's readers and the reporter.
    reason_envelope BYTEA, extension_days BIGINT, forwarded_to TEXT, act TEXT,
    PRIMARY KEY (case_id, seq)
);

CREATE TABLE case_tags (
    case_id TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    tag     TEXT NOT NULL,
    PRIMARY KEY (case_id, tag)
);

CREATE TABLE challenges (
    id          TEXT PRIMARY KEY NOT NULL,
    member      TEXT NOT NULL,
    digest      BYTEA NOT NULL,
    expires_at  BIGINT NOT NULL                -- unix seconds
);

CREATE TABLE sessions (
    token_digest BYTEA PRIMARY KEY NOT NULL,
    member       TEXT NOT NULL,
    expires_at   BIGINT NOT NULL
);

CREATE TABLE audit_pending (
    id      TEXT PRIMARY KEY NOT NULL,
    day     TEXT NOT NULL,
    action  TEXT NOT NULL,
    case_id TEXT
);

CREATE TABLE audit_log (
    seq        BIGINT PRIMARY KEY,
    at         TEXT NOT NULL,                   -- RFC 3339 UTC (members only; citizens: a day)
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    case_id    TEXT,
    prev_hash  BYTEA NOT NULL,
    hash       BYTEA NOT NULL
);

CREATE INDEX cases_by_due ON cases (institution, due_on);

CREATE TABLE case_past_owners (
    case_id     TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    institution TEXT NOT NULL,
    PRIMARY KEY (case_id, institution)
);

CREATE TABLE reveal_requests (
    case_id          TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    seq              BIGINT NOT NULL,           -- 1, 2, … within the case
    requester        TEXT NOT NULL,              -- member handle
    institution      TEXT NOT NULL,              -- the requester's institution
    requested_on     TEXT NOT NULL,              -- day
    reason_envelope  BYTEA NOT NULL,              -- to the custodians, the requester and the reporter
    status           TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied')),
    decided_on       TEXT,
    decider          TEXT,
    decision_envelope BYTEA,                      -- why, to the same people
    grant_envelope   BYTEA,                       -- the identity, sealed to the requester only
    available_on     TEXT,                       -- grant released from this day
    PRIMARY KEY (case_id, seq)
);

CREATE TABLE exclusions (
    case_id         TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    handle          TEXT NOT NULL,
    excluded_on     TEXT NOT NULL,
    excluded_by     TEXT NOT NULL,
    reason_envelope BYTEA NOT NULL,
    PRIMARY KEY (case_id, handle)
);

CREATE TABLE attachments (
    case_id     TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,              -- 1, 2, … within the case
    blob        TEXT NOT NULL UNIQUE,          -- random file name in the blob folder
    manifest    BYTEA NOT NULL,                 -- envelope: name, content type, size, scrubbed
    stored_size BIGINT NOT NULL,              -- ciphertext bytes (padded)
    added_on    TEXT NOT NULL,                 -- day
    PRIMARY KEY (case_id, seq)
);

CREATE INDEX cases_list ON cases (
    institution, received_on, id, kind, category, privacy, state, state_since, accepted_on,
    due_on, extended_days, escalated_on, channel
);

CREATE TABLE member_uploads (
    blob        TEXT PRIMARY KEY NOT NULL,
    member      TEXT NOT NULL,
    uploaded_on TEXT NOT NULL
);

CREATE TABLE reporter_unreadable (
    case_id    TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    item       TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    flagged_on TEXT NOT NULL,
    PRIMARY KEY (case_id, item, seq)
);

CREATE TABLE assignments (
    case_id     TEXT PRIMARY KEY NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    handle      TEXT NOT NULL,                 -- member handle
    assigned_on TEXT NOT NULL                  -- YYYY-MM-DD, UTC
);

CREATE INDEX assignments_by_handle ON assignments (handle);

CREATE TABLE notes (
    case_id    TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,               -- 1, 2, … within the case
    author     TEXT NOT NULL,                  -- 'member:<institution>/<handle>'
    written_on TEXT NOT NULL,                  -- YYYY-MM-DD, UTC
    envelope   BYTEA NOT NULL, kind TEXT NOT NULL DEFAULT 'note' CHECK (kind IN ('note', 'recommendation')),
    PRIMARY KEY (case_id, seq)
);

CREATE TABLE message_files (
    case_id        TEXT NOT NULL,
    attachment_seq BIGINT NOT NULL,
    message_seq    BIGINT NOT NULL,
    PRIMARY KEY (case_id, attachment_seq),
    FOREIGN KEY (case_id, attachment_seq) REFERENCES attachments (case_id, seq) ON DELETE CASCADE,
    FOREIGN KEY (case_id, message_seq) REFERENCES messages (case_id, seq) ON DELETE CASCADE
);

CREATE INDEX message_files_by_message ON message_files (case_id, message_seq);

CREATE TABLE holds (
    case_id   TEXT PRIMARY KEY NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    held_from TEXT NOT NULL
);

CREATE TABLE seen_marks (
    member  TEXT NOT NULL,                          -- '<institution>/<handle>'
    case_id TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    mark    BIGINT NOT NULL,
    PRIMARY KEY (member, case_id)
);

CREATE TABLE ratings (
    case_id  TEXT PRIMARY KEY NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    rating   BIGINT NOT NULL CHECK (rating BETWEEN 1 AND 5),
    rated_on TEXT NOT NULL
);

CREATE INDEX cases_answers ON cases (institution, first_answered_on, received_on, answered_on_time)
    WHERE first_answered_on IS NOT NULL;

CREATE TABLE held_files (
    hold        BYTEA NOT NULL,                 -- SHA-256 of the hold id
    seq         BIGINT NOT NULL,              -- 1, 2, … within the hold
    blob        TEXT NOT NULL UNIQUE,          -- random file name in the blob folder
    manifest    BYTEA NOT NULL,                 -- envelope to the one-time key
    stored_size BIGINT NOT NULL,              -- ciphertext bytes (padded)
    held_on     TEXT NOT NULL,                 -- day
    PRIMARY KEY (hold, seq)
);

CREATE INDEX held_files_by_day ON held_files (held_on);

CREATE TABLE webhook_subscribers (
    institution TEXT PRIMARY KEY NOT NULL
);

CREATE TABLE webhook_outbox (
    id               TEXT PRIMARY KEY NOT NULL,      -- webhook-id, the same for every attempt
    event            TEXT NOT NULL,                  -- case.created, case.state_changed, …
    case_id          TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    institution      TEXT NOT NULL,
    state            TEXT NOT NULL,
    due_on           TEXT,
    day              TEXT NOT NULL,                  -- YYYY-MM-DD, deployment zone
    from_institution TEXT,
    to_institution   TEXT,
    status           TEXT NOT NULL,                  -- held | pending | delivered | failed
    attempts         BIGINT NOT NULL DEFAULT 0,
    last_status      BIGINT,
    last_error       TEXT,
    next_attempt_at  BIGINT                         -- unix seconds; NULL: at once
);

CREATE INDEX webhook_outbox_status ON webhook_outbox (status, next_attempt_at);

CREATE UNIQUE INDEX webhook_outbox_overdue ON webhook_outbox (case_id, institution, due_on)
    WHERE event = 'case.overdue';

CREATE TABLE digest_marks (
    member TEXT PRIMARY KEY NOT NULL,   -- '<institution>/<handle>'
    slot   TEXT NOT NULL
);

-- Envelopes are ciphertext: compressing them gains nothing and costs CPU, and stored as they are
-- (out of line when large, never compressed) a scan of the files finds exactly what was written.
ALTER TABLE cases ALTER COLUMN content SET STORAGE EXTERNAL;
ALTER TABLE identities ALTER COLUMN envelope SET STORAGE EXTERNAL;
ALTER TABLE messages ALTER COLUMN envelope SET STORAGE EXTERNAL;
ALTER TABLE events ALTER COLUMN reason_envelope SET STORAGE EXTERNAL;
ALTER TABLE reveal_requests ALTER COLUMN reason_envelope SET STORAGE EXTERNAL;
ALTER TABLE reveal_requests ALTER COLUMN decision_envelope SET STORAGE EXTERNAL;
ALTER TABLE reveal_requests ALTER COLUMN grant_envelope SET STORAGE EXTERNAL;
ALTER TABLE exclusions ALTER COLUMN reason_envelope SET STORAGE EXTERNAL;
ALTER TABLE attachments ALTER COLUMN manifest SET STORAGE EXTERNAL;
ALTER TABLE notes ALTER COLUMN envelope SET STORAGE EXTERNAL;
ALTER TABLE held_files ALTER COLUMN manifest SET STORAGE EXTERNAL;
