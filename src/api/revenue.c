/*
 * revenue.c: creator money.  What a creator sold and earned, where they are
 * paid, their payout requests; and the admin's side: the platform's
 * totals, the orders, the payout queue, refunds.
 *
 * The books are the earnings ledger (migration 0011): one row per money
 * movement (sale +net, refund -net, payout -amount), never updated; a
 * balance is its sum.  A creator's available balance is that sum minus
 * the open payout requests; it may be negative (a refund after a payout),
 * and a payout request needs at least PAYOUT_MINIMUM of it.
 *
 * Exactly once, by the database:
 *   - one open request per creator: the partial unique index
 *     payout_requests_open_idx (0012) refuses a second, whatever two
 *     racing requests read before their insert;
 *   - an approval is an UPDATE guarded by status = 'requested' that must
 *     change one row, and its ledger row is written in the same
 *     transaction (earnings_payout_idx refuses a second);
 *   - a refund goes through the provider with the order's own refund key
 *     (a repeat is the same refund), then orders_refund(), guarded by
 *     status = 'fulfilled'.
 *
 * Payout methods keep what an operator needs to pay (migration 0012); no
 * answer ever carries an account number or IBAN: only its last four
 * characters, and the PayPal address masked.
 */
#include <ctype.h>
#include <stdio.h>
#include <time.h>
#include "api.h"
#include "models_common.h"
#include "paged.h"
#include "../auth/identity.h"
#include "../core/config.h"
#include "../core/log.h"
#include "../core/util.h"
#include "../http/pool.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "../svc/audit.h"
#include "../svc/orders.h"
#include "../svc/payments.h"
#include "../svc/settings.h"

#define DAY_MS 86400000LL
#define DAYS_MAX 365
#define DAYS_DEFAULT 30
/* The largest payout one request may ask for: $1,000,000.00. */
#define PAYOUT_MAX_CENTS 100000000LL
#define MASK "\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2" /* "••••" */
#define FINANCIALS_URL "/dashboard/financials"

static const char *const method_kinds[] = { "paypal", "bank", NULL };

static json_t *money(int64_t cents)
{
	return json_real((double)cents / 100.0);
}

/* "$12.34" (or "-$12.34") for messages. */
/* The smallest payout a creator may ask for now (svc/settings.h). */
static int64_t payout_minimum(req_t *req)
{
	platform_settings_t s;
	settings_get(req->db, &s);
	return s.payout_minimum_cents > 0 ? s.payout_minimum_cents : 1;
}

static const char *money_text(req_t *req, int64_t cents)
{
	uint64_t a = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;
	return arena_printf(req->arena, "%s$%llu.%02llu", cents < 0 ? "-" : "", (unsigned long long)(a / 100),
			    (unsigned long long)(a % 100));
}

/* "2026-03-01" for a day counted from the epoch. */
static json_t *day_json(int64_t day)
{
	time_t t = (time_t)(day * 86400);
	struct tm tm;
	gmtime_r(&t, &tm);
	char buf[48];
	snprintf(buf, sizeof(buf), "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	return json_string(buf);
}

/* ?days=1..365 (default 30): the window starts at 00:00 UTC of the first
 * of those days, today being the last. */
static int64_t q_days(valid_t *v, int64_t *from_day)
{
	int64_t days = q_int(v, "days", 1, DAYS_MAX, DAYS_DEFAULT);
	*from_day = now_ms() / DAY_MS - (days - 1);
	return days;
}

/* ============================================================ masking */

/* "j•••@example.com": enough to recognise one's own address. */
static const char *mask_email(req_t *req, const char *email)
{
	const char *at = email ? strrchr(email, '@') : NULL;
	if (!at || at == email)
		return MASK;
	return arena_printf(req->arena, "%c" "\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2" "%s", email[0], at);
}

/* The masked method as answers show it: {type, label, ...} with no full
 * address or number.  Columns as METHOD_COLUMNS. */
#define METHOD_COLUMNS(FIRST, NEXT)                                                                \
	FIRST(PM_ID, "pm.id") NEXT(PM_KIND, "pm.kind") NEXT(PM_EMAIL, "pm.paypal_email")             \
	NEXT(PM_HOLDER, "pm.account_holder") NEXT(PM_IBAN, "pm.iban") NEXT(PM_ACCOUNT, "pm.account_number") \
	NEXT(PM_ROUTING, "pm.routing_number") NEXT(PM_BIC, "pm.bic") NEXT(PM_COUNTRY, "pm.country")   \
	NEXT(PM_LAST4, "pm.account_last4") NEXT(PM_CREATED, "pm.created_at") NEXT(PM_UPDATED, "pm.updated_at")
#define METHOD_COLS METHOD_COLUMNS(DB_COL_SQL, DB_COL_SQL_NEXT)
enum method_col { METHOD_COLUMNS(DB_COL_ENUM, DB_COL_ENUM) PM_COUNT };

/* What a method is, copied for a payout request (full: for the operator)
 * and shown (masked). */
struct method {
	const char *kind, *email, *holder, *iban, *account, *routing, *bic, *country, *last4;
};

static const char *col_text(req_t *req, db_rows_t *r, int col)
{
	return db_isnull(r, col) ? NULL : arena_strdup(req->arena, db_text(r, col));
}

static void method_read(req_t *req, db_rows_t *r, struct method *m)
{
	*m = (struct method){
		.kind = col_text(req, r, PM_KIND), .email = col_text(req, r, PM_EMAIL),
		.holder = col_text(req, r, PM_HOLDER), .iban = col_text(req, r, PM_IBAN),
		.account = col_text(req, r, PM_ACCOUNT), .routing = col_text(req, r, PM_ROUTING),
		.bic = col_text(req, r, PM_BIC), .country = col_text(req, r, PM_COUNTRY),
		.last4 = col_text(req, r, PM_LAST4),
	};
}

static bool is_paypal(const struct method *m)
{
	return m->kind && !strcmp(m->kind, "paypal");
}

/* "PayPal j•••@example.com", "Bank account ••••1234 (GB)". */
static const char *method_label(req_t *req, const struct method *m)
{
	if (is_paypal(m))
		return arena_printf(req->arena, "PayPal %s", mask_email(req, m->email));
	return arena_printf(req->arena, "Bank account " MASK "%s (%s)", m->last4 ? m->last4 : "",
			    m->country ? m->country : "?");
}

/* The masked document of a method. */
static json_t *method_json(req_t *req, const struct method *m, int64_t id, int64_t created, int64_t updated)
{
	json_t *o = json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id, "type", m->kind, "label", method_label(req, m));
	if (is_paypal(m)) {
		json_object_set_new(o, "email", json_string(mask_email(req, m->email)));
	} else {
		json_object_set_new(o, "account_holder", json_string(m->holder ? m->holder : ""));
		json_object_set_new(o, "account_type", json_string(m->iban ? "iban" : "account_number"));
		json_object_set_new(o, "account_number", json_string(arena_printf(req->arena, MASK "%s",
										  m->last4 ? m->last4 : "")));
		json_object_set_new(o, "routing_number", m->routing ? json_string(m->routing) : json_null());
		json_object_set_new(o, "bic", m->bic ? json_string(m->bic) : json_null());
		json_object_set_new(o, "country", json_string(m->country ? m->country : ""));
	}
	json_object_set_new(o, "created_at", json_time(created));
	json_object_set_new(o, "updated_at", json_time(updated));
	return o;
}

/* The full copy kept with a payout request, for whoever sends the money;
 * never answered. */
