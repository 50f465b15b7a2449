-- `sealed_kind` (migration 21) is shown in members' case lists, but it was not in `cases_list`:
-- every listed case was then read from its wide row, and a column added by ALTER TABLE sits after
-- the envelope, in its overflow pages — the one-member list took 7.5 ms instead of 1.1 ms at
-- 100,000 cases (BENCHMARKS.md H, I). The index covers every column a list reads again.
DROP INDEX cases_list;
CREATE INDEX cases_list ON cases (
    institution, received_on, id, kind, category, privacy, state, state_since, accepted_on,
    due_on, extended_days, escalated_on, channel, sealed_kind
);
