-- Webhook endpoints: per channel, any number, each with its own signing secret and events.
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    channel_id TEXT NOT NULL REFERENCES channels (id),
    url TEXT NOT NULL,
    -- Standard Webhooks secret: "whsec_" and the base64 of the key.
    secret TEXT NOT NULL,
    -- JSON array of event types; empty means every event.
    events TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_by_channel ON webhook_endpoints (channel_id);
