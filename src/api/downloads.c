/*
 * downloads.c: who may download a model's file, the signed links that
 * carry that right for a short while, and the buyer's purchases.
 *
 * GET /api/models/{id}/download mints a link for the signed-in caller when
 * they may have the file: its buyer (a live purchase, even of a model
 * removed since), its creator, an admin, or anyone for a free public
 * model.  GET /api/downloads/{id}?user=&expires=&sig= serves the file to
 * whoever holds a valid link (a browser's plain GET, no header needed),
 * after checking again that the right still holds: a refund revokes it.
 */
#include <ctype.h>
#include "api.h"
#include "commerce.h"
#include "files.h"
#include "paged.h"
#include "../core/config.h"
#include "../core/num.h"
#include "../core/util.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "../svc/orders.h"
#include "../svc/rollup.h"

struct model_file {
	int64_t creator_id;
	bool is_public, is_free, deleted;
	const char *title, *key, *format, *ctype, *sha256, *name;
};

/* The model and its stored file; false (and *found false) when missing. */
static bool load_model_file(req_t *req, int64_t id, struct model_file *f, bool *found)
{
#define FILE_COLUMNS(FIRST, NEXT)                                                            \
	FIRST(F_CREATOR, "m.creator_id")                                                     \
	NEXT(F_PUBLIC, "m.status = 'approved' AND m.is_published = TRUE AND m.deleted_at IS NULL") \
	NEXT(F_FREE, "m.is_free OR m.price_cents = 0") NEXT(F_DELETED, "m.deleted_at IS NOT NULL") \
	NEXT(F_TITLE, "m.title") NEXT(F_KEY, "m.file_key") NEXT(F_FORMAT, "m.file_format")    \
	NEXT(F_CTYPE, "up.content_type") NEXT(F_SHA, "up.sha256") NEXT(F_NAME, "up.original_name")
	enum { FILE_COLUMNS(DB_COL_ENUM, DB_COL_ENUM) };
	db_rows_t *r = RQ(req, "SELECT " FILE_COLUMNS(DB_COL_SQL, DB_COL_SQL_NEXT)
			       " FROM models m LEFT JOIN uploads up ON up.storage_key = m.file_key WHERE m.id = $1",
			  P_INT(id));
#undef FILE_COLUMNS
	if (!r)
		return false;
	*found = db_next(r);
	if (*found) {
		*f = (struct model_file){
			.creator_id = db_int(r, F_CREATOR),
			.is_public = db_bool(r, F_PUBLIC),
			.is_free = db_bool(r, F_FREE),
			.deleted = db_bool(r, F_DELETED),
			.title = arena_strdup(req->arena, db_text(r, F_TITLE)),
			.key = db_text(r, F_KEY) ? arena_strdup(req->arena, db_text(r, F_KEY)) : NULL,
			.format = db_text(r, F_FORMAT) ? arena_strdup(req->arena, db_text(r, F_FORMAT)) : "bin",
			.ctype = db_text(r, F_CTYPE) ? arena_strdup(req->arena, db_text(r, F_CTYPE)) : "application/octet-stream",
			.sha256 = db_text(r, F_SHA) ? arena_strdup(req->arena, db_text(r, F_SHA)) : NULL,
			.name = db_text(r, F_NAME) ? arena_strdup(req->arena, db_text(r, F_NAME)) : NULL,
		};
	}
	return !db_failed(r);
}

enum right { RIGHT_DB_ERROR = -1, RIGHT_NONE, RIGHT_YES };

/* May user (id, admin) have the file of model model_id (f)? */
static enum right may_download(req_t *req, int64_t model_id, const struct model_file *f, int64_t user_id,
			       bool is_admin)
{
	if (is_admin || user_id == f->creator_id || (f->is_free && f->is_public))
		return RIGHT_YES;
	bool owns;
	if (!user_owns(req->db, user_id, model_id, &owns))
		return RIGHT_DB_ERROR;
	return owns ? RIGHT_YES : RIGHT_NONE;
}

