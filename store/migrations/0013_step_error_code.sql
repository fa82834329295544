-- A step's last failed call keeps what it failed with (a gRPC code's name,
-- or TIMEOUT) in a column of its own, so the stuck cases' diagnosis and
-- remedy read a value instead of the start of a message. The rows written
-- before it take the code their message starts with: the engine wrote every
-- one as "CODE: message".
ALTER TABLE engine.steps ADD COLUMN last_error_code text NOT NULL DEFAULT '';

UPDATE engine.steps SET last_error_code = substring(last_error FROM '^([A-Z_]+):')
WHERE last_error ~ '^[A-Z_]+:';
