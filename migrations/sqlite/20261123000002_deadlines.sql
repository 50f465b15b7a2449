-- Deadlines, escalation and offline channels (working days are computed in Rust from the
-- calendar in the configuration; these columns keep what the computation needs and its result
-- so lists can filter overdue cases in SQL). All dates are UTC days.

ALTER TABLE cases ADD COLUMN state_since TEXT;                      -- day the current state began
ALTER TABLE cases ADD COLUMN accepted_on TEXT;                      -- last verified/forwarded day
ALTER TABLE cases ADD COLUMN due_on TEXT;                           -- current stage's due day
ALTER TABLE cases ADD COLUMN extended_days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN escalated_on TEXT;                     -- the Ombudsman follows it too
ALTER TABLE cases ADD COLUMN channel TEXT NOT NULL DEFAULT 'web';   -- web, phone, post, …

-- For public statistics: the first day the case was answered, and whether that was by its due day.
ALTER TABLE cases ADD COLUMN first_answered_on TEXT;
ALTER TABLE cases ADD COLUMN answered_on_time INTEGER;

UPDATE cases SET state_since = received_on WHERE state_since IS NULL;

-- An extension of the deadline is an event that keeps the state.
ALTER TABLE events ADD COLUMN extension_days INTEGER;

CREATE INDEX cases_by_due ON cases (institution, due_on);

-- Forwarding (disposisi). The identity envelope stays sealed to the custodians of the
-- institution that holds it until one of them re-seals it for the new owner.
ALTER TABLE identities ADD COLUMN holder TEXT;
UPDATE identities SET holder = (SELECT institution FROM cases WHERE cases.id = identities.case_id);

-- Institutions a case was forwarded away from: they still see its state and history.
CREATE TABLE case_past_owners (
    case_id     TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    institution TEXT NOT NULL,
    PRIMARY KEY (case_id, institution)
) WITHOUT ROWID;

ALTER TABLE events ADD COLUMN forwarded_to TEXT;
