-- Search reads only public models (issue 9: random search p99).
--
-- SQLite: the full-text index holds public models alone (approved,
-- published, not deleted: MODEL_PUBLIC in src/api/models_common.h), so a
-- search's matches and their count need no look-up of each model's row.
-- It replaces models_fts of 0004, which indexed every model.  An external
-- content table: the triggers keep it in step with `models`, removing the
-- old text before adding the new, in one trigger so the order is certain.
-- Relevance is a tier (every word in the title, then in the title or tags,
-- then anywhere) from hwc_tier() (src/db/fts_tier.c) instead of bm25 over
-- every match (src/api/marketplace.c).
-- @sqlite
DROP TRIGGER models_fts_ai;
DROP TRIGGER models_fts_ad;
DROP TRIGGER models_fts_au;
DROP TABLE models_fts;
CREATE VIRTUAL TABLE models_pub_fts USING fts5(title, description, tags, content='models', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2');
INSERT INTO models_pub_fts (rowid, title, description, tags)
    SELECT id, title, description, tags FROM models
    WHERE status = 'approved' AND is_published = TRUE AND deleted_at IS NULL;
CREATE TRIGGER models_pub_fts_ai AFTER INSERT ON models
    WHEN new.status = 'approved' AND new.is_published = TRUE AND new.deleted_at IS NULL BEGIN
    INSERT INTO models_pub_fts (rowid, title, description, tags) VALUES (new.id, new.title, new.description, new.tags);
END;
CREATE TRIGGER models_pub_fts_ad AFTER DELETE ON models
    WHEN old.status = 'approved' AND old.is_published = TRUE AND old.deleted_at IS NULL BEGIN
    INSERT INTO models_pub_fts (models_pub_fts, rowid, title, description, tags)
        VALUES ('delete', old.id, old.title, old.description, old.tags);
END;
CREATE TRIGGER models_pub_fts_au AFTER UPDATE OF title, description, tags, status, is_published, deleted_at ON models BEGIN
    INSERT INTO models_pub_fts (models_pub_fts, rowid, title, description, tags)
        SELECT 'delete', old.id, old.title, old.description, old.tags
        WHERE old.status = 'approved' AND old.is_published = TRUE AND old.deleted_at IS NULL;
    INSERT INTO models_pub_fts (rowid, title, description, tags)
        SELECT new.id, new.title, new.description, new.tags
        WHERE new.status = 'approved' AND new.is_published = TRUE AND new.deleted_at IS NULL;
END;
-- @end
