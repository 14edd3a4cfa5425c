/*
 * orders.c: settlement, reconciliation and download links (orders.h).
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "orders.h"
#include "audit.h"
#include "mail.h"
#include "mail_tpl.h"
#include "notify.h"
#include "ticker.h"
#include "rollup.h"
#include "../core/config.h"
#include "../core/log.h"
#include "../core/num.h"
#include "../core/strbuf.h"
#include "../core/util.h"

/* An order holds at most this many items (the cart's bound, commerce.h). */
#define ORDER_MAX_ITEMS 100

void order_transaction_id(int64_t order_id, int64_t created_ms, char out[32])
{
	time_t t = (time_t)(created_ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(out, 32, "TXN-%04d-%06lld", tm.tm_year + 1900, (long long)order_id);
}

/* ---------------------------------------------------------------- links */

/* A key of its own for each use, derived from the JWT secret: a link
 * signature can never serve as a certificate's, or anything else's. */
static void derived_key(const char *label, unsigned char key[crypto_auth_hmacsha256_BYTES])
{
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, cfg.jwt_secret, cfg.jwt_secret_len);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)label, strlen(label));
	crypto_auth_hmacsha256_final(&st, key);
}

static void hmac_hex(const char *label, const char *msg, size_t len, char out[65])
{
	unsigned char key[crypto_auth_hmacsha256_BYTES], mac[crypto_auth_hmacsha256_BYTES];
	derived_key(label, key);
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, key, sizeof(key));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, (unsigned long long)len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(out, 65, mac, sizeof(mac));
	sodium_memzero(key, sizeof(key));
}

void certificate_signature(const char *text, char out[65])
{
	hmac_hex("hwc3d licence certificates v1", text, strlen(text), out);
}

void download_signature(int64_t model_id, int64_t user_id, int64_t expires_s, char out[65])
{
	char msg[96];
	int n = snprintf(msg, sizeof(msg), "download:%lld:%lld:%lld", (long long)model_id, (long long)user_id,
			 (long long)expires_s);
	hmac_hex("hwc3d download links v1", msg, (size_t)n, out);
}

bool download_signature_ok(int64_t model_id, int64_t user_id, int64_t expires_s, const char *sig, int64_t now_s)
{
	if (!sig || strlen(sig) != 64 || now_s >= expires_s)
		return false;
	char want[65];
	download_signature(model_id, user_id, expires_s, want);
	return sodium_memcmp(want, sig, 64) == 0;
}

char *download_url(int64_t model_id, int64_t user_id, int64_t expires_s)
{
	char sig[65];
	download_signature(model_id, user_id, expires_s, sig);
	return xasprintf("%s/api/downloads/%lld?user=%lld&expires=%lld&sig=%s", cfg.public_url, (long long)model_id,
			 (long long)user_id, (long long)expires_s, sig);
}

/* ---------------------------------------------------------- settlement */

struct item {
	int64_t model_id, creator_id, price_cents, fee_cents;
	char *title;
};

struct order {
	int64_t id, buyer_id, created_at, amount_cents, fee_cents;
	char currency[8];
	char *email, *name;
	struct item items[ORDER_MAX_ITEMS];
	int n;
};

static void order_free(struct order *o)
{
	for (int i = 0; i < o->n; i++)
		free(o->items[i].title);
	free(o->email);
	free(o->name);
}

static bool order_load(db_t *db, int64_t order_id, struct order *o)
{
	memset(o, 0, sizeof(*o));
	db_rows_t *r = DBQ(db, "SELECT o.buyer_id, o.created_at, o.amount_cents, o.fee_cents, o.currency, u.email,"
			       " COALESCE(NULLIF(u.full_name, ''), u.username)"
			       " FROM orders o JOIN users u ON u.id = o.buyer_id WHERE o.id = $1", P_INT(order_id));
	if (!r)
		return false;
	bool found = db_next(r);
	if (found) {
		o->id = order_id;
		o->buyer_id = db_int(r, 0);
		o->created_at = db_int(r, 1);
		o->amount_cents = db_int(r, 2);
		o->fee_cents = db_int(r, 3);
		snprintf(o->currency, sizeof(o->currency), "%s", db_text(r, 4));
		o->email = xstrdup(db_text(r, 5) ? db_text(r, 5) : "");
		o->name = xstrdup(db_text(r, 6) ? db_text(r, 6) : "");
	}
	bool failed = db_failed(r);
	db_done(r);
	if (!found || failed)
		return false;
	r = DBQ(db, "SELECT oi.model_id, oi.creator_id, oi.price_cents, oi.fee_cents, m.title FROM order_items oi"
		    " JOIN models m ON m.id = oi.model_id WHERE oi.order_id = $1 ORDER BY oi.model_id", P_INT(order_id));
	if (!r)
		return false;
	while (db_next(r) && o->n < ORDER_MAX_ITEMS) {
		struct item *it = &o->items[o->n++];
		it->model_id = db_int(r, 0);
		it->creator_id = db_int(r, 1);
		it->price_cents = db_int(r, 2);
		it->fee_cents = db_int(r, 3);
		it->title = xstrdup(db_text(r, 4));
	}
	failed = db_failed(r);
	db_done(r);
	return !failed;
}

