-- The trace of the submission (an OpenTelemetry trace id), so that a
-- supervisor goes from a dossier to its trace. Empty when tracing is off.
ALTER TABLE engine.dossiers ADD COLUMN trace_id text NOT NULL DEFAULT '';
