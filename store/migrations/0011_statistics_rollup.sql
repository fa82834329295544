-- The supervisor's statistics read a rollup instead of the period's rows
-- (docs/BENCHMARKS.md, "Scale of the read model"). Triggers on the read
-- model keep it: every writer, ApplySnapshots or any other, moves the
-- rollup by the difference between a row's old and new contribution.
--
-- Days are Vietnam's (UTC+7 all year), as the statistics report them.
--
-- The triggers are deferred to the commit, and each takes one transaction
-- lock before it writes a rollup row: the commits that change the rollup
-- take their turn for the last moment of the transaction, so two writers
-- can never wait on each other's rollup rows in opposite orders.
--
-- A step is counted under its dossier's day of receipt and province, which
-- never change once the dossier is written (a trigger refuses it). TRUNCATE
-- and COPY with the triggers disabled leave the rollup behind:
-- engine.rollup_refill() rebuilds it from the tables.

-- Dossiers by place, group and status, all time: the counts by place and
-- the dossier gauge without a period.
CREATE TABLE engine.rollup_places (
    province_code text NOT NULL,
    commune_code  text NOT NULL,
    grp           text NOT NULL,
    status        text NOT NULL,
    n             bigint NOT NULL,
    PRIMARY KEY (province_code, commune_code, grp, status)
);

-- Dossiers by day of receipt, province, group and status; on_time counts
-- those completed by their deadline. A period's counts per province, the
-- daily volume and the ranking.
CREATE TABLE engine.rollup_days (
    day           date NOT NULL,
    province_code text NOT NULL,
    grp           text NOT NULL,
    status        text NOT NULL,
    n             bigint NOT NULL,
    on_time       bigint NOT NULL,
    PRIMARY KEY (day, province_code, grp, status)
);
CREATE INDEX rollup_days_province ON engine.rollup_days (province_code, day) INCLUDE (grp, status, n, on_time);

-- Decided steps by their dossier's day of receipt and province, agency,
-- step and duration bucket (engine.rollup_bucket); on_time counts those
-- decided by the step's due time. A period's step timings; the nation's
-- are kept apart, so the nation reads one row where a province reads 34.
CREATE TABLE engine.rollup_steps (
    day           date NOT NULL,
    province_code text NOT NULL,
    agency        text NOT NULL,
    step          text NOT NULL,
    bucket        int NOT NULL,
    n             bigint NOT NULL,
    on_time       bigint NOT NULL,
    PRIMARY KEY (province_code, day, agency, step, bucket)
);
CREATE TABLE engine.rollup_steps_nation (
    day           date NOT NULL,
    agency        text NOT NULL,
    step          text NOT NULL,
    bucket        int NOT NULL,
    n             bigint NOT NULL,
    on_time       bigint NOT NULL,
    PRIMARY KEY (day, agency, step, bucket)
);

-- A dossier deleted in a transaction, until the commit has moved its
-- steps' counts: they are counted under its day and province.
CREATE TABLE engine.rollup_deleted (
    code          text PRIMARY KEY,
    province_code text NOT NULL,
    received_at   timestamptz NOT NULL
);

