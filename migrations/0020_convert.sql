-- GLB conversion and the quality report (issue 13, points 2 and 5).
--
-- viewer_key: the stored GLB the web viewer shows (area "derived"), made by
-- the "model_convert" job from the model's own file; NULL for a GLB, which
-- is shown as uploaded.  conversion_status: pending (queued or running),
-- done, failed (conversion_error says why, for the owner).
-- quality: the quality report as JSON text (media/quality.h), written from
-- the upload's analysis when the model is created; quality_badge: gold,
-- silver or bronze (docs/quality.md), NULL when no report exists (the
-- model_convert job fills it in for models stored before).
ALTER TABLE models ADD COLUMN viewer_key TEXT;
ALTER TABLE models ADD COLUMN conversion_status TEXT NOT NULL DEFAULT 'done';
ALTER TABLE models ADD COLUMN conversion_error TEXT;
ALTER TABLE models ADD COLUMN quality TEXT;
ALTER TABLE models ADD COLUMN quality_badge TEXT;
-- A GLB needs no conversion (POST /api/models sets 'pending' for the rest);
-- other existing models wait for `hwc3d convert-models`.
UPDATE models SET conversion_status = 'pending' WHERE file_format <> 'GLB' AND file_key IS NOT NULL;
