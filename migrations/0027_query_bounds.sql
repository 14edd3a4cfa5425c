-- Maintained totals for the requests that summed a whole table (issue 15:
-- queries at 10 million models).  docs/deployment.md, "Queries at 10
-- million models", has the plans before and after.
--
-- creator_totals: per creator, the sums over their public models
-- (approved, published, not deleted: MODEL_PUBLIC in
-- src/api/models_common.h) of the counters kept on models.  The all-time
-- leaderboard (src/api/leaderboard.c) and the top creators
-- (src/api/stats.c) read a page of it in index order instead of grouping
-- every public model by creator on each request.  Kept by triggers on
-- models, like users.models_count (migration 0009): a row changes when a
-- model enters or leaves the public set, changes creator, or one of its
-- counters moves.  A narrow table of its own, so that a like rewrites a
-- 8-column row and its few indexes, not the wide users row.  listed is
-- whether the creator may be ranked at all (user_type 'creator', not
-- deleted, not banned: kept by a trigger on users), so that a ranking's
-- count reads this table's index alone, not every creator's users row.
CREATE TABLE creator_totals (
    creator_id BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    listed {{BOOL}} NOT NULL DEFAULT FALSE,
    models BIGINT NOT NULL DEFAULT 0,
    likes BIGINT NOT NULL DEFAULT 0,
    downloads BIGINT NOT NULL DEFAULT 0,
    sales BIGINT NOT NULL DEFAULT 0,
    rating_sum BIGINT NOT NULL DEFAULT 0,
    rating_count BIGINT NOT NULL DEFAULT 0
);
INSERT INTO creator_totals (creator_id, models, likes, downloads, sales, rating_sum, rating_count)
SELECT creator_id, COUNT(*), SUM(likes_count), SUM(downloads_count), SUM(sales_count), SUM(rating_sum), SUM(rating_count)
    FROM models WHERE status = 'approved' AND is_published = TRUE AND deleted_at IS NULL GROUP BY creator_id;
UPDATE creator_totals SET listed = TRUE WHERE creator_id IN (SELECT id FROM users
    WHERE user_type = 'creator' AND deleted_at IS NULL AND is_banned = FALSE);
-- One index per ranking, each holding only the creators that ranking lists
-- (the HAVING of the old aggregate), in the ranking's order.
CREATE INDEX creator_totals_sales_idx ON creator_totals (sales DESC, creator_id) WHERE listed = TRUE AND sales > 0;
CREATE INDEX creator_totals_downloads_idx ON creator_totals (downloads DESC, creator_id) WHERE listed = TRUE AND downloads > 0;
CREATE INDEX creator_totals_rating_idx ON creator_totals ((CAST(rating_sum AS DOUBLE PRECISION) / rating_count) DESC, creator_id)
    WHERE listed = TRUE AND rating_count > 0;
CREATE INDEX creator_totals_score_idx ON creator_totals ((likes + 3 * downloads + 5 * sales) DESC, creator_id)
    WHERE listed = TRUE AND models > 0;
-- @sqlite
CREATE TRIGGER creator_totals_ai AFTER INSERT ON models
WHEN new.status = 'approved' AND new.is_published AND new.deleted_at IS NULL BEGIN
    INSERT INTO creator_totals (creator_id, listed, models, likes, downloads, sales, rating_sum, rating_count)
        VALUES (new.creator_id, COALESCE((SELECT u.user_type = 'creator' AND u.deleted_at IS NULL AND u.is_banned = FALSE FROM users u WHERE u.id = new.creator_id), FALSE), 1, new.likes_count, new.downloads_count, new.sales_count, new.rating_sum, new.rating_count)
        ON CONFLICT (creator_id) DO UPDATE SET models = models + excluded.models, likes = likes + excluded.likes,
            downloads = downloads + excluded.downloads, sales = sales + excluded.sales,
            rating_sum = rating_sum + excluded.rating_sum, rating_count = rating_count + excluded.rating_count;
