-- The search index is written behind the appends (SQLite): indexing a message's words took
-- about 14 µs of the 38 µs the writer spends on an append, in the transaction every visitor's
-- message waits on. Now an append writes no index; a background job (and every search, first)
-- indexes the messages past `indexed_rowid` in batches, through the same writer.
--
-- Invariant: every message with rowid <= indexed_rowid is in the index, and the index holds no
-- other. So a deleted message leaves the index only if it was in it, and deleting the newest
-- messages lowers the mark to the newest left: SQLite gives a new row the rowid after the
-- largest, which could otherwise reuse a rowid the mark already passed and never be indexed.
-- After a manual VACUUM (which renumbers rowids), rebuild: INSERT INTO message_search
-- (message_search) VALUES ('rebuild'); UPDATE search_progress SET indexed_rowid =
-- (SELECT COALESCE(MAX(rowid), 0) FROM messages);
CREATE TABLE search_progress (indexed_rowid BIGINT NOT NULL);
INSERT INTO search_progress (indexed_rowid) SELECT COALESCE(MAX(rowid), 0) FROM messages;
DROP TRIGGER messages_searched;
DROP TRIGGER messages_unsearched;
DROP TRIGGER messages_researched;
CREATE TRIGGER messages_unsearched AFTER DELETE ON messages BEGIN
    INSERT INTO message_search (message_search, rowid, body)
        SELECT 'delete', old.rowid, old.body
        WHERE old.rowid <= (SELECT indexed_rowid FROM search_progress);
    UPDATE search_progress SET indexed_rowid = (SELECT COALESCE(MAX(rowid), 0) FROM messages)
        WHERE indexed_rowid > (SELECT COALESCE(MAX(rowid), 0) FROM messages);
END;
CREATE TRIGGER messages_researched AFTER UPDATE OF body ON messages
WHEN old.rowid <= (SELECT indexed_rowid FROM search_progress) BEGIN
    INSERT INTO message_search (message_search, rowid, body) VALUES ('delete', old.rowid, old.body);
    INSERT INTO message_search (rowid, body) VALUES (new.rowid, new.body);
END;
