-- A members' list shows each case's assignee and, for a case on hold, the state the citizen's
-- answer sends it back to. Both were read for every listed case from `assignments` and `holds`
-- (two look-ups per row; on PostgreSQL half of a list's execution, BENCHMARKS.md W). They are
-- now copies on the case row, kept by these triggers whatever writes the two tables (which stay
-- the record: who assigned and when), and the list index covers them, so a list is again a read
-- of that index alone.
ALTER TABLE cases ADD COLUMN assigned_to TEXT;
ALTER TABLE cases ADD COLUMN held_from TEXT;
UPDATE cases SET assigned_to = (SELECT handle FROM assignments WHERE assignments.case_id = cases.id)
    WHERE id IN (SELECT case_id FROM assignments);
UPDATE cases SET held_from = (SELECT held_from FROM holds WHERE holds.case_id = cases.id)
    WHERE id IN (SELECT case_id FROM holds);

CREATE TRIGGER cases_assigned_to_insert AFTER INSERT ON assignments BEGIN
    UPDATE cases SET assigned_to = NEW.handle WHERE id = NEW.case_id;
END;
CREATE TRIGGER cases_assigned_to_update AFTER UPDATE ON assignments BEGIN
    UPDATE cases SET assigned_to = NULL WHERE id = OLD.case_id AND OLD.case_id <> NEW.case_id;
    UPDATE cases SET assigned_to = NEW.handle WHERE id = NEW.case_id;
END;
CREATE TRIGGER cases_assigned_to_delete AFTER DELETE ON assignments BEGIN
    UPDATE cases SET assigned_to = NULL WHERE id = OLD.case_id;
END;

CREATE TRIGGER cases_held_from_insert AFTER INSERT ON holds BEGIN
    UPDATE cases SET held_from = NEW.held_from WHERE id = NEW.case_id;
END;
CREATE TRIGGER cases_held_from_update AFTER UPDATE ON holds BEGIN
    UPDATE cases SET held_from = NULL WHERE id = OLD.case_id AND OLD.case_id <> NEW.case_id;
    UPDATE cases SET held_from = NEW.held_from WHERE id = NEW.case_id;
END;
CREATE TRIGGER cases_held_from_delete AFTER DELETE ON holds BEGIN
    UPDATE cases SET held_from = NULL WHERE id = OLD.case_id;
END;

DROP INDEX cases_list;
CREATE INDEX cases_list ON cases (
    institution, received_on, id, kind, category, privacy, state, state_since, accepted_on,
    due_on, extended_days, escalated_on, channel, sealed_kind, assigned_to, held_from
);
