-- Co-browsing: each channel's settings (JSON of protocol::CobrowseSettings; off by default),
-- and each session an agent asked for: who, of which conversation, and where it stands. The
-- page itself is never stored: its mirror only passes through.
ALTER TABLE channels ADD COLUMN cobrowse TEXT NOT NULL DEFAULT '{}';
CREATE TABLE cobrowse_sessions (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    agent_id TEXT NOT NULL,
    agent_name TEXT NOT NULL,
    state TEXT NOT NULL,
    control BIGINT NOT NULL DEFAULT 0,
    requested_at BIGINT NOT NULL,
    ended_at BIGINT
);
CREATE INDEX cobrowse_sessions_by_conversation ON cobrowse_sessions (conversation_id, requested_at);
