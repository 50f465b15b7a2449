-- Public statistics count answered cases per institution too (issue 13, item 12): the answers
-- index leads with the institution so that count still reads this index alone.
DROP INDEX cases_answers;
CREATE INDEX cases_answers ON cases (institution, first_answered_on, received_on, answered_on_time)
    WHERE first_answered_on IS NOT NULL;
