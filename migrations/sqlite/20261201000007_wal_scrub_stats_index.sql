-- One fixed row that housekeeping rewrites right after emptying the WAL: SQLite's shared-memory
-- index (-shm) keeps listing the pages of the last frames, in order, until the next write, and
-- that order could place a citizen's report between two timestamped member audit entries. After
-- this write and a second checkpoint it lists this row's page only (store::sqlite, settle_wal).
CREATE TABLE wal_scrub (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO wal_scrub (id, n) VALUES (1, 0);

-- Public statistics count answered cases by (received, first answered) days in SQL, from this
-- index alone (the group counts read `cases_list`): no wide case row is read.
CREATE INDEX cases_answers ON cases (first_answered_on, received_on, answered_on_time)
    WHERE first_answered_on IS NOT NULL;
