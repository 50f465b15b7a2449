-- Identity custody: reveal requests the reporter can see, and conflict-of-interest exclusions.

-- A member asks for a confidential reporter's identity; a custodian decides. On approval the
-- custodian's own machine seals the identity to the requester alone (grant_envelope), which the
-- server hands out only from available_on (a notice period the institution may set).
CREATE TABLE reveal_requests (
    case_id          TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    seq              INTEGER NOT NULL,           -- 1, 2, … within the case
    requester        TEXT NOT NULL,              -- member handle
    institution      TEXT NOT NULL,              -- the requester's institution
    requested_on     TEXT NOT NULL,              -- day
    reason_envelope  BLOB NOT NULL,              -- to the custodians, the requester and the reporter
    status           TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied')),
    decided_on       TEXT,
    decider          TEXT,
    decision_envelope BLOB,                      -- why, to the same people
    grant_envelope   BLOB,                       -- the identity, sealed to the requester only
    available_on     TEXT,                       -- grant released from this day
    PRIMARY KEY (case_id, seq)
) WITHOUT ROWID;

-- A member excluded from a case (conflict of interest): no longer sees it, and is left out of
-- every envelope written afterwards.
CREATE TABLE exclusions (
    case_id         TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    handle          TEXT NOT NULL,
    excluded_on     TEXT NOT NULL,
    excluded_by     TEXT NOT NULL,
    reason_envelope BLOB NOT NULL,
    PRIMARY KEY (case_id, handle)
) WITHOUT ROWID;