static const char *method_details(req_t *req, const struct method *m)
{
	json_t *o = is_paypal(m)
		? json_pack("{s:s, s:s}", "type", "paypal", "email", m->email ? m->email : "")
		: json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?}", "type", "bank", "account_holder", m->holder,
			    "iban", m->iban, "account_number", m->account, "routing_number", m->routing, "bic", m->bic,
			    "country", m->country);
	const char *s = arena_json_dumps(req->arena, o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

/* ========================================================= validation */

/* s without spaces and hyphens, upper case when asked; an arena copy. */
static char *compact(req_t *req, const char *s, bool upper)
{
	char *out = arena_strdup(req->arena, s), *w = out;
	for (const char *p = s; *p; p++)
		if (*p != ' ' && *p != '-')
			*w++ = upper ? (char)toupper((unsigned char)*p) : *p;
	*w = '\0';
	return out;
}

static bool all_digits(const char *s, size_t lo, size_t hi)
{
	size_t n = strlen(s);
	if (n < lo || n > hi)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static bool all_alnum(const char *s)
{
	for (; *s; s++)
		if (!isdigit((unsigned char)*s) && !isupper((unsigned char)*s))
			return false;
	return true;
}

/* An IBAN (upper case, compact): country, check digits, 11-30 more
 * letters and digits, and the ISO 13616 check: mod 97 of the rearranged
 * number is 1. */
static bool iban_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 15 || n > 34 || !isupper((unsigned char)s[0]) || !isupper((unsigned char)s[1]) ||
	    !isdigit((unsigned char)s[2]) || !isdigit((unsigned char)s[3]) || !all_alnum(s))
		return false;
	unsigned rem = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[(i + 4) % n];
		rem = isdigit(c) ? (rem * 10 + (unsigned)(c - '0')) % 97 : (rem * 100 + (unsigned)(c - 'A' + 10)) % 97;
	}
	return rem == 1;
}

/* An ABA routing number: 9 digits whose weighted sum (3, 7, 1) is a
 * multiple of 10. */
static bool aba_ok(const char *s)
{
	if (!all_digits(s, 9, 9))
		return false;
	static const int w[3] = { 3, 7, 1 };
	int sum = 0;
	for (int i = 0; i < 9; i++)
		sum += w[i % 3] * (s[i] - '0');
	return sum % 10 == 0;
}

/* SWIFT/BIC: bank (4 letters), country (2 letters), place (2), branch (3)? */
static bool bic_ok(const char *s)
{
	size_t n = strlen(s);
	if ((n != 8 && n != 11) || !all_alnum(s))
		return false;
	for (int i = 0; i < 6; i++)
		if (!isupper((unsigned char)s[i]))
			return false;
	return true;
}

/* The method of a POST body, checked (every error into v). */
static void method_from_body(valid_t *v, req_t *req, struct method *m)
{
	memset(m, 0, sizeof(*m));
	m->kind = v_enum(v, "type", V_REQUIRED, method_kinds, NULL);
	if (!m->kind)
		return;
	if (is_paypal(m)) {
		const char *email = v_str(v, "email", V_REQUIRED, 3, EMAIL_MAX);
		if (email && !email_valid(email))
			v_error(v, "email", "Must be the email address of a PayPal account");
		else if (email)
			m->email = utf8_lower(req->arena, email);
		return;
	}
	m->holder = v_str(v, "account_holder", V_REQUIRED, 2, 100);
	const char *country = v_str(v, "country", V_NULLABLE, 2, 2);
	const char *iban = v_str(v, "iban", V_NULLABLE, 1, 50);
	const char *account = v_str(v, "account_number", V_NULLABLE, 1, 40);
	const char *routing = v_str(v, "routing_number", V_NULLABLE, 1, 20);
	const char *bic = v_str(v, "bic", V_NULLABLE, 1, 20);
	if (country) {
		m->country = compact(req, country, true);
		if (!isupper((unsigned char)m->country[0]) || !isupper((unsigned char)m->country[1]) || m->country[2]) {
			v_error(v, "country", "Must be a two-letter ISO 3166 country code (GB, DE, US)");
			m->country = NULL;
		}
	}
	if (bic) {
		m->bic = compact(req, bic, true);
		if (!bic_ok(m->bic))
			v_error(v, "bic", "Must be a SWIFT/BIC code of 8 or 11 letters and digits");
	}
	if (iban && account) {
		v_error(v, "iban", "Give an IBAN or an account number with its routing number, not both");
		return;
	}
	if (iban) {
		m->iban = compact(req, iban, true);
		if (!iban_ok(m->iban)) {
			v_error(v, "iban", "Not a valid IBAN (its check digits do not match)");
			return;
		}
		if (m->country && strncmp(m->country, m->iban, 2))
			v_error(v, "country", "Must be the IBAN's country");
		else if (!m->country)
			m->country = arena_strndup(req->arena, m->iban, 2);
		if (routing)
			v_error(v, "routing_number", "Not used with an IBAN (the IBAN names the bank)");
		m->last4 = arena_strdup(req->arena, m->iban + strlen(m->iban) - 4);
		return;
	}
	if (!account) {
		v_error(v, "iban", "Give an IBAN, or an account_number with its routing_number");
		return;
	}
	m->account = compact(req, account, false);
	if (!all_digits(m->account, 4, 20))
		v_error(v, "account_number", "Must be an account number of 4 to 20 digits");
	else
		m->last4 = arena_strdup(req->arena, m->account + strlen(m->account) - 4);
	if (!m->country)
		v_error(v, "country", "Required with an account number");
	if (!routing) {
		v_error(v, "routing_number", "Required with an account number (the routing number or sort code)");
		return;
	}
	m->routing = compact(req, routing, true);
	if (m->country && !strcmp(m->country, "US")) {
		if (!aba_ok(m->routing))
			v_error(v, "routing_number", "Must be a 9-digit ABA routing number");
	} else if (m->country && !strcmp(m->country, "GB")) {
		if (!all_digits(m->routing, 6, 6))
			v_error(v, "routing_number", "Must be a 6-digit sort code");
	} else if (strlen(m->routing) < 3 || strlen(m->routing) > 11 || !all_alnum(m->routing)) {
		v_error(v, "routing_number", "Must be 3 to 11 letters and digits");
	}
}

/* ===================================================== creator: lists */

#define SALE_COLUMNS(FIRST, NEXT)                                                                  \
	FIRST(S_ID, "p.id") NEXT(S_MODEL, "p.model_id") NEXT(S_TITLE, "m.title")                     \
	NEXT(S_THUMB, "m.thumbnail_url") NEXT(S_PRICE, "p.price_cents") NEXT(S_FEE, "p.fee_cents")    \
	NEXT(S_BUYER, "p.buyer_id") NEXT(S_BUYER_NAME, "b.username") NEXT(S_ORDER, "p.order_id")       \
	NEXT(S_ORDER_AT, "o.created_at") NEXT(S_CREATED, "p.created_at") NEXT(S_REFUNDED, "p.refunded_at")

