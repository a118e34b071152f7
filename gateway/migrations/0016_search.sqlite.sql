-- Full-text search over messages (SQLite): an FTS5 index of their text with the unicode61
-- tokenizer, diacritics folded ("ação" is found by "acao" too), so Indonesian, Russian and
-- Portuguese words are words. Kept by triggers, so every writer (the group-commit writer
-- included) keeps it without knowing it is there. It refers to messages by rowid
-- (`content='messages'`), which only a VACUUM renumbers: the gateway never runs one; after a
-- manual VACUUM, rebuild it with INSERT INTO message_search (message_search) VALUES ('rebuild').
CREATE VIRTUAL TABLE message_search USING fts5 (
    body,
    content = 'messages',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO message_search (message_search) VALUES ('rebuild');
CREATE TRIGGER messages_searched AFTER INSERT ON messages BEGIN
    INSERT INTO message_search (rowid, body) VALUES (new.rowid, new.body);
END;
CREATE TRIGGER messages_unsearched AFTER DELETE ON messages BEGIN
    INSERT INTO message_search (message_search, rowid, body) VALUES ('delete', old.rowid, old.body);
END;
CREATE TRIGGER messages_researched AFTER UPDATE OF body ON messages BEGIN
    INSERT INTO message_search (message_search, rowid, body) VALUES ('delete', old.rowid, old.body);
    INSERT INTO message_search (rowid, body) VALUES (new.rowid, new.body);
END;
-- The history lists conversations newest first.
CREATE INDEX conversations_by_creation ON conversations (created_at);
