-- Presence "away": the client says so on its polls (no input in any tab for
-- 5 minutes). Nodes share it through this column, written with last_seen_at
-- in the same batched statement, so a member list on any node shows it.

ALTER TABLE users
  ADD COLUMN away TINYINT(1) NOT NULL DEFAULT 0;

INSERT INTO schema_migrations (name, applied_at) VALUES ('008_presence_away', UNIX_TIMESTAMP() * 1000);