static json_t *sale_row(db_rows_t *r)
{
	enum { SALE_COLUMNS(DB_COL_ENUM, DB_COL_ENUM) };
	char txn[32];
	order_transaction_id(db_int(r, S_ORDER), db_int(r, S_ORDER_AT), txn);
	int64_t price = db_int(r, S_PRICE), fee = db_int(r, S_FEE);
	bool refunded = !db_isnull(r, S_REFUNDED);
	json_t *o = json_pack("{s:I, s:{s:I, s:s, s:s?}, s:o, s:o, s:o, s:s, s:{s:I, s:s?}, s:s, s:I, s:s, s:o, s:o}",
			      "id", (json_int_t)db_int(r, S_ID),
			      "model", "id", (json_int_t)db_int(r, S_MODEL), "title", db_text(r, S_TITLE),
			      "thumbnail_url", db_text(r, S_THUMB),
			      "price", money(price), "platform_fee", money(fee), "net_amount", money(price - fee),
			      "currency", "USD",
			      "buyer", "id", (json_int_t)db_int(r, S_BUYER), "username", db_text(r, S_BUYER_NAME),
			      "transaction_id", txn, "order_id", (json_int_t)db_int(r, S_ORDER),
			      "status", refunded ? "refunded" : "completed",
			      "created_at", json_time(db_int(r, S_CREATED)),
			      "refunded_at", refunded ? json_time(db_int(r, S_REFUNDED)) : json_null());
	return o;
}

/* GET /api/users/me/sales: the purchases of the caller's models. */
static int my_sales(req_t *req)
{
	valid_t v;
	page_t p;
	paged_begin(&v, req, &p);
	static const char *const statuses[] = { "completed", "refunded", "all", NULL };
	const char *status = q_enum(&v, "status", statuses, "all");
	if (!v_ok(&v))
		return v_reply(&v);
#define SALES_WHERE " WHERE p.creator_id = $1 AND (CAST($2 AS TEXT) = 'all'" \
	" OR (CAST($2 AS TEXT) = 'completed' AND p.refunded_at IS NULL)"     \
	" OR (CAST($2 AS TEXT) = 'refunded' AND p.refunded_at IS NOT NULL))"
	db_param_t params[] = { P_INT(req->user->id), P_TEXT(status) };
	paged_t q = {
		.what = "list sales",
		.count_sql = "SELECT COUNT(*) FROM purchases p" SALES_WHERE,
		.rows_sql = "SELECT " SALE_COLUMNS(DB_COL_SQL, DB_COL_SQL_NEXT)
			    " FROM purchases p JOIN models m ON m.id = p.model_id JOIN users b ON b.id = p.buyer_id"
			    " JOIN orders o ON o.id = p.order_id" SALES_WHERE " ORDER BY p.created_at DESC, p.id DESC",
		.params = params, .nparams = 2,
		.row = sale_row,
	};
#undef SALES_WHERE
	return paged_reply(req, &p, &q);
}

#define LEDGER_COLUMNS(FIRST, NEXT)                                                                \
	FIRST(L_ID, "e.id") NEXT(L_KIND, "e.kind") NEXT(L_AMOUNT, "e.amount_cents")                    \
	NEXT(L_CREATED, "e.created_at") NEXT(L_PURCHASE, "e.purchase_id") NEXT(L_ORDER, "p.order_id")  \
	NEXT(L_ORDER_AT, "o.created_at") NEXT(L_MODEL, "p.model_id") NEXT(L_TITLE, "m.title")          \
	NEXT(L_PAYOUT, "e.payout_id") NEXT(L_PAYOUT_LABEL, "pr.method_label")

static json_t *ledger_row(db_rows_t *r)
{
	enum { LEDGER_COLUMNS(DB_COL_ENUM, DB_COL_ENUM) };
	const char *kind = db_text(r, L_KIND);
	json_t *o = json_pack("{s:I, s:s, s:o, s:s, s:o}", "id", (json_int_t)db_int(r, L_ID), "kind", kind,
			      "amount", money(db_int(r, L_AMOUNT)), "currency", "USD",
			      "created_at", json_time(db_int(r, L_CREATED)));
	char ref[48] = "";
	const char *title = db_text(r, L_TITLE);
	if (!db_isnull(r, L_ORDER)) {
		order_transaction_id(db_int(r, L_ORDER), db_int(r, L_ORDER_AT), ref);
		json_object_set_new(o, "transaction_id", json_string(ref));
		json_object_set_new(o, "model", json_pack("{s:I, s:s?}", "id", (json_int_t)db_int(r, L_MODEL), "title", title));
		json_object_set_new(o, "description", json_string(!strcmp(kind, "refund") ? "Refund of a sale" : "Sale"));
	} else {
		json_object_set_new(o, "transaction_id", json_null());
		json_object_set_new(o, "model", json_null());
	}
	if (!db_isnull(r, L_PAYOUT)) {
		snprintf(ref, sizeof(ref), "PAYOUT-%06lld", (long long)db_int(r, L_PAYOUT));
		json_object_set_new(o, "payout_id", json_integer(db_int(r, L_PAYOUT)));
		const char *label = db_text(r, L_PAYOUT_LABEL);
		json_object_set_new(o, "description", json_string(label ? label : "Payout"));
	} else {
		json_object_set_new(o, "payout_id", json_null());
	}
	json_object_set_new(o, "reference", ref[0] ? json_string(ref) : json_null());
	if (!json_object_get(o, "description"))
		json_object_set_new(o, "description", json_string(kind));
	return o;
}

/* GET /api/users/me/transactions: the caller's ledger, newest first. */
static int my_transactions(req_t *req)
{
	valid_t v;
	page_t p;
	paged_begin(&v, req, &p);
	static const char *const kinds[] = { "sale", "refund", "payout", "all", NULL };
	const char *kind = q_enum(&v, "kind", kinds, "all");
	if (!v_ok(&v))
		return v_reply(&v);
#define LEDGER_WHERE " WHERE e.creator_id = $1 AND (CAST($2 AS TEXT) = 'all' OR e.kind = $2)"
	db_param_t params[] = { P_INT(req->user->id), P_TEXT(kind) };
	paged_t q = {
		.what = "list transactions",
		.count_sql = "SELECT COUNT(*) FROM earnings e" LEDGER_WHERE,
		.rows_sql = "SELECT " LEDGER_COLUMNS(DB_COL_SQL, DB_COL_SQL_NEXT)
			    " FROM earnings e LEFT JOIN purchases p ON p.id = e.purchase_id LEFT JOIN orders o ON o.id = p.order_id"
			    " LEFT JOIN models m ON m.id = p.model_id LEFT JOIN payout_requests pr ON pr.id = e.payout_id"
			    LEDGER_WHERE " ORDER BY e.created_at DESC, e.id DESC",
		.params = params, .nparams = 2,
		.row = ledger_row,
	};
#undef LEDGER_WHERE
	return paged_reply(req, &p, &q);
}

/* ===================================================== creator: totals */

/* Sums of ledger rows by kind: the amount (signed), the gross and fee of
 * the sales behind them, and how many. */
struct sums {
	int64_t amount, gross, fee, count;
};
enum { K_SALE, K_REFUND, K_PAYOUT, K_COUNT };

static int kind_index(const char *kind)
{
	return !strcmp(kind, "sale") ? K_SALE : !strcmp(kind, "refund") ? K_REFUND : !strcmp(kind, "payout") ? K_PAYOUT : -1;
}

static json_t *sums_json(const struct sums s[K_COUNT])
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:I, s:I}", "gross_sales", money(s[K_SALE].gross),
			 "platform_fees", money(s[K_SALE].fee), "net_earnings", money(s[K_SALE].amount),
			 "refunds", money(-s[K_REFUND].amount), "paid_out", money(-s[K_PAYOUT].amount),
			 "sales_count", (json_int_t)s[K_SALE].count, "refunds_count", (json_int_t)s[K_REFUND].count);
}

#define SUM_SQL(x) "CAST(COALESCE(SUM(" x "), 0) AS BIGINT)"

/* The caller's balance: the ledger sum, the open requests, both read in
 * one statement (one snapshot), and whether one is open.  In the caller's
 * transaction when there is one. */
