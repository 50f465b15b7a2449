-- Files of a report form that came back to be corrected (issue 13 item 4): kept, sealed, so the
-- citizen does not send them again. The form was not accepted yet, so its readers are not known
-- (the institution may still change) and the reporter's key is drawn only when the report is
-- filed: each file is sealed to a one-time X25519 key whose secret exists only in the citizen's
-- page (a hidden field) and in memory during a request. Nothing here opens without it.
--
-- `hold` is SHA-256 of the random hold id the page carries, so a copy of the database names no
-- hold a live server would accept. The file's name, type, size and scrubbing live only inside
-- the manifest envelope (sealed to the one-time key). Only the day is kept: housekeeping shreds
-- the blobs and forgets the rows after the day following it. The rows of a report's files are
-- deleted in the transaction that files the report (their blobs sealed again for its readers).
CREATE TABLE held_files (
    hold        BLOB NOT NULL,                 -- SHA-256 of the hold id
    seq         INTEGER NOT NULL,              -- 1, 2, … within the hold
    blob        TEXT NOT NULL UNIQUE,          -- random file name in the blob folder
    manifest    BLOB NOT NULL,                 -- envelope to the one-time key
    stored_size INTEGER NOT NULL,              -- ciphertext bytes (padded)
    held_on     TEXT NOT NULL,                 -- day
    PRIMARY KEY (hold, seq)
) WITHOUT ROWID;

CREATE INDEX held_files_by_day ON held_files (held_on);
