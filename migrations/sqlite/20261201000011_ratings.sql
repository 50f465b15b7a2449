-- Issue 13, the conversation ends well: the citizen's rating of the answer (1-5), in clear for
-- the public statistics, with its day only (never a time). One per case: a later verdict (after
-- a reopening and a new answer) replaces it. The optional comment is not here: it is the
-- citizen's words, sealed like a message (to the case's readers and the reporter) and stored as
-- one, so forwards, escalations and re-seals carry it like every other message.
CREATE TABLE ratings (
    case_id  TEXT PRIMARY KEY NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    rating   INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    rated_on TEXT NOT NULL
) WITHOUT ROWID;
