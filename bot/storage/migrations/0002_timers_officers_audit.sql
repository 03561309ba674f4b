-- Durable timers (draft reminder and expiry), the officer registry and the audit log.

CREATE TABLE timers (
    id        INTEGER PRIMARY KEY,
    channel   TEXT NOT NULL,
    chat_id   TEXT NOT NULL,
    kind      TEXT NOT NULL,
    due_at    TEXT NOT NULL,
    UNIQUE (channel, chat_id, kind)
);
CREATE INDEX timers_due ON timers(due_at);

CREATE TABLE officers (
    id           INTEGER PRIMARY KEY,
    channel      TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('officer', 'kapolres', 'admin')),
    unit         TEXT,
    active       INTEGER NOT NULL DEFAULT 1,
    created_at   TEXT NOT NULL,
    UNIQUE (channel, external_id)
);

CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    detail  TEXT
);

-- Reporters choose their language once; it follows them across chats.
ALTER TABLE reporters ADD COLUMN locale TEXT;
