-- Registrations made after their legal limit, accepted and flagged on the
-- dossier: a death registered after 15 days (known at receipt), a child's
-- residence registered after 60 days of the birth registration (known when
-- Police decides). A JSON array of dossier.LateRegistration.
ALTER TABLE engine.dossiers ADD COLUMN late_registrations jsonb NOT NULL DEFAULT '[]';
