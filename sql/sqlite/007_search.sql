-- Full-text search over the current text of live messages (FTS5, trigram tokenizer).
-- Trigrams find any substring of three characters or more, so Japanese and Chinese
-- text, which has no spaces between words, is found as well as space-separated words.
-- The index reads its text from `messages` (external content); the triggers keep it
-- equal to the live messages: an edit replaces the entry, a deletion removes it.
-- Each trigger stays on one line: the migration runner ends a statement at a `;` that ends a line.

CREATE VIRTUAL TABLE message_search USING fts5(text, content='messages', content_rowid='id', tokenize='trigram case_sensitive 0');

CREATE TRIGGER message_search_insert AFTER INSERT ON messages WHEN new.deleted_at IS NULL BEGIN INSERT INTO message_search (rowid, text) VALUES (new.id, new.text); END;

CREATE TRIGGER message_search_update AFTER UPDATE OF text, deleted_at ON messages BEGIN INSERT INTO message_search (message_search, rowid, text) SELECT 'delete', old.id, old.text WHERE old.deleted_at IS NULL; INSERT INTO message_search (rowid, text) SELECT new.id, new.text WHERE new.deleted_at IS NULL; END;

CREATE TRIGGER message_search_delete AFTER DELETE ON messages WHEN old.deleted_at IS NULL BEGIN INSERT INTO message_search (message_search, rowid, text) VALUES ('delete', old.id, old.text); END;

-- Messages written before this migration.
INSERT INTO message_search (rowid, text) SELECT id, text FROM messages WHERE deleted_at IS NULL;

INSERT INTO schema_migrations (name, applied_at) VALUES ('007_search', CAST(strftime('%s', 'now') AS INTEGER) * 1000);
