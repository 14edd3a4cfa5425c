-- Crash hygiene (issue 8): the periodic sweep finds unused uploads past
-- UPLOAD_TTL_HOURS by age, and asks whether a stored file is still
-- referenced by a model's file_key, without scanning either table.
CREATE INDEX uploads_created_idx ON uploads (created_at);
CREATE INDEX models_file_key_idx ON models (file_key);
