/*
 * payments.h: the payment providers behind one interface.
 *
 * A checkout charges one order once.  The provider is chosen by the
 * payment method and the settings (CONTRACT.md):
 *   - "card" with STRIPE_SECRET_KEY set: Stripe, a PaymentIntent created
 *     and confirmed in one call over libcurl (pay_stripe.c);
 *   - "card" without it: the built-in test processor, which answers like
 *     Stripe's test mode (tok_visa and any other tok_... succeed,
 *     tok_chargeDeclined is declined) and keeps its charges in the
 *     database so that it, too, answers a repeated key with the first
 *     result (payments.c);
 *   - "paypal" with PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET set: PayPal
 *     Orders v2, create then capture (pay_paypal.c).
 *
 * Exactly once: every charge carries the order's idempotency key
 * (pay_idempotency_key), and each provider answers a repeated key with the
 * first result instead of charging again (Stripe's Idempotency-Key header,
 * PayPal's PayPal-Request-Id, the test processor's table).  So the same
 * call both charges and, after a crash, finds out what became of a charge
 * (checkout.c reconciles pending orders that way on start).
 *
 * Every call but pay_test_* is a slow network call: run it on the pool
 * (POOL_NET), never on a poll thread.  Thread safe.  Strings handed out
 * are fixed buffers in the structs; nothing here logs a card token, a
 * secret or a full provider answer.
 */
#ifndef HWC_PAYMENTS_H
#define HWC_PAYMENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
	PAY_TEST,   /* built-in test processor */
	PAY_STRIPE,
	PAY_PAYPAL,
	PAY_NONE,   /* the method is known but not configured here */
} pay_provider_t;

typedef enum {
	PAY_SUCCEEDED,   /* the money is taken */
	PAY_DECLINED,    /* refused (card declined, insufficient funds, buyer action missing): nothing taken */
	PAY_UNREACHABLE, /* transport failure, timeout, 5xx, an answer we cannot read: unknown, retry later */
} pay_status_t;

#define PAY_REF_MAX 128
#define PAY_MESSAGE_MAX 256

typedef struct pay_charge {
	/* in */
	const char *idempotency_key; /* pay_idempotency_key of the order */
	int64_t amount_cents;        /* > 0 */
	const char *currency;        /* ISO 4217, upper case: "USD" */
	const char *token;           /* card: a token ("tok_visa", "pm_..."); paypal: the id of an order the buyer approved on PayPal, or NULL to create one (pay_paypal.c) */
	const char *description;     /* shown by the provider, e.g. "HWC3D TXN-2026-000123" */
	/* out */
	pay_status_t status;
	char ref[PAY_REF_MAX];         /* the provider's id of the charge (pi_..., "<PayPal order id>:<capture id>" once captured or the order id alone before, tch_...) */
	char message[PAY_MESSAGE_MAX]; /* for the buyer when declined: the provider's reason, no internals */
} pay_charge_t;

/* The provider for a checkout's payment_method ("card", "paypal"), or
 * PAY_NONE when that method is not configured on this server. */
pay_provider_t pay_provider_for(const char *payment_method);
/* "test", "stripe", "paypal": stored on the order. */
const char *pay_provider_name(pay_provider_t p);
/* The inverse of pay_provider_name; PAY_NONE when unknown. */
pay_provider_t pay_provider_named(const char *name);

/* The key every charge of order order_id carries: "hwc3d-order-<id>". */
void pay_idempotency_key(int64_t order_id, char out[48]);

/* Charges c->amount_cents once for c->idempotency_key; a repeated key
 * gives the first result (see above).  Fills status, ref and message. */
void pay_charge(pay_provider_t p, pay_charge_t *c);

/* Refunds amount_cents of the charge ref (the whole charge when it is the
 * whole amount).  PAY_SUCCEEDED, PAY_DECLINED (refused: already refunded,
 * too old), or PAY_UNREACHABLE; message as for a charge.  A repeated
 * idempotency_key gives the first refund's result, so each refund needs
 * its own; the provider clients append "-refund" to it, so the order's
 * own key may be used for its one full refund. */
pay_status_t pay_refund(pay_provider_t p, const char *ref, int64_t amount_cents, const char *idempotency_key,
			char message[PAY_MESSAGE_MAX]);

/* ---- provider clients (pay_stripe.c, pay_paypal.c) ---- */

/* STRIPE_SECRET_KEY is set. */
bool stripe_configured(void);
void stripe_charge(pay_charge_t *c);
pay_status_t stripe_refund(const char *ref, int64_t amount_cents, const char *idempotency_key,
			   char message[PAY_MESSAGE_MAX]);

/* PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET are set. */
bool paypal_configured(void);
void paypal_charge(pay_charge_t *c);
pay_status_t paypal_refund(const char *ref, int64_t amount_cents, const char *idempotency_key,
			   char message[PAY_MESSAGE_MAX]);

/* ---- Stripe webhooks ---- */

/* The default tolerance of a Stripe-Signature timestamp, as Stripe's own
 * libraries use. */
#define STRIPE_SIGNATURE_TOLERANCE_S 300

/* Checks a Stripe-Signature header ("t=<unix>,v1=<hex>[,v1=...][,v0=...]")
 * over the raw payload with the endpoint secret: some v1 is the hex
 * HMAC-SHA256 of "<t>.<payload>" (compared in constant time) and t is
 * within tolerance_s of now_s.  False for anything malformed. */
bool stripe_signature_ok(const char *header, const char *payload, size_t len, const char *secret, int64_t now_s,
			 int64_t tolerance_s);

#endif