-- The Vietnam day of a moment.
CREATE FUNCTION engine.rollup_day(at timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ((at AT TIME ZONE 'UTC') + interval '7 hours')::date
$$;

-- The bucket of a duration in seconds: buckets grow by 10 %, so the middle
-- of a bucket (its bounds' geometric mean) is within 4.9 % of every value
-- in it. 0 holds zero; positive durations count from 1,000,000 up,
-- negative ones (a clock's step back) from -1,000,000 down. Go's
-- store.bucketValue is the inverse.
CREATE FUNCTION engine.rollup_bucket(seconds float8) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN seconds > 0 THEN 1000000 + floor(ln(seconds) / ln(1.1))::int
        WHEN seconds < 0 THEN -1000000 - floor(ln(-seconds) / ln(1.1))::int
        ELSE 0 END
$$;

-- Adds sign times a dossier's contribution.
CREATE FUNCTION engine.rollup_add_dossier(d engine.dossiers, sign int) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO engine.rollup_places AS r (province_code, commune_code, grp, status, n)
    VALUES (d.province_code, d.commune_code, d.grp, d.status, sign)
    ON CONFLICT (province_code, commune_code, grp, status) DO UPDATE SET n = r.n + EXCLUDED.n;
    INSERT INTO engine.rollup_days AS r (day, province_code, grp, status, n, on_time)
    VALUES (engine.rollup_day(d.received_at), d.province_code, d.grp, d.status, sign,
        CASE WHEN d.completed_at IS NOT NULL AND d.completed_at <= d.due_at THEN sign ELSE 0 END)
    ON CONFLICT (day, province_code, grp, status) DO UPDATE SET n = r.n + EXCLUDED.n, on_time = r.on_time + EXCLUDED.on_time;
END;
$$;

-- Adds sign times a step's contribution, under its dossier's day and
-- province; a step not decided contributes nothing.
CREATE FUNCTION engine.rollup_add_step(s engine.steps, sign int) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    prov text;
    received timestamptz;
    b int;
    ot int;
BEGIN
    IF s.decided_at IS NULL OR s.started_at IS NULL THEN
        RETURN;
    END IF;
    SELECT d.province_code, d.received_at INTO prov, received FROM engine.dossiers d WHERE d.code = s.code;
    IF NOT FOUND THEN
        SELECT g.province_code, g.received_at INTO prov, received FROM engine.rollup_deleted g WHERE g.code = s.code;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'rollup: step % of dossier % has no dossier', s.step, s.code;
        END IF;
    END IF;
    b := engine.rollup_bucket(extract(epoch FROM s.decided_at - s.started_at)::float8);
    ot := CASE WHEN s.due_at IS NOT NULL AND s.decided_at <= s.due_at THEN sign ELSE 0 END;
    INSERT INTO engine.rollup_steps AS r (day, province_code, agency, step, bucket, n, on_time)
    VALUES (engine.rollup_day(received), prov, s.agency, s.step, b, sign, ot)
    ON CONFLICT (province_code, day, agency, step, bucket) DO UPDATE SET n = r.n + EXCLUDED.n, on_time = r.on_time + EXCLUDED.on_time;
    INSERT INTO engine.rollup_steps_nation AS r (day, agency, step, bucket, n, on_time)
    VALUES (engine.rollup_day(received), s.agency, s.step, b, sign, ot)
    ON CONFLICT (day, agency, step, bucket) DO UPDATE SET n = r.n + EXCLUDED.n, on_time = r.on_time + EXCLUDED.on_time;
END;
$$;

-- The lock the rollup's writers take in turn, until their commit.
CREATE FUNCTION engine.rollup_lock() RETURNS void
LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock(7263551300142)
$$;

CREATE FUNCTION engine.rollup_dossiers_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.province_code = NEW.province_code AND OLD.commune_code = NEW.commune_code
       AND OLD.grp = NEW.grp AND OLD.status = NEW.status AND OLD.received_at = NEW.received_at
       AND (OLD.completed_at IS NOT NULL AND OLD.completed_at <= OLD.due_at)
           IS NOT DISTINCT FROM (NEW.completed_at IS NOT NULL AND NEW.completed_at <= NEW.due_at) THEN
        RETURN NULL;
    END IF;
    PERFORM engine.rollup_lock();
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM engine.rollup_add_dossier(OLD, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM engine.rollup_add_dossier(NEW, 1);
    END IF;
    IF TG_OP = 'DELETE' THEN
        DELETE FROM engine.rollup_deleted WHERE code = OLD.code;
    END IF;
    RETURN NULL;
END;
$$;

CREATE FUNCTION engine.rollup_steps_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.agency = NEW.agency AND OLD.step = NEW.step AND OLD.code = NEW.code
       AND OLD.started_at IS NOT DISTINCT FROM NEW.started_at AND OLD.decided_at IS NOT DISTINCT FROM NEW.decided_at
       AND OLD.due_at IS NOT DISTINCT FROM NEW.due_at THEN
        RETURN NULL;
    END IF;
    IF (TG_OP <> 'INSERT' AND OLD.decided_at IS NOT NULL AND OLD.started_at IS NOT NULL)
       OR (TG_OP <> 'DELETE' AND NEW.decided_at IS NOT NULL AND NEW.started_at IS NOT NULL) THEN
        PERFORM engine.rollup_lock();
    ELSE
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM engine.rollup_add_step(OLD, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM engine.rollup_add_step(NEW, 1);
    END IF;
    RETURN NULL;
END;
$$;

-- Keeps a deleted dossier's day and province until the commit.
CREATE FUNCTION engine.rollup_dossier_deleting() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO engine.rollup_deleted (code, province_code, received_at) VALUES (OLD.code, OLD.province_code, OLD.received_at)
    ON CONFLICT (code) DO UPDATE SET province_code = EXCLUDED.province_code, received_at = EXCLUDED.received_at;
    RETURN OLD;
END;
$$;

CREATE FUNCTION engine.rollup_keys_fixed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.received_at <> NEW.received_at OR OLD.province_code <> NEW.province_code THEN
        RAISE EXCEPTION 'dossier %: the time of receipt and the province never change', OLD.code;
    END IF;
    RETURN NEW;
END;
$$;

CREATE CONSTRAINT TRIGGER rollup_dossiers AFTER INSERT OR UPDATE OR DELETE ON engine.dossiers
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION engine.rollup_dossiers_changed();
CREATE CONSTRAINT TRIGGER rollup_steps AFTER INSERT OR UPDATE OR DELETE ON engine.steps
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION engine.rollup_steps_changed();
CREATE TRIGGER rollup_dossier_deleting BEFORE DELETE ON engine.dossiers
    FOR EACH ROW EXECUTE FUNCTION engine.rollup_dossier_deleting();
CREATE TRIGGER rollup_keys_fixed BEFORE UPDATE OF received_at, province_code ON engine.dossiers
    FOR EACH ROW EXECUTE FUNCTION engine.rollup_keys_fixed();

-- Rebuilds every rollup table from the read model: after this migration,
-- after a TRUNCATE, and after a COPY made with the triggers disabled.
CREATE FUNCTION engine.rollup_refill() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM engine.rollup_lock();
    DELETE FROM engine.rollup_places;
    DELETE FROM engine.rollup_days;
    DELETE FROM engine.rollup_steps;
    DELETE FROM engine.rollup_steps_nation;
    INSERT INTO engine.rollup_places (province_code, commune_code, grp, status, n)
    SELECT province_code, commune_code, grp, status, count(*) FROM engine.dossiers GROUP BY 1, 2, 3, 4;
    INSERT INTO engine.rollup_days (day, province_code, grp, status, n, on_time)
    SELECT engine.rollup_day(received_at), province_code, grp, status, count(*),
        count(*) FILTER (WHERE completed_at IS NOT NULL AND completed_at <= due_at)
    FROM engine.dossiers GROUP BY 1, 2, 3, 4;
    INSERT INTO engine.rollup_steps (day, province_code, agency, step, bucket, n, on_time)
    SELECT engine.rollup_day(d.received_at), d.province_code, s.agency, s.step,
        engine.rollup_bucket(extract(epoch FROM s.decided_at - s.started_at)::float8), count(*),
        count(*) FILTER (WHERE s.due_at IS NOT NULL AND s.decided_at <= s.due_at)
    FROM engine.steps s JOIN engine.dossiers d ON d.code = s.code
    WHERE s.decided_at IS NOT NULL AND s.started_at IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5;
    INSERT INTO engine.rollup_steps_nation (day, agency, step, bucket, n, on_time)
    SELECT day, agency, step, bucket, sum(n), sum(on_time) FROM engine.rollup_steps GROUP BY 1, 2, 3, 4;
END;
$$;

SELECT engine.rollup_refill();
ANALYZE engine.rollup_places, engine.rollup_days, engine.rollup_steps, engine.rollup_steps_nation;
