-- Files shared in rooms: see sql/mysql/007_attachments.sql.

CREATE TABLE attachments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id INTEGER NULL,
  room_id INTEGER NOT NULL,
  user_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  size INTEGER NOT NULL,
  content_type TEXT NOT NULL,
  width INTEGER NULL,
  height INTEGER NULL,
  storage_key TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  deleted_at INTEGER NULL
);
CREATE INDEX attachments_message ON attachments (message_id);
CREATE INDEX attachments_user ON attachments (user_id);
CREATE INDEX attachments_deleted ON attachments (deleted_at);

CREATE TABLE attachment_chunks (
  storage_key TEXT NOT NULL,
  seq INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (storage_key, seq)
);

INSERT INTO schema_migrations (name, applied_at) VALUES ('007_attachments', CAST(strftime('%s', 'now') AS INTEGER) * 1000);
