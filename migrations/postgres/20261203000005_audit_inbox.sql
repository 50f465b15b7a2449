-- Members' audit entries on their way into the chain (PostgreSQL only: several instances).
-- An instance whose waiting entries find the write lock taken stages them here; whichever
-- instance next holds the lock chains every staged entry in one durable commit: the instances'
-- entries share one commit instead of taking the lock in turn, each with a disk flush of its
-- own. A caller is answered only once its entries are in `audit_log`; rows left here by an
-- instance that died between the two steps are chained by the next append or by housekeeping.
-- Same columns as `audit_log`: members' handles, actions, times and case numbers, never a
-- citizen's act.
CREATE TABLE audit_inbox (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    case_id TEXT
);
