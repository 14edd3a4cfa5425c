/*
 * orders.h: settling an order after its charge, exactly once, and the
 * reconciler that settles what a crash left pending.
 *
 * An order (migration 0011) is written 'pending' before its charge.  After
 * the charge, orders_settle() fulfils it (purchases, the creators'
 * earnings, sales counts and daily rollups, the cart cleared, the locks
 * released, the buyer's mail and the creators' notifications queued) or
 * fails it, in one transaction guarded by status = 'pending': of a request
 * and a reconciler settling the same order, exactly one does it, and the
 * other finds it settled.  The charge itself is idempotent by the order's
 * key (payments.h), so charging again is how a pending order learns what
 * became of its charge.
 *
 * The reconciler (orders_reconciler_start) charges again every order left
 * pending longer than ORDER_RECONCILE_AFTER_S (default 60: a live request
 * has settled its own by then), at start and every 15 s after (every
 * ORDER_RECONCILE_AFTER_S, at least 1 s, when that is shorter), on a thread
 * of its own.  Thread safe.
 */
#ifndef HWC_ORDERS_H
#define HWC_ORDERS_H

#include <stdbool.h>
#include <stdint.h>
#include "payments.h"
#include "../db/db.h"

enum settle_result {
	SETTLE_DONE,     /* this call settled it (fulfilled or failed as the charge said) */
	SETTLE_ALREADY,  /* it was settled before: nothing changed */
	SETTLE_PENDING,  /* the charge's outcome is unknown (PAY_UNREACHABLE): still pending */
	SETTLE_DB_ERROR, /* nothing changed; it stays pending for the reconciler */
};

/* Settles order_id by the charge's outcome c (status, ref, message). */
enum settle_result orders_settle(db_t *db, int64_t order_id, const pay_charge_t *c);

/* Reverses a fulfilled order whose money went back to the buyer (an admin
 * refund after the provider's, or the provider's refund or dispute
 * webhook): its purchases are revoked (their links stop working), each
 * creator's earning is reversed by a refund row, sales counts go down.
 * One transaction, guarded by status = 'fulfilled': a second call finds it
 * refunded (SETTLE_ALREADY). */
enum settle_result orders_refund(db_t *db, int64_t order_id);
/* The order charged as provider_ref, or 0. */
int64_t orders_by_ref(db_t *db, const char *provider, const char *provider_ref);

/* Charges again, and settles, every order pending longer than min_age_ms
 * (with a provider call each: never on a poll thread); returns how many
 * it settled, -1 on a database error. */
int orders_reconcile(db_t *db, int64_t min_age_ms);

void orders_reconciler_start(void);
void orders_reconciler_stop(void);

/* "TXN-2026-000123": the order as the buyer and the books know it. */
void order_transaction_id(int64_t order_id, int64_t created_ms, char out[32]);

/* The HMAC-SHA256 (hex) of a licence certificate's signed text, under a
 * key derived from JWT_SECRET_KEY for certificates alone. */
void certificate_signature(const char *text, char out[65]);

/* ---- signed download links ---- */

/* The signature of a link to model_id for user_id until expires_s (unix
 * seconds): 64 hex characters of an HMAC-SHA256 under a key derived from
 * JWT_SECRET_KEY for this purpose alone. */
void download_signature(int64_t model_id, int64_t user_id, int64_t expires_s, char out[65]);
/* The signature matches (constant time) and now_s is before expires_s. */
bool download_signature_ok(int64_t model_id, int64_t user_id, int64_t expires_s, const char *sig, int64_t now_s);
/* PUBLIC_URL/api/downloads/<model>?user=<id>&expires=<s>&sig=<hex>,
 * malloc'd. */
char *download_url(int64_t model_id, int64_t user_id, int64_t expires_s);

#endif
