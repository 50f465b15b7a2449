-- Webhooks to institutions' systems (docs/integration.md). Each case event adds one row per
-- subscribed institution in the same transaction as the event, so nothing is lost on a restart.
-- A row holds metadata only (event, case id, institution, state, due day, the day) — never a
-- title, text, name or receipt, nor a time of day: citizen-caused rows wait as `held` until the
-- daily release. Random ids and no rowid: the table's order says nothing about when rows came.

-- Institutions with a `[webhook]` in their keys file (rewritten at every start).
CREATE TABLE webhook_subscribers (
    institution TEXT PRIMARY KEY NOT NULL
) WITHOUT ROWID;

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
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_status      INTEGER,
    last_error       TEXT,
    next_attempt_at  INTEGER                         -- unix seconds; NULL: at once
) WITHOUT ROWID;

CREATE INDEX webhook_outbox_status ON webhook_outbox (status, next_attempt_at);

-- A case is reported overdue once per due day and institution.
CREATE UNIQUE INDEX webhook_outbox_overdue ON webhook_outbox (case_id, institution, due_on)
    WHERE event = 'case.overdue';
