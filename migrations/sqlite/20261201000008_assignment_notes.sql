-- Work distribution and internal notes (issue 12, the officers' desk).

-- Who works a case: one investigator of the owning institution, chosen by its triage. Only the
-- day of the assignment is kept, never a time. Forwarding a case deletes the row (the new
-- institution assigns again); excluding the assignee from the case deletes it too.
CREATE TABLE assignments (
    case_id     TEXT PRIMARY KEY NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    handle      TEXT NOT NULL,                 -- member handle
    assigned_on TEXT NOT NULL                  -- YYYY-MM-DD, UTC
) WITHOUT ROWID;

-- "Assigned to me" lists read this index, then the case rows by id.
CREATE INDEX assignments_by_handle ON assignments (handle);

-- Internal notes between the institution's officers: each an envelope sealed on the member's
-- machine to the case's readers only — never to the reporter. Re-sealed with everything else
-- on forward and rekey; escalation (done with the reporter's key) cannot open them and leaves
-- them as they are.
CREATE TABLE notes (
    case_id    TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,               -- 1, 2, … within the case
    author     TEXT NOT NULL,                  -- 'member:<institution>/<handle>'
    written_on TEXT NOT NULL,                  -- YYYY-MM-DD, UTC
    envelope   BLOB NOT NULL,
    PRIMARY KEY (case_id, seq)
) WITHOUT ROWID;
