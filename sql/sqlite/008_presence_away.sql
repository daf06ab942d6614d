-- See sql/mysql/008_presence_away.sql.

ALTER TABLE users ADD COLUMN away INTEGER NOT NULL DEFAULT 0;

INSERT INTO schema_migrations (name, applied_at) VALUES ('008_presence_away', CAST(strftime('%s', 'now') AS INTEGER) * 1000);
