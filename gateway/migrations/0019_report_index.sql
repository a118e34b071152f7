-- Reports read only these columns of a period's statistics: from this index alone, without a
-- visit to each row (SQLite; PostgreSQL as far as its visibility map allows).
CREATE INDEX conversation_stats_report ON conversation_stats (
    created_at, channel_id, queue_id, agent_id, outcome, wait_ms, first_response_ms, handle_ms,
    rating
);