static bool read_balance(db_t *db, int64_t user_id, int64_t *ledger, int64_t *pending, bool *open)
{
	db_rows_t *r = DBQ(db, "SELECT (SELECT " SUM_SQL("amount_cents") " FROM earnings WHERE creator_id = $1),"
			       " (SELECT " SUM_SQL("amount_cents") " FROM payout_requests WHERE creator_id = $1"
			       " AND status IN ('requested', 'approved')),"
			       " (SELECT COUNT(*) FROM payout_requests WHERE creator_id = $1 AND status = 'requested')",
			   P_INT(user_id));
	if (!r)
		return false;
	bool ok = db_next(r);
	if (ok) {
		*ledger = db_int(r, 0);
		*pending = db_int(r, 1);
		*open = db_int(r, 2) > 0;
	}
	ok = ok && !db_failed(r);
	db_done(r);
	return ok;
}

/* GET /api/users/me/revenue?days= */
static int my_revenue(req_t *req)
{
	valid_t v;
	v_init(&v, req, NULL);
	int64_t from_day;
	int64_t days = q_days(&v, &from_day);
	if (!v_ok(&v))
		return v_reply(&v);
	int64_t uid = req->user->id, ledger = 0, pending = 0, has_method = 0;
	bool open = false;
	struct sums all[K_COUNT] = { 0 }, period[K_COUNT] = { 0 };
	struct sums(*daily)[K_COUNT] = arena_calloc(req->arena, (size_t)days * sizeof(*daily));
	if (!read_balance(req->db, uid, &ledger, &pending, &open) ||
	    DBS(req->db, &has_method, "SELECT COUNT(*) FROM payout_methods WHERE user_id = $1", P_INT(uid)) != 1)
		return reply_db_error(req, "read balance");
	/* Per kind and day: the all-time totals are the sums of every day. */
	db_rows_t *r = RQ(req, "SELECT e.kind, e.created_at / 86400000, " SUM_SQL("e.amount_cents") ", "
			       SUM_SQL("p.price_cents") ", " SUM_SQL("p.fee_cents") ", COUNT(*)"
			       " FROM earnings e LEFT JOIN purchases p ON p.id = e.purchase_id WHERE e.creator_id = $1"
			       " GROUP BY e.kind, e.created_at / 86400000", P_INT(uid));
	if (!r)
		return reply_db_error(req, "read revenue");
	while (db_next(r)) {
		int k = kind_index(db_text(r, 0));
		if (k < 0)
			continue;
		int64_t day = db_int(r, 1);
		struct sums s = { db_int(r, 2), db_int(r, 3), db_int(r, 4), db_int(r, 5) };
		struct sums *into[3] = { &all[k], day >= from_day ? &period[k] : NULL,
					 day >= from_day && day < from_day + days ? &daily[day - from_day][k] : NULL };
		for (int i = 0; i < 3; i++) {
			if (!into[i])
				continue;
			into[i]->amount += s.amount;
			into[i]->gross += s.gross;
			into[i]->fee += s.fee;
			into[i]->count += s.count;
		}
	}
	if (db_failed(r))
		return reply_db_error(req, "read revenue");
	int64_t available = ledger - pending;
	json_t *out = sums_json(all);
	json_object_set_new(out, "currency", json_string("USD"));
	json_object_set_new(out, "balance", money(ledger));
	json_object_set_new(out, "pending_payout", money(pending));
	json_object_set_new(out, "available_balance", money(available));
	int64_t minimum = payout_minimum(req);
	json_object_set_new(out, "payout_minimum", money(minimum));
	json_object_set_new(out, "has_payout_method", json_boolean(has_method > 0));
	json_object_set_new(out, "has_open_payout_request", json_boolean(open));
	json_object_set_new(out, "can_request_payout",
			    json_boolean(!open && has_method > 0 && available > 0 && available >= minimum));
	json_object_set_new(out, "days", json_integer(days));
	json_object_set_new(out, "from", day_json(from_day));
	json_object_set_new(out, "to", day_json(from_day + days - 1));
	json_object_set_new(out, "period", sums_json(period));
	json_t *series = json_array();
	for (int64_t i = 0; i < days; i++) {
		json_t *d = sums_json(daily[i]);
		json_object_set_new(d, "date", day_json(from_day + i));
		json_array_append_new(series, d);
	}
	json_object_set_new(out, "daily", series);
	return reply_ok(req, out);
}

/* ============================================== creator: payout methods */

static int reply_method(req_t *req, int status, int64_t user_id, const char *kind)
{
	db_rows_t *r = RQ(req, "SELECT " METHOD_COLS " FROM payout_methods pm WHERE pm.user_id = $1 AND pm.kind = $2",
			  P_INT(user_id), P_TEXT(kind));
	if (!r || !db_next(r))
		return reply_db_error(req, "read payout method");
	struct method m;
	method_read(req, r, &m);
	return reply_json(req, status, method_json(req, &m, db_int(r, PM_ID), db_int(r, PM_CREATED), db_int(r, PM_UPDATED)));
}

static json_t *methods_rows(req_t *req, db_rows_t *r, const void *ctx)
{
	UNUSED(ctx);
	json_t *items = json_array();
	while (db_next(r)) {
		struct method m;
		method_read(req, r, &m);
		json_array_append_new(items, method_json(req, &m, db_int(r, PM_ID), db_int(r, PM_CREATED),
							 db_int(r, PM_UPDATED)));
	}
	bool failed = db_failed(r);
	db_done(r);
	if (failed) {
		json_decref(items);
		return NULL;
	}
	return items;
}

/* GET /api/users/me/payout-methods: masked, the most recently set first
 * (the one a payout request uses unless it names another). */
static int my_payout_methods(req_t *req)
{
	valid_t v;
	page_t p;
	paged_begin(&v, req, &p);
	if (!v_ok(&v))
		return v_reply(&v);
	db_param_t params[] = { P_INT(req->user->id) };
	paged_t q = {
		.what = "list payout methods",
		.count_sql = "SELECT COUNT(*) FROM payout_methods pm WHERE pm.user_id = $1",
		.rows_sql = "SELECT " METHOD_COLS " FROM payout_methods pm WHERE pm.user_id = $1"
			    " ORDER BY pm.updated_at DESC, pm.id DESC",
		.params = params, .nparams = 1,
		.rows = methods_rows,
	};
	return paged_reply(req, &p, &q);
}

/* POST /api/users/me/payout-methods: sets the caller's method of that
 * type (201 when new, 200 when it replaced one). */
static int set_payout_method(req_t *req)
{
	valid_t v;
	v_init(&v, req, req_body(req));
	struct method m;
	method_from_body(&v, req, &m);
	if (!v_ok(&v))
		return v_reply(&v);
	int64_t now = now_ms(), uid = req->user->id;
	int64_t n = DBX(req->db, "UPDATE payout_methods SET paypal_email = $3, account_holder = $4, iban = $5,"
				 " account_number = $6, routing_number = $7, bic = $8, country = $9, account_last4 = $10,"
				 " updated_at = $11 WHERE user_id = $1 AND kind = $2",
			P_INT(uid), P_TEXT(m.kind), P_TEXT(m.email), P_TEXT(m.holder), P_TEXT(m.iban), P_TEXT(m.account),
			P_TEXT(m.routing), P_TEXT(m.bic), P_TEXT(m.country), P_TEXT(m.last4), P_INT(now));
	if (n < 0)
		return reply_db_error(req, "update payout method");
	if (n == 1)
		return reply_method(req, 200, uid, m.kind);
	n = DBX(req->db, "INSERT INTO payout_methods (user_id, kind, paypal_email, account_holder, iban, account_number,"
			 " routing_number, bic, country, account_last4, created_at, updated_at)"
			 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
		P_INT(uid), P_TEXT(m.kind), P_TEXT(m.email), P_TEXT(m.holder), P_TEXT(m.iban), P_TEXT(m.account),
		P_TEXT(m.routing), P_TEXT(m.bic), P_TEXT(m.country), P_TEXT(m.last4), P_INT(now));
	if (n != 1) {
		if (db_error(req->db) == DB_ERR_UNIQUE) /* set at the same moment by another request */
			return reply_error(req, ERR_CONFLICT, "This payout method was just set by another request; reload it");
		return reply_db_error(req, "create payout method");
	}
	return reply_method(req, 201, uid, m.kind);
}

