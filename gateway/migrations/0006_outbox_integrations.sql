-- The webhook outbox, and what a bot or an external desk needs.

-- Who handles a conversation: 'agents' (the console's queues), 'bot' (the channel's bot
-- endpoint answers first) or 'desk' (the channel's external desk answers). Only the agents'
-- conversations are ever 'waiting' (for an agent): a bot's or desk's are 'open'.
ALTER TABLE conversations ADD COLUMN handler TEXT NOT NULL DEFAULT 'agents';
-- Counts the conversation's outbox events: their order for receivers. Taken by the same UPDATE
-- of the conversation row that every event's transaction already makes, so two events of one
-- conversation can never get their numbers in another order than they committed.
ALTER TABLE conversations ADD COLUMN event_seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX conversations_by_channel_created ON conversations (channel_id, created_at, id);

-- Messages from someone who is not one of the gateway's agents: a bot, an external desk's agent.
ALTER TABLE messages ADD COLUMN author_name TEXT;

-- 'webhook' (events by filter), 'bot' or 'desk' (at most one each per channel); a display name
-- for the bot's or the desk's messages.
ALTER TABLE webhook_endpoints ADD COLUMN kind TEXT NOT NULL DEFAULT 'webhook';
ALTER TABLE webhook_endpoints ADD COLUMN name TEXT NOT NULL DEFAULT '';

-- One row per event, written in the transaction that made the event happen.
CREATE TABLE outbox_events (
    -- The `webhook-id` receivers deduplicate by: the same on every retry and replay.
    id TEXT PRIMARY KEY,
    channel_id TEXT NOT NULL REFERENCES channels (id),
    event_type TEXT NOT NULL,
    -- Deliveries with the same key reach an endpoint in `order_seq` order: a conversation's id
    -- (its `event_seq`), or a session's for a session that never had one.
    order_key TEXT NOT NULL,
    order_seq BIGINT NOT NULL,
    -- The JSON body, exactly as signed and sent.
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- One row per event and endpoint it goes to: the delivery log.
CREATE TABLE outbox_deliveries (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL REFERENCES outbox_events (id),
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id),
    order_key TEXT NOT NULL,
    order_seq BIGINT NOT NULL,
    -- 'pending', 'delivered' or 'failed' (retried for the configured time, then left).
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    -- When retrying started: at the event, or at the last replay.
    retry_since BIGINT NOT NULL,
    -- A gateway sending it holds it until then; another gateway takes over after a crash.
    lease_until BIGINT NOT NULL,
    last_attempt_at BIGINT,
    last_status BIGINT,
    last_error TEXT,
    delivered_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX outbox_deliveries_due ON outbox_deliveries (status, next_attempt_at);
CREATE INDEX outbox_deliveries_order ON outbox_deliveries (endpoint_id, order_key, order_seq);
CREATE INDEX outbox_deliveries_log ON outbox_deliveries (endpoint_id, created_at, id);
