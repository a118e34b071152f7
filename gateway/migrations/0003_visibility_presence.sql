-- Visibility rules: one JSON document per channel (edited as a whole in the console and the
-- REST API), and the override, which the REST API flips on its own.
ALTER TABLE channels ADD COLUMN visibility_rules TEXT NOT NULL DEFAULT '{}';
ALTER TABLE channels ADD COLUMN override_mode TEXT NOT NULL DEFAULT 'rules';
ALTER TABLE channels ADD COLUMN override_until BIGINT;

-- Presence is what the agent chose ('online', 'away', 'offline'), counted only while one of
-- their connections is alive: every gateway refreshes seen_at for the agents connected to it,
-- so an agent whose last connection dropped (or whose gateway died) reads as offline once
-- seen_at is older than the grace period, on every gateway sharing this database.
ALTER TABLE agents ADD COLUMN presence TEXT NOT NULL DEFAULT 'online';
ALTER TABLE agents ADD COLUMN capacity BIGINT NOT NULL DEFAULT 5;
ALTER TABLE agents ADD COLUMN seen_at BIGINT NOT NULL DEFAULT 0;

-- Visit tickets that opened a chat: each opens one. Rows are kept until the ticket would have
-- expired anyway.
CREATE TABLE used_visit_tickets (
    ticket_id TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX used_visit_tickets_by_expiry ON used_visit_tickets (expires_at);

-- "Available" counts each present agent's conversations not closed, on every page view of a
-- channel with presence rules.
CREATE INDEX conversations_by_agent ON conversations (assigned_agent_id, status);