/* ================================================ payout request documents */

#define PAYOUT_COLUMNS(FIRST, NEXT)                                                                \
	FIRST(R_ID, "r.id") NEXT(R_CREATOR, "r.creator_id") NEXT(R_CREATOR_NAME, "u.username")          \
	NEXT(R_AMOUNT, "r.amount_cents") NEXT(R_CURRENCY, "r.currency") NEXT(R_STATUS, "r.status")      \
	NEXT(R_KIND, "r.method_kind") NEXT(R_LABEL, "r.method_label") NEXT(R_NOTE, "r.note")           \
	NEXT(R_REASON, "r.reason") NEXT(R_CREATED, "r.created_at") NEXT(R_DECIDED, "r.decided_at")     \
	NEXT(R_DECIDED_BY, "r.decided_by")                                                             \
	NEXT(R_BALANCE, "(SELECT " SUM_SQL("e.amount_cents") " FROM earnings e WHERE e.creator_id = r.creator_id)")
#define PAYOUT_COLS PAYOUT_COLUMNS(DB_COL_SQL, DB_COL_SQL_NEXT)
enum payout_col { PAYOUT_COLUMNS(DB_COL_ENUM, DB_COL_ENUM) R_COUNT };
#define PAYOUT_FROM " FROM payout_requests r JOIN users u ON u.id = r.creator_id"

/* A payout request as its creator sees it; admin adds the creator, who
 * decided, and the creator's ledger balance now. */
static json_t *payout_json(db_rows_t *r, bool admin)
{
	json_t *o = json_pack("{s:I, s:o, s:s, s:s, s:{s:s, s:s}, s:s?, s:s?, s:o, s:o}",
			      "id", (json_int_t)db_int(r, R_ID), "amount", money(db_int(r, R_AMOUNT)),
			      "currency", db_text(r, R_CURRENCY), "status", db_text(r, R_STATUS),
			      "method", "type", db_text(r, R_KIND), "label", db_text(r, R_LABEL),
			      "note", db_text(r, R_NOTE), "reason", db_text(r, R_REASON),
			      "created_at", json_time(db_int(r, R_CREATED)),
			      "decided_at", db_isnull(r, R_DECIDED) ? json_null() : json_time(db_int(r, R_DECIDED)));
	if (admin) {
		json_object_set_new(o, "creator", json_pack("{s:I, s:s?}", "id", (json_int_t)db_int(r, R_CREATOR),
							    "username", db_text(r, R_CREATOR_NAME)));
		json_object_set_new(o, "decided_by", db_isnull(r, R_DECIDED_BY) ? json_null() : json_integer(db_int(r, R_DECIDED_BY)));
		json_object_set_new(o, "creator_balance", money(db_int(r, R_BALANCE)));
	}
	return o;
}

static json_t *payout_admin_row(db_rows_t *r)
{
	return payout_json(r, true);
}

static int reply_payout(req_t *req, int status, int64_t id, bool admin, json_t *extra)
{
	db_rows_t *r = RQ(req, "SELECT " PAYOUT_COLS PAYOUT_FROM " WHERE r.id = $1", P_INT(id));
	if (!r || !db_next(r)) {
		json_decref(extra);
		return reply_db_error(req, "read payout request");
	}
	json_t *o = payout_json(r, admin);
	if (extra)
		json_object_update(o, extra);
	json_decref(extra);
	return reply_json(req, status, o);
}

/* DELETE /api/users/me/payout-methods/{id}: the caller's own method only
 * (another user's id is 404, as a missing one).  Requests already made
 * keep the copy of the method they were made with. */
static int delete_payout_method(req_t *req)
{
	int64_t id = req_param_int(req, "id");
	int64_t n = DBX(req->db, "DELETE FROM payout_methods WHERE id = $1 AND user_id = $2", P_INT(id),
			P_INT(req->user->id));
	if (n < 0)
		return reply_db_error(req, "delete payout method");
	if (n == 0)
		return reply_error(req, ERR_NOT_FOUND, "Payout method not found");
	return reply_no_content(req);
}

static json_t *payout_own_row(db_rows_t *r)
{
	return payout_json(r, false);
}

/* GET /api/users/me/payout-requests: the caller's requests, newest first. */
static int my_payout_requests(req_t *req)
{
	valid_t v;
	page_t p;
	paged_begin(&v, req, &p);
	if (!v_ok(&v))
		return v_reply(&v);
	db_param_t params[] = { P_INT(req->user->id) };
	paged_t q = {
		.what = "list payout requests",
		.count_sql = "SELECT COUNT(*) FROM payout_requests r WHERE r.creator_id = $1",
		.rows_sql = "SELECT " PAYOUT_COLS PAYOUT_FROM " WHERE r.creator_id = $1 ORDER BY r.created_at DESC, r.id DESC",
		.params = params, .nparams = 1,
		.row = payout_own_row,
	};
	return paged_reply(req, &p, &q);
}

/* ================================================ creator: payout request */

/* POST /api/users/me/payout-request {amount?, method?, note?} */
static int payout_request(req_t *req)
{
	valid_t v;
	v_init(&v, req, req_body(req));
	bool given = v_present(&v, "amount") && !v_is_null(&v, "amount");
	int64_t amount = v_money(&v, "amount", V_NULLABLE, PAYOUT_MAX_CENTS, 0);
	const char *kind = v_enum(&v, "method", V_NULLABLE, method_kinds, NULL);
	const char *note = v_str(&v, "note", V_NULLABLE | V_MULTILINE, 0, 500);
	if (!v_ok(&v))
		return v_reply(&v);
	int64_t uid = req->user->id;

	/* The method it goes to: the one named, else the most recently set. */
	db_rows_t *r = RQ(req, "SELECT " METHOD_COLS " FROM payout_methods pm WHERE pm.user_id = $1"
			       " AND (CAST($2 AS TEXT) IS NULL OR pm.kind = $2) ORDER BY pm.updated_at DESC, pm.id DESC",
			  P_INT(uid), P_TEXT(kind));
	if (!r)
		return reply_db_error(req, "read payout method");
	if (!db_next(r)) {
		if (db_failed(r))
			return reply_db_error(req, "read payout method");
		return reply_invalid1(req, "method", kind ? arena_printf(req->arena, "You have no %s payout method: add one first", kind)
							  : "Add a payout method first (POST /api/users/me/payout-methods)");
	}
	struct method m;
	method_read(req, r, &m);
	const char *label = method_label(req, &m), *details = method_details(req, &m);
	req_rows_release(req); /* before the transaction */

	/* The check and the insert in one transaction; the unique index on
	 * open requests refuses what a racing twin slipped in meanwhile. */
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	int64_t ledger = 0, pending = 0;
	bool open = false;
	if (!read_balance(req->db, uid, &ledger, &pending, &open)) {
		db_rollback(req->db);
		return reply_db_error(req, "read balance");
	}
	int64_t available = ledger - pending;
	const char *err = NULL;
	if (open) {
		db_rollback(req->db);
		return reply_error(req, ERR_CONFLICT, "You already have a payout request waiting; wait for it to be decided");
	}
	int64_t minimum = payout_minimum(req);
	if (!given)
		amount = available;
	if (!given && available < minimum)
		err = arena_printf(req->arena, "Your available balance (%s) is below the payout minimum (%s)",
				   money_text(req, available), money_text(req, minimum));
	else if (amount > available)
		err = arena_printf(req->arena, "At most your available balance (%s)", money_text(req, available));
	else if (amount < minimum)
		err = arena_printf(req->arena, "At least the payout minimum (%s)", money_text(req, minimum));
	if (err) {
		db_rollback(req->db);
		return reply_invalid1(req, "amount", err);
	}
	int64_t id = 0;
	if (DBS(req->db, &id, "INSERT INTO payout_requests (creator_id, amount_cents, method_kind, method_label,"
			      " method_details, note, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
		P_INT(uid), P_INT(amount), P_TEXT(m.kind), P_TEXT(label), P_TEXT(details),
		P_TEXT(note && *note ? note : NULL), P_INT(now_ms())) != 1 ||
	    !db_commit(req->db)) {
		bool raced = db_error(req->db) == DB_ERR_UNIQUE;
		db_rollback(req->db);
		if (raced)
			return reply_error(req, ERR_CONFLICT, "You already have a payout request waiting; wait for it to be decided");
		return reply_db_error(req, "create payout request");
	}
	log_info("payout request %lld: user %lld asks %lld cents", (long long)id, (long long)uid, (long long)amount);
	return reply_payout(req, 201, id, false,
			    json_pack("{s:o}", "available_balance", money(available - amount)));
}

