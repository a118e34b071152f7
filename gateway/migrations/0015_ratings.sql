-- What visitors thought of their conversations: how each channel asks, the conversation's
-- rating (its visitor's last word), and a copy in its statistics for reports.
ALTER TABLE channels ADD COLUMN rating_scale TEXT NOT NULL DEFAULT 'stars';
ALTER TABLE conversations ADD COLUMN rating_score BIGINT;
ALTER TABLE conversations ADD COLUMN rating_scale TEXT;
ALTER TABLE conversations ADD COLUMN rating_comment TEXT;
ALTER TABLE conversations ADD COLUMN rated_at BIGINT;
ALTER TABLE conversation_stats ADD COLUMN rating BIGINT;
