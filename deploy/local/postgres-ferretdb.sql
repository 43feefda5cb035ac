-- Lets FerretDB 1.24's queries on PostgreSQL use an index. Applied by scripts/infra.sh to the local
-- database FerretDB keeps its collections in; nothing in the services depends on it.
--
-- FerretDB turns a filter such as {_id: "..."} into `_jsonb -> '_id' @> '"..."'` and indexes a
-- field with a btree on `_jsonb -> 'field'`. A btree cannot answer `@>`, so every lookup, even by
-- _id, read the whole table (3 ms per call on a table of 600 routing assignments, growing with the
-- table). For each single-field btree FerretDB creates, this adds a GIN (jsonb_path_ops) index on
-- the same expression, which answers `@>`. The queries are prepared statements with the field name
-- as a parameter, so the server also runs with plan_cache_mode=force_custom_plan (scripts/infra.sh):
-- a generic plan would not see that the expression matches the index.

SET client_min_messages = warning;

CREATE OR REPLACE FUNCTION leadmesh_twin_index(btree oid) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  expression text := substring(pg_get_indexdef(btree) FROM 'USING btree \(\((\(_jsonb -> ''[^'']+''::text\))\)\)$');
  target regclass := (SELECT indrelid::regclass FROM pg_index WHERE indexrelid = btree);
  twin text := 'leadmesh_gin_' || md5(btree::regclass::text);
BEGIN
  IF expression IS NULL OR EXISTS (SELECT 1 FROM pg_class WHERE relname = twin) THEN
    RETURN;
  END IF;
  EXECUTE format('CREATE INDEX %I ON %s USING gin (%s jsonb_path_ops)', twin, target, expression);
END $$;

CREATE OR REPLACE FUNCTION leadmesh_twin_new_indexes() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE
  created record;
BEGIN
  FOR created IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE INDEX' LOOP
    PERFORM leadmesh_twin_index(created.objid);
  END LOOP;
END $$;

DROP EVENT TRIGGER IF EXISTS leadmesh_twin_indexes;
CREATE EVENT TRIGGER leadmesh_twin_indexes ON ddl_command_end WHEN TAG IN ('CREATE INDEX')
  EXECUTE FUNCTION leadmesh_twin_new_indexes();

-- Collections created before this file was applied.
SELECT leadmesh_twin_index(i.indexrelid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
WHERE am.amname = 'btree' AND pg_get_indexdef(i.indexrelid) LIKE '%(_jsonb -> %';