static int model_download(req_t *req)
{
	int64_t id = req_param_int(req, "id");
	struct model_file f;
	bool found = false;
	if (!load_model_file(req, id, &f, &found))
		return reply_db_error(req, "find model");
	enum right right = found ? may_download(req, id, &f, req->user->id, req->user->is_admin) : RIGHT_NONE;
	if (right == RIGHT_DB_ERROR)
		return reply_db_error(req, "check purchase");
	if (right == RIGHT_NONE)
		return found && f.is_public ? reply_error(req, ERR_FORBIDDEN, "Buy this model to download it")
					    : reply_error(req, ERR_NOT_FOUND, "Model not found");
	if (!f.key)
		return reply_error(req, ERR_NOT_FOUND, "This model has no file to download");
	int64_t expires;
	char *url = download_link(req, id, req->user->id, &expires);
	return reply_ok(req, json_pack("{s:s, s:o, s:I}", "download_url", url, "expires_at", json_time(expires),
				       "expires_in", (json_int_t)cfg.download_link_ttl_s));
}

/* The file behind a signed link. */
static int download_by_link(req_t *req)
{
	int64_t id = req_param_int(req, "model_id"), user = 0, expires = 0;
	const char *u = req_query(req, "user"), *e = req_query(req, "expires"), *sig = req_query(req, "sig");
	static const char refused[] = "This download link is invalid or has expired; get a new one from the model's page";
	if (!u || !e || !sig || !parse_i64_range(u, 1, INT64_MAX, &user) || !parse_i64_range(e, 1, INT64_MAX / 2, &expires) ||
	    !download_signature_ok(id, user, expires, sig, now_ms() / 1000))
		return reply_error(req, ERR_FORBIDDEN, refused);
	bool is_admin = false, active = false;
	db_rows_t *r = RQ(req, "SELECT role = 'admin' FROM users WHERE id = $1 AND deleted_at IS NULL AND is_banned = FALSE",
			  P_INT(user));
	if (!r)
		return reply_db_error(req, "find user");
	if (db_next(r)) {
		active = true;
		is_admin = db_bool(r, 0);
	}
	struct model_file f;
	bool found = false;
	if (!active)
		return reply_error(req, ERR_FORBIDDEN, refused);
	if (!load_model_file(req, id, &f, &found))
		return reply_db_error(req, "find model");
	enum right right = found ? may_download(req, id, &f, user, is_admin) : RIGHT_NONE;
	if (right == RIGHT_DB_ERROR)
		return reply_db_error(req, "check purchase");
	if (right == RIGHT_NONE || !f.key)
		return reply_error(req, ERR_FORBIDDEN, refused);
	/* A download counts once, not once per range of a resumed one. */
	const char *range = req_header(req, "Range");
	if (!range || str_has_prefix(range, "bytes=0-")) {
		req_rows_release(req);
		if (!db_begin(req->db))
			return reply_db_error(req, "begin");
		if (DBX(req->db, "UPDATE models SET downloads_count = downloads_count + 1 WHERE id = $1", P_INT(id)) < 0 ||
		    !rollup_count(req->db, id, f.creator_id, ROLLUP_DOWNLOAD, now_ms()) || !db_commit(req->db)) {
			db_rollback(req->db);
			return reply_db_error(req, "count download");
		}
	}
	/* The name: the uploader's, or the title, as plain characters. */
	const char *name = f.name;
	if (!name) {
		char *t = arena_printf(req->arena, "%.60s.%s", f.title, f.format);
		for (char *p = t; *p; p++)
			if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-')
				*p = '_';
		name = t;
	}
	const char *etag = arena_printf(req->arena, "\"%s\"", f.sha256 ? f.sha256 : f.key);
	return reply_stored_file(req, f.key, f.ctype, etag, name, false);
}

