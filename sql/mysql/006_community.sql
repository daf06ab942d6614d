-- Running a community: room topics and archiving, roles (moderator is a new
-- value of memberships.role), bans, blocks, mentions, invitations and disabled
-- accounts. Plain DDL: importable by hand (phpMyAdmin: Import) like 001.

ALTER TABLE rooms
  ADD COLUMN topic VARCHAR(250) NULL,
  ADD COLUMN archived_at BIGINT NULL,
  ADD KEY rooms_created_by (created_by);

ALTER TABLE users
  ADD COLUMN disabled_at BIGINT NULL;

CREATE TABLE room_bans (
  room_id BIGINT UNSIGNED NOT NULL,
  user_id BIGINT UNSIGNED NOT NULL,
  by_user_id BIGINT UNSIGNED NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (room_id, user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE blocks (
  user_id BIGINT UNSIGNED NOT NULL,
  blocked_user_id BIGINT UNSIGNED NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, blocked_user_id),
  KEY blocks_blocked (blocked_user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Who a message mentions, so each member's unread mentions can be counted.
CREATE TABLE mentions (
  message_id BIGINT UNSIGNED NOT NULL,
  room_id BIGINT UNSIGNED NOT NULL,
  user_id BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (message_id, user_id),
  KEY mentions_user_room (user_id, room_id, message_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE invites (
  code CHAR(22) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_by BIGINT UNSIGNED NOT NULL,
  uses_left INT UNSIGNED NOT NULL,
  expires_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO schema_migrations (name, applied_at) VALUES ('006_community', UNIX_TIMESTAMP() * 1000);