/* ========================================================= admin: stats */

/* GET /api/admin/revenue/stats?days= */
static int admin_revenue_stats(req_t *req)
{
	valid_t v;
	v_init(&v, req, NULL);
	int64_t from_day;
	int64_t days = q_days(&v, &from_day);
	if (!v_ok(&v))
		return v_reply(&v);
	int64_t from = from_day * DAY_MS;
	/* One statement: one snapshot of the books. */
	db_rows_t *r = RQ(req,
		"SELECT 'sales', COUNT(*), " SUM_SQL("price_cents") ", " SUM_SQL("fee_cents") " FROM purchases WHERE created_at >= $1"
		" UNION ALL SELECT 'refunds', COUNT(*), " SUM_SQL("price_cents") ", " SUM_SQL("fee_cents")
		" FROM purchases WHERE refunded_at >= $1"
		" UNION ALL SELECT 'payouts', COUNT(*), " SUM_SQL("-amount_cents") ", 0 FROM earnings"
		" WHERE kind = 'payout' AND created_at >= $1"
		" UNION ALL SELECT 'open', COUNT(*), " SUM_SQL("amount_cents") ", 0 FROM payout_requests"
		" WHERE status IN ('requested', 'approved')"
		" UNION ALL SELECT 'owed', COUNT(*), " SUM_SQL("amount_cents") ", 0 FROM earnings"
		" UNION ALL SELECT 'orders_' || status, COUNT(*), " SUM_SQL("amount_cents") ", 0 FROM orders"
		" WHERE created_at >= $1 GROUP BY status", P_INT(from));
	if (!r)
		return reply_db_error(req, "revenue stats");
	struct sums sales = { 0 }, refunds = { 0 }, payouts = { 0 }, open = { 0 }, owed = { 0 };
	json_t *orders = json_pack("{s:I, s:I, s:I, s:I}", "completed", (json_int_t)0, "pending", (json_int_t)0,
				   "failed", (json_int_t)0, "refunded", (json_int_t)0);
	while (db_next(r)) {
		const char *what = db_text(r, 0);
		struct sums s = { .count = db_int(r, 1), .amount = db_int(r, 2), .fee = db_int(r, 3) };
		if (!strcmp(what, "sales"))
			sales = s;
		else if (!strcmp(what, "refunds"))
			refunds = s;
		else if (!strcmp(what, "payouts"))
			payouts = s;
		else if (!strcmp(what, "open"))
			open = s;
		else if (!strcmp(what, "owed"))
			owed = s;
		else if (str_has_prefix(what, "orders_"))
			json_object_set_new(orders, !strcmp(what + 7, "fulfilled") ? "completed" : what + 7,
					    json_integer(s.count));
	}
	if (db_failed(r)) {
		json_decref(orders);
		return reply_db_error(req, "revenue stats");
	}
	json_t *out = json_pack("{s:I, s:o, s:o, s:s, s:o, s:o, s:o, s:I, s:o, s:o, s:I, s:o, s:o, s:I, s:{s:I, s:o}, s:o, s:o}",
		"days", (json_int_t)days, "from", day_json(from_day), "to", day_json(from_day + days - 1),
		"currency", "USD",
		"gross_sales", money(sales.amount), "platform_fees", money(sales.fee),
		"net_to_creators", money(sales.amount - sales.fee), "sales_count", (json_int_t)sales.count,
		"refunds", money(refunds.amount), "refunded_fees", money(refunds.fee),
		"refunds_count", (json_int_t)refunds.count,
		"platform_revenue", money(sales.fee - refunds.fee),
		"paid_out", money(payouts.amount), "payouts_count", (json_int_t)payouts.count,
		"open_payout_requests", "count", (json_int_t)open.count, "amount", money(open.amount),
		"creator_balances", money(owed.amount), "orders", orders);
	return reply_ok(req, out);
}

/* ================================================== admin: transactions */

#define ORDER_COLUMNS(FIRST, NEXT)                                                                 \
	FIRST(O_ID, "o.id") NEXT(O_BUYER, "o.buyer_id") NEXT(O_BUYER_NAME, "u.username")               \
	NEXT(O_STATUS, "o.status") NEXT(O_PROVIDER, "o.provider") NEXT(O_METHOD, "o.payment_method")    \
	NEXT(O_REF, "o.provider_ref") NEXT(O_AMOUNT, "o.amount_cents") NEXT(O_FEE, "o.fee_cents")       \
	NEXT(O_CURRENCY, "o.currency") NEXT(O_ERROR, "o.error_detail") NEXT(O_CREATED, "o.created_at")  \
	NEXT(O_UPDATED, "o.updated_at") NEXT(O_ITEMS, "(SELECT COUNT(*) FROM order_items oi WHERE oi.order_id = o.id)")
#define ORDER_COLS ORDER_COLUMNS(DB_COL_SQL, DB_COL_SQL_NEXT)
enum order_col { ORDER_COLUMNS(DB_COL_ENUM, DB_COL_ENUM) O_COUNT };
#define ORDER_FROM " FROM orders o JOIN users u ON u.id = o.buyer_id"

/* An order in the API's words: "fulfilled" is "completed", as at checkout. */
static const char *order_status(const char *s)
{
	return !strcmp(s, "fulfilled") ? "completed" : s;
}

