-- The trace of the call that opened a case (a W3C traceparent), so that
-- every later push of the case starts a trace linked back to it. Empty when
-- the call was not traced.
ALTER TABLE ${schema}.cases ADD COLUMN trace_parent text NOT NULL DEFAULT '';
