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

/* Columns of MODEL_FROM in the order model_json() reads them. */
#define MODEL_COLS                                                                              \
	"m.id, m.title, m.description, m.price_cents, m.currency, m.is_free, m.tags, m.license,"   \
	" m.thumbnail_url, m.preview_images, m.file_format, m.file_size, m.poly_count,"            \
	" m.vertex_count, m.has_animations, m.has_rigging, m.has_textures, m.status,"              \
	" m.is_published, m.is_featured, m.likes_count, m.views_count, m.downloads_count,"          \
	" m.comments_count, m.sales_count, m.rating_sum, m.rating_count, m.created_at,"            \
	" m.updated_at, m.rejection_reason, c.id, c.name, c.slug, u.id, u.username,"               \
	" u.full_name, u.avatar_url, u.is_verified, m.shares_count"
#define MODEL_FROM \
	" FROM models m JOIN users u ON u.id = m.creator_id LEFT JOIN categories c ON c.id = m.category_id"
/* What the public may see. */
#define MODEL_PUBLIC "m.status = 'approved' AND m.is_published = TRUE AND m.deleted_at IS NULL"

/* The model document from a row of MODEL_COLS; with_private adds what only
 * its owner and admins see (rejection_reason). */
json_t *model_json(db_rows_t *r, bool with_private);

/* The models of a query of MODEL_COLS as an array (rows consumed,
 * is_liked added for a signed-in caller); NULL on a database error. */
json_t *models_from_rows(req_t *req, db_rows_t *r, bool with_private);

/* Writes the model document of a row of MODEL_COLS as JSON text (the same
 * text as model_json's tree); liked adds is_liked (-1: not). */
void model_write(strbuf_t *sb, db_rows_t *r, bool with_private, int liked);

/* Writes the JSON array of the public models of these ids, in this order
 * (one that is no longer public is left out), with is_liked for a
 * signed-in caller; false on a database error. */
bool models_write_by_ids(req_t *req, strbuf_t *out, const int64_t *ids, size_t n);

/* Adds is_liked to each model of a list (or one model) for the caller. */
bool models_mark_liked(req_t *req, json_t *models);

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

/* A notification row for the user (and its WebSocket push, later). */
bool notify(db_t *db, int64_t user_id, const char *type, const char *title, const char *message,
	    const char *action_url);

/* Deletes a model and answers: a sold one is hidden but kept for its
 * buyers, an unsold one is removed with its file. */
int models_remove(req_t *req, int64_t id, int64_t creator_id, int64_t sales);

/* Days since the epoch, for model_daily. */
int64_t epoch_day(int64_t ms);

#endif
