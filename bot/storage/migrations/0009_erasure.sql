-- A reply to a chat whose reporter asked to be forgotten is deleted once delivered.

ALTER TABLE outbox ADD COLUMN forget_when_sent INTEGER NOT NULL DEFAULT 0;
