-- models_count on users and categories counts public models only: approved,
-- published and not deleted (issue 9).  Kept by triggers, so every path that
-- creates, approves, rejects, publishes, hides, moves or deletes a model
-- keeps it right; the handlers no longer touch it.  Reading it stays one
-- column.  A trigger fires only when a row enters or leaves the public set,
-- or moves between creators or categories.
UPDATE users SET models_count = (SELECT COUNT(*) FROM models m WHERE m.creator_id = users.id
    AND m.status = 'approved' AND m.is_published = TRUE AND m.deleted_at IS NULL);
UPDATE categories SET models_count = (SELECT COUNT(*) FROM models m WHERE m.category_id = categories.id
    AND m.status = 'approved' AND m.is_published = TRUE AND m.deleted_at IS NULL);
-- @sqlite
CREATE TRIGGER models_count_ai AFTER INSERT ON models
WHEN new.status = 'approved' AND new.is_published AND new.deleted_at IS NULL BEGIN
    UPDATE users SET models_count = models_count + 1 WHERE id = new.creator_id;
    UPDATE categories SET models_count = models_count + 1 WHERE id = new.category_id;
END;
CREATE TRIGGER models_count_ad AFTER DELETE ON models
WHEN old.status = 'approved' AND old.is_published AND old.deleted_at IS NULL BEGIN
    UPDATE users SET models_count = models_count - 1 WHERE id = old.creator_id AND models_count > 0;
    UPDATE categories SET models_count = models_count - 1 WHERE id = old.category_id AND models_count > 0;
END;
CREATE TRIGGER models_count_au AFTER UPDATE OF status, is_published, deleted_at, creator_id, category_id ON models
WHEN (old.status = 'approved' AND old.is_published AND old.deleted_at IS NULL)
         IS NOT (new.status = 'approved' AND new.is_published AND new.deleted_at IS NULL)
     OR old.creator_id IS NOT new.creator_id OR old.category_id IS NOT new.category_id BEGIN
    UPDATE users SET models_count = models_count - 1 WHERE id = old.creator_id AND models_count > 0
        AND old.status = 'approved' AND old.is_published AND old.deleted_at IS NULL;
    UPDATE categories SET models_count = models_count - 1 WHERE id = old.category_id AND models_count > 0
        AND old.status = 'approved' AND old.is_published AND old.deleted_at IS NULL;
    UPDATE users SET models_count = models_count + 1 WHERE id = new.creator_id
        AND new.status = 'approved' AND new.is_published AND new.deleted_at IS NULL;
    UPDATE categories SET models_count = models_count + 1 WHERE id = new.category_id
        AND new.status = 'approved' AND new.is_published AND new.deleted_at IS NULL;
END;
-- @end
-- @pg
CREATE FUNCTION models_count_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.status = 'approved' AND OLD.is_published AND OLD.deleted_at IS NULL THEN
        UPDATE users SET models_count = models_count - 1 WHERE id = OLD.creator_id AND models_count > 0;
        UPDATE categories SET models_count = models_count - 1 WHERE id = OLD.category_id AND models_count > 0;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.status = 'approved' AND NEW.is_published AND NEW.deleted_at IS NULL THEN
        UPDATE users SET models_count = models_count + 1 WHERE id = NEW.creator_id;
        UPDATE categories SET models_count = models_count + 1 WHERE id = NEW.category_id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER models_count_aid AFTER INSERT OR DELETE ON models
    FOR EACH ROW EXECUTE FUNCTION models_count_sync();
CREATE TRIGGER models_count_au AFTER UPDATE OF status, is_published, deleted_at, creator_id, category_id ON models
    FOR EACH ROW WHEN ((OLD.status = 'approved' AND OLD.is_published AND OLD.deleted_at IS NULL)
                           IS DISTINCT FROM (NEW.status = 'approved' AND NEW.is_published AND NEW.deleted_at IS NULL)
                       OR OLD.creator_id IS DISTINCT FROM NEW.creator_id
                       OR OLD.category_id IS DISTINCT FROM NEW.category_id)
    EXECUTE FUNCTION models_count_sync();
-- @end
