-- Members' case lists show `sealed_kind`: the list index covers it, as on SQLite (migration 23
-- there), so a list can be answered from the index alone.
DROP INDEX cases_list;
CREATE INDEX cases_list ON cases (
    institution, received_on, id, kind, category, privacy, state, state_since, accepted_on,
    due_on, extended_days, escalated_on, channel, sealed_kind
);
