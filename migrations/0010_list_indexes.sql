-- Indexes that serve each marketplace sort under the public filter (issue 9).
-- Partial: only public models (approved, published, not deleted) are in
-- them, so a page of a category in any sort is read in index order and
-- stops after LIMIT + OFFSET entries instead of sorting the category.
-- Covering: the filter columns are in the key too (after id, where they
-- cost nothing in order), so neither the page's ids nor a count reads the
-- wide model rows.  The WHERE text matches MODEL_PUBLIC in
-- src/api/models_common.h word for word: the planners use a partial index
-- only when the query's WHERE implies the index's.
DROP INDEX models_popular_idx;
DROP INDEX models_price_idx;
CREATE INDEX models_pub_cat_new_idx ON models (category_id, created_at, id, status, is_published, deleted_at)
    WHERE status = 'approved' AND is_published = TRUE AND deleted_at IS NULL;
CREATE INDEX models_pub_cat_popular_idx ON models (category_id, likes_count, views_count, id, status, is_published, deleted_at)
    WHERE status = 'approved' AND is_published = TRUE AND deleted_at IS NULL;
CREATE INDEX models_pub_cat_price_idx ON models (category_id, price_cents, id, status, is_published, deleted_at)
    WHERE status = 'approved' AND is_published = TRUE AND deleted_at IS NULL;
CREATE INDEX models_pub_cat_downloads_idx ON models (category_id, downloads_count, id, status, is_published, deleted_at)
    WHERE status = 'approved' AND is_published = TRUE AND deleted_at IS NULL;
CREATE INDEX models_pub_new_idx ON models (created_at, id, status, is_published, deleted_at)
    WHERE status = 'approved' AND is_published = TRUE AND deleted_at IS NULL;
CREATE INDEX models_pub_popular_idx ON models (likes_count, views_count, id, status, is_published, deleted_at)
    WHERE status = 'approved' AND is_published = TRUE AND deleted_at IS NULL;
CREATE INDEX models_pub_price_idx ON models (price_cents, id, status, is_published, deleted_at)
    WHERE status = 'approved' AND is_published = TRUE AND deleted_at IS NULL;
CREATE INDEX models_pub_downloads_idx ON models (downloads_count, id, status, is_published, deleted_at)
    WHERE status = 'approved' AND is_published = TRUE AND deleted_at IS NULL;
-- Search: the public check and the category of each full-text match,
-- read from this index by id instead of from the wide row.
CREATE INDEX models_pub_id_idx ON models (id, category_id, status, is_published, deleted_at)
    WHERE status = 'approved' AND is_published = TRUE AND deleted_at IS NULL;
