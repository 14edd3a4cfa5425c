-- Models and what buyers do with them: tags, likes, views, comments, daily
-- counters for analytics, and notifications.  Counters on models are
-- maintained in the same transaction as the row they count, so lists never
-- need COUNT(*) over the detail tables.

CREATE TABLE models (
    id {{PK}},
    creator_id BIGINT NOT NULL REFERENCES users(id),
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    price_cents BIGINT NOT NULL DEFAULT 0,
    currency TEXT NOT NULL DEFAULT 'USD',
    is_free {{BOOL}} NOT NULL DEFAULT FALSE,
    category_id BIGINT REFERENCES categories(id),
    tags TEXT NOT NULL DEFAULT '[]',          -- JSON array, the same as model_tags
    license TEXT NOT NULL DEFAULT 'standard',
    upload_id BIGINT REFERENCES uploads(id),
    file_key TEXT,
    file_format TEXT,
    file_size BIGINT NOT NULL DEFAULT 0,
    poly_count BIGINT NOT NULL DEFAULT 0,
    vertex_count BIGINT NOT NULL DEFAULT 0,
    has_animations {{BOOL}} NOT NULL DEFAULT FALSE,
    has_rigging {{BOOL}} NOT NULL DEFAULT FALSE,
    has_textures {{BOOL}} NOT NULL DEFAULT FALSE,
    thumbnail_url TEXT,
    preview_images TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL DEFAULT 'pending',    -- pending | approved | rejected
    rejection_reason TEXT,
    is_published {{BOOL}} NOT NULL DEFAULT TRUE,
    is_featured {{BOOL}} NOT NULL DEFAULT FALSE,
    likes_count BIGINT NOT NULL DEFAULT 0,
    views_count BIGINT NOT NULL DEFAULT 0,
    downloads_count BIGINT NOT NULL DEFAULT 0,
    comments_count BIGINT NOT NULL DEFAULT 0,
    sales_count BIGINT NOT NULL DEFAULT 0,
    shares_count BIGINT NOT NULL DEFAULT 0,
    rating_sum BIGINT NOT NULL DEFAULT 0,
    rating_count BIGINT NOT NULL DEFAULT 0,
    deleted_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX models_creator_idx ON models (creator_id, created_at);
-- one model per uploaded file (deleting one must never take another's file)
CREATE UNIQUE INDEX models_upload_idx ON models (upload_id);
CREATE INDEX models_public_new_idx ON models (status, is_published, deleted_at, created_at);
CREATE INDEX models_category_idx ON models (category_id, created_at);
CREATE INDEX models_price_idx ON models (price_cents);
CREATE INDEX models_popular_idx ON models (likes_count, views_count);

CREATE TABLE model_tags (
    model_id BIGINT NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (model_id, tag)
);
CREATE INDEX model_tags_tag_idx ON model_tags (tag);

CREATE TABLE model_likes (
    model_id BIGINT NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (model_id, user_id)
);
CREATE INDEX model_likes_user_idx ON model_likes (user_id);

-- One view per viewer (user id or client IP) per model per hour.
CREATE TABLE model_views (
    model_id BIGINT NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    viewer TEXT NOT NULL,
    hour BIGINT NOT NULL,
    PRIMARY KEY (model_id, viewer, hour)
);

CREATE TABLE model_comments (
    id {{PK}},
    model_id BIGINT NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id),
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX model_comments_model_idx ON model_comments (model_id, created_at);

-- Per model and day (days since the epoch): the owner's analytics.
CREATE TABLE model_daily (
    model_id BIGINT NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    day BIGINT NOT NULL,
    views BIGINT NOT NULL DEFAULT 0,
    likes BIGINT NOT NULL DEFAULT 0,
    sales BIGINT NOT NULL DEFAULT 0,
    downloads BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (model_id, day)
);

CREATE TABLE notifications (
    id {{PK}},
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    title TEXT NOT NULL,
    message TEXT NOT NULL,
    action_url TEXT,
    is_read {{BOOL}} NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);
CREATE INDEX notifications_user_idx ON notifications (user_id, is_read, created_at);

-- Full-text search over title, description and tags.
-- @sqlite
CREATE VIRTUAL TABLE models_fts USING fts5(title, description, tags, content='models', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER models_fts_ai AFTER INSERT ON models BEGIN
    INSERT INTO models_fts (rowid, title, description, tags) VALUES (new.id, new.title, new.description, new.tags);
END;
CREATE TRIGGER models_fts_ad AFTER DELETE ON models BEGIN
    INSERT INTO models_fts (models_fts, rowid, title, description, tags) VALUES ('delete', old.id, old.title, old.description, old.tags);
END;
CREATE TRIGGER models_fts_au AFTER UPDATE OF title, description, tags ON models BEGIN
    INSERT INTO models_fts (models_fts, rowid, title, description, tags) VALUES ('delete', old.id, old.title, old.description, old.tags);
    INSERT INTO models_fts (rowid, title, description, tags) VALUES (new.id, new.title, new.description, new.tags);
END;
-- @end
-- @pg
ALTER TABLE models ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', coalesce(title, '')), 'A') ||
    setweight(to_tsvector('simple', coalesce(tags, '')), 'B') ||
    setweight(to_tsvector('simple', coalesce(description, '')), 'C')) STORED;
CREATE INDEX models_search_idx ON models USING GIN (search);
-- @end
