-- Agents synced from another system: matched by the id that system gives them. NULLs do not
-- collide in a unique index (SQLite and PostgreSQL alike), so agents created here need none.
ALTER TABLE agents ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX agents_by_external_id ON agents (external_id);
-- A deactivated agent cannot log in and counts for no rule; their history stays.
ALTER TABLE agents ADD COLUMN active BIGINT NOT NULL DEFAULT 1;

-- Queues: a group of agents; each channel routes its new conversations to one queue. The
-- default queue holds every agent until an admin organises them.
CREATE TABLE queues (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    -- On: a new conversation goes to the available member with the fewest open conversations
    -- (ties: the one assigned longest ago). Off: members accept from the queue.
    auto_assign BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE queue_members (
    queue_id TEXT NOT NULL REFERENCES queues (id),
    agent_id TEXT NOT NULL REFERENCES agents (id),
    PRIMARY KEY (queue_id, agent_id)
);
INSERT INTO queues (id, name, auto_assign, created_at) VALUES ('default', 'General', 1, 0);
INSERT INTO queue_members (queue_id, agent_id) SELECT 'default', id FROM agents;
ALTER TABLE channels ADD COLUMN queue_id TEXT NOT NULL DEFAULT 'default';
ALTER TABLE conversations ADD COLUMN queue_id TEXT NOT NULL DEFAULT 'default';
-- Every assignment moves it, so it orders ties and guards against two assignments racing for
-- the agent's last free slot (compare-and-set).
ALTER TABLE agents ADD COLUMN last_assigned_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX conversations_waiting ON conversations (queue_id, status, created_at);

-- Closing: when, so a visitor writing again within the reopen window reopens the same
-- conversation instead of starting another.
ALTER TABLE conversations ADD COLUMN closed_at BIGINT;
CREATE INDEX conversations_closed_by_visitor ON conversations (channel_id, visitor_id, closed_at);
-- What agents did to a conversation (transfers with their notes, closes): for agents only,
-- never part of the visitor's transcript.
CREATE TABLE conversation_events (
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    agent_id TEXT,
    target TEXT,
    note TEXT
);
CREATE INDEX conversation_events_by_conversation ON conversation_events (conversation_id, at);

-- One-time links that log a named agent in and open one conversation. Only a hash of each
-- link's token is kept; `used_at` is set by the one request that gets in.
CREATE TABLE join_links (
    token_hash TEXT PRIMARY KEY,
    agent_id TEXT NOT NULL REFERENCES agents (id),
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

-- Contacts: the person behind a visitor id on a channel, created at their first message, which
-- a company can match to its own records (external id, email, names) and label.
CREATE TABLE contacts (
    id TEXT PRIMARY KEY,
    channel_id TEXT NOT NULL REFERENCES channels (id),
    visitor_id TEXT NOT NULL,
    external_id TEXT,
    email TEXT,
    first_name TEXT,
    last_name TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX contacts_by_visitor ON contacts (channel_id, visitor_id);
CREATE TABLE contact_labels (
    contact_id TEXT NOT NULL REFERENCES contacts (id),
    label TEXT NOT NULL,
    PRIMARY KEY (contact_id, label)
);
ALTER TABLE conversations ADD COLUMN contact_id TEXT;

-- What agents see of the visitor beside the page: which visit it is and the browser.
ALTER TABLE conversations ADD COLUMN visit BIGINT;
ALTER TABLE conversations ADD COLUMN user_agent TEXT;

-- Canned responses: team-wide snippets an agent inserts by typing /shortcut in a reply.
CREATE TABLE canned_responses (
    shortcut TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- How far each agent has read each conversation, so unread counts survive reloads and devices.
CREATE TABLE agent_reads (
    agent_id TEXT NOT NULL REFERENCES agents (id),
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    seq BIGINT NOT NULL,
    PRIMARY KEY (agent_id, conversation_id)
);
