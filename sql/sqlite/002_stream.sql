-- See sql/mysql/002_stream.sql: membership over the stream, housekeeping leases.

CREATE TABLE membership_spans (
  user_id INTEGER NOT NULL,
  room_id INTEGER NOT NULL,
  joined_event_id INTEGER NOT NULL,
  left_event_id INTEGER NULL,
  PRIMARY KEY (user_id, room_id, joined_event_id)
);

INSERT INTO membership_spans (user_id, room_id, joined_event_id, left_event_id)
SELECT l.user_id, l.room_id,
  COALESCE((SELECT MAX(j.id) FROM events j WHERE j.room_id = l.room_id AND j.user_id = l.user_id AND j.type = 'member.joined' AND j.id < l.id), 0),
  l.id
FROM events l WHERE l.type = 'member.left' AND l.room_id IS NOT NULL;

INSERT INTO membership_spans (user_id, room_id, joined_event_id, left_event_id)
SELECT m.user_id, m.room_id,
  COALESCE((SELECT MAX(j.id) FROM events j WHERE j.room_id = m.room_id AND j.user_id = m.user_id AND j.type = 'member.joined'), 0),
  NULL
FROM memberships m;

CREATE TABLE housekeeping_leases (
  name TEXT NOT NULL PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);

INSERT INTO schema_migrations (name, applied_at) VALUES ('002_stream', CAST(strftime('%s', 'now') AS INTEGER) * 1000);
