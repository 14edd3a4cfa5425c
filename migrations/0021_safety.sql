-- Safety scans and geometry fingerprints (issue 13, points 4 and 6).
--
-- upload_scans: every POST /api/models/safety-scan (and the scan that
-- POST /api/models runs itself when none was) keeps its result; the latest
-- row of an upload decides whether it may be published (verdict 'unsafe':
-- no) and is what admins see in moderation.  findings is the JSON array
-- of {check, severity, message}; duplicate_of the likely original.
CREATE TABLE upload_scans (
    id {{PK}},
    upload_id BIGINT NOT NULL REFERENCES uploads(id) ON DELETE CASCADE,
    verdict TEXT NOT NULL,
    findings TEXT NOT NULL,
    duplicate_of BIGINT REFERENCES models(id) ON DELETE SET NULL,
    similarity DOUBLE PRECISION,
    created_at BIGINT NOT NULL
);
CREATE INDEX upload_scans_upload_idx ON upload_scans (upload_id, id);

-- One geometry fingerprint per model (media/fingerprint.h), written when
-- the model is created from its upload's analysis; `hwc3d
-- fingerprint-backfill` fills older models.  fp_key is the coarse key a
-- lookup reads (the key and its two neighbours), vec the vector as text
-- (fingerprint_encode, about 420 bytes).  The lookup reads only the index,
-- which carries the vectors in key order: no row lookups.
CREATE TABLE model_fingerprints (
    model_id BIGINT PRIMARY KEY REFERENCES models(id) ON DELETE CASCADE,
    fp_key INTEGER NOT NULL,
    vec TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX model_fingerprints_key_idx ON model_fingerprints (fp_key, model_id, vec);
