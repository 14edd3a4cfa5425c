-- GLB conversion and the quality report (issue 13, points 2 and 5).
--
-- viewer_key: the stored GLB the web viewer shows (area "derived"), made by
-- the "model_convert" job from the model's own file; NULL for a GLB, which
-- is shown as uploaded.  conversion_status: pending (queued or running),
-- done, failed (conversion_error says why, for the owner).
-- quality: the quality report as JSON text (media/quality.h), written from
-- the upload's analysis when the model is created; quality_badge: gold,
-- silver or bronze (docs/quality.md), NULL when no report exists.
ALTER TABLE models ADD COLUMN viewer_key TEXT;
ALTER TABLE models ADD COLUMN conversion_status TEXT NOT NULL DEFAULT 'pending';
ALTER TABLE models ADD COLUMN conversion_error TEXT;
ALTER TABLE models ADD COLUMN quality TEXT;
ALTER TABLE models ADD COLUMN quality_badge TEXT;
-- A GLB needs no conversion; other existing models wait for
-- `hwc3d convert-models` (or stay 'pending' without a viewer file).
UPDATE models SET conversion_status = 'done' WHERE file_format = 'GLB' OR file_key IS NULL;
