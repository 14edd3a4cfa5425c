/*
 * checkout.c: POST /api/checkout, exactly once, and what a buyer does with
 * a purchase: a fresh download link, the download itself, the list of
 * purchases.
 *
 * A checkout (svc/orders.h has the whole story):
 *   1. validates; with an Idempotency-Key, an order already made for that
 *      key answers as it did (422 when the key comes with another
 *      request, 409 while its charge is still in flight);
 *   2. prices the models from the database (never from the client) and
 *      writes the order 'pending' with its items and locks in one
 *      transaction;
 *   3. charges it on the pool (POOL_NET: a network call) with the order's
 *      own idempotency key;
 *   4. settles it (orders_settle) and answers from what is stored.
 */
#include <ctype.h>
#include <stdlib.h>
#include "api.h"
#include "commerce.h"
#include "../auth/account.h"
#include "../core/config.h"
#include "../core/strbuf.h"
#include "../core/util.h"
#include "../http/pool.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "../svc/orders.h"
#include "../svc/payments.h"

#define TOKEN_MAX 255
#define IDEMPOTENCY_KEY_MAX 255

char *download_link(req_t *req, int64_t model_id, int64_t user_id, int64_t *expires_ms)
{
	int64_t expires_s = now_ms() / 1000 + cfg.download_link_ttl_s;
	*expires_ms = expires_s * 1000;
	char *url = download_url(model_id, user_id, expires_s);
	char *out = arena_strdup(req->arena, url);
	free(url);
	return out;
}

/* ------------------------------------------------------------ answers */

/* The order as the buyer sees it: 200 with its purchases and fresh links
 * when fulfilled, 402 when declined, 409 while pending. */
static int reply_order(req_t *req, int64_t order_id)
{
#define ORDER_COLUMNS(FIRST, NEXT)                                                          \
	FIRST(O_STATUS, "status") NEXT(O_AMOUNT, "amount_cents") NEXT(O_FEE, "fee_cents")   \
	NEXT(O_CURRENCY, "currency") NEXT(O_METHOD, "payment_method") NEXT(O_ERROR, "error_detail") \
	NEXT(O_CREATED, "created_at") NEXT(O_BUYER, "buyer_id")
	enum { ORDER_COLUMNS(DB_COL_ENUM, DB_COL_ENUM) };
	db_rows_t *r = RQ(req, "SELECT " ORDER_COLUMNS(DB_COL_SQL, DB_COL_SQL_NEXT) " FROM orders WHERE id = $1",
			  P_INT(order_id));
#undef ORDER_COLUMNS
	if (!r || !db_next(r))
		return reply_db_error(req, "read order");
	const char *status = arena_strdup(req->arena, db_text(r, O_STATUS));
	if (!strcmp(status, "pending")) {
		req->retry_after = 5;
		return reply_error(req, ERR_CONFLICT, "This checkout is still being processed; try again in a moment");
	}
	if (!strcmp(status, "failed"))
		return reply_error(req, ERR_PAYMENT_FAILED, arena_strdup(req->arena, db_text(r, O_ERROR)));
	char txn[32];
	order_transaction_id(order_id, db_int(r, O_CREATED), txn);
	int64_t buyer = db_int(r, O_BUYER);
	bool live = !strcmp(status, "fulfilled");
	json_t *out = json_pack("{s:s, s:I, s:s, s:f, s:f, s:s, s:s, s:o}", "transaction_id", txn,
				"order_id", (json_int_t)order_id, "status", live ? "completed" : status,
				"total_amount", (double)db_int(r, O_AMOUNT) / 100.0,
				"platform_fee", (double)db_int(r, O_FEE) / 100.0, "currency", db_text(r, O_CURRENCY),
				"payment_method", db_text(r, O_METHOD), "created_at", json_time(db_int(r, O_CREATED)));
	r = RQ(req, "SELECT oi.model_id, m.title, oi.price_cents FROM order_items oi JOIN models m ON m.id = oi.model_id"
		    " WHERE oi.order_id = $1 ORDER BY oi.model_id", P_INT(order_id));
	if (!r) {
		json_decref(out);
		return reply_db_error(req, "read order");
	}
	json_t *purchases = json_array();
	while (db_next(r)) {
		int64_t model_id = db_int(r, 0), expires = 0;
		json_t *p = json_pack("{s:I, s:s, s:f}", "model_id", (json_int_t)model_id, "title", db_text(r, 1),
				      "price", (double)db_int(r, 2) / 100.0);
		if (live) {
			json_object_set_new(p, "download_url", json_string(download_link(req, model_id, buyer, &expires)));
			json_object_set_new(p, "download_expires_at", json_time(expires));
		}
		json_array_append_new(purchases, p);
	}
	json_object_set_new(out, "purchases", purchases);
	if (db_failed(r)) {
		json_decref(out);
		return reply_db_error(req, "read order");
	}
	return reply_ok(req, out);
}

