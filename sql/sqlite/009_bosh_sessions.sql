-- See sql/mysql/009_bosh_sessions.sql.

CREATE TABLE bosh_sessions (
  id TEXT NOT NULL PRIMARY KEY,
  user_id INTEGER NOT NULL,
  version INTEGER NOT NULL,
  rid INTEGER NOT NULL,
  event_cursor INTEGER,
  previous_cursor INTEGER,
  state TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX bosh_sessions_expires ON bosh_sessions (expires_at);

INSERT INTO schema_migrations (name, applied_at) VALUES ('009_bosh_sessions', CAST(strftime('%s', 'now') AS INTEGER) * 1000);
