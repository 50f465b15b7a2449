-- Issue 12, the officers' desk: an investigator's question to the citizen, "seen" markers per
-- member, and the oversight body's recommendations.

-- A case on hold remembers which stage asked the question: an intake question (NULL or
-- 'received'/'verified') sends the citizen's answer back to intake as before; an investigator's
-- ('in_progress') sends it back to the investigator, the completion deadline paused meanwhile.
-- Its own table (keyed by the case id) so list queries keep reading only the `cases_list` index.
CREATE TABLE holds (
    case_id   TEXT PRIMARY KEY NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    held_from TEXT NOT NULL
) WITHOUT ROWID;

-- How far each member has looked at a case: the case's activity count (events + messages +
-- notes + reveal requests, all per-case sequences) when they last opened it. A count, never a
-- time: it cannot say when the citizen acted, only that something happened since.
CREATE TABLE seen_marks (
    member  TEXT NOT NULL,                          -- '<institution>/<handle>'
    case_id TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    mark    INTEGER NOT NULL,
    PRIMARY KEY (member, case_id)
) WITHOUT ROWID;

-- A recommendation from the oversight body is an internal note of its own kind: sealed to the
-- case's readers (the institution's and, the case being escalated, the oversight body's), never
-- to the reporter; re-sealed with the notes on forward and rekey.
ALTER TABLE notes ADD COLUMN kind TEXT NOT NULL DEFAULT 'note' CHECK (kind IN ('note', 'recommendation'));

-- An event that records an act without changing the state: 'recommendation' (the oversight
-- body wrote to the institution), 'oversight_message' (it wrote to the citizen). NULL for moves
-- and extensions.
ALTER TABLE events ADD COLUMN act TEXT;
