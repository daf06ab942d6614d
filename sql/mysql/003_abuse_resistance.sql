-- Client ids compare byte for byte, as the server's own duplicate check does: under
-- utf8mb4_unicode_ci `A` and `a` were one key to the index but two to the check, so a
-- send could hit the unique key and fail every send in its group commit.
ALTER TABLE messages MODIFY client_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL;

INSERT INTO schema_migrations (name, applied_at) VALUES ('003_abuse_resistance', UNIX_TIMESTAMP() * 1000);