static json_t *order_row(db_rows_t *r)
{
	char txn[32];
	order_transaction_id(db_int(r, O_ID), db_int(r, O_CREATED), txn);
	return json_pack("{s:I, s:s, s:{s:I, s:s?}, s:s, s:o, s:o, s:s, s:s, s:s, s:s?, s:I, s:s?, s:o, s:o}",
			 "id", (json_int_t)db_int(r, O_ID), "transaction_id", txn,
			 "buyer", "id", (json_int_t)db_int(r, O_BUYER), "username", db_text(r, O_BUYER_NAME),
			 "status", order_status(db_text(r, O_STATUS)),
			 "total_amount", money(db_int(r, O_AMOUNT)), "platform_fee", money(db_int(r, O_FEE)),
			 "currency", db_text(r, O_CURRENCY), "provider", db_text(r, O_PROVIDER),
			 "payment_method", db_text(r, O_METHOD), "provider_ref", db_text(r, O_REF),
			 "items_count", (json_int_t)db_int(r, O_ITEMS), "error", db_text(r, O_ERROR),
			 "created_at", json_time(db_int(r, O_CREATED)), "updated_at", json_time(db_int(r, O_UPDATED)));
}

/* GET /api/admin/revenue/transactions?status= */
static int admin_revenue_transactions(req_t *req)
{
	valid_t v;
	page_t p;
	paged_begin(&v, req, &p);
	static const char *const statuses[] = { "completed", "pending", "failed", "refunded", "all", NULL };
	const char *status = q_enum(&v, "status", statuses, "all");
	if (!v_ok(&v))
		return v_reply(&v);
	const char *stored = !strcmp(status, "all") ? NULL : !strcmp(status, "completed") ? "fulfilled" : status;
#define ORDERS_WHERE " WHERE (CAST($1 AS TEXT) IS NULL OR o.status = $1)"
	db_param_t params[] = { P_TEXT(stored) };
	paged_t q = {
		.what = "list orders",
		.count_sql = "SELECT COUNT(*) FROM orders o" ORDERS_WHERE,
		.rows_sql = "SELECT " ORDER_COLS ORDER_FROM ORDERS_WHERE " ORDER BY o.created_at DESC, o.id DESC",
		.params = params, .nparams = 1,
		.row = order_row,
	};
#undef ORDERS_WHERE
	return paged_reply(req, &p, &q);
}

static int reply_order_row(req_t *req, int status, int64_t id)
{
	db_rows_t *r = RQ(req, "SELECT " ORDER_COLS ORDER_FROM " WHERE o.id = $1", P_INT(id));
	if (!r || !db_next(r))
		return reply_db_error(req, "read order");
	return reply_json(req, status, order_row(r));
}

/* ======================================================= admin: refund */

struct refund_job {
	int64_t order_id, amount_cents;
	pay_provider_t provider;
	char ref[PAY_REF_MAX];
	char key[48];
	pay_status_t status;
	char message[PAY_MESSAGE_MAX];
};

static void refund_work(void *ctx)
{
	struct refund_job *j = ctx;
	j->status = pay_refund(j->provider, j->ref, j->amount_cents, j->key, j->message);
}

static int reply_already_refunded(req_t *req)
{
	return reply_error(req, ERR_CONFLICT, "This order was already refunded");
}

static int refund_done(req_t *req, void *ctx)
{
	struct refund_job *j = ctx;
	if (j->status == PAY_UNREACHABLE) {
		req->retry_after = 10;
		return reply_error(req, ERR_UNAVAILABLE,
			"The payment provider did not answer; nothing was changed here. Try again: the same refund is never"
			" made twice");
	}
	if (j->status == PAY_DECLINED) {
		/* A twin that refunded it first makes the provider say "already
		 * refunded": that is not a refusal. */
		const char *now = NULL;
		db_rows_t *r = RQ(req, "SELECT status FROM orders WHERE id = $1", P_INT(j->order_id));
		if (r && db_next(r))
			now = arena_strdup(req->arena, db_text(r, 0));
		if (now && !strcmp(now, "refunded"))
			return reply_already_refunded(req);
		log_warn("admin refund of order %lld refused by %s: %s", (long long)j->order_id,
			 pay_provider_name(j->provider), j->message);
		return reply_error(req, ERR_PAYMENT_FAILED,
				   arena_printf(req->arena, "The payment provider refused the refund: %s",
						j->message[0] ? j->message : "no reason given"));
	}
	switch (orders_refund(req->db, j->order_id)) {
	case SETTLE_DONE:
		log_info("admin %lld refunded order %lld (%lld cents)", (long long)req->user->id, (long long)j->order_id,
			 (long long)j->amount_cents);
		audit_log(req->db, req, "order.refund", "order", j->order_id,
			  json_pack("{s:I}", "amount_cents", (json_int_t)j->amount_cents));
		return reply_order_row(req, 200, j->order_id);
	case SETTLE_ALREADY:
		return reply_already_refunded(req);
	default:
		/* The money went back but the books did not follow: asking
		 * again is safe (the provider answers the same refund). */
		return reply_internal(req, arena_printf(req->arena, "order %lld was refunded by the provider but"
								  " not in the books: refund it again", (long long)j->order_id));
	}
}

/* POST /api/admin/revenue/transactions/{id}/refund: the whole order back
 * to the buyer through its provider, then reversed here. */
static int admin_refund(req_t *req)
{
	int64_t id = req_param_int(req, "id");
	db_rows_t *r = RQ(req, "SELECT status, provider, provider_ref, amount_cents FROM orders WHERE id = $1", P_INT(id));
	if (!r)
		return reply_db_error(req, "find order");
	if (!db_next(r))
		return db_failed(r) ? reply_db_error(req, "find order") : reply_error(req, ERR_NOT_FOUND, "Order not found");
	const char *status = db_text(r, 0);
	if (!strcmp(status, "refunded"))
		return reply_already_refunded(req);
	if (strcmp(status, "fulfilled"))
		return reply_error(req, ERR_CONFLICT, arena_printf(req->arena, "Only a completed order can be refunded;"
								    " this one is %s", status));
	if (db_isnull(r, 2) || strlen(db_text(r, 2)) >= PAY_REF_MAX)
		return reply_internal(req, arena_printf(req->arena, "order %lld is fulfilled without a provider reference",
							(long long)id));
	struct refund_job *j = arena_calloc(req->arena, sizeof(*j));
	j->order_id = id;
	j->provider = pay_provider_named(db_text(r, 1));
	snprintf(j->ref, sizeof(j->ref), "%s", db_text(r, 2));
	j->amount_cents = db_int(r, 3);
	snprintf(j->key, sizeof(j->key), "hwc3d-refund-%lld", (long long)id);
	return pool_defer(req, POOL_NET, refund_work, refund_done, j);
}

/* ===================================================== admin: payouts */

/* GET /api/admin/revenue/payouts?status=&creator_id= */
static int admin_revenue_payouts(req_t *req)
{
	valid_t v;
	page_t p;
	paged_begin(&v, req, &p);
	static const char *const statuses[] = { "requested", "approved", "paid", "rejected", "all", NULL };
	const char *status = q_enum(&v, "status", statuses, "all");
	int64_t creator = q_int(&v, "creator_id", 1, INT64_MAX, 0);
	if (!v_ok(&v))
		return v_reply(&v);
#define PAYOUTS_WHERE " WHERE (CAST($1 AS TEXT) IS NULL OR r.status = $1)" \
	" AND (CAST($2 AS BIGINT) = 0 OR r.creator_id = $2)"
	db_param_t params[] = { P_TEXT(strcmp(status, "all") ? status : NULL), P_INT(creator) };
	paged_t q = {
		.what = "list payouts",
		.count_sql = "SELECT COUNT(*) FROM payout_requests r" PAYOUTS_WHERE,
		.rows_sql = "SELECT " PAYOUT_COLS PAYOUT_FROM PAYOUTS_WHERE " ORDER BY r.created_at DESC, r.id DESC",
		.params = params, .nparams = 2,
		.row = payout_admin_row,
	};
#undef PAYOUTS_WHERE
	return paged_reply(req, &p, &q);
}