static void money(strbuf_t *sb, int64_t cents)
{
	sb_addf(sb, "%lld.%02lld", (long long)(cents / 100), (long long)(cents % 100));
}

/* The buyer's receipt, with a link per model (valid for the link TTL) and
 * the model's page, where a fresh one is always at hand. */
/* The receipt from its template (mail_tpl.h): the items as text lines,
 * the links in them made links in the HTML part.  False when the template
 * cannot be used (the caller sends the built-in receipt). */
static bool queue_receipt_template(db_t *db, const struct order *o, const char *txn, int64_t expires)
{
	strbuf_t items, total;
	sb_init(&items, 0);
	sb_init(&total, 0);
	for (int i = 0; i < o->n; i++) {
		const struct item *it = &o->items[i];
		char *url = download_url(it->model_id, o->buyer_id, expires);
		sb_addf(&items, "%s- %s: %s ", i ? "\n" : "", it->title, o->currency);
		money(&items, it->price_cents);
		sb_addf(&items, "\n  Download (this link works for %lld minutes): %s\n  Any time later, from the model's page: %s/model/%lld",
			(long long)(cfg.download_link_ttl_s / 60), url, cfg.frontend_url, (long long)it->model_id);
		free(url);
	}
	sb_addf(&total, "%s ", o->currency);
	money(&total, o->amount_cents);
	char *link = xasprintf("%s/dashboard/financials", cfg.frontend_url);
	mail_var_t vars[] = { { "name", o->name }, { "transaction", txn }, { "items", items.buf }, { "total", total.buf },
			      { "link", link } };
	bool ok = !items.overflow && mail_tpl_send(db, "purchase_receipt", NULL, o->email, vars, ARRAY_LEN(vars), 0);
	free(link);
	sb_release(&items);
	sb_release(&total);
	return ok;
}

static bool queue_receipt(db_t *db, const struct order *o)
{
	char txn[32];
	order_transaction_id(o->id, o->created_at, txn);
	int64_t expires = now_ms() / 1000 + cfg.download_link_ttl_s;
	if (queue_receipt_template(db, o, txn, expires))
		return true;
	strbuf_t text, html;
	sb_init(&text, 0);
	sb_init(&html, 0);
	sb_addf(&text, "Hi %s,\n\nThank you for your purchase on HWC3D.\n\nTransaction: %s\n\n", o->name, txn);
	sb_adds(&html, "<!doctype html><html><body style=\"font-family:sans-serif\"><p>Hi ");
	html_escape(&html, o->name);
	sb_addf(&html, ",</p><p>Thank you for your purchase on HWC3D.</p><p>Transaction: %s</p><ul>", txn);
	for (int i = 0; i < o->n; i++) {
		const struct item *it = &o->items[i];
		char *url = download_url(it->model_id, o->buyer_id, expires);
		char *page = xasprintf("%s/model/%lld", cfg.frontend_url, (long long)it->model_id);
		sb_addf(&text, "- %s: %s ", it->title, o->currency);
		money(&text, it->price_cents);
		sb_addf(&text, "\n  Download (this link works for %lld minutes): %s\n  Any time later, from the model's page: %s\n",
			(long long)(cfg.download_link_ttl_s / 60), url, page);
		sb_adds(&html, "<li>");
		html_escape(&html, it->title);
		sb_addf(&html, " (%s ", o->currency);
		money(&html, it->price_cents);
		sb_adds(&html, "): <a href=\"");
		html_escape(&html, url);
		sb_addf(&html, "\">download</a> (for %lld minutes), later from <a href=\"", (long long)(cfg.download_link_ttl_s / 60));
		html_escape(&html, page);
		sb_adds(&html, "\">its page</a></li>");
		free(url);
		free(page);
	}
	sb_addf(&text, "\nTotal: %s ", o->currency);
	money(&text, o->amount_cents);
	sb_adds(&text, "\n\n— HWC3D\n");
	sb_addf(&html, "</ul><p>Total: %s ", o->currency);
	money(&html, o->amount_cents);
	sb_adds(&html, "</p><p>— HWC3D</p></body></html>");
	char *subject = xasprintf("Your HWC3D purchase %s", txn);
	bool ok = !text.overflow && !html.overflow && mail_queue(db, "purchase_receipt", o->email, subject, text.buf, html.buf);
	free(subject);
	sb_release(&text);
	sb_release(&html);
	return ok;
}

