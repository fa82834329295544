-- The audit trail becomes a hash chain, so that a changed or removed row
-- shows (`lienthong audit verify`, store.VerifyAudit).
--
-- Every row holds its position in the chain (seq), the hash of the row
-- before it (prev_hash) and its own hash over a canonical encoding of its
-- fields (engine.audit_hash). Positions are given under a lock, one after
-- another, so an id skipped by a rolled-back insert is no gap in the chain,
-- while a removed row is. engine.audit_head holds the last position and
-- hash, so removing the newest rows shows too.

ALTER TABLE engine.audit
    ADD COLUMN seq       bigint,
    ADD COLUMN prev_hash bytea,
    ADD COLUMN hash      bytea;

-- One row: the chain's last position and hash. Small and updated on every
-- append, so leave room for in-page (HOT) updates.
CREATE TABLE engine.audit_head (
    one  boolean PRIMARY KEY DEFAULT true CHECK (one),
    seq  bigint NOT NULL,
    hash bytea NOT NULL
) WITH (fillfactor = 10);

-- A field preceded by its length.
CREATE FUNCTION engine.audit_field(b bytea) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT int4send(length(b)) || b
$$;

-- A row's hash: SHA-256 over, in order, the tag 'lienthong-audit-v1', then
-- seq, id and at (microseconds since 1970-01-01 UTC) as 8-byte big-endian
-- integers, then actor, role, action, code, purpose (UTF-8) and prev_hash,
-- each preceded by its length in bytes as a 4-byte big-endian integer.
-- Fixed widths and length prefixes make the encoding unambiguous: no two
-- rows encode alike. store/audit.go computes the same in Go to verify.
CREATE FUNCTION engine.audit_hash(seq bigint, id bigint, at timestamptz, actor text, role text,
    action text, code text, purpose text, prev_hash bytea) RETURNS bytea
LANGUAGE sql STABLE AS $$
    SELECT sha256(
        engine.audit_field(convert_to('lienthong-audit-v1', 'UTF8'))
        || int8send(seq)
        || int8send(id)
        || int8send((extract(epoch FROM at) * 1000000)::bigint)
        || engine.audit_field(convert_to(actor, 'UTF8'))
        || engine.audit_field(convert_to(role, 'UTF8'))
        || engine.audit_field(convert_to(action, 'UTF8'))
        || engine.audit_field(convert_to(code, 'UTF8'))
        || engine.audit_field(convert_to(purpose, 'UTF8'))
        || engine.audit_field(prev_hash))
$$;

-- Backfill: chain the rows written before this migration in id order, the
-- order they were written in. The first row's prev_hash is 32 zero bytes.
ALTER TABLE engine.audit DISABLE TRIGGER audit_append_only;
DO $$
DECLARE
    r    record;
    n    bigint := 0;
    prev bytea := decode(repeat('00', 32), 'hex');
    h    bytea;
BEGIN
    FOR r IN SELECT id, at, actor, role, action, code, purpose FROM engine.audit ORDER BY id LOOP
        n := n + 1;
        h := engine.audit_hash(n, r.id, r.at, r.actor, r.role, r.action, r.code, r.purpose, prev);
        UPDATE engine.audit SET seq = n, prev_hash = prev, hash = h WHERE id = r.id;
        prev := h;
    END LOOP;
    INSERT INTO engine.audit_head (seq, hash) VALUES (n, prev);
END;
$$;
ALTER TABLE engine.audit ENABLE TRIGGER audit_append_only;

ALTER TABLE engine.audit
    ALTER COLUMN seq SET NOT NULL,
    ALTER COLUMN prev_hash SET NOT NULL,
    ALTER COLUMN hash SET NOT NULL;
CREATE UNIQUE INDEX audit_seq ON engine.audit (seq);

-- Every insert joins the chain, whoever writes it. The head's row lock
-- serialises appends until the inserting transaction ends, so two writers
-- never take the same position; an insert rolled back gives its position
-- back. `at` is the clock when the row joins, not now() (the start of the
-- transaction), so time grows along the chain.
--
-- A row follows the head, or the row before it in the same statement
-- (rows past the head can only be this statement's: it holds the lock).
-- The head moves once per statement, after it, so a statement of many rows
-- costs no more per row than a statement of one.
CREATE FUNCTION engine.audit_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    tail engine.audit_head%ROWTYPE;
    prev record;
BEGIN
    SELECT * INTO STRICT tail FROM engine.audit_head FOR UPDATE;
    SELECT a.seq, a.hash INTO prev FROM engine.audit a
        WHERE a.seq > tail.seq ORDER BY a.seq DESC LIMIT 1;
    IF FOUND THEN
        tail.seq := prev.seq;
        tail.hash := prev.hash;
    END IF;
    NEW.seq := tail.seq + 1;
    NEW.prev_hash := tail.hash;
    NEW.at := clock_timestamp();
    NEW.hash := engine.audit_hash(NEW.seq, NEW.id, NEW.at, NEW.actor, NEW.role, NEW.action, NEW.code, NEW.purpose, NEW.prev_hash);
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_chain BEFORE INSERT ON engine.audit
    FOR EACH ROW EXECUTE FUNCTION engine.audit_chain();

CREATE FUNCTION engine.audit_move_head() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE engine.audit_head h SET seq = t.seq, hash = t.hash
        FROM (SELECT seq, hash FROM appended ORDER BY seq DESC LIMIT 1) t;
    RETURN NULL;
END;
$$;
CREATE TRIGGER audit_move_head AFTER INSERT ON engine.audit
    REFERENCING NEW TABLE AS appended
    FOR EACH STATEMENT EXECUTE FUNCTION engine.audit_move_head();

-- The head moves only with an append (from inside audit_move_head).
CREATE FUNCTION engine.audit_head_moves_with_audit() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND pg_trigger_depth() > 1 THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'engine.audit_head moves only when engine.audit gains a row';
END;
$$;
CREATE TRIGGER audit_head_guard BEFORE UPDATE OR DELETE ON engine.audit_head
    FOR EACH ROW EXECUTE FUNCTION engine.audit_head_moves_with_audit();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON engine.audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION engine.audit_head_moves_with_audit();
