-- The heart of TAROS: reporters, conversations, tickets, evidence and the outbox.

CREATE TABLE reporters (
    id          INTEGER PRIMARY KEY,
    pseudonym   TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);

-- The only place a reporter's platform identity (phone number, Telegram id) is kept.
CREATE TABLE identities (
    channel      TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    reporter_id  INTEGER NOT NULL REFERENCES reporters(id),
    display_name TEXT,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (channel, external_id)
);
CREATE INDEX identities_reporter ON identities(reporter_id);

-- Dialogue state per chat.
CREATE TABLE conversations (
    channel     TEXT NOT NULL,
    chat_id     TEXT NOT NULL,
    state       TEXT NOT NULL,
    data        TEXT NOT NULL,
    locale      TEXT,
    version     INTEGER NOT NULL DEFAULT 0,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (channel, chat_id)
);

-- Platform message ids already handled: a redelivery is ignored.
CREATE TABLE inbound_messages (
    channel      TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    chat_id      TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    PRIMARY KEY (channel, message_id)
) WITHOUT ROWID;

CREATE TABLE ticket_sequences (
    year        INTEGER PRIMARY KEY,
    last_value  INTEGER NOT NULL
);

CREATE TABLE tickets (
    id              INTEGER PRIMARY KEY,
    number          TEXT NOT NULL UNIQUE,
    year            INTEGER NOT NULL,
    seq             INTEGER NOT NULL,
    reporter_id     INTEGER NOT NULL REFERENCES reporters(id),
    channel         TEXT NOT NULL,
    chat_id         TEXT NOT NULL,
    category        TEXT NOT NULL,
    unit            TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'baru'
                    CHECK (status IN ('baru', 'diverifikasi', 'diproses', 'selesai', 'ditolak')),
    kecamatan_code  TEXT,
    desa_code       TEXT,
    address         TEXT,
    lat             REAL,
    lon             REAL,
    outside_garut   INTEGER NOT NULL DEFAULT 0,
    chronology      TEXT NOT NULL,
    incident_time   TEXT,
    urgent          INTEGER NOT NULL DEFAULT 0,
    locale          TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    due_at          TEXT NOT NULL,
    UNIQUE (year, seq)
);
CREATE INDEX tickets_reporter ON tickets(reporter_id);
CREATE INDEX tickets_status ON tickets(status, created_at);

-- The audit trail of every ticket: who did what, when, with which note.
CREATE TABLE ticket_events (
    id           INTEGER PRIMARY KEY,
    ticket_id    INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    at           TEXT NOT NULL,
    actor        TEXT NOT NULL,
    kind         TEXT NOT NULL,
    from_status  TEXT,
    to_status    TEXT,
    note         TEXT
);
CREATE INDEX ticket_events_ticket ON ticket_events(ticket_id, id);

CREATE TABLE evidence (
    id           INTEGER PRIMARY KEY,
    ticket_id    INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    mime         TEXT NOT NULL,
    size         INTEGER NOT NULL,
    stored_path  TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX evidence_ticket ON evidence(ticket_id);

-- Replies waiting to be delivered: written in the same transaction as the change that caused them.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
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
CREATE INDEX outbox_pending ON outbox(channel, id) WHERE sent_at IS NULL AND failed_at IS NULL;
