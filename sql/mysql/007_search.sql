-- Full-text search over message text. InnoDB FULLTEXT finds space-separated words
-- (built here for the messages already stored, kept up to date by InnoDB on every
-- insert and edit). MariaDB has no n-gram parser, so text without spaces (Japanese,
-- Chinese) is searched with a bounded LIKE over the caller's newest messages instead:
-- see src/search/. Deleted messages stay in this index but are never returned.

ALTER TABLE messages ADD FULLTEXT INDEX messages_text (text);

INSERT INTO schema_migrations (name, applied_at) VALUES ('007_search', UNIX_TIMESTAMP() * 1000);
