-- Housekeeping's auto-close reads the answered cases (`WHERE state = 'answered'`) once a period.
-- Without an index that was a scan of every case row (1.9 s at a million cases, BENCHMARKS.md N);
-- this partial index holds only the answered cases, as on SQLite (migration 24 there).
CREATE INDEX cases_in_answered ON cases (id) WHERE state = 'answered';
