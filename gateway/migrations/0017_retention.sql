-- How long each channel keeps its closed conversations, in days; 0: for ever.
ALTER TABLE channels ADD COLUMN retention_days BIGINT NOT NULL DEFAULT 0;
-- Retention takes a channel's conversations closed longest ago, a batch at a time.
CREATE INDEX conversations_by_close ON conversations (channel_id, closed_at) WHERE status = 'closed';
-- Removing a conversation removes its webhook events, found by the conversation they order by.
CREATE INDEX outbox_events_by_order ON outbox_events (order_key);
