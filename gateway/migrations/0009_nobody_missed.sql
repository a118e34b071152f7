-- Nobody missed: messages left while nobody is there, and email to visitors.

-- What a failing visibility rule does: `hide` the widget, or `leave_message` (the panel takes a
-- message, and the conversation is marked as left while nobody was there).
ALTER TABLE channels ADD COLUMN when_unavailable TEXT NOT NULL DEFAULT 'hide';
ALTER TABLE conversations ADD COLUMN offline BIGINT NOT NULL DEFAULT 0;
-- Who wrote the last message: the console sounds when a visitor writes to their agent.
ALTER TABLE conversations ADD COLUMN last_author TEXT;

-- Email to visitors: agents' replies the visitor was not there to read, and transcripts asked
-- for. An email is written in the transaction that makes it due (a reply, a close), and the
-- email worker sends it like a webhook delivery: leased, retried with backoff, logged.
CREATE TABLE emails (
    id TEXT PRIMARY KEY,
    channel_id TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    -- `replies` or `transcript`.
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    -- `pending`, `sent`, `failed`, or `skipped` (nothing left to say: the visitor read the
    -- replies live before the email was due).
    status TEXT NOT NULL,
    -- Replies: the email tells the messages after this one. Moved on by the visitor's socket
    -- as it shows agents' messages live, so what was read in the chat is not emailed.
    after_seq BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    retry_since BIGINT NOT NULL,
    lease_until BIGINT NOT NULL,
    last_attempt_at BIGINT,
    last_error TEXT,
    sent_at BIGINT,
    created_at BIGINT NOT NULL
);
-- One replies email waits per conversation: a burst of replies joins the one already waiting.
CREATE UNIQUE INDEX emails_waiting ON emails (conversation_id, kind) WHERE status = 'pending';
CREATE INDEX emails_due ON emails (status, next_attempt_at);

-- Where the visitor asked for the transcript to go, sent when the conversation closes.
ALTER TABLE conversations ADD COLUMN transcript_to TEXT;
-- The name emails of the channel come from ("Acme Support" <chat@acme.example>); NULL: its title.
ALTER TABLE channels ADD COLUMN email_sender_name TEXT;
-- A visitor still waiting for an answer this long is offered replies by email; 0: never.
ALTER TABLE channels ADD COLUMN missed_chat_secs BIGINT NOT NULL DEFAULT 60;

-- The pre-chat form: what a channel asks before the first message (JSON, `Prechat`), and the
-- answers on the contact (created with them, before its first conversation). The topic's
-- queue is where that visitor's next new conversation waits.
ALTER TABLE channels ADD COLUMN prechat TEXT NOT NULL DEFAULT '{}';
ALTER TABLE contacts ADD COLUMN name TEXT;
ALTER TABLE contacts ADD COLUMN phone TEXT;
ALTER TABLE contacts ADD COLUMN consent_version TEXT;
ALTER TABLE contacts ADD COLUMN consent_at BIGINT;
ALTER TABLE contacts ADD COLUMN topic_queue_id TEXT;
ALTER TABLE contacts ADD COLUMN prechat_at BIGINT;

-- A sound in the visitor's page when an agent's message arrives while the panel is closed.
ALTER TABLE channels ADD COLUMN visitor_sound BIGINT NOT NULL DEFAULT 0;
