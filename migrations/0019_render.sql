-- Server-side rendering (issue 13, points 1 and 3): a job's progress
-- (0..100) and its current stage, told by GET /api/jobs/{id}; a model's
-- turntable video (the "model_video" job writes its URL).
ALTER TABLE jobs ADD COLUMN progress INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN stage TEXT;
ALTER TABLE models ADD COLUMN video_url TEXT;
