-- SQLite already compares TEXT byte for byte (the MySQL file makes client_id binary);
-- this file keeps the two dialects' numbering in step.
INSERT INTO schema_migrations (name, applied_at) VALUES ('003_abuse_resistance', CAST(strftime('%s', 'now') AS INTEGER) * 1000);
