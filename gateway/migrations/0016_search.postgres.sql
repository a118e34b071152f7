-- Full-text search over messages (PostgreSQL): each message's words as a tsvector of the
-- `simple` configuration (lower-cased, no stemming, any language), computed by the database on
-- every write and found through a GIN index.
ALTER TABLE messages ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED;
CREATE INDEX messages_search ON messages USING GIN (search);
-- The history lists conversations newest first.
CREATE INDEX conversations_by_creation ON conversations (created_at);