/* The purchases, the books and the counters of a paid order; in the
 * caller's transaction. */
static bool fulfil(db_t *db, const struct order *o, int64_t now)
{
	for (int i = 0; i < o->n; i++) {
		const struct item *it = &o->items[i];
		int64_t pid = 0;
		if (DBS(db, &pid,
			"INSERT INTO purchases (buyer_id, model_id, order_id, creator_id, price_cents, fee_cents, created_at)"
			" VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
			P_INT(o->buyer_id), P_INT(it->model_id), P_INT(o->id), P_INT(it->creator_id),
			P_INT(it->price_cents), P_INT(it->fee_cents), P_INT(now)) != 1)
			return false;
		char *msg = xasprintf("Someone bought \"%s\"", it->title);
		char *url = xasprintf("/model/%lld", (long long)it->model_id);
		bool ok = DBX(db, "INSERT INTO earnings (creator_id, kind, amount_cents, purchase_id, created_at)"
				  " VALUES ($1, 'sale', $2, $3, $4)",
			      P_INT(it->creator_id), P_INT(it->price_cents - it->fee_cents), P_INT(pid), P_INT(now)) == 1 &&
			  DBX(db, "UPDATE models SET sales_count = sales_count + 1 WHERE id = $1", P_INT(it->model_id)) == 1 &&
			  rollup_sale(db, it->model_id, it->creator_id, it->price_cents, it->fee_cents, now) &&
			  DBX(db, "DELETE FROM cart_items WHERE user_id = $1 AND model_id = $2",
			      P_INT(o->buyer_id), P_INT(it->model_id)) >= 0 &&
			  notify(db, it->creator_id, "model_purchased", "New sale", msg, url);
		free(msg);
		free(url);
		if (!ok)
			return false;
	}
	if (!rollup_sale_creators(db, o->id, now)) /* after every model's rows: rollup.h, lock order */
		return false;
	audit_log_as(db, NULL, o->buyer_id, "order.paid", "order", o->id,
		     json_pack("{s:I, s:I, s:i}", "amount_cents", (json_int_t)o->amount_cents, "fee_cents",
			       (json_int_t)o->fee_cents, "items", o->n));
	return queue_receipt(db, o);
}

enum settle_result orders_settle(db_t *db, int64_t order_id, const pay_charge_t *c)
{
	if (c->status == PAY_UNREACHABLE)
		return SETTLE_PENDING;
	bool paid = c->status == PAY_SUCCEEDED;
	struct order *o = xcalloc(1, sizeof(*o));
	if (paid && !order_load(db, order_id, o)) {
		order_free(o);
		free(o);
		return SETTLE_DB_ERROR;
	}
	int64_t now = now_ms();
	enum settle_result res = SETTLE_DB_ERROR;
	if (!db_begin(db))
		goto out;
	int64_t n = DBX(db, "UPDATE orders SET status = $2, provider_ref = $3, payment_token = NULL, error_code = $4,"
			    " error_detail = $5, updated_at = $6 WHERE id = $1 AND status = 'pending'",
			P_INT(order_id), P_TEXT(paid ? "fulfilled" : "failed"), P_TEXT(c->ref[0] ? c->ref : NULL),
			P_TEXT(paid ? NULL : "PAYMENT_FAILED"),
			P_TEXT(paid ? NULL : (c->message[0] ? c->message : "The payment was declined.")), P_INT(now));
	if (n == 0) {
		db_rollback(db);
		res = SETTLE_ALREADY;
		goto out;
	}
	if (n != 1 || (paid && !fulfil(db, o, now)) ||
	    DBX(db, "DELETE FROM order_locks WHERE order_id = $1", P_INT(order_id)) < 0) {
		db_rollback(db);
		goto out;
	}
	if (!db_commit(db)) {
		db_rollback(db);
		goto out;
	}
	res = SETTLE_DONE;
	/* No cache_invalidate: a sale changes only counters (sales_count), and
	 * dropping every cached list and id window on each sale would make
	 * the busiest hours the slowest.  Anonymous answers show a new count
	 * within CACHE_TTL_MS, as they do views and downloads. */
	if (paid)
		mail_wake();
out:
	if (res == SETTLE_DONE) /* the sale notifications' pushes, after the commit */
		notify_flush();
	else
		notify_discard();
	order_free(o);
	free(o);
	return res;
}