END;
CREATE TRIGGER creator_totals_ad AFTER DELETE ON models
WHEN old.status = 'approved' AND old.is_published AND old.deleted_at IS NULL BEGIN
    UPDATE creator_totals SET models = models - 1, likes = likes - old.likes_count,
        downloads = downloads - old.downloads_count, sales = sales - old.sales_count,
        rating_sum = rating_sum - old.rating_sum, rating_count = rating_count - old.rating_count
        WHERE creator_id = old.creator_id;
END;
CREATE TRIGGER creator_totals_au AFTER UPDATE OF status, is_published, deleted_at, creator_id, likes_count,
    downloads_count, sales_count, rating_sum, rating_count ON models
WHEN (old.status = 'approved' AND old.is_published AND old.deleted_at IS NULL)
     OR (new.status = 'approved' AND new.is_published AND new.deleted_at IS NULL) BEGIN
    UPDATE creator_totals SET models = models - 1, likes = likes - old.likes_count,
        downloads = downloads - old.downloads_count, sales = sales - old.sales_count,
        rating_sum = rating_sum - old.rating_sum, rating_count = rating_count - old.rating_count
        WHERE creator_id = old.creator_id AND old.status = 'approved' AND old.is_published AND old.deleted_at IS NULL;
    INSERT INTO creator_totals (creator_id, listed, models, likes, downloads, sales, rating_sum, rating_count)
        SELECT new.creator_id, COALESCE((SELECT u.user_type = 'creator' AND u.deleted_at IS NULL AND u.is_banned = FALSE FROM users u WHERE u.id = new.creator_id), FALSE), 1, new.likes_count, new.downloads_count, new.sales_count, new.rating_sum, new.rating_count
        WHERE new.status = 'approved' AND new.is_published AND new.deleted_at IS NULL
        ON CONFLICT (creator_id) DO UPDATE SET models = models + excluded.models, likes = likes + excluded.likes,
            downloads = downloads + excluded.downloads, sales = sales + excluded.sales,
            rating_sum = rating_sum + excluded.rating_sum, rating_count = rating_count + excluded.rating_count;
END;
-- @end
-- @pg
CREATE FUNCTION creator_totals_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.status = 'approved' AND OLD.is_published AND OLD.deleted_at IS NULL THEN
        UPDATE creator_totals SET models = models - 1, likes = likes - OLD.likes_count,
            downloads = downloads - OLD.downloads_count, sales = sales - OLD.sales_count,
            rating_sum = rating_sum - OLD.rating_sum, rating_count = rating_count - OLD.rating_count
            WHERE creator_id = OLD.creator_id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.status = 'approved' AND NEW.is_published AND NEW.deleted_at IS NULL THEN
        INSERT INTO creator_totals AS t (creator_id, listed, models, likes, downloads, sales, rating_sum, rating_count)
            VALUES (NEW.creator_id, COALESCE((SELECT u.user_type = 'creator' AND u.deleted_at IS NULL AND u.is_banned = FALSE FROM users u WHERE u.id = NEW.creator_id), FALSE), 1, NEW.likes_count, NEW.downloads_count, NEW.sales_count, NEW.rating_sum, NEW.rating_count)
            ON CONFLICT (creator_id) DO UPDATE SET models = t.models + excluded.models, likes = t.likes + excluded.likes,
                downloads = t.downloads + excluded.downloads, sales = t.sales + excluded.sales,
                rating_sum = t.rating_sum + excluded.rating_sum, rating_count = t.rating_count + excluded.rating_count;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER creator_totals_aid AFTER INSERT OR DELETE ON models
    FOR EACH ROW EXECUTE FUNCTION creator_totals_sync();
CREATE TRIGGER creator_totals_au AFTER UPDATE OF status, is_published, deleted_at, creator_id, likes_count,
    downloads_count, sales_count, rating_sum, rating_count ON models
    FOR EACH ROW WHEN ((OLD.status = 'approved' AND OLD.is_published AND OLD.deleted_at IS NULL)
                       OR (NEW.status = 'approved' AND NEW.is_published AND NEW.deleted_at IS NULL))
    EXECUTE FUNCTION creator_totals_sync();
