/*
 * pay_internal.h: what the provider clients (pay_stripe.c, pay_paypal.c)
 * share, in pay_http.c.  Not for the rest of the server: payments.h is the
 * interface.  The pure helpers are declared here so the unit tests can
 * reach them.
 *
 * Everything here is thread safe and keeps no state.
 */
#ifndef HWC_PAY_INTERNAL_H
#define HWC_PAY_INTERNAL_H

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "payments.h"
#include "../core/strbuf.h"

/* The longest idempotency key we accept.  Providers take more (Stripe 255,
 * PayPal 108), but we append a suffix per operation ("-capture",
 * "-refund"), and our keys are "hwc3d-order-<id>". */
#define PAY_KEY_MAX 64
/* The longest provider id we put into a URL path or a form. */
#define PAY_ID_MAX 64
/* The longest card token or payment method id we pass on. */
#define PAY_TOKEN_MAX 255

/* ---- pure helpers (unit tested) ---- */

/* cents as a decimal amount with two digits after the point: 1234 ->
 * "12.34", 5 -> "0.05", 0 -> "0.00".  False for a negative amount. */
bool pay_amount_str(int64_t cents, char out[32]);

/* An ISO 4217 code in upper case whose minor unit is a hundredth ("USD",
 * "EUR").  Amounts are cents everywhere in HWC3D, so a currency without
 * cents (JPY, KRW) or with thousandths (KWD, BHD) would be charged a
 * hundred or a tenth times the price: those are refused. */
bool pay_currency_ok(const char *currency);

/* 1..max characters of [A-Za-z0-9_-]: safe in a URL path, a form value
 * and a header, whatever the provider sends back. */
bool pay_id_ok(const char *s, size_t max);

/* An idempotency key we can put into a header: 1..PAY_KEY_MAX characters
 * of [A-Za-z0-9_.:-]. */
bool pay_key_ok(const char *key);

/* A card token or payment method id: 1..PAY_TOKEN_MAX printable ASCII
 * characters without space. */
bool pay_token_ok(const char *s);

/* Copies s into out for a buyer to read: at most PAY_MESSAGE_MAX - 1
 * bytes, cut on a UTF-8 character boundary, control characters turned
 * into spaces.  s NULL or empty gives fallback. */
void pay_message_set(char out[PAY_MESSAGE_MAX], const char *s, const char *fallback);

/* ---- HTTP to a provider ---- */

typedef struct pay_req {
	const char *who;          /* "stripe" or "paypal", for the log */
	const char *url;          /* whole URL; its path is logged, never a body */
	const char *body;         /* POST when set (may be ""), GET when NULL */
	const char *content_type; /* of the body */
	const char *bearer;       /* Authorization: Bearer <bearer>, or NULL */
	const char *basic_user;   /* HTTP basic auth when set, with basic_pass */
	const char *basic_pass;
	const char *idem_name;    /* "Idempotency-Key" or "PayPal-Request-Id", or NULL */
	const char *idem_value;
	const char *extra;        /* one more header line ("Prefer: ..."), or NULL */
} pay_req_t;

typedef struct pay_ans {
	long status;  /* the HTTP status; 0 when there was no answer */
	json_t *json; /* the body when it is a JSON object, else NULL; pay_ans_release frees it */
} pay_ans_t;

/* The connection and total timeouts of one provider call.  A timeout is an
 * unknown outcome (PAY_UNREACHABLE), so they are generous: Stripe's own
 * libraries wait 80 s; a pool thread waiting 30 s is the cost. */
#define PAY_CONNECT_TIMEOUT_S 10L
#define PAY_TIMEOUT_S 30L
/* The most of an answer we read; a longer one is a transport failure. */
#define PAY_ANSWER_MAX ((size_t)1 << 20)

/* One call: no redirects, http(s) only, the timeouts above, the answer
 * capped.  False on a transport failure (logged, a->status 0); otherwise
 * a->status is set and a->json holds the body if it is a JSON object.
 * Header values are checked by the caller (pay_key_ok, pay_token_ok). */
bool pay_http(const pay_req_t *r, pay_ans_t *a);
void pay_ans_release(pay_ans_t *a);

/* A string member of a JSON object, or NULL (absent, not a string, empty,
 * or with a NUL inside). */
const char *pay_jstr(json_t *o, const char *key);

/* A setting, or def when unset; the trailing slashes of a base URL are the
 * caller's to strip (pay_base_url). */
const char *pay_setting(const char *name, const char *def);

/* base (STRIPE_API_BASE, PAYPAL_API_BASE) + path, with base's trailing
 * slashes dropped; NULL (logged) when base is not an http(s) URL.  The
 * caller frees. */
char *pay_url(const char *who, const char *base, const char *path);

/* "name=value" appended to a form, the value percent-encoded. */
void pay_form_add(strbuf_t *form, const char *name, const char *value);

/* Fills a charge's answer fields. */
void pay_result(pay_charge_t *c, pay_status_t st, const char *ref, const char *message);

#endif
