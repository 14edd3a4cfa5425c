/*
 * cart.c: the buyer's cart, and the rules of what may be bought that the
 * checkout shares (commerce.h).
 *
 * A cart holds models the caller may buy: public, priced, someone else's,
 * not already owned.  Adding one twice is harmless.  A model that stops
 * being buyable after it was added (unpublished, deleted, bought
 * elsewhere) stays listed with is_available false and counts for nothing,
 * so the buyer sees why it went; the checkout takes only what is
 * available.
 */
#include "api.h"
#include "commerce.h"
#include "models_common.h"
#include "../core/config.h"
#include "../core/util.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "../svc/settings.h"

int64_t platform_fee_cents(int64_t price_cents, int64_t fee_bps)
{
	/* price ≤ 10^8 cents (validate: v_money bound), bps ≤ 10^4: no overflow */
	return (price_cents * fee_bps + 5000) / 10000;
}

int64_t platform_fee_bps(db_t *db)
{
	platform_settings_t s;
	settings_get(db, &s);
	return s.platform_fee_bps;
}

bool user_owns(db_t *db, int64_t user_id, int64_t model_id, bool *owns)
{
	int64_t n = 0;
	int rc = DBS(db, &n, "SELECT COUNT(*) FROM purchases WHERE buyer_id = $1 AND model_id = $2 AND refunded_at IS NULL",
		     P_INT(user_id), P_INT(model_id));
	*owns = rc > 0 && n > 0;
	return rc >= 0;
}

enum buy_check model_buyable(req_t *req, int64_t model_id, struct buyable *out)
{
#define BUY_COLUMNS(FIRST, NEXT)                                                        \
	FIRST(B_CREATOR, "creator_id") NEXT(B_PRICE, "price_cents") NEXT(B_FREE, "is_free") \
	NEXT(B_PUBLIC, "status = 'approved' AND is_published = TRUE") NEXT(B_TITLE, "title") \
	NEXT(B_CURRENCY, "currency")
	enum { BUY_COLUMNS(DB_COL_ENUM, DB_COL_ENUM) };
	/* Released before returning (db_done): the callers write next, and an
	 * open read would pin SQLite's snapshot (a write after another
	 * connection's commit would then fail with SQLITE_BUSY). */
	db_rows_t *r = DBQ(req->db, "SELECT " BUY_COLUMNS(DB_COL_SQL, DB_COL_SQL_NEXT)
			   " FROM models WHERE id = $1 AND deleted_at IS NULL", P_INT(model_id));
#undef BUY_COLUMNS
	if (!r)
		return BUY_DB_ERROR;
	if (!db_next(r)) {
		bool failed = db_failed(r);
		db_done(r);
		return failed ? BUY_DB_ERROR : BUY_NOT_FOUND;
	}
	*out = (struct buyable){
		.id = model_id,
		.creator_id = db_int(r, B_CREATOR),
		.price_cents = db_int(r, B_PRICE),
		.title = arena_strdup(req->arena, db_text(r, B_TITLE)),
		.currency = arena_strdup(req->arena, db_text(r, B_CURRENCY)),
	};
	bool is_public = db_bool(r, B_PUBLIC), is_free = db_bool(r, B_FREE);
	db_done(r);
	bool own = out->creator_id == req->user->id;
	if (!is_public && !own && !req->user->is_admin)
		return BUY_NOT_FOUND; /* someone else's unpublished model looks missing */
	if (own)
		return BUY_OWN;
	if (!is_public)
		return BUY_NOT_FOR_SALE;
	if (is_free || out->price_cents <= 0)
		return BUY_FREE;
	bool owns;
	if (!user_owns(req->db, req->user->id, model_id, &owns))
		return BUY_DB_ERROR;
	return owns ? BUY_OWNED : BUY_OK;
}

int reply_buy_refused(req_t *req, enum buy_check why, const char *field)
{
	switch (why) {
	case BUY_NOT_FOUND:
		return reply_error(req, ERR_NOT_FOUND, "Model not found");
	case BUY_OWN:
		return reply_invalid1(req, field, "You cannot buy your own model");
	case BUY_FREE:
		return reply_invalid1(req, field, "This model is free: download it from its page instead");
	case BUY_NOT_FOR_SALE:
		return reply_invalid1(req, field, "This model is not for sale (it is not approved and published)");
	case BUY_OWNED:
		return reply_error(req, ERR_CONFLICT, "You already own this model");
	default:
		return reply_db_error(req, "check model");
	}
}

