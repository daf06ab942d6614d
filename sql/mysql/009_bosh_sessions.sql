-- BOSH sessions any node can continue (docs/XMPP.md, "Sessions and restarts").
-- One row per signed-in session, written with each answer: the highest rid
-- answered and the event cursor after that answer (and the one before it, to
-- answer that rid again), under a version compared on every write so two
-- nodes never both move the session on. `id` is a hash of the sid and `state`
-- (cookie, resource, rooms) is sealed with a key derived from the sid: the
-- table alone lets nobody act as anyone.

CREATE TABLE bosh_sessions (
  id CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  user_id BIGINT UNSIGNED NOT NULL,
  version INT UNSIGNED NOT NULL,
  rid BIGINT UNSIGNED NOT NULL,
  event_cursor BIGINT NULL,
  previous_cursor BIGINT NULL,
  state MEDIUMTEXT CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (id),
  KEY bosh_sessions_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO schema_migrations (name, applied_at) VALUES ('009_bosh_sessions', UNIX_TIMESTAMP() * 1000);
