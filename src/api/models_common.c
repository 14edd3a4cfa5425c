/* models_common.c: the model document, likes marking, lookups. */
#include "models_common.h"
#include "../core/jsonw.h"
#include "../core/strbuf.h"
#include "../core/util.h"
#include "../http/reply.h"
#include "../http/validate.h"

void model_write(strbuf_t *sb, db_rows_t *r, bool with_private, int mine)
{
	int64_t rating_sum = db_int(r, MC_RATING_SUM), rating_count = db_int(r, MC_RATING_COUNT);
	sb_adds(sb, "{\"id\":");
	jw_int(sb, db_int(r, MC_ID));
	sb_adds(sb, ",\"title\":");
	jw_str(sb, db_text(r, MC_TITLE));
	sb_adds(sb, ",\"description\":");
	jw_str(sb, db_text(r, MC_DESCRIPTION));
	sb_adds(sb, ",\"price\":");
	jw_money(sb, db_int(r, MC_PRICE_CENTS));
	sb_adds(sb, ",\"currency\":");
	jw_str(sb, db_text(r, MC_CURRENCY));
	sb_adds(sb, ",\"is_free\":");
	jw_bool(sb, db_bool(r, MC_IS_FREE));
	sb_adds(sb, ",\"category\":");
	if (db_isnull(r, MC_CATEGORY_ID)) {
		sb_adds(sb, "null");
	} else {
		sb_adds(sb, "{\"id\":");
		jw_int(sb, db_int(r, MC_CATEGORY_ID));
		sb_adds(sb, ",\"name\":");
		jw_str(sb, db_text(r, MC_CATEGORY_NAME));
		sb_adds(sb, ",\"slug\":");
		jw_str(sb, db_text(r, MC_CATEGORY_SLUG));
		sb_addc(sb, '}');
	}
	sb_adds(sb, ",\"tags\":");
	jw_str_array(sb, db_text(r, MC_TAGS));
	sb_adds(sb, ",\"license\":");
	jw_str(sb, db_text(r, MC_LICENSE));
	sb_adds(sb, ",\"creator\":{\"id\":");
	jw_int(sb, db_int(r, MC_CREATOR_ID));
	sb_adds(sb, ",\"username\":");
	jw_str(sb, db_text(r, MC_CREATOR_USERNAME));
	sb_adds(sb, ",\"full_name\":");
	jw_str(sb, db_text(r, MC_CREATOR_FULL_NAME));
	sb_adds(sb, ",\"avatar_url\":");
	jw_str(sb, db_text(r, MC_CREATOR_AVATAR_URL));
	sb_adds(sb, ",\"is_verified\":");
	jw_bool(sb, db_bool(r, MC_CREATOR_IS_VERIFIED));
	sb_adds(sb, "},\"thumbnail_url\":");
	jw_str(sb, db_text(r, MC_THUMBNAIL_URL));
	sb_adds(sb, ",\"preview_images\":");
	jw_str_array(sb, db_text(r, MC_PREVIEW_IMAGES));
	sb_adds(sb, ",\"video_url\":");
	jw_str(sb, db_text(r, MC_VIDEO_URL));
	sb_adds(sb, ",\"file_format\":");
	jw_str(sb, db_text(r, MC_FILE_FORMAT));
	static const struct { enum model_col col; const char *name; } counts[] = {
		{ MC_FILE_SIZE, ",\"file_size\":" }, { MC_POLY_COUNT, ",\"poly_count\":" }, { MC_VERTEX_COUNT, ",\"vertex_count\":" },
	};
	for (size_t i = 0; i < ARRAY_LEN(counts); i++) {
		sb_adds(sb, counts[i].name);
		jw_int(sb, db_int(r, counts[i].col));
	}
	static const struct { enum model_col col; const char *name; } flags[] = {
		{ MC_HAS_ANIMATIONS, ",\"has_animations\":" }, { MC_HAS_RIGGING, ",\"has_rigging\":" }, { MC_HAS_TEXTURES, ",\"has_textures\":" },
	};
	for (size_t i = 0; i < ARRAY_LEN(flags); i++) {
		sb_adds(sb, flags[i].name);
		jw_bool(sb, db_bool(r, flags[i].col));
	}
	sb_adds(sb, ",\"status\":");
	jw_str(sb, db_text(r, MC_STATUS));
	sb_adds(sb, ",\"is_published\":");
	jw_bool(sb, db_bool(r, MC_IS_PUBLISHED));
	sb_adds(sb, ",\"is_featured\":");
	jw_bool(sb, db_bool(r, MC_IS_FEATURED));
	static const struct { enum model_col col; const char *name; } stats[] = {
		{ MC_LIKES_COUNT, ",\"likes_count\":" }, { MC_VIEWS_COUNT, ",\"views_count\":" }, { MC_DOWNLOADS_COUNT, ",\"downloads_count\":" },
		{ MC_COMMENTS_COUNT, ",\"comments_count\":" }, { MC_SALES_COUNT, ",\"sales_count\":" }, { MC_SHARES_COUNT, ",\"shares_count\":" },
	};
	for (size_t i = 0; i < ARRAY_LEN(stats); i++) {
		sb_adds(sb, stats[i].name);
		jw_int(sb, db_int(r, stats[i].col));
	}
	sb_adds(sb, ",\"rating\":");
	jw_real(sb, rating_count ? (double)rating_sum / (double)rating_count : 0.0);
	sb_adds(sb, ",\"rating_count\":");
	jw_int(sb, rating_count);
	sb_adds(sb, ",\"created_at\":");
	jw_time(sb, db_int(r, MC_CREATED_AT));
	sb_adds(sb, ",\"updated_at\":");
	jw_time(sb, db_int(r, MC_UPDATED_AT));
	/* The quality report (media/quality.h) is stored as jansson's compact
	 * text of a checked object, so it is written as it is. */
	const char *quality = db_text(r, MC_QUALITY);
	sb_adds(sb, ",\"quality_badge\":");
	jw_str(sb, db_text(r, MC_QUALITY_BADGE));
	sb_adds(sb, ",\"quality\":");
	sb_adds(sb, quality && quality[0] == '{' ? quality : "null");
	sb_adds(sb, ",\"conversion_status\":");
	jw_str(sb, db_text(r, MC_CONVERSION_STATUS));
	if (with_private) {
		sb_adds(sb, ",\"rejection_reason\":");
		jw_str(sb, db_text(r, MC_REJECTION_REASON));
		sb_adds(sb, ",\"conversion_error\":");
		jw_str(sb, db_text(r, MC_CONVERSION_ERROR));
	}
	if (mine >= 0) {
		sb_adds(sb, ",\"is_liked\":");
		jw_bool(sb, mine & MINE_LIKED);
		sb_adds(sb, ",\"is_purchased\":");
		jw_bool(sb, mine & MINE_PURCHASED);
	}
	sb_addc(sb, '}');
}

