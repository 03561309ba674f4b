-- Questions put to a reporter are kept per ticket: an officer's message on one report and the
-- closing question of another wait side by side, and the reporter says which one they answer.

CREATE TABLE reporter_prompts_per_ticket (
    channel     TEXT NOT NULL,
    chat_id     TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('relay', 'closing')),
    ticket_id   INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    officer_id  INTEGER REFERENCES officers(id) ON DELETE SET NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (channel, chat_id, ticket_id)
);
INSERT INTO reporter_prompts_per_ticket SELECT channel, chat_id, kind, ticket_id, officer_id,
    created_at FROM reporter_prompts;
DROP TABLE reporter_prompts;
ALTER TABLE reporter_prompts_per_ticket RENAME TO reporter_prompts;
