-- A login made by a join link acts in one channel only, as a plain agent (NULL: a full login).
-- No foreign key: a login whose channel is deleted simply stops working.
ALTER TABLE agent_sessions ADD COLUMN channel_id TEXT;
-- Expired rows are swept by these.
CREATE INDEX agent_sessions_by_expiry ON agent_sessions (expires_at);
CREATE INDEX agent_sessions_by_agent ON agent_sessions (agent_id);
CREATE INDEX join_links_by_expiry ON join_links (expires_at);
CREATE INDEX ended_sessions_by_time ON ended_sessions (ended_at);
-- A visitor conversation with no activity for this long closes by itself (0: never), so the
-- agents' inbox does not fill with conversations visitors walked away from.
ALTER TABLE channels ADD COLUMN idle_close_secs BIGINT NOT NULL DEFAULT 0;