/* GET /api/users/me/purchases: what the caller bought, newest first. */
static int my_purchases(req_t *req)
{
	valid_t v;
	v_init(&v, req, NULL);
	page_t p;
	q_page(&v, &p);
	if (!v_ok(&v))
		return v_reply(&v);
	int64_t total = 0;
	if (DBS(req->db, &total, "SELECT COUNT(*) FROM purchases WHERE buyer_id = $1", P_INT(req->user->id)) < 0)
		return reply_db_error(req, "count purchases");
	if (page_too_deep(&p, total))
		return reply_page_too_deep(req);
	db_rows_t *r = RQ(req, "SELECT p.id, p.model_id, m.title, m.thumbnail_url, p.price_cents, p.created_at,"
			       " p.refunded_at, p.order_id, o.created_at, m.file_key IS NOT NULL"
			       " FROM purchases p JOIN models m ON m.id = p.model_id JOIN orders o ON o.id = p.order_id"
			       " WHERE p.buyer_id = $1 ORDER BY p.created_at DESC, p.id DESC LIMIT $2 OFFSET $3",
			  P_INT(req->user->id), P_INT(p.limit), P_INT(p.offset));
	if (!r)
		return reply_db_error(req, "list purchases");
	json_t *items = json_array();
	while (db_next(r)) {
		char txn[32];
		order_transaction_id(db_int(r, 7), db_int(r, 8), txn);
		bool refunded = !db_isnull(r, 6);
		json_t *it = json_pack("{s:I, s:I, s:s, s:s?, s:f, s:s, s:o, s:s}", "id", (json_int_t)db_int(r, 0),
				       "model_id", (json_int_t)db_int(r, 1), "title", db_text(r, 2),
				       "thumbnail_url", db_text(r, 3), "price", (double)db_int(r, 4) / 100.0,
				       "currency", "USD", "purchased_at", json_time(db_int(r, 5)), "transaction_id", txn);
		json_object_set_new(it, "status", json_string(refunded ? "refunded" : "completed"));
		if (!refunded && db_bool(r, 9)) {
			int64_t expires;
			json_object_set_new(it, "download_url",
					    json_string(download_link(req, db_int(r, 1), req->user->id, &expires)));
			json_object_set_new(it, "download_expires_at", json_time(expires));
		}
		json_array_append_new(items, it);
	}
	if (db_failed(r)) {
		json_decref(items);
		return reply_db_error(req, "list purchases");
	}
	return reply_ok(req, page_envelope(items, total, &p));
}

/* What each licence grants, in one sentence for the certificate. */
static const char *license_terms(const char *license)
{
	static const struct { const char *name, *terms; } t[] = {
		{ "standard", "Use in any number of personal and commercial projects (games, renders, films, apps) as part"
			      " of a larger work; the model itself may not be resold, shared or redistributed as a"
			      " stand-alone file." },
		{ "extended", "Everything the standard licence allows, plus use in products for sale where the model is a"
			      " significant part of the value (templates, merchandise, printed goods), still without"
			      " redistributing the file itself." },
		{ "editorial", "Use in news, education and commentary only; no commercial or advertising use." },
		{ "cc0", "Public domain dedication (CC0 1.0): any use, no attribution required." },
		{ "cc-by", "Creative Commons Attribution 4.0: any use, crediting the creator." },
		{ "cc-by-sa", "Creative Commons Attribution-ShareAlike 4.0: any use, crediting the creator and sharing"
			      " adaptations under the same licence." },
	};
	for (size_t i = 0; i < ARRAY_LEN(t); i++)
		if (!strcmp(license, t[i].name))
			return t[i].terms;
	return t[0].terms;
}

/* GET /api/users/me/purchases/{id}/license: the licence certificate of a
 * live purchase of the caller, as JSON, with an HMAC over its fields so
 * that a copy can be checked against the platform's key. */
