-- Blobs a member's client uploaded for a re-seal (forward, rekey) and that no case refers to
-- yet. A forward or rekey may only swap in blobs listed here for the same member; anything
-- else is refused, so a member can never name (and so delete) a blob of another case.
CREATE TABLE member_uploads (
    blob        TEXT PRIMARY KEY NOT NULL,
    member      TEXT NOT NULL,
    uploaded_on TEXT NOT NULL
);

-- Items of a case that the reporter's key could not open when the status page was shown
-- (a member sealed them to the wrong keys): flagged for the case's officers. Only the day is
-- kept, and officers see a flag from the next day on, so it never tells when the reporter came.
CREATE TABLE reporter_unreadable (
    case_id    TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    item       TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    flagged_on TEXT NOT NULL,
    PRIMARY KEY (case_id, item, seq)
);
