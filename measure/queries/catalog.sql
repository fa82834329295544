-- name: ServerVersion :one
-- The server's version line, for a report's machine table.
SELECT version()::text AS version;

-- name: DatabaseSize :one
-- The current database's size on disk, in bytes.
SELECT pg_database_size(current_database())::bigint AS size;

-- name: EngineTableSizes :many
-- The engine's tables bigger than 64 kiB: rows as last analysed, heap,
-- indexes and all of it (with TOAST), biggest first.
SELECT c.relname::text AS name, greatest(c.reltuples, 0)::bigint AS rows,
    pg_relation_size(c.oid)::bigint AS heap, pg_indexes_size(c.oid)::bigint AS indexes,
    pg_total_relation_size(c.oid)::bigint AS total
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'engine' AND c.relkind = 'r' AND pg_total_relation_size(c.oid) > 65536
ORDER BY 5 DESC;

-- name: EngineIndexSizes :many
-- The engine's indexes bigger than 64 kiB, biggest first.
SELECT t.relname::text AS table_name, i.relname::text AS index_name, pg_relation_size(i.oid)::bigint AS size
FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
JOIN pg_catalog.pg_class t ON t.oid = x.indrelid JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = 'engine' AND pg_relation_size(i.oid) > 65536
ORDER BY 3 DESC;

-- name: EngineKeys :many
-- The primary keys, unique and foreign-key constraints of the named engine
-- tables, with the definition that adds each back.
SELECT c.conrelid::regclass::text AS table_name, c.conname::text AS name, c.contype::text AS kind,
    pg_get_constraintdef(c.oid)::text AS definition
FROM pg_catalog.pg_constraint c JOIN pg_catalog.pg_class t ON t.oid = c.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = 'engine' AND t.relname = ANY(@tables::text[]) AND c.contype IN ('p', 'u', 'f')
ORDER BY c.contype, c.conname;

-- name: EngineIndexes :many
-- The indexes of the named engine tables that no constraint owns, with
-- the statement that creates each.
SELECT (i.schemaname || '.' || i.indexname)::text AS name, i.indexdef::text AS definition
FROM pg_catalog.pg_indexes i
WHERE i.schemaname = 'engine' AND i.tablename = ANY(@tables::text[])
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c
                  WHERE c.conindid = (i.schemaname || '.' || i.indexname)::regclass)
ORDER BY i.indexname;