/* ----------------------------------------------------------- checkout */

struct checkout_job {
	int64_t order_id;
	pay_provider_t provider;
	char key[48], desc[64];
	pay_charge_t charge;
};

static void charge_work(void *ctx)
{
	struct checkout_job *j = ctx;
	pay_charge(j->provider, &j->charge);
}

static int charge_done(req_t *req, void *ctx)
{
	struct checkout_job *j = ctx;
	switch (orders_settle(req->db, j->order_id, &j->charge)) {
	case SETTLE_PENDING:
	case SETTLE_DB_ERROR:
		/* The reconciler finishes it (orders.h). */
		req->retry_after = 10;
		return reply_error(req, ERR_UNAVAILABLE,
			"The payment could not be confirmed yet. Your order is pending and will be completed or"
			" cancelled shortly; send the same request with the same Idempotency-Key to see the result");
	default:
		return reply_order(req, j->order_id);
	}
}

static bool token_chars_ok(const char *s, bool any_printable)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (any_printable ? (*p < 0x21 || *p > 0x7e) : !(isalnum(*p) || *p == '_' || *p == '-'))
			return false;
	return true;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* model_ids from the body, sorted and without repeats; false (with a
 * field error) when malformed.  *given is false when absent. */
static void read_model_ids(valid_t *v, json_t *body, int64_t *ids, size_t *n, bool *given)
{
	json_t *arr = json_object_get(body, "model_ids");
	*n = 0;
	*given = arr && !json_is_null(arr);
	if (!*given)
		return;
	if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > CART_MAX_ITEMS) {
		v_error(v, "model_ids", "Must be a list of 1 to 100 model ids");
		return;
	}
	size_t i;
	json_t *x;
	json_array_foreach(arr, i, x) {
		if (!json_is_integer(x) || json_integer_value(x) < 1) {
			v_error(v, "model_ids", "Every item must be a model id (a positive integer)");
			return;
		}
		ids[(*n)++] = json_integer_value(x);
	}
	qsort(ids, *n, sizeof(*ids), cmp_i64);
	size_t k = 0;
	for (i = 0; i < *n; i++)
		if (!k || ids[i] != ids[k - 1])
			ids[k++] = ids[i];
	*n = k;
}

/* The buyable models of the cart, sorted. */
static bool cart_ids(req_t *req, int64_t *ids, size_t *n)
{
	db_rows_t *r = RQ(req, "SELECT ci.model_id FROM cart_items ci JOIN models m ON m.id = ci.model_id"
			       " WHERE ci.user_id = $1 AND " CART_BUYABLE " ORDER BY ci.model_id LIMIT $2",
			  P_INT(req->user->id), P_INT(CART_MAX_ITEMS));
	if (!r)
		return false;
	*n = 0;
	while (db_next(r) && *n < CART_MAX_ITEMS)
		ids[(*n)++] = db_int(r, 0);
	return !db_failed(r);
}

