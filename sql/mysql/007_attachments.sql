-- Files shared in rooms. A row is written before the first byte is stored (message_id NULL:
-- an upload in progress) and joined to its message in the message's own transaction, so
-- housekeeping can always find and remove what a crash left behind. deleted_at marks the
-- files of a deleted message: no longer served, bytes removed by housekeeping if the
-- request that deleted the message could not finish doing so.

CREATE TABLE attachments (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  message_id BIGINT UNSIGNED NULL,
  room_id BIGINT UNSIGNED NOT NULL,
  user_id BIGINT UNSIGNED NOT NULL,
  name VARCHAR(255) NOT NULL,
  size BIGINT NOT NULL,
  content_type VARCHAR(127) NOT NULL,
  width INT NULL,
  height INT NULL,
  storage_key CHAR(32) NOT NULL,
  created_at BIGINT NOT NULL,
  deleted_at BIGINT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY attachments_storage (storage_key),
  KEY attachments_message (message_id),
  KEY attachments_user (user_id),
  KEY attachments_deleted (deleted_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The bytes, with ATTACHMENT_STORE=database, in chunks of 256 KiB.
CREATE TABLE attachment_chunks (
  storage_key CHAR(32) NOT NULL,
  seq INT NOT NULL,
  data MEDIUMBLOB NOT NULL,
  PRIMARY KEY (storage_key, seq)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO schema_migrations (name, applied_at) VALUES ('007_attachments', UNIX_TIMESTAMP() * 1000);