-- @end

-- A creator leaves or rejoins the rankings with their account.
-- @sqlite
CREATE TRIGGER creator_totals_listed AFTER UPDATE OF user_type, deleted_at, is_banned ON users BEGIN
    UPDATE creator_totals SET listed = (new.user_type = 'creator' AND new.deleted_at IS NULL AND new.is_banned = FALSE)
        WHERE creator_id = new.id;
END;
-- @end
-- @pg
CREATE FUNCTION creator_totals_listed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE creator_totals SET listed = (NEW.user_type = 'creator' AND NEW.deleted_at IS NULL AND NEW.is_banned = FALSE)
        WHERE creator_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER creator_totals_listed AFTER UPDATE OF user_type, deleted_at, is_banned ON users
    FOR EACH ROW EXECUTE FUNCTION creator_totals_listed();
-- @end

-- tag_counts: how many models carry each tag, for the AI tagger's
-- vocabulary (src/api/ai.c), which grouped every row of model_tags by tag
-- on each request.  Kept by triggers on model_tags (a model's tags are
-- deleted and inserted again when they change: models.c).
CREATE TABLE tag_counts (
    tag TEXT PRIMARY KEY,
    n BIGINT NOT NULL DEFAULT 0
);
INSERT INTO tag_counts (tag, n) SELECT tag, COUNT(*) FROM model_tags WHERE TRUE GROUP BY tag;
CREATE INDEX tag_counts_n_idx ON tag_counts (n DESC, tag);
-- @sqlite
CREATE TRIGGER tag_counts_ai AFTER INSERT ON model_tags BEGIN
    INSERT INTO tag_counts (tag, n) VALUES (new.tag, 1) ON CONFLICT (tag) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER tag_counts_ad AFTER DELETE ON model_tags BEGIN
    UPDATE tag_counts SET n = n - 1 WHERE tag = old.tag;
END;
-- @end
-- @pg
CREATE FUNCTION tag_counts_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO tag_counts AS t (tag, n) VALUES (NEW.tag, 1) ON CONFLICT (tag) DO UPDATE SET n = t.n + 1;
    ELSE
        UPDATE tag_counts SET n = n - 1 WHERE tag = OLD.tag;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER tag_counts_aid AFTER INSERT OR DELETE ON model_tags
    FOR EACH ROW EXECUTE FUNCTION tag_counts_sync();
-- @end

-- The marketplace's "rating" sort and the featured list had no index in
-- their order: each read every public model to sort it.  Partial and
-- keyed like the sort indexes of migration 0010 (the WHERE text is
-- MODEL_PUBLIC, the expression is order_by()'s in src/api/marketplace.c).
CREATE INDEX models_pub_rating_idx ON models ((CASE WHEN rating_count > 0 THEN rating_sum * 1.0 / rating_count ELSE 0 END), id)
    WHERE status = 'approved' AND is_published = TRUE AND deleted_at IS NULL;
CREATE INDEX models_pub_cat_rating_idx ON models (category_id, (CASE WHEN rating_count > 0 THEN rating_sum * 1.0 / rating_count ELSE 0 END), id)
    WHERE status = 'approved' AND is_published = TRUE AND deleted_at IS NULL;
-- is_featured leads so that SQLite, whose COUNT of the featured models
-- otherwise took the public index (status, is_published, deleted_at) of
-- 0004 and read every public model, sees an equality on this index.
CREATE INDEX models_pub_featured_idx ON models (is_featured, updated_at, id)
    WHERE is_featured = TRUE AND status = 'approved' AND is_published = TRUE AND deleted_at IS NULL;

-- SQLite: model_daily lost its day index when migration 0013 rebuilt it
-- WITHOUT ROWID, so the leaderboard's week and month and the admin's
-- daily series scanned every row of it (PostgreSQL kept it).
-- @sqlite
CREATE INDEX model_daily_day_idx ON model_daily (day);
-- @end