json_t *model_json(db_rows_t *r, bool with_private)
{
	strbuf_t sb;
	sb_init(&sb, 0);
	model_write(&sb, r, with_private, -1);
	json_error_t e;
	json_t *m = sb.overflow ? NULL : json_loadb(sb.buf, sb.len, 0, &e);
	sb_release(&sb);
	return m;
}

bool model_find_or_404(req_t *req, struct model_ref *m, bool owner_only, bool admin_ok)
{
	int64_t id = req_param_int(req, "id");
#define FIND_COLUMNS(FIRST, NEXT)                                             \
	FIRST(ID, "id") NEXT(CREATOR_ID, "creator_id")                         \
	NEXT(IS_PUBLIC, "status = 'approved' AND is_published = TRUE")        \
	NEXT(DELETED, "deleted_at IS NOT NULL") NEXT(SALES_COUNT, "sales_count") \
	NEXT(TITLE, "title") NEXT(STATUS, "status")
	enum { FIND_COLUMNS(DB_COL_ENUM, DB_COL_ENUM) };
	db_rows_t *r = DBQ(req->db, "SELECT " FIND_COLUMNS(DB_COL_SQL, DB_COL_SQL_NEXT) " FROM models WHERE id = $1",
			   P_INT(id));
#undef FIND_COLUMNS
	if (!r) {
		reply_db_error(req, "find model");
		return false;
	}
	bool found = db_next(r);
	if (found) {
		m->id = db_int(r, ID);
		m->creator_id = db_int(r, CREATOR_ID);
		m->is_public = db_bool(r, IS_PUBLIC);
		m->deleted = db_bool(r, DELETED);
		m->sales_count = db_int(r, SALES_COUNT);
		m->title = arena_strdup(req->arena, db_text(r, TITLE));
		m->status = arena_strdup(req->arena, db_text(r, STATUS));
	}
	db_done(r);
	bool owner = found && req->user && req->user->id == m->creator_id;
	bool admin = req->user && req->user->is_admin && admin_ok;
	bool visible = found && !m->deleted && (owner_only ? (owner || admin) : (m->is_public || owner || admin));
	if (!visible) {
		/* Someone else's unpublished model looks exactly like a missing one. */
		reply_error(req, ERR_NOT_FOUND, "Model not found");
		return false;
	}
	return true;
}

int64_t epoch_day(int64_t ms)
{
	return ms / 86400000;
}

json_t *models_from_rows(req_t *req, db_rows_t *r, bool with_private)
{
	json_t *items = json_array();
	while (db_next(r))
		json_array_append_new(items, model_json(r, with_private));
	bool failed = db_failed(r);
	db_done(r);
	if (failed || !models_mark_mine(req, items)) {
		json_decref(items);
		return NULL;
	}
	return items;
}

int sql_id_in(req_t *req, strbuf_t *sql, db_param_t *p, const int64_t *ids, size_t n, size_t first)
{
	if (db_kind(req->db) == DB_PG) {
		strbuf_t arr;
		sb_init(&arr, 0);
		sb_addc(&arr, '{');
		for (size_t i = 0; i < n; i++)
			sb_addf(&arr, "%s%lld", i ? "," : "", (long long)ids[i]);
		sb_addc(&arr, '}');
		p[first - 1] = P_TEXT(arena_strdup(req->arena, arr.buf));
		sb_release(&arr);
		sb_addf(sql, " = ANY(CAST($%zu AS BIGINT[]))", first);
		return 1;
	}
	sb_adds(sql, " IN (");
	for (size_t i = 0; i < n; i++) {
		p[first - 1 + i] = P_INT(ids[i]);
		sb_addf(sql, "%s$%zu", i ? ", " : "", first + i);
	}
	sb_adds(sql, ")");
	return (int)n;
}

