-- Editing, archiving and deleting assessments (docs/assessments.md): an archived assessment takes no new attempts
-- and keeps its results; NULL while it is in use.
ALTER TABLE assessments ADD COLUMN archived_at BIGINT;
