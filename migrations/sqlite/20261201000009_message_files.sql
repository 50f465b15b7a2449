-- Documents an officer attaches to a message to the citizen (issue 12: "replies with
-- documents"). Each file is an ordinary attachment row — a blob sealed on the officer's machine
-- to the case's readers and the reporter, its name and type only inside the manifest envelope —
-- so forward, rekey and escalation re-seal it with every other file. This table only says which
-- message it belongs to; the message row, the attachment rows and these links are committed in
-- one transaction. No name, no time of day: the attachment row keeps the day.
CREATE TABLE message_files (
    case_id        TEXT NOT NULL,
    attachment_seq INTEGER NOT NULL,
    message_seq    INTEGER NOT NULL,
    PRIMARY KEY (case_id, attachment_seq),
    FOREIGN KEY (case_id, attachment_seq) REFERENCES attachments (case_id, seq) ON DELETE CASCADE,
    FOREIGN KEY (case_id, message_seq) REFERENCES messages (case_id, seq) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE INDEX message_files_by_message ON message_files (case_id, message_seq);
