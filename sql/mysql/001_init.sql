-- Initial schema for MySQL 5.7+, 8.x and MariaDB 10.3+.
-- Can be imported by hand (phpMyAdmin: Import) before the first start; the
-- server then sees 001_init recorded in schema_migrations and skips it.
-- No triggers, events or procedures: shared hosting grants no SUPER privilege.
-- Indexed strings stay under 191 characters for old 767-byte index limits.

CREATE TABLE IF NOT EXISTS schema_migrations (
  name VARCHAR(100) NOT NULL,
  applied_at BIGINT NOT NULL,
  PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE users (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  username VARCHAR(32) NOT NULL,
  display_name VARCHAR(64) NOT NULL,
  password_hash VARCHAR(255) NOT NULL,
  is_admin TINYINT(1) NOT NULL DEFAULT 0,
  session_version INT UNSIGNED NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  last_seen_at BIGINT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY users_username (username)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE revoked_sessions (
  session_id CHAR(24) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  user_id BIGINT UNSIGNED NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (session_id),
  KEY revoked_sessions_user (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE api_tokens (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  user_id BIGINT UNSIGNED NOT NULL,
  name VARCHAR(64) NOT NULL,
  token_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_at BIGINT NOT NULL,
  last_used_at BIGINT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY api_tokens_hash (token_hash),
  KEY api_tokens_user (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE rooms (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  name VARCHAR(64) NULL,
  kind VARCHAR(16) NOT NULL,
  visibility VARCHAR(16) NOT NULL,
  direct_key VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
  created_by BIGINT UNSIGNED NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY rooms_name (name),
  UNIQUE KEY rooms_direct_key (direct_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE memberships (
  room_id BIGINT UNSIGNED NOT NULL,
  user_id BIGINT UNSIGNED NOT NULL,
  role VARCHAR(16) NOT NULL,
  joined_at BIGINT NOT NULL,
  last_read_event_id BIGINT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (room_id, user_id),
  KEY memberships_user (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The one counter every event id comes from. Writers lock this row for the
-- length of their transaction, so ids are dense and commit in id order: a
-- reader that follows ids can never pass one that is still uncommitted.
CREATE TABLE event_seq (
  id TINYINT UNSIGNED NOT NULL,
  last_id BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO event_seq (id, last_id) VALUES (1, 0);

CREATE TABLE events (
  id BIGINT UNSIGNED NOT NULL,
  room_id BIGINT UNSIGNED NULL,
  user_id BIGINT UNSIGNED NOT NULL,
  target_user_id BIGINT UNSIGNED NULL,
  type VARCHAR(32) NOT NULL,
  body TEXT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (id),
  KEY events_room (room_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE messages (
  id BIGINT UNSIGNED NOT NULL,
  room_id BIGINT UNSIGNED NOT NULL,
  user_id BIGINT UNSIGNED NOT NULL,
  text TEXT NOT NULL,
  client_id VARCHAR(64) NULL,
  created_at BIGINT NOT NULL,
  edited_at BIGINT NULL,
  deleted_at BIGINT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY messages_client (user_id, client_id),
  KEY messages_room (room_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Typing notices: short-lived, never part of the cursor; pruned after a minute.
CREATE TABLE ephemeral_events (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  room_id BIGINT UNSIGNED NOT NULL,
  user_id BIGINT UNSIGNED NOT NULL,
  type VARCHAR(32) NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (id),
  KEY ephemeral_events_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Counters for rate limits that must hold across processes and nodes (login).
CREATE TABLE rate_limits (
  bucket VARCHAR(191) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  hits INT UNSIGNED NOT NULL,
  reset_at BIGINT NOT NULL,
  PRIMARY KEY (bucket),
  KEY rate_limits_reset (reset_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO schema_migrations (name, applied_at) VALUES ('001_init', UNIX_TIMESTAMP() * 1000);
