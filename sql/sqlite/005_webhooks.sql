-- Webhooks (same shape as sql/mysql/005_webhooks.sql, which explains the columns).

ALTER TABLE users ADD COLUMN is_bot INTEGER NOT NULL DEFAULT 0;

CREATE TABLE incoming_webhooks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  room_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL UNIQUE,
  bot_user_id INTEGER NOT NULL,
  created_by INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER NULL
);
CREATE INDEX incoming_webhooks_room ON incoming_webhooks (room_id);

CREATE TABLE outgoing_webhooks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  room_id INTEGER NOT NULL,
  url TEXT NOT NULL,
  events TEXT NOT NULL,
  secret TEXT NOT NULL,
  bot_user_id INTEGER NOT NULL,
  created_by INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  last_delivered_event_id INTEGER NOT NULL DEFAULT 0,
  failing INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  first_failure_at INTEGER NULL,
  next_attempt_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outgoing_webhooks_room ON outgoing_webhooks (room_id);

CREATE TABLE webhook_leases (
  webhook_id INTEGER NOT NULL PRIMARY KEY,
  holder TEXT NULL,
  expires_at INTEGER NOT NULL DEFAULT 0
);

INSERT INTO schema_migrations (name, applied_at) VALUES ('005_webhooks', CAST(strftime('%s', 'now') AS INTEGER) * 1000);
