-- Officers correct a ticket's category (/kategori): each correction is kept as a labelled
-- example for the understanding of free text (the ticket's story, with the right category).

CREATE TABLE category_corrections (
    id             INTEGER PRIMARY KEY,
    ticket_id      INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    from_category  TEXT NOT NULL,
    to_category    TEXT NOT NULL,
    actor          TEXT NOT NULL,
    at             TEXT NOT NULL
);
CREATE INDEX category_corrections_ticket ON category_corrections(ticket_id);
