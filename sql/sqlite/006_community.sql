-- See sql/mysql/006_community.sql.

ALTER TABLE rooms ADD COLUMN topic TEXT NULL;
ALTER TABLE rooms ADD COLUMN archived_at INTEGER NULL;
CREATE INDEX rooms_created_by ON rooms (created_by);

ALTER TABLE users ADD COLUMN disabled_at INTEGER NULL;

CREATE TABLE room_bans (
  room_id INTEGER NOT NULL,
  user_id INTEGER NOT NULL,
  by_user_id INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (room_id, user_id)
);

CREATE TABLE blocks (
  user_id INTEGER NOT NULL,
  blocked_user_id INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, blocked_user_id)
);
CREATE INDEX blocks_blocked ON blocks (blocked_user_id);

CREATE TABLE mentions (
  message_id INTEGER NOT NULL,
  room_id INTEGER NOT NULL,
  user_id INTEGER NOT NULL,
  PRIMARY KEY (message_id, user_id)
);
CREATE INDEX mentions_user_room ON mentions (user_id, room_id, message_id);

CREATE TABLE invites (
  code TEXT NOT NULL PRIMARY KEY,
  created_by INTEGER NOT NULL,
  uses_left INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);

INSERT INTO schema_migrations (name, applied_at) VALUES ('006_community', CAST(strftime('%s', 'now') AS INTEGER) * 1000);
