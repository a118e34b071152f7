-- Files sent in conversations. The bytes live in the blob store under their SHA-256 (one copy
-- however often a file is sent); a row says who uploaded it, what it is and, once a message
-- carries it, in which conversation it may be read.
CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    channel_id TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    -- Who may attach it to a message: `visitor:{id}`, `agent:{id}` or `api`.
    uploader TEXT NOT NULL,
    -- The uploader's own key for the upload: a retried upload finds the row it made before.
    upload_key TEXT NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    width BIGINT,
    height BIGINT,
    -- The server-made thumbnail of an image, in the blob store too.
    thumb_sha256 TEXT,
    created_at BIGINT NOT NULL,
    -- Both NULL until a message carries it; an upload never sent is swept after a day.
    conversation_id TEXT REFERENCES conversations (id) ON DELETE CASCADE,
    message_seq BIGINT
);
CREATE UNIQUE INDEX attachments_by_upload ON attachments (uploader, upload_key);
CREATE INDEX attachments_by_message ON attachments (conversation_id, message_seq);
CREATE INDEX attachments_by_blob ON attachments (sha256);
CREATE INDEX attachments_by_thumb ON attachments (thumb_sha256);
CREATE INDEX attachments_by_age ON attachments (created_at);

-- What the message's attachments were when it was sent (JSON, the wire's `Attachment` list):
-- replays read messages alone, without a join.
ALTER TABLE messages ADD COLUMN attachments TEXT;

-- Per channel: whether visitors may attach files, how large, and of which kinds.
ALTER TABLE channels ADD COLUMN visitor_uploads BIGINT NOT NULL DEFAULT 1;
ALTER TABLE channels ADD COLUMN upload_max_bytes BIGINT NOT NULL DEFAULT 10485760;
ALTER TABLE channels ADD COLUMN upload_kinds TEXT NOT NULL DEFAULT 'image,pdf,text,office';
