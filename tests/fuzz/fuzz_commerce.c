/*
 * fuzz_commerce: the bodies of the money routes, through their real
 * handlers, against a SQLite database filled by seed-demo.
 *
 * Input: one byte choosing the route (mod 4), then the body:
 *   0  POST /api/checkout as the buyer, with an Idempotency-Key taken from
 *      the body's hash (so a repeated body replays its order);
 *   1  POST /api/checkout as the buyer without a key (the cart, or
 *      model_ids; the built-in test processor charges card tokens);
 *   2  POST /api/cart as the buyer;
 *   3  POST /api/webhooks/stripe, signed in-harness over the body with the
 *      webhook secret and the current time, so the fuzzer gets past the
 *      signature to the event handling (refunds and disputes reverse
 *      their order; unknown payments and partial refunds are ignored).
 * The body goes the way of server.c's parse_json_body (the depth
 * pre-check, json_loadb with the server's flags, an object required);
 * what the dispatcher would refuse is skipped.  The slow payment step runs
 * inline (the harness has no connection: pool.h).  Checked: every call
 * answers, and never 500 or more except a deliberate 503.
 */
#include <sodium.h>
#include <stdlib.h>
#include "fuzz.h"
#include "core/config.h"
#include "core/util.h"
#include "http/reply.h"
#include "http/validate.h"
#include "svc/cache.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WEBHOOK_SECRET "whsec_fuzz_commerce_0123456789abcdef"

static bool verbose;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	UNUSED(argc);
	UNUSED(argv);
	setenv("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET, 1);
	unsetenv("STRIPE_SECRET_KEY"); /* cards go to the built-in test processor */
	unsetenv("PAYPAL_CLIENT_ID");
	verbose = getenv("FZ_VERBOSE") != NULL;
	fz_setup(true);
	if (sodium_init() < 0)
		abort();
	return 0;
}

static void release_json(void *j)
{
	json_decref(j);
}

/* parse_json_body of server.c: false when the dispatcher would answer. */
static bool attach_body(req_t *req, const uint8_t *body, size_t len)
{
	sb_add(&req->body, body, len);
	if (len == 0)
		return true;
	if (json_depth_exceeds(req->body.buf, req->body.len, cfg.json_max_depth))
		return false;
	json_error_t jerr;
	json_t *j = json_loadb(req->body.buf, req->body.len,
			       JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (!j)
		return false;
	arena_defer(req->arena, release_json, j);
	if (!json_is_object(j))
		return false;
	req->json = j;
	return true;
}

/* "t=<now>,v1=<HMAC-SHA256 of "<now>.<body>">" in out. */
static void sign(const uint8_t *body, size_t len, char *out, size_t n)
{
	char t[24];
	snprintf(t, sizeof(t), "%lld", (long long)(now_ms() / 1000));
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)WEBHOOK_SECRET, strlen(WEBHOOK_SECRET));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)t, strlen(t));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&st, body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	char hex[2 * sizeof(mac) + 1];
	sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
	snprintf(out, n, "t=%s,v1=%s", t, hex);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	int route = data[0] % 4;
	const uint8_t *body = data + 1;
	size_t len = size - 1;
	char header[160], key[40];
	const char *headers[3] = { NULL, NULL, NULL };
	enum fz_who who = FZ_BUYER;
	const char *path = "/api/checkout";
	if (route == 0) {
		unsigned char h[16];
		crypto_generichash(h, sizeof(h), body, len, NULL, 0);
		sodium_bin2hex(key, sizeof(key), h, sizeof(h));
		headers[0] = "Idempotency-Key";
		headers[1] = key;
	} else if (route == 2) {
		path = "/api/cart";
	} else if (route == 3) {
		path = "/api/webhooks/stripe";
		who = FZ_ANON;
		sign(body, len, header, sizeof(header));
		headers[0] = "Stripe-Signature";
		headers[1] = header;
	}
	cache_clear();
	req_t *req = fz_req_new(M_POST, path, strlen(path), who, headers);
	if (req->match.status != MATCH_OK) {
		fprintf(stderr, "fuzz_commerce: POST %s is not routed\n", path);
		abort();
	}
	if (attach_body(req, body, len)) {
		req->route->handler(req);
		if (!req->resp) {
			fprintf(stderr, "fuzz_commerce: POST %s gave no response\n", path);
			abort();
		}
		fz_check_status(req);
		if (verbose) /* FZ_VERBOSE=1: what each input reached, to check the seeds */
			fprintf(stderr, "fuzz_commerce: POST %s -> %d\n", path, req->status);
	}
	fz_req_free(req);
	return 0;
}
