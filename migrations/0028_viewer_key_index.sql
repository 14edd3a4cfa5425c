-- The orphan sweep asks, for every file under derived/, whether a model's
-- viewer_key names it (src/svc/sweep.c): one index probe, not a scan of
-- every model.  Only converted models have a viewer_key.
CREATE INDEX models_viewer_key_idx ON models (viewer_key) WHERE viewer_key IS NOT NULL;