static int purchase_license(req_t *req)
{
#define CERT_COLUMNS(FIRST, NEXT)                                                               \
	FIRST(C_MODEL, "p.model_id") NEXT(C_TITLE, "m.title") NEXT(C_LICENSE, "m.license")         \
	NEXT(C_PRICE, "p.price_cents") NEXT(C_BOUGHT, "p.created_at") NEXT(C_REFUNDED, "p.refunded_at") \
	NEXT(C_ORDER, "p.order_id") NEXT(C_ORDER_AT, "o.created_at") NEXT(C_CREATOR, "cu.id")        \
	NEXT(C_CREATOR_NAME, "cu.username") NEXT(C_BUYER_NAME, "bu.username")                      \
	NEXT(C_BUYER_FULL, "bu.full_name") NEXT(C_BUYER_EMAIL, "bu.email")
	enum { CERT_COLUMNS(DB_COL_ENUM, DB_COL_ENUM) };
	int64_t id = req_param_int(req, "id");
	db_rows_t *r = RQ(req, "SELECT " CERT_COLUMNS(DB_COL_SQL, DB_COL_SQL_NEXT)
			       " FROM purchases p JOIN models m ON m.id = p.model_id JOIN orders o ON o.id = p.order_id"
			       " JOIN users cu ON cu.id = p.creator_id JOIN users bu ON bu.id = p.buyer_id"
			       " WHERE p.id = $1 AND p.buyer_id = $2", P_INT(id), P_INT(req->user->id));
#undef CERT_COLUMNS
	if (!r)
		return reply_db_error(req, "find purchase");
	if (!db_next(r))
		return db_failed(r) ? reply_db_error(req, "find purchase")
				    : reply_error(req, ERR_NOT_FOUND, "Purchase not found");
	if (!db_isnull(r, C_REFUNDED))
		return reply_error(req, ERR_CONFLICT, "This purchase was refunded: its licence no longer holds");
	char txn[32], cert[48], sig[65];
	order_transaction_id(db_int(r, C_ORDER), db_int(r, C_ORDER_AT), txn);
	snprintf(cert, sizeof(cert), "LIC-%s-%06lld", txn + 4, (long long)id);
	const char *license = db_text(r, C_LICENSE);
	/* The signed text: every field that matters, in a fixed order. */
	char *signed_text = arena_printf(req->arena, "%s|%lld|%s|%lld|%lld|%s|%lld", cert,
					 (long long)db_int(r, C_MODEL), license, (long long)req->user->id,
					 (long long)db_int(r, C_CREATOR), txn, (long long)db_int(r, C_BOUGHT));
	certificate_signature(signed_text, sig);
	json_t *out = json_pack("{s:s, s:s, s:{s:I, s:s}, s:{s:s, s:s}, s:{s:I, s:s, s:s?, s:s}, s:{s:I, s:s},"
				" s:s, s:o, s:f, s:s, s:o, s:s, s:s}",
		"certificate_id", cert, "platform", "HWC3D",
		"model", "id", (json_int_t)db_int(r, C_MODEL), "title", db_text(r, C_TITLE),
		"license", "type", license, "terms", license_terms(license),
		"licensee", "id", (json_int_t)req->user->id, "username", db_text(r, C_BUYER_NAME),
		"full_name", db_text(r, C_BUYER_FULL), "email", db_text(r, C_BUYER_EMAIL),
		"creator", "id", (json_int_t)db_int(r, C_CREATOR), "username", db_text(r, C_CREATOR_NAME),
		"transaction_id", txn, "purchased_at", json_time(db_int(r, C_BOUGHT)),
		"price", (double)db_int(r, C_PRICE) / 100.0, "currency", "USD", "issued_at", json_time(now_ms()),
		"signed_fields", "certificate_id|model.id|license.type|licensee.id|creator.id|transaction_id|purchased_at (ms)",
		"signature", sig);
	return reply_ok(req, out);
}

const route_t download_routes[] = {
	{ M_GET, "/api/models/{id:int}/download", model_download, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "A fresh signed download link (buyer, creator, admin; anyone for a free model)" },
	{ M_GET, "/api/downloads/{model_id:int}", download_by_link, ACCESS_PUBLIC, RL_GENERAL, BODY_NONE, 0, 0, "Download a model's file by a signed link (Range supported)" },
	{ M_GET, "/api/users/me/purchases", my_purchases, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "The caller's purchases, with fresh download links" },
	{ M_GET, "/api/users/me/purchases/{id:int}/license", purchase_license, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "The licence certificate of one of the caller's purchases (JSON, signed)" },
};
EXPORT_ROUTES(download_routes);
