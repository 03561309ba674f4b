-- Anti-prank: strikes for reports rejected as pranks, and the block list.

CREATE TABLE strikes (
    id           INTEGER PRIMARY KEY,
    reporter_id  INTEGER NOT NULL REFERENCES reporters(id),
    ticket_id    INTEGER REFERENCES tickets(id) ON DELETE SET NULL,
    at           TEXT NOT NULL,
    actor        TEXT NOT NULL
);
CREATE INDEX strikes_reporter ON strikes(reporter_id, at);

CREATE TABLE blocks (
    channel      TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    until        TEXT NOT NULL,
    reason       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    PRIMARY KEY (channel, external_id)
);