/* After a guarded UPDATE changed no row: 404, or 409 naming what it is. */
static int reply_payout_not_open(req_t *req, int64_t id)
{
	db_rows_t *r = RQ(req, "SELECT status FROM payout_requests WHERE id = $1", P_INT(id));
	if (!r)
		return reply_db_error(req, "find payout request");
	if (!db_next(r))
		return db_failed(r) ? reply_db_error(req, "find payout request")
				    : reply_error(req, ERR_NOT_FOUND, "Payout request not found");
	return reply_error(req, ERR_CONFLICT, arena_printf(req->arena, "This payout request is already %s", db_text(r, 0)));
}

struct decided {
	int64_t creator_id, amount_cents, balance;
	const char *label;
};

/* The request just decided, in the deciding transaction. */
static bool read_decided(req_t *req, int64_t id, struct decided *d)
{
	db_rows_t *r = DBQ(req->db, "SELECT r.creator_id, r.amount_cents, r.method_label,"
				    " (SELECT " SUM_SQL("e.amount_cents") " FROM earnings e WHERE e.creator_id = r.creator_id)"
				    " FROM payout_requests r WHERE r.id = $1", P_INT(id));
	if (!r)
		return false;
	bool ok = db_next(r);
	if (ok) {
		d->creator_id = db_int(r, 0);
		d->amount_cents = db_int(r, 1);
		d->label = arena_strdup(req->arena, db_text(r, 2));
		d->balance = db_int(r, 3);
	}
	ok = ok && !db_failed(r);
	db_done(r);
	return ok;
}

/* POST /api/admin/revenue/payouts/{id}/approve: marks it paid and books
 * it, once. */
static int admin_payout_approve(req_t *req)
{
	int64_t id = req_param_int(req, "id"), now = now_ms();
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	int64_t n = DBX(req->db, "UPDATE payout_requests SET status = 'paid', decided_at = $2, decided_by = $3"
				 " WHERE id = $1 AND status = 'requested'", P_INT(id), P_INT(now), P_INT(req->user->id));
	if (n != 1) {
		db_rollback(req->db);
		return n == 0 ? reply_payout_not_open(req, id) : reply_db_error(req, "approve payout");
	}
	struct decided d;
	if (!read_decided(req, id, &d)) {
		db_rollback(req->db);
		return reply_db_error(req, "approve payout");
	}
	/* Refunds since the request may have taken the balance below it. */
	if (d.balance < d.amount_cents) {
		db_rollback(req->db);
		return reply_error(req, ERR_CONFLICT, arena_printf(req->arena,
			"The creator's balance (%s) no longer covers this payout (%s): refunds came after the request."
			" Reject it; the creator may ask again", money_text(req, d.balance), money_text(req, d.amount_cents)));
	}
	const char *msg = arena_printf(req->arena, "Your payout of %s was approved and sent to %s.",
				       money_text(req, d.amount_cents), d.label);
	if (DBX(req->db, "INSERT INTO earnings (creator_id, kind, amount_cents, payout_id, created_at)"
			 " VALUES ($1, 'payout', $2, $3, $4)", P_INT(d.creator_id), P_INT(-d.amount_cents), P_INT(id),
		P_INT(now)) != 1 ||
	    !notify(req->db, d.creator_id, "payout_approved", "Payout sent", msg, FINANCIALS_URL) ||
	    (audit_log(req->db, req, "payout.approve", "payout_request", id,
		       json_pack("{s:I, s:I}", "creator_id", (json_int_t)d.creator_id, "amount_cents", (json_int_t)d.amount_cents)),
	     !db_commit(req->db))) {
		db_rollback(req->db);
		notify_discard();
		return reply_db_error(req, "approve payout");
	}
	notify_flush();
	log_info("admin %lld approved payout %lld (%lld cents to user %lld)", (long long)req->user->id, (long long)id,
		 (long long)d.amount_cents, (long long)d.creator_id);
	return reply_payout(req, 200, id, true, NULL);
}

/* POST /api/admin/revenue/payouts/{id}/reject {reason}: no money moves. */
static int admin_payout_reject(req_t *req)
{
	int64_t id = req_param_int(req, "id"), now = now_ms();
	valid_t v;
	v_init(&v, req, req_body(req));
	const char *reason = v_str(&v, "reason", V_REQUIRED | V_MULTILINE, 3, 1000);
	if (!v_ok(&v))
		return v_reply(&v);
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	int64_t n = DBX(req->db, "UPDATE payout_requests SET status = 'rejected', reason = $2, decided_at = $3,"
				 " decided_by = $4 WHERE id = $1 AND status = 'requested'",
			P_INT(id), P_TEXT(reason), P_INT(now), P_INT(req->user->id));
	if (n != 1) {
		db_rollback(req->db);
		return n == 0 ? reply_payout_not_open(req, id) : reply_db_error(req, "reject payout");
	}
	struct decided d;
	if (!read_decided(req, id, &d) ||
	    !notify(req->db, d.creator_id, "payout_rejected", "Payout request declined",
		    arena_printf(req->arena, "Your payout request of %s was declined: %s", money_text(req, d.amount_cents),
				 reason), FINANCIALS_URL) ||
	    (audit_log(req->db, req, "payout.reject", "payout_request", id,
		       json_pack("{s:I, s:I, s:s}", "creator_id", (json_int_t)d.creator_id, "amount_cents",
				 (json_int_t)d.amount_cents, "reason", reason)),
	     !db_commit(req->db))) {
		db_rollback(req->db);
		notify_discard();
		return reply_db_error(req, "reject payout");
	}
	notify_flush();
	return reply_payout(req, 200, id, true, NULL);
}

const route_t revenue_routes[] = {
	{ M_GET, "/api/users/me/sales", my_sales, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "The sales of the caller's models" },
	{ M_GET, "/api/users/me/transactions", my_transactions, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "The caller's earnings ledger" },
	{ M_GET, "/api/users/me/revenue", my_revenue, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "The caller's totals, balance and daily series" },
	{ M_GET, "/api/users/me/payout-methods", my_payout_methods, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "The caller's payout methods, masked" },
	{ M_POST, "/api/users/me/payout-methods", set_payout_method, ACCESS_VERIFIED, RL_GENERAL, BODY_JSON, 0, 0, "Set the caller's PayPal or bank payout method" },
	{ M_DELETE, "/api/users/me/payout-methods/{id:int}", delete_payout_method, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "Remove one of the caller's payout methods" },
	{ M_GET, "/api/users/me/payout-requests", my_payout_requests, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "The caller's payout requests, newest first" },
	{ M_POST, "/api/users/me/payout-request", payout_request, ACCESS_VERIFIED, RL_GENERAL, BODY_JSON, 0, 0, "Ask for a payout of the available balance" },
	{ M_GET, "/api/admin/revenue/stats", admin_revenue_stats, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Platform money totals" },
	{ M_GET, "/api/admin/revenue/transactions", admin_revenue_transactions, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Orders by status" },
	{ M_POST, "/api/admin/revenue/transactions/{id:int}/refund", admin_refund, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Refund a completed order through its provider" },
	{ M_GET, "/api/admin/revenue/payouts", admin_revenue_payouts, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Payout requests by status" },
	{ M_POST, "/api/admin/revenue/payouts/{id:int}/approve", admin_payout_approve, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Approve (pay) a payout request, once" },
	{ M_POST, "/api/admin/revenue/payouts/{id:int}/reject", admin_payout_reject, ACCESS_ADMIN, RL_ADMIN, BODY_JSON, 0, 0, "Reject a payout request with a reason" },
};
EXPORT_ROUTES(revenue_routes);
