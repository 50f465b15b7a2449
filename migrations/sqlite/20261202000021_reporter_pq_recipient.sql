-- The reporter's post-quantum recipient (age1pq1…, ML-KEM-768 + X25519), derived from the same
-- receipt as the classic one. NULL for cases filed before Bisik derived one: those cases stay
-- classic until the reporter's key is known (see docs/post-quantum.md).
ALTER TABLE cases ADD COLUMN reporter_pq_recipient TEXT;

-- The kind of keys the report's content is sealed to: 'x25519' (classic) or 'mlkem768x25519'
-- (post-quantum), read off the envelope when it is written, so the case list can show it. Every
-- case before this migration is classic.
ALTER TABLE cases ADD COLUMN sealed_kind TEXT NOT NULL DEFAULT 'x25519'
    CHECK (sealed_kind IN ('x25519', 'mlkem768x25519'));
