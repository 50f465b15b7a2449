-- Evidence: files sealed (age, streamed) into the blob folder. The row that points to a blob is
-- committed in the same transaction as the report (or the addition); blobs without a row are
-- removed at start. Names and content types live only inside the manifest envelope.
CREATE TABLE attachments (
    case_id     TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,              -- 1, 2, … within the case
    blob        TEXT NOT NULL UNIQUE,          -- random file name in the blob folder
    manifest    BLOB NOT NULL,                 -- envelope: name, content type, size, scrubbed
    stored_size INTEGER NOT NULL,              -- ciphertext bytes (padded)
    added_on    TEXT NOT NULL,                 -- day
    PRIMARY KEY (case_id, seq)
) WITHOUT ROWID;
