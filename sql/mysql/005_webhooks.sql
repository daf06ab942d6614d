-- Webhooks: incoming hooks post into a room as a bot user; outgoing hooks
-- deliver a room's events to a URL, each from a cursor over the events table.
-- Importable by hand (phpMyAdmin) like 001; the server then skips it.

-- Bot users (one per webhook) cannot sign in: their password hash is no hash,
-- and their usernames start with `~`, which no route accepts.
ALTER TABLE users ADD COLUMN is_bot TINYINT(1) NOT NULL DEFAULT 0;

CREATE TABLE incoming_webhooks (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  room_id BIGINT UNSIGNED NOT NULL,
  name VARCHAR(64) NOT NULL,
  secret_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  bot_user_id BIGINT UNSIGNED NOT NULL,
  created_by BIGINT UNSIGNED NOT NULL,
  created_at BIGINT NOT NULL,
  last_used_at BIGINT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY incoming_webhooks_secret (secret_hash),
  KEY incoming_webhooks_room (room_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- last_delivered_event_id is the webhook's cursor: deliveries resume after it.
-- The secret signs deliveries, so it is kept (API tokens, by contrast, are hashed).
CREATE TABLE outgoing_webhooks (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  room_id BIGINT UNSIGNED NOT NULL,
  url VARCHAR(2048) NOT NULL,
  events VARCHAR(512) NOT NULL,
  secret VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  bot_user_id BIGINT UNSIGNED NOT NULL,
  created_by BIGINT UNSIGNED NOT NULL,
  created_at BIGINT NOT NULL,
  last_delivered_event_id BIGINT UNSIGNED NOT NULL DEFAULT 0,
  failing TINYINT(1) NOT NULL DEFAULT 0,
  last_error VARCHAR(500) NULL,
  attempts INT UNSIGNED NOT NULL DEFAULT 0,
  first_failure_at BIGINT NULL,
  next_attempt_at BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (id),
  KEY outgoing_webhooks_room (room_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per outgoing webhook: the node delivering it, until expires_at. A
-- node that dies stops renewing, and another takes the row once it expires.
CREATE TABLE webhook_leases (
  webhook_id BIGINT UNSIGNED NOT NULL,
  holder VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
  expires_at BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (webhook_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO schema_migrations (name, applied_at) VALUES ('005_webhooks', UNIX_TIMESTAMP() * 1000);
