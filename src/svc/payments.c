/*
 * payments.c: the provider switch of payments.h and the built-in test
 * processor.
 *
 * The test processor stands for a provider on a laptop: it answers like
 * Stripe's test mode (CONTRACT.md) and keeps its books in its own table,
 * test_payments, through the calling thread's database connection, so that
 * it remembers a key across restarts as a real provider would.
 */
#include <stdio.h>
#include <string.h>
#include "payments.h"
#include "../core/config.h"
#include "../core/log.h"
#include "../core/util.h"
#include "../db/db.h"

pay_provider_t pay_provider_for(const char *payment_method)
{
	if (!strcmp(payment_method, "card"))
		return stripe_configured() ? PAY_STRIPE : PAY_TEST;
	if (!strcmp(payment_method, "paypal"))
		return paypal_configured() ? PAY_PAYPAL : PAY_NONE;
	return PAY_NONE;
}

static const char *const names[] = { [PAY_TEST] = "test", [PAY_STRIPE] = "stripe", [PAY_PAYPAL] = "paypal" };

const char *pay_provider_name(pay_provider_t p)
{
	return p < PAY_NONE ? names[p] : "none";
}

pay_provider_t pay_provider_named(const char *name)
{
	for (int p = 0; p < PAY_NONE; p++)
		if (name && !strcmp(name, names[p]))
			return (pay_provider_t)p;
	return PAY_NONE;
}

void pay_idempotency_key(int64_t order_id, char out[48])
{
	snprintf(out, 48, "hwc3d-order-%lld", (long long)order_id);
}

static void set_message(char *dst, const char *msg)
{
	snprintf(dst, PAY_MESSAGE_MAX, "%s", msg);
}

/* ---- the test processor ---- */

/* The answer stored for a key, if any. */
static bool test_lookup(db_t *db, pay_charge_t *c, bool *found)
{
	db_rows_t *r = DBQ(db, "SELECT ref, status, message, amount_cents FROM test_payments WHERE idempotency_key = $1",
			   P_TEXT(c->idempotency_key));
	if (!r)
		return false;
	*found = db_next(r);
	if (*found) {
		snprintf(c->ref, sizeof(c->ref), "%s", db_text(r, 0));
		c->status = !strcmp(db_text(r, 1), "succeeded") ? PAY_SUCCEEDED : PAY_DECLINED;
		set_message(c->message, db_text(r, 2) ? db_text(r, 2) : "");
	}
	bool failed = db_failed(r);
	db_done(r);
	return !failed;
}

static void test_charge(pay_charge_t *c)
{
	db_t *db = db_thread();
	bool found = false;
	c->status = PAY_UNREACHABLE;
	c->ref[0] = c->message[0] = '\0';
	if (!db || !test_lookup(db, c, &found))
		return;
	if (found)
		return; /* the first answer, as Stripe gives it */
	bool is_tok = c->token && str_has_prefix(c->token, "tok_");
	bool declined = !is_tok || !strcmp(c->token, "tok_chargeDeclined");
	char ref[32];
	random_hex(ref, 12);
	snprintf(c->ref, sizeof(c->ref), "tch_%s", ref);
	if (declined)
		set_message(c->message, is_tok ? "Your card was declined."
					       : "This card token is not valid in test mode (use tok_visa).");
	c->status = declined ? PAY_DECLINED : PAY_SUCCEEDED;
	int64_t n = DBX(db, "INSERT INTO test_payments (idempotency_key, ref, amount_cents, currency, status, message, created_at)"
			    " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (idempotency_key) DO NOTHING",
			P_TEXT(c->idempotency_key), P_TEXT(c->ref), P_INT(c->amount_cents), P_TEXT(c->currency),
			P_TEXT(declined ? "declined" : "succeeded"), c->message[0] ? P_TEXT(c->message) : P_NULL,
			P_INT(now_ms()));
	if (n < 0) {
		c->status = PAY_UNREACHABLE;
		return;
	}
	if (n == 0 && (!test_lookup(db, c, &found) || !found)) /* a racing twin stored first: its answer */
		c->status = PAY_UNREACHABLE;
}

/* A refund of the charge ref, once per idempotency key (with "-refund"
 * appended, as the provider clients do): a repeated key answers the first
 * refund's success instead of refunding again, or declining as "already
 * refunded".  The key's row is written first, in the refund's transaction,
 * so that a twin racing with the same key waits for it and then finds it. */
static pay_status_t test_refund(const char *ref, int64_t amount_cents, const char *idempotency_key,
				char message[PAY_MESSAGE_MAX])
{
	static const char refused[] = "This charge cannot be refunded (unknown, declined or already refunded).";
	db_t *db = db_thread();
	if (!db)
		return PAY_UNREACHABLE;
	char key[160];
	snprintf(key, sizeof(key), "%s-refund", idempotency_key ? idempotency_key : "");
	if (!db_begin(db))
		return PAY_UNREACHABLE;
	int64_t n = 1;
	if (idempotency_key)
		n = DBX(db, "INSERT INTO test_refunds (idempotency_key, ref, amount_cents, created_at) VALUES ($1, $2, $3, $4)"
			    " ON CONFLICT (idempotency_key) DO NOTHING",
			P_TEXT(key), P_TEXT(ref), P_INT(amount_cents), P_INT(now_ms()));
	if (n < 0) {
		db_rollback(db);
		return PAY_UNREACHABLE;
	}
	if (n == 0) { /* this key refunded before: its answer, if it was for this charge */
		db_rollback(db);
		int64_t same = 0;
		if (DBS(db, &same, "SELECT COUNT(*) FROM test_refunds WHERE idempotency_key = $1 AND ref = $2"
				   " AND amount_cents = $3", P_TEXT(key), P_TEXT(ref), P_INT(amount_cents)) != 1)
			return PAY_UNREACHABLE;
		if (same)
			return PAY_SUCCEEDED;
		set_message(message, "This idempotency key was used for another refund.");
		return PAY_DECLINED;
	}
	n = DBX(db, "UPDATE test_payments SET refunded_cents = refunded_cents + $2"
		    " WHERE ref = $1 AND status = 'succeeded' AND refunded_cents + $2 <= amount_cents",
		P_TEXT(ref), P_INT(amount_cents));
	if (n != 1) {
		db_rollback(db);
		if (n < 0)
			return PAY_UNREACHABLE;
		set_message(message, refused);
		return PAY_DECLINED;
	}
	if (!db_commit(db)) {
		db_rollback(db);
		return PAY_UNREACHABLE;
	}
	return PAY_SUCCEEDED;
}

void pay_charge(pay_provider_t p, pay_charge_t *c)
{
	switch (p) {
	case PAY_TEST:
		test_charge(c);
		return;
	case PAY_STRIPE:
		stripe_charge(c);
		return;
	case PAY_PAYPAL:
		paypal_charge(c);
		return;
	default:
		c->status = PAY_DECLINED;
		set_message(c->message, "This payment method is not available.");
	}
}

pay_status_t pay_refund(pay_provider_t p, const char *ref, int64_t amount_cents, const char *idempotency_key,
			char message[PAY_MESSAGE_MAX])
{
	message[0] = '\0';
	switch (p) {
	case PAY_TEST:
		return test_refund(ref, amount_cents, idempotency_key, message);
	case PAY_STRIPE:
		return stripe_refund(ref, amount_cents, idempotency_key, message);
	case PAY_PAYPAL:
		return paypal_refund(ref, amount_cents, idempotency_key, message);
	default:
		set_message(message, "This payment method is not available.");
		return PAY_DECLINED;
	}
}