static int checkout(req_t *req)
{
	json_t *body = req_body(req);
	valid_t v;
	v_init(&v, req, body);
	static const char *const methods[] = { "card", "paypal", NULL };
	const char *method = v_enum(&v, "payment_method", 0, methods, "card");
	int64_t ids[CART_MAX_ITEMS];
	size_t n;
	bool given;
	read_model_ids(&v, body, ids, &n, &given);
	json_t *pd = json_object_get(body, "payment_details");
	const char *token = NULL;
	if (pd && !json_is_object(pd) && !json_is_null(pd)) {
		v_error(&v, "payment_details", "Must be an object");
	} else if (method) {
		bool card = !strcmp(method, "card");
		const char *field = card ? "card_token" : "paypal_order_id";
		json_t *t = json_is_object(pd) ? json_object_get(pd, field) : NULL;
		const char *name = card ? "payment_details.card_token" : "payment_details.paypal_order_id";
		if (t && !json_is_null(t)) {
			token = json_string_value(t);
			if (!token || !*token || strlen(token) > TOKEN_MAX || !token_chars_ok(token, false))
				v_error(&v, name, "Must be a token of letters, digits, _ and - (at most 255)");
		} else if (card) {
			v_error(&v, name, "Required for a card payment (a token from the payment form, e.g. tok_visa)");
		}
	}
	const char *key = req_header(req, "Idempotency-Key");
	if (key && (!*key || strlen(key) > IDEMPOTENCY_KEY_MAX || !token_chars_ok(key, true)))
		v_error(&v, "Idempotency-Key", "Must be 1 to 255 printable ASCII characters without spaces");
	if (!v_ok(&v))
		return v_reply(&v);
	pay_provider_t provider = pay_provider_for(method);
	if (provider == PAY_NONE)
		return reply_invalid1(req, "payment_method", "This payment method is not available here");
	if (!given && !cart_ids(req, ids, &n))
		return reply_db_error(req, "read cart");
	if (!n)
		return reply_invalid1(req, "model_ids", "Your cart is empty: add a model, or name the models to buy");

	/* What was asked, for the idempotency key: the same key must come
	 * with the same request. */
	strbuf_t what;
	sb_init(&what, 0);
	sb_addf(&what, "%s|%s|", method, token ? token : "");
	for (size_t i = 0; i < n; i++)
		sb_addf(&what, "%lld,", (long long)ids[i]);
	char hash[65];
	token_hash(what.buf, hash);
	sb_release(&what);
	if (key) {
		int64_t prior = 0;
		db_rows_t *r = RQ(req, "SELECT id, request_hash FROM orders WHERE buyer_id = $1 AND idempotency_key = $2",
				  P_INT(req->user->id), P_TEXT(key));
		if (!r)
			return reply_db_error(req, "find order");
		if (db_next(r)) {
			prior = db_int(r, 0);
			if (strcmp(db_text(r, 1), hash))
				return reply_invalid1(req, "Idempotency-Key", "This key was already used for a different checkout");
			return reply_order(req, prior);
		}
		if (db_failed(r))
			return reply_db_error(req, "find order");
	}

	/* Prices from our own records. */
	struct buyable *items = arena_alloc(req->arena, n * sizeof(*items));
	int64_t total = 0, fee = 0, fee_bps = platform_fee_bps(req->db);
	for (size_t i = 0; i < n; i++) {
		enum buy_check why = model_buyable(req, ids[i], &items[i]);
		if (why != BUY_OK)
			return reply_buy_refused(req, why, "model_ids");
		total += items[i].price_cents;
		fee += platform_fee_cents(items[i].price_cents, fee_bps);
	}
	req_rows_release(req); /* the lookups' statements, before the write */

	int64_t now = now_ms(), order_id = 0;
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	if (DBS(req->db, &order_id,
		"INSERT INTO orders (buyer_id, idempotency_key, request_hash, provider, payment_method, payment_token,"
		" amount_cents, fee_cents, currency, created_at, updated_at)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'USD', $9, $9) RETURNING id",
		P_INT(req->user->id), P_TEXT(key), P_TEXT(hash), P_TEXT(pay_provider_name(provider)), P_TEXT(method),
		P_TEXT(token), P_INT(total), P_INT(fee), P_INT(now)) != 1) {
		bool raced = db_error(req->db) == DB_ERR_UNIQUE; /* the same key, at the same time */
		db_rollback(req->db);
		if (raced) {
			req->retry_after = 5;
			return reply_error(req, ERR_CONFLICT, "This checkout is still being processed; try again in a moment");
		}
		return reply_db_error(req, "create order");
	}
	for (size_t i = 0; i < n; i++) {
		bool ok = DBX(req->db, "INSERT INTO order_items (order_id, model_id, creator_id, price_cents, fee_cents)"
				       " VALUES ($1, $2, $3, $4, $5)", P_INT(order_id), P_INT(items[i].id),
			      P_INT(items[i].creator_id), P_INT(items[i].price_cents),
			      P_INT(platform_fee_cents(items[i].price_cents, fee_bps))) == 1;
		if (ok && DBX(req->db, "INSERT INTO order_locks (buyer_id, model_id, order_id) VALUES ($1, $2, $3)",
			      P_INT(req->user->id), P_INT(items[i].id), P_INT(order_id)) != 1) {
			bool busy = db_error(req->db) == DB_ERR_UNIQUE;
			db_rollback(req->db);
			if (busy)
				return reply_error(req, ERR_CONFLICT,
					arena_printf(req->arena, "A checkout of \"%s\" is already in progress", items[i].title));
			return reply_db_error(req, "create order");
		}
		if (!ok) {
			db_rollback(req->db);
			return reply_db_error(req, "create order");
		}
	}
	/* Bought meanwhile by a checkout that has just released its locks?
	 * (Asked through this order's own items: one statement for any set.) */
	int64_t owned = 0;
	if (DBS(req->db, &owned, "SELECT COUNT(*) FROM purchases p JOIN order_items oi ON oi.model_id = p.model_id"
			       " WHERE oi.order_id = $2 AND p.buyer_id = $1 AND p.refunded_at IS NULL",
		P_INT(req->user->id), P_INT(order_id)) != 1 || owned > 0 || !db_commit(req->db)) {
		db_rollback(req->db);
		return owned > 0 ? reply_error(req, ERR_CONFLICT, "You already own this model")
				 : reply_db_error(req, "create order");
	}

	struct checkout_job *j = arena_calloc(req->arena, sizeof(*j));
	j->order_id = order_id;
	j->provider = provider;
	pay_idempotency_key(order_id, j->key);
	char txn[32];
	order_transaction_id(order_id, now, txn);
	snprintf(j->desc, sizeof(j->desc), "HWC3D %s", txn);
	j->charge = (pay_charge_t){ .idempotency_key = j->key, .amount_cents = total, .currency = "USD",
				    .token = token ? arena_strdup(req->arena, token) : NULL, .description = j->desc };
	return pool_defer(req, POOL_NET, charge_work, charge_done, j);
}