/* Adds flag to mine[i] for each of the ids that sql (the caller's id as
 * $1, then an id list) returns. */
static bool mark_ids(req_t *req, const char *select, const int64_t *ids, size_t n, uint8_t *mine, uint8_t flag)
{
	strbuf_t sql;
	sb_init(&sql, 0);
	sb_adds(&sql, select);
	db_param_t *p = arena_alloc(req->arena, (n + 1) * sizeof(*p));
	p[0] = P_INT(req->user->id);
	int np = 1 + sql_id_in(req, &sql, p, ids, n, 2);
	db_rows_t *r = db_query(req->db, sql.buf, p, np);
	sb_release(&sql);
	if (!r)
		return false;
	while (db_next(r))
		for (size_t i = 0; i < n; i++)
			if (ids[i] == db_int(r, 0))
				mine[i] |= flag;
	bool failed = db_failed(r);
	db_done(r);
	return !failed;
}

/* The caller's own state of each model (MINE_*): mine[i] for ids[i]. */
static bool mine_of(req_t *req, const int64_t *ids, size_t n, uint8_t *mine)
{
	memset(mine, 0, n * sizeof(*mine));
	if (!req->user || !n)
		return true;
	return mark_ids(req, "SELECT model_id FROM model_likes WHERE user_id = $1 AND model_id", ids, n, mine,
			MINE_LIKED) &&
	       mark_ids(req, "SELECT model_id FROM purchases WHERE buyer_id = $1 AND refunded_at IS NULL AND model_id",
			ids, n, mine, MINE_PURCHASED);
}

bool models_mark_mine(req_t *req, json_t *models)
{
	if (!req->user)
		return true;
	json_t *list = json_is_array(models) ? models : NULL;
	size_t n = list ? json_array_size(list) : 1;
	if (n == 0)
		return true;
	int64_t *ids = arena_alloc(req->arena, n * sizeof(*ids));
	uint8_t *mine = arena_alloc(req->arena, n * sizeof(*mine));
	for (size_t i = 0; i < n; i++)
		ids[i] = json_integer_value(json_object_get(list ? json_array_get(list, i) : models, "id"));
	if (!mine_of(req, ids, n, mine))
		return false;
	for (size_t i = 0; i < n; i++) {
		json_t *m = list ? json_array_get(list, i) : models;
		json_object_set_new(m, "is_liked", json_boolean(mine[i] & MINE_LIKED));
		json_object_set_new(m, "is_purchased", json_boolean(mine[i] & MINE_PURCHASED));
	}
	return true;
}

bool models_write_by_ids(req_t *req, strbuf_t *out, const int64_t *ids, size_t n)
{
	sb_addc(out, '[');
	if (!n)
		return sb_addc(out, ']');
	uint8_t *mine = arena_alloc(req->arena, n * sizeof(*mine));
	if (!mine_of(req, ids, n, mine))
		return false;
	strbuf_t sql;
	sb_init(&sql, 0);
	sb_adds(&sql, "SELECT " MODEL_COLS MODEL_FROM " WHERE " MODEL_PUBLIC " AND m.id");
	db_param_t *p = arena_alloc(req->arena, n * sizeof(*p));
	int np = sql_id_in(req, &sql, p, ids, n, 1);
	db_rows_t *r = db_query(req->db, sql.buf, p, np);
	sb_release(&sql);
	if (!r)
		return false;
	/* The rows come in any order: each is written once to a scratch
	 * buffer, then copied out in the order of the ids. */
	size_t *from = arena_alloc(req->arena, n * sizeof(*from)), *to = arena_alloc(req->arena, n * sizeof(*to));
	memset(to, 0, n * sizeof(*to));
	strbuf_t docs;
	sb_init(&docs, 0);
	while (db_next(r)) {
		int64_t id = db_int(r, MC_ID);
		for (size_t i = 0; i < n; i++)
			if (ids[i] == id && !to[i]) {
				from[i] = docs.len;
				model_write(&docs, r, false, req->user ? mine[i] : -1);
				to[i] = docs.len;
				break;
			}
	}
	bool failed = db_failed(r);
	db_done(r);
	bool wrote = false;
	for (size_t i = 0; i < n && !failed; i++) {
		if (!to[i])
			continue; /* no longer public */
		if (wrote)
			sb_addc(out, ',');
		sb_add(out, docs.buf + from[i], to[i] - from[i]);
		wrote = true;
	}
	failed |= docs.overflow;
	sb_release(&docs);
	return !failed && sb_addc(out, ']');
}

int reply_model_write_failed(req_t *req, int64_t rows, const char *what)
{
	if (rows == 0)
		return reply_error(req, ERR_NOT_FOUND, "Model not found");
	return reply_db_error(req, what);
}
