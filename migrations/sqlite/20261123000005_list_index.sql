-- Members' case lists read only this index, never the wide case rows (whose envelope pushes the
-- later columns into overflow pages): one page of 50 out of 100,000 cases takes well under a
-- millisecond in SQLite instead of several (BENCHMARKS.md). Its prefix replaces the old index.
DROP INDEX cases_by_institution;
CREATE INDEX cases_list ON cases (
    institution, received_on, id, kind, category, privacy, state, state_since, accepted_on,
    due_on, extended_days, escalated_on, channel
);