/* ------------------------------------------------ payment methods */

/* A public key from the settings, or NULL when unset or not a key: it is
 * put into a page that loads the provider's script with it. */
static const char *public_key(const char *name)
{
	const char *k = config_get(name);
	if (!k || !*k || strlen(k) > TOKEN_MAX || !token_chars_ok(k, false))
		return NULL;
	return k;
}

/* GET /api/checkout/payment-methods: what the checkout page may offer.
 * Card payments go to Stripe when STRIPE_SECRET_KEY is set (the page
 * needs STRIPE_PUBLISHABLE_KEY to tokenise a card with Stripe.js), else
 * to the built-in test processor with its test tokens; PayPal when its
 * client id and secret are set (the client id is public by design). */
static int payment_methods(req_t *req)
{
	json_t *card;
	if (pay_provider_for("card") == PAY_STRIPE) {
		const char *pk = public_key("STRIPE_PUBLISHABLE_KEY");
		card = json_pack("{s:s, s:b, s:s?}", "provider", "stripe", "available", pk != NULL, "publishable_key", pk);
	} else {
		card = json_pack("{s:s, s:b, s:[{s:s, s:s, s:s}, {s:s, s:s, s:s}]}", "provider", "test", "available", 1,
				 "test_tokens",
				 "token", "tok_visa", "label", "Visa test card (succeeds)", "outcome", "succeeds",
				 "token", "tok_chargeDeclined", "label", "Declined test card (fails)", "outcome", "declined");
	}
	json_t *paypal = json_null();
	if (pay_provider_for("paypal") == PAY_PAYPAL) {
		const char *id = public_key("PAYPAL_CLIENT_ID");
		paypal = json_pack("{s:s, s:b, s:s?}", "provider", "paypal", "available", id != NULL, "client_id", id);
	}
	return reply_ok(req, json_pack("{s:o, s:o, s:s}", "card", card, "paypal", paypal, "currency", "USD"));
}

const route_t checkout_routes[] = {
	{ M_POST, "/api/checkout", checkout, ACCESS_VERIFIED, RL_GENERAL, BODY_JSON, 0, 0, "Buy models (the cart, or model_ids), charged exactly once" },
	{ M_GET, "/api/checkout/payment-methods", payment_methods, ACCESS_PUBLIC, RL_GENERAL, BODY_NONE, 0, 0, "The payment methods the checkout offers, with their public keys" },
};
EXPORT_ROUTES(checkout_routes);
