-- Reports of the same incident are linked; a reporter may ask to be forgotten.

ALTER TABLE tickets ADD COLUMN duplicate_of INTEGER REFERENCES tickets(id);
ALTER TABLE reporters ADD COLUMN erase_requested_at TEXT;
CREATE INDEX tickets_open_category ON tickets(category, created_at)
    WHERE status NOT IN ('selesai', 'ditolak');

-- Delivered replies are now deleted after a while (retention, /hapusdata). Outbox ids must
-- never be reused, or a dispatcher that has seen higher ids would miss a new row.
CREATE TABLE outbox_autoincrement (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    channel          TEXT NOT NULL,
    chat_id          TEXT NOT NULL,
    payload          TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT,
    sent_at          TEXT,
    failed_at        TEXT,
    last_error       TEXT
);
INSERT INTO outbox_autoincrement SELECT id, channel, chat_id, payload, created_at, attempts,
    next_attempt_at, sent_at, failed_at, last_error FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_autoincrement RENAME TO outbox;
CREATE INDEX outbox_pending ON outbox(channel, id) WHERE sent_at IS NULL AND failed_at IS NULL;
