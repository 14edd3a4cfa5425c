-- Uploaded files.  A row exists only once its file is stored; a failed or
-- half-received upload leaves neither file nor row.
CREATE TABLE uploads (
    id {{PK}},
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,            -- model | image | avatar | attachment
    storage_key TEXT NOT NULL UNIQUE,
    original_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    file_format TEXT NOT NULL,     -- GLB, GLTF, FBX, OBJ, BLEND, JPEG, PNG, WEBP, PDF, TXT, ZIP
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    width INTEGER,
    height INTEGER,
    analysis TEXT,                 -- JSON report of the model analysis
    created_at BIGINT NOT NULL
);
CREATE INDEX uploads_user_idx ON uploads (user_id, created_at);
