-- A members' list shows each case's assignee and, for a case on hold, the state the citizen's
-- answer sends it back to. Both were read for every listed case from `assignments` and `holds`
-- (two look-ups per row: half of a list's execution, BENCHMARKS.md W). They are now copies on
-- the case row, kept by these triggers whatever writes the two tables (which stay the record:
-- who assigned and when), and the list index covers them, so a list is again a read of that
-- index alone. As on SQLite (migration 25 there).
ALTER TABLE cases ADD COLUMN assigned_to TEXT, ADD COLUMN held_from TEXT;
UPDATE cases SET assigned_to = a.handle FROM assignments a WHERE a.case_id = cases.id;
UPDATE cases SET held_from = h.held_from FROM holds h WHERE h.case_id = cases.id;

CREATE FUNCTION cases_copy_assigned_to() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.case_id <> NEW.case_id) THEN
        UPDATE cases SET assigned_to = NULL WHERE id = OLD.case_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE cases SET assigned_to = NEW.handle WHERE id = NEW.case_id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER cases_assigned_to AFTER INSERT OR UPDATE OR DELETE ON assignments
    FOR EACH ROW EXECUTE FUNCTION cases_copy_assigned_to();

CREATE FUNCTION cases_copy_held_from() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.case_id <> NEW.case_id) THEN
        UPDATE cases SET held_from = NULL WHERE id = OLD.case_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE cases SET held_from = NEW.held_from WHERE id = NEW.case_id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER cases_held_from AFTER INSERT OR UPDATE OR DELETE ON holds
    FOR EACH ROW EXECUTE FUNCTION cases_copy_held_from();

DROP INDEX cases_list;
CREATE INDEX cases_list ON cases (
    institution, received_on, id, kind, category, privacy, state, state_since, accepted_on,
    due_on, extended_days, escalated_on, channel, sealed_kind, assigned_to, held_from
);
