-- Each housekeeping period (ten minutes of the clock) is claimed once, by whichever instance
-- gets there first (src/store/leader.rs).
CREATE TABLE housekeeping_periods (
    period BIGINT PRIMARY KEY NOT NULL
);
