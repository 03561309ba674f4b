-- Officers correct a ticket's place (/lokasi): kept beside the category corrections as
-- labelled examples (the ticket's story names the place; the text stays only in the ticket).

CREATE TABLE place_corrections (
    id              INTEGER PRIMARY KEY,
    ticket_id       INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    from_kecamatan  TEXT,
    to_kecamatan    TEXT NOT NULL,
    to_desa         TEXT,
    actor           TEXT NOT NULL,
    at              TEXT NOT NULL
);
CREATE INDEX place_corrections_ticket ON place_corrections(ticket_id);
