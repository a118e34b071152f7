-- Each closed conversation's statistics, recorded when it closes (see the gateway's
-- `statistics` for their definitions) and removed when it reopens: reports read only this.
CREATE TABLE conversation_stats (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations (id),
    channel_id TEXT NOT NULL,
    queue_id TEXT NOT NULL,
    agent_id TEXT,
    handler TEXT NOT NULL,
    outcome TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    closed_at BIGINT NOT NULL,
    wait_ms BIGINT,
    first_response_ms BIGINT,
    handle_ms BIGINT,
    duration_ms BIGINT NOT NULL,
    visitor_messages BIGINT NOT NULL,
    agent_messages BIGINT NOT NULL,
    bot_messages BIGINT NOT NULL,
    desk_messages BIGINT NOT NULL,
    transfers BIGINT NOT NULL
);
-- Reports count conversations by when they were created.
CREATE INDEX conversation_stats_by_creation ON conversation_stats (created_at);
CREATE INDEX conversation_stats_by_channel ON conversation_stats (channel_id, created_at);
