-- Portable SQL: this file runs unchanged on SQLite and PostgreSQL. Times are Unix milliseconds
-- (BIGINT), ids are TEXT, flags are BIGINT 0/1, so the `Any` driver decodes the same types on both.

CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE channels (
    id TEXT PRIMARY KEY,
    channel_key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    secret TEXT NOT NULL,
    inactivity_timeout_secs BIGINT NOT NULL,
    -- JSON array of exact origins ("https://shop.example:8443"); empty array = any origin.
    allowed_origins TEXT NOT NULL,
    online BIGINT NOT NULL,
    title TEXT NOT NULL,
    greeting TEXT NOT NULL,
    accent_color TEXT NOT NULL,
    position TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE agents (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Only a hash of each login token is kept: a leaked database cannot be replayed as logins.
CREATE TABLE agent_sessions (
    token_hash TEXT PRIMARY KEY,
    agent_id TEXT NOT NULL REFERENCES agents (id),
    expires_at BIGINT NOT NULL
);

CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    channel_id TEXT NOT NULL REFERENCES channels (id),
    visitor_id TEXT NOT NULL,
    status TEXT NOT NULL,
    assigned_agent_id TEXT REFERENCES agents (id),
    last_seq BIGINT NOT NULL,
    last_text TEXT NOT NULL,
    page_url TEXT,
    origin TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- A visitor has at most one conversation in progress per channel: two tabs sending a first
-- message at once end up in the same conversation.
CREATE UNIQUE INDEX conversations_one_open_per_visitor
    ON conversations (channel_id, visitor_id) WHERE status <> 'closed';
CREATE INDEX conversations_by_status ON conversations (status, updated_at);

CREATE TABLE messages (
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    seq BIGINT NOT NULL,
    author_kind TEXT NOT NULL,
    author_agent_id TEXT REFERENCES agents (id),
    body TEXT NOT NULL,
    client_id TEXT NOT NULL,
    sent_at BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);

-- The idempotency guarantee: a resend with the same client_id can never store a second copy.
CREATE UNIQUE INDEX messages_client_id ON messages (conversation_id, client_id);
