-- Membership over the stream, and one-node-at-a-time housekeeping.
-- Can be imported by hand (phpMyAdmin: Import) after 001_init.

-- Who was a member of which room between which events: from the member.joined
-- event to the member.left event, both included (left_event_id NULL: still a
-- member). Written in the same transaction as those events; polls read it to
-- decide what a user may see at each place in the stream.
CREATE TABLE membership_spans (
  user_id BIGINT UNSIGNED NOT NULL,
  room_id BIGINT UNSIGNED NOT NULL,
  joined_event_id BIGINT UNSIGNED NOT NULL,
  left_event_id BIGINT UNSIGNED NULL,
  PRIMARY KEY (user_id, room_id, joined_event_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Past memberships: each member.left with the join before it.
INSERT INTO membership_spans (user_id, room_id, joined_event_id, left_event_id)
SELECT l.user_id, l.room_id,
  COALESCE((SELECT MAX(j.id) FROM events j WHERE j.room_id = l.room_id AND j.user_id = l.user_id AND j.type = 'member.joined' AND j.id < l.id), 0),
  l.id
FROM events l WHERE l.type = 'member.left' AND l.room_id IS NOT NULL;

-- Current memberships, from their latest join (0 when the event is gone).
INSERT INTO membership_spans (user_id, room_id, joined_event_id, left_event_id)
SELECT m.user_id, m.room_id,
  COALESCE((SELECT MAX(j.id) FROM events j WHERE j.room_id = m.room_id AND j.user_id = m.user_id AND j.type = 'member.joined'), 0),
  NULL
FROM memberships m;

-- A lease per housekeeping job, so that one node at a time does it.
CREATE TABLE housekeeping_leases (
  name VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  holder VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO schema_migrations (name, applied_at) VALUES ('002_stream', UNIX_TIMESTAMP() * 1000);
