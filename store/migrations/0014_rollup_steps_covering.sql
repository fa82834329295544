-- The step timings of a province or of the nation read every rollup row of
-- the period. Those rows are written in the order decisions come in, so a
-- province's year lies on nearly every page of engine.rollup_steps: 114,000
-- rows of Hanoi's year were read from 23,000 of its 23,500 pages, at random
-- (docs/BENCHMARKS.md, "Scale of the read model"). The keys now carry the
-- counts, and the timings read the index alone, in key order: a province's
-- period is one contiguous range of it.
--
-- The price is on the write path: a count that changes now changes its
-- index entry too, so the rollup's upserts are no longer HOT updates.
ALTER TABLE engine.rollup_steps
    DROP CONSTRAINT rollup_steps_pkey,
    ADD CONSTRAINT rollup_steps_pkey PRIMARY KEY (province_code, day, agency, step, bucket) INCLUDE (n, on_time);
ALTER TABLE engine.rollup_steps_nation
    DROP CONSTRAINT rollup_steps_nation_pkey,
    ADD CONSTRAINT rollup_steps_nation_pkey PRIMARY KEY (day, agency, step, bucket) INCLUDE (n, on_time);

-- An index-only scan skips the table only for pages the visibility map
-- marks all-visible: a vacuum sets it for the rows written so far, and
-- autovacuum keeps it as days close.
ANALYZE engine.rollup_steps, engine.rollup_steps_nation;
