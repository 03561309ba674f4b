-- Routing to a Polsek, the follow-up of a ticket, and what a reporter's next message answers.

ALTER TABLE tickets ADD COLUMN polsek TEXT;
ALTER TABLE tickets ADD COLUMN first_response_at TEXT;
ALTER TABLE tickets ADD COLUMN sla_reminded_at TEXT;
ALTER TABLE tickets ADD COLUMN closed_at TEXT;
ALTER TABLE tickets ADD COLUMN resolved_ok INTEGER;
CREATE INDEX tickets_unit ON tickets(unit, status);
CREATE INDEX tickets_polsek ON tickets(polsek, status);

-- A question put to a reporter on behalf of a ticket: an officer's relayed message, or the
-- closing question. The reporter's next plain message answers it.
CREATE TABLE reporter_prompts (
    channel     TEXT NOT NULL,
    chat_id     TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('relay', 'closing')),
    ticket_id   INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    officer_id  INTEGER REFERENCES officers(id) ON DELETE SET NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (channel, chat_id)
);

-- Digest slots already sent: a digest missed while down is sent once, never twice.
CREATE TABLE digests (
    slot     TEXT PRIMARY KEY,
    sent_at  TEXT NOT NULL
);
