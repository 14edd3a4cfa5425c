/*
 * commerce.h: what the cart, the checkout and the downloads share: whether
 * a caller may buy a model, the platform fee, and signed download links.
 */
#ifndef HWC_COMMERCE_H
#define HWC_COMMERCE_H

#include <stdbool.h>
#include <stdint.h>
#include "../http/request.h"

/* At most this many models in a cart, and in one checkout. */
#define CART_MAX_ITEMS 100

enum buy_check {
	BUY_OK,
	BUY_NOT_FOUND,    /* missing, deleted, or not visible to the caller: 404 */
	BUY_OWN,          /* the caller's own model: 422 */
	BUY_FREE,         /* free models are downloaded, not bought: 422 */
	BUY_NOT_FOR_SALE, /* pending, rejected or unpublished (seen by its owner or an admin): 422 */
	BUY_OWNED,        /* already bought (a live purchase): 409 */
	BUY_DB_ERROR,
};

struct buyable {
	int64_t id, creator_id, price_cents;
	const char *title, *currency;
};

/* Whether the caller (req->user) may buy the model; fills out on BUY_OK. */
enum buy_check model_buyable(req_t *req, int64_t model_id, struct buyable *out);
/* Answers a refusal of model_buyable (not BUY_OK), naming the field. */
int reply_buy_refused(req_t *req, enum buy_check why, const char *field);

/* The platform's share of a price (PLATFORM_FEE_PERCENT, default 12),
 * rounded half up to the cent. */
/* SQL: model m can still be bought by user $1 (published, approved, not
 * deleted, not free, not theirs, not owned): what the cart counts and
 * what a checkout of the cart takes. */
#define CART_BUYABLE                                                                             \
	"(m.deleted_at IS NULL AND m.status = 'approved' AND m.is_published = TRUE"              \
	" AND m.is_free = FALSE AND m.price_cents > 0 AND m.creator_id <> $1"                    \
	" AND NOT EXISTS (SELECT 1 FROM purchases p WHERE p.buyer_id = $1 AND p.model_id = m.id" \
	" AND p.refunded_at IS NULL))"

/* The platform's share of a price at fee_bps (hundredths of a percent:
 * platform_fee_bps(), read once per checkout so that an order's lines and
 * its total agree). */
int64_t platform_fee_cents(int64_t price_cents, int64_t fee_bps);
/* The fee now: the admin setting (svc/settings.h), else PLATFORM_FEE_PERCENT. */
int64_t platform_fee_bps(db_t *db);

/* A signed link to download the model's file as user_id, valid for
 * DOWNLOAD_LINK_TTL_S (default 900); *expires_ms gets its end.  In the
 * request's arena. */
char *download_link(req_t *req, int64_t model_id, int64_t user_id, int64_t *expires_ms);

/* True when user_id holds a live purchase of the model. */
bool user_owns(db_t *db, int64_t user_id, int64_t model_id, bool *owns);

#endif
