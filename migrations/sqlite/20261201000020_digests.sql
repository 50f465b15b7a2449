-- Officers' digests (issue 14): the last scheduled digest each subscribed member was sent, as
-- 'YYYY-MM-DD HH:MM' in the deployment's zone — one of the operator's fixed times, never the
-- moment anybody acted. A digest is counted from what waits when it is sent, so nothing else is
-- kept. Rows of members no longer subscribed are left (harmless; they name a member, not a case).
CREATE TABLE digest_marks (
    member TEXT PRIMARY KEY NOT NULL,   -- '<institution>/<handle>'
    slot   TEXT NOT NULL
) WITHOUT ROWID;
