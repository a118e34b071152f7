-- Agents synced from another system: matched by the id that system gives them. NULLs do not
-- collide in a unique index (SQLite and PostgreSQL alike), so agents created here need none.
ALTER TABLE agents ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX agents_by_external_id ON agents (external_id);
-- A deactivated agent cannot log in and counts for no rule; their history stays.
ALTER TABLE agents ADD COLUMN active BIGINT NOT NULL DEFAULT 1;