/* The cart: each item with its model document, whether it can still be
 * bought, and the total of those that can. */
static int reply_cart(req_t *req, int status)
{
	db_rows_t *r = RQ(req, "SELECT " MODEL_COLS ", ci.added_at, " CART_BUYABLE
			       " FROM cart_items ci JOIN models m ON m.id = ci.model_id"
			       " JOIN users u ON u.id = m.creator_id LEFT JOIN categories c ON c.id = m.category_id"
			       " WHERE ci.user_id = $1 ORDER BY ci.added_at, ci.model_id",
			  P_INT(req->user->id));
	if (!r)
		return reply_db_error(req, "read cart");
	json_t *items = json_array();
	int64_t total = 0, available = 0;
	while (db_next(r)) {
		bool ok = db_bool(r, MC_COUNT + 1);
		int64_t price = db_int(r, MC_PRICE_CENTS);
		if (ok) {
			total += price;
			available++;
		}
		json_array_append_new(items, json_pack("{s:I, s:o, s:f, s:b, s:o}",
			"model_id", (json_int_t)db_int(r, MC_ID),
			"model", model_json(r, false),
			"price", (double)price / 100.0,
			"is_available", ok,
			"added_at", json_time(db_int(r, MC_COUNT))));
	}
	if (db_failed(r)) {
		json_decref(items);
		return reply_db_error(req, "read cart");
	}
	return reply_json(req, status, json_pack("{s:o, s:I, s:I, s:f, s:s}",
		"items", items, "count", (json_int_t)json_array_size(items), "available_count", (json_int_t)available,
		"total_amount", (double)total / 100.0, "currency", "USD"));
}

static int cart_get(req_t *req)
{
	return reply_cart(req, 200);
}

static int cart_add(req_t *req)
{
	valid_t v;
	v_init(&v, req, req_body(req));
	int64_t model_id = v_int(&v, "model_id", V_REQUIRED, 1, INT64_MAX, 0);
	if (!v_ok(&v))
		return v_reply(&v);
	struct buyable b;
	enum buy_check why = model_buyable(req, model_id, &b);
	if (why != BUY_OK)
		return reply_buy_refused(req, why, "model_id");
	int64_t added = DBX(req->db,
		"INSERT INTO cart_items (user_id, model_id, added_at) SELECT $1, $2, $3"
		" WHERE (SELECT COUNT(*) FROM cart_items WHERE user_id = $1) < $4"
		" ON CONFLICT (user_id, model_id) DO NOTHING",
		P_INT(req->user->id), P_INT(model_id), P_INT(now_ms()), P_INT(CART_MAX_ITEMS));
	if (added < 0)
		return reply_db_error(req, "add to cart");
	if (added == 0) { /* already there (harmless), or the cart is full */
		int64_t there = 0;
		if (DBS(req->db, &there, "SELECT COUNT(*) FROM cart_items WHERE user_id = $1 AND model_id = $2",
			P_INT(req->user->id), P_INT(model_id)) < 0)
			return reply_db_error(req, "add to cart");
		if (!there)
			return reply_invalid1(req, "model_id",
				arena_printf(req->arena, "A cart holds at most %d models", CART_MAX_ITEMS));
	}
	return reply_cart(req, added ? 201 : 200);
}

static int cart_remove(req_t *req)
{
	int64_t removed = DBX(req->db, "DELETE FROM cart_items WHERE user_id = $1 AND model_id = $2",
			      P_INT(req->user->id), P_INT(req_param_int(req, "model_id")));
	if (removed < 0)
		return reply_db_error(req, "remove from cart");
	if (removed == 0)
		return reply_error(req, ERR_NOT_FOUND, "This model is not in your cart");
	return reply_cart(req, 200);
}

const route_t cart_routes[] = {
	{ M_GET, "/api/cart", cart_get, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "The caller's cart with its total" },
	{ M_POST, "/api/cart", cart_add, ACCESS_USER, RL_GENERAL, BODY_JSON, 0, 0, "Add a model to the cart (adding twice is harmless)" },
	{ M_DELETE, "/api/cart/{model_id:int}", cart_remove, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "Remove a model from the cart" },
};
EXPORT_ROUTES(cart_routes);
