/*
 * models_common.h: the model document and lookups shared by the model,
 * marketplace and admin handlers.
 */
#ifndef HWC_MODELS_COMMON_H
#define HWC_MODELS_COMMON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "../core/strbuf.h"
#include "../http/request.h"
#include "../svc/notify.h" /* notify(), which the model handlers use */

/* The columns of a model row (MODEL_FROM): MODEL_COLS is the select list,
 * enum model_col their indexes (db.h, named columns). */
#define MODEL_COLUMNS(FIRST, NEXT) \
	FIRST(MC_ID, "m.id") \
	NEXT(MC_TITLE, "m.title") \
	NEXT(MC_DESCRIPTION, "m.description") \
	NEXT(MC_PRICE_CENTS, "m.price_cents") \
	NEXT(MC_CURRENCY, "m.currency") \
	NEXT(MC_IS_FREE, "m.is_free") \
	NEXT(MC_TAGS, "m.tags") \
	NEXT(MC_LICENSE, "m.license") \
	NEXT(MC_THUMBNAIL_URL, "m.thumbnail_url") \
	NEXT(MC_PREVIEW_IMAGES, "m.preview_images") \
	NEXT(MC_VIDEO_URL, "m.video_url") \
	NEXT(MC_FILE_FORMAT, "m.file_format") \
	NEXT(MC_FILE_SIZE, "m.file_size") \
	NEXT(MC_POLY_COUNT, "m.poly_count") \
	NEXT(MC_VERTEX_COUNT, "m.vertex_count") \
	NEXT(MC_HAS_ANIMATIONS, "m.has_animations") \
	NEXT(MC_HAS_RIGGING, "m.has_rigging") \
	NEXT(MC_HAS_TEXTURES, "m.has_textures") \
	NEXT(MC_STATUS, "m.status") \
	NEXT(MC_IS_PUBLISHED, "m.is_published") \
	NEXT(MC_IS_FEATURED, "m.is_featured") \
	NEXT(MC_LIKES_COUNT, "m.likes_count") \
	NEXT(MC_VIEWS_COUNT, "m.views_count") \
	NEXT(MC_DOWNLOADS_COUNT, "m.downloads_count") \
	NEXT(MC_COMMENTS_COUNT, "m.comments_count") \
	NEXT(MC_SALES_COUNT, "m.sales_count") \
	NEXT(MC_SHARES_COUNT, "m.shares_count") \
	NEXT(MC_RATING_SUM, "m.rating_sum") \
	NEXT(MC_RATING_COUNT, "m.rating_count") \
	NEXT(MC_CREATED_AT, "m.created_at") \
	NEXT(MC_UPDATED_AT, "m.updated_at") \
	NEXT(MC_REJECTION_REASON, "m.rejection_reason") \
	NEXT(MC_CATEGORY_ID, "c.id") \
	NEXT(MC_CATEGORY_NAME, "c.name") \
	NEXT(MC_CATEGORY_SLUG, "c.slug") \
	NEXT(MC_CREATOR_ID, "u.id") \
	NEXT(MC_CREATOR_USERNAME, "u.username") \
	NEXT(MC_CREATOR_FULL_NAME, "u.full_name") \
	NEXT(MC_CREATOR_AVATAR_URL, "u.avatar_url") \
	NEXT(MC_CREATOR_IS_VERIFIED, "u.is_verified") \
	NEXT(MC_QUALITY_BADGE, "m.quality_badge") \
	NEXT(MC_QUALITY, "m.quality") \
	NEXT(MC_CONVERSION_STATUS, "m.conversion_status") \
	NEXT(MC_CONVERSION_ERROR, "m.conversion_error")
#define MODEL_COLS MODEL_COLUMNS(DB_COL_SQL, DB_COL_SQL_NEXT)
enum model_col { MODEL_COLUMNS(DB_COL_ENUM, DB_COL_ENUM) MC_COUNT };
#define MODEL_FROM \
	" FROM models m JOIN users u ON u.id = m.creator_id LEFT JOIN categories c ON c.id = m.category_id"
/* What the public may see. */
#define MODEL_PUBLIC "m.status = 'approved' AND m.is_published = TRUE AND m.deleted_at IS NULL"

/* The model document from a row of MODEL_COLS; with_private adds what only
 * its owner and admins see (rejection_reason, conversion_error). */
json_t *model_json(db_rows_t *r, bool with_private);

/* The models of a query of MODEL_COLS as an array (rows consumed,
 * is_liked and is_purchased added for a signed-in caller); NULL on a database
 * error. */
json_t *models_from_rows(req_t *req, db_rows_t *r, bool with_private);

/* The caller's own state of a model, for a signed-in caller's documents
 * (CONTRACT.md: is_liked, is_purchased appear when a token is sent). */
enum { MINE_LIKED = 1, MINE_PURCHASED = 2 };

/* Writes the model document of a row of MODEL_COLS as JSON text (the same
 * text as model_json's tree); mine (MINE_* flags) adds is_liked and
 * is_purchased (-1: neither, an anonymous caller). */
void model_write(strbuf_t *sb, db_rows_t *r, bool with_private, int mine);

/* Writes the JSON array of the public models of these ids, in this order
 * (one that is no longer public is left out), with is_liked and is_purchased for a
 * signed-in caller; false on a database error. */
bool models_write_by_ids(req_t *req, strbuf_t *out, const int64_t *ids, size_t n);

/* Adds is_liked and is_purchased to each model of a list (or one model)
 * for a signed-in caller. */
bool models_mark_mine(req_t *req, json_t *models);

struct model_ref {
	int64_t id, creator_id;
	bool is_public, deleted;
	int64_t sales_count;
	const char *title, *status;
};

/* Loads the model of the path's {id}.  Replies 404 (and returns false)
 * when it does not exist, is deleted, or the caller may not see it:
 * `owner_only` requires the caller to be its creator (or an admin when
 * `admin_ok`). */
bool model_find_or_404(req_t *req, struct model_ref *m, bool owner_only, bool admin_ok);
/* After a write to a model found by model_find_or_404 changed `rows` rows
 * instead of one: 0 means a concurrent delete came first (404), anything
 * else is a database error (500). */
int reply_model_write_failed(req_t *req, int64_t rows, const char *what);


/* Deletes a model and answers: a sold one is hidden but kept for its
 * buyers, an unsold one is removed with its file. */
int models_remove(req_t *req, int64_t id, int64_t creator_id, int64_t sales);

/* Appends " IN ($first, ...)" for n ids (SQLite), or one array parameter,
 * " = ANY(CAST($first AS BIGINT[]))" (PostgreSQL: one prepared statement
 * and one generic plan for any n, where an IN list was replanned for every
 * length); returns the number of parameters it put in p from p[first - 1]
 * (p has room for n of them there). */
int sql_id_in(req_t *req, strbuf_t *sql, db_param_t *p, const int64_t *ids, size_t n, size_t first);

/* Days since the epoch, for model_daily. */
int64_t epoch_day(int64_t ms);

#endif
