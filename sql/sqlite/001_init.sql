-- Initial schema for the embedded SQLite database (same shape as sql/mysql).

CREATE TABLE IF NOT EXISTS schema_migrations (
  name TEXT NOT NULL PRIMARY KEY,
  applied_at INTEGER NOT NULL
);

CREATE TABLE users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  username TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  is_admin INTEGER NOT NULL DEFAULT 0,
  session_version INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NULL
);

CREATE TABLE revoked_sessions (
  session_id TEXT NOT NULL PRIMARY KEY,
  user_id INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX revoked_sessions_user ON revoked_sessions (user_id);

CREATE TABLE api_tokens (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER NULL
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE rooms (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NULL UNIQUE,
  kind TEXT NOT NULL,
  visibility TEXT NOT NULL,
  direct_key TEXT NULL UNIQUE,
  created_by INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE memberships (
  room_id INTEGER NOT NULL,
  user_id INTEGER NOT NULL,
  role TEXT NOT NULL,
  joined_at INTEGER NOT NULL,
  last_read_event_id INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (room_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

-- See sql/mysql/001_init.sql: the counter that keeps event ids dense and in commit order.
CREATE TABLE event_seq (
  id INTEGER NOT NULL PRIMARY KEY,
  last_id INTEGER NOT NULL
);
INSERT INTO event_seq (id, last_id) VALUES (1, 0);

CREATE TABLE events (
  id INTEGER NOT NULL PRIMARY KEY,
  room_id INTEGER NULL,
  user_id INTEGER NOT NULL,
  target_user_id INTEGER NULL,
  type TEXT NOT NULL,
  body TEXT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX events_room ON events (room_id, id);

CREATE TABLE messages (
  id INTEGER NOT NULL PRIMARY KEY,
  room_id INTEGER NOT NULL,
  user_id INTEGER NOT NULL,
  text TEXT NOT NULL,
  client_id TEXT NULL,
  created_at INTEGER NOT NULL,
  edited_at INTEGER NULL,
  deleted_at INTEGER NULL,
  UNIQUE (user_id, client_id)
);
CREATE INDEX messages_room ON messages (room_id, id);

CREATE TABLE ephemeral_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  room_id INTEGER NOT NULL,
  user_id INTEGER NOT NULL,
  type TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX ephemeral_events_created ON ephemeral_events (created_at);

CREATE TABLE rate_limits (
  bucket TEXT NOT NULL PRIMARY KEY,
  hits INTEGER NOT NULL,
  reset_at INTEGER NOT NULL
);
CREATE INDEX rate_limits_reset ON rate_limits (reset_at);

INSERT INTO schema_migrations (name, applied_at) VALUES ('001_init', CAST(strftime('%s', 'now') AS INTEGER) * 1000);
