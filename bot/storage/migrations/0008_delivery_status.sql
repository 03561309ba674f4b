-- What a platform says later of a message it accepted (the WhatsApp Cloud API's status
-- callbacks): sent, delivered, read or failed, and when. A failure keeps its reason in
-- last_error.

ALTER TABLE outbox ADD COLUMN delivery_status TEXT;
ALTER TABLE outbox ADD COLUMN delivery_status_at TEXT;