enum settle_result orders_refund(db_t *db, int64_t order_id)
{
	int64_t now = now_ms();
	if (!db_begin(db))
		return SETTLE_DB_ERROR;
	int64_t n = DBX(db, "UPDATE orders SET status = 'refunded', updated_at = $2 WHERE id = $1 AND status = 'fulfilled'",
			P_INT(order_id), P_INT(now));
	if (n == 0) {
		db_rollback(db);
		return SETTLE_ALREADY;
	}
	bool ok = n == 1 &&
		  DBX(db, "INSERT INTO earnings (creator_id, kind, amount_cents, purchase_id, created_at)"
			  " SELECT creator_id, 'refund', fee_cents - price_cents, id, $2 FROM purchases"
			  " WHERE order_id = $1 AND refunded_at IS NULL", P_INT(order_id), P_INT(now)) >= 0 &&
		  DBX(db, "UPDATE models SET sales_count = sales_count - 1 WHERE sales_count > 0 AND id IN"
			  " (SELECT model_id FROM purchases WHERE order_id = $1 AND refunded_at IS NULL)", P_INT(order_id)) >= 0 &&
		  rollup_refund(db, order_id, now) && /* after the models' rows, before the purchases are marked */
		  DBX(db, "UPDATE purchases SET refunded_at = $2 WHERE order_id = $1 AND refunded_at IS NULL",
		      P_INT(order_id), P_INT(now)) >= 0;
	if (!ok || !db_commit(db)) {
		db_rollback(db);
		return SETTLE_DB_ERROR;
	}
	return SETTLE_DONE; /* counters only: no cache_invalidate (see orders_settle) */
}

int64_t orders_by_ref(db_t *db, const char *provider, const char *provider_ref)
{
	int64_t id = 0;
	if (DBS(db, &id, "SELECT id FROM orders WHERE provider = $1 AND provider_ref = $2", P_TEXT(provider),
		P_TEXT(provider_ref)) != 1)
		return 0;
	return id;
}

/* --------------------------------------------------------- reconciling */

struct pending {
	int64_t id, amount_cents;
	pay_provider_t provider;
	char currency[8];
	char *token;
	char txn[32];
};

int orders_reconcile(db_t *db, int64_t min_age_ms)
{
	enum { BATCH = 64 };
	struct pending p[BATCH];
	int n = 0;
	db_rows_t *r = DBQ(db, "SELECT id, provider, payment_token, amount_cents, currency, created_at FROM orders"
			       " WHERE status = 'pending' AND updated_at <= $1 ORDER BY id LIMIT 64",
			   P_INT(now_ms() - min_age_ms));
	if (!r)
		return -1;
	while (db_next(r) && n < BATCH) {
		p[n].id = db_int(r, 0);
		p[n].provider = pay_provider_named(db_text(r, 1));
		p[n].token = db_text(r, 2) ? xstrdup(db_text(r, 2)) : NULL;
		p[n].amount_cents = db_int(r, 3);
		snprintf(p[n].currency, sizeof(p[n].currency), "%s", db_text(r, 4));
		order_transaction_id(p[n].id, db_int(r, 5), p[n].txn);
		n++;
	}
	bool failed = db_failed(r);
	db_done(r);
	int settled = 0;
	for (int i = 0; i < n; i++) {
		char key[48], desc[64];
		pay_idempotency_key(p[i].id, key);
		snprintf(desc, sizeof(desc), "HWC3D %s", p[i].txn);
		pay_charge_t c = { .idempotency_key = key, .amount_cents = p[i].amount_cents, .currency = p[i].currency,
				   .token = p[i].token, .description = desc };
		pay_charge(p[i].provider, &c);
		enum settle_result s = orders_settle(db, p[i].id, &c);
		if (s == SETTLE_DONE) {
			settled++;
			log_info("orders: reconciled order %lld: %s", (long long)p[i].id,
				 c.status == PAY_SUCCEEDED ? "fulfilled" : "failed");
		} else if (s == SETTLE_PENDING) {
			log_warn("orders: order %lld: the provider did not answer; still pending", (long long)p[i].id);
		}
		free(p[i].token);
	}
	return failed ? -1 : settled;
}

static ticker_t *ticker;
static int64_t reconcile_after_ms = 60000;

static void reconcile_tick(db_t *db, ticker_t *t, void *arg)
{
	UNUSED(arg);
	if (db)
		while (orders_reconcile(db, reconcile_after_ms) > 0 && !ticker_stopping(t))
			; /* another batch */
}

#define RECONCILE_EVERY_S 15

void orders_reconciler_start(void)
{
	const char *v = config_get("ORDER_RECONCILE_AFTER_S");
	int64_t s;
	if (v && *v && parse_i64_range(v, 0, 86400, &s))
		reconcile_after_ms = s * 1000;
	/* At start, then every 15 s, or as often as the age asked for (at
	 * least every second). */
	int every_s = reconcile_after_ms / 1000 < RECONCILE_EVERY_S ? (int)MAX(1, reconcile_after_ms / 1000)
								     : RECONCILE_EVERY_S;
	ticker = ticker_start("order reconciler", 0, every_s, reconcile_tick, NULL);
}

void orders_reconciler_stop(void)
{
	ticker_stop(ticker);
	ticker = NULL;
}
