/*
 * Payments: Stripe webhook signatures against signatures computed here
 * with libsodium, the provider clients' pure helpers, and the Stripe and
 * PayPal clients themselves against the fakes the API tests use
 * (tests/api/fakes/payments.py, run with Debian's python3 as a child; those
 * tests are skipped with a note when it cannot start).
 *
 * The fakes follow the real APIs as far as the clients look at them; they
 * are not Stripe or PayPal, so these tests show the clients and the fakes
 * agree, not that either matches production byte for byte.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "t.h"
#include "svc/payments.h"
#include "svc/pay_internal.h"
#include "core/strbuf.h"
#include "core/util.h"

/* ------------------------------------------------------------ webhook signatures */

#define WHSEC "whsec_test_0123456789abcdef"
#define NOW ((int64_t)1700000000)
#define TOL STRIPE_SIGNATURE_TOLERANCE_S

static const char event[] = "{\"id\":\"evt_1\",\"object\":\"event\",\"type\":\"payment_intent.succeeded\"}";

/* The hex HMAC-SHA256 of "<t>.<body>", as Stripe computes it. */
static void sig_hex(const char *t, const char *body, size_t len, const char *secret, char out[65])
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)t, strlen(t));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(out, 65, mac, sizeof(mac));
}

/* The v1 of event at t with secret. */
static void v1_for(int64_t t, const char *secret, char out[65])
{
	char ts[24];
	snprintf(ts, sizeof(ts), "%" PRId64, t);
	sig_hex(ts, event, strlen(event), secret, out);
}

static bool sig_ok(const char *header)
{
	return stripe_signature_ok(header, event, strlen(event), WHSEC, NOW, TOL);
}

TEST(stripe_sig_accepts_a_signature_computed_with_libsodium)
{
	char v1[65], h[256];
	v1_for(NOW, WHSEC, v1);
	snprintf(h, sizeof(h), "t=%" PRId64 ",v1=%s", NOW, v1);
	CHECK(sig_ok(h));
	/* v0 (the old scheme) and unknown schemes next to it are ignored */
	snprintf(h, sizeof(h), "t=%" PRId64 ",v1=%s,v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39", NOW, v1);
	CHECK(sig_ok(h));
	snprintf(h, sizeof(h), "v1=%s,t=%" PRId64 ",scheme9=x", v1, NOW);
	CHECK(sig_ok(h));
	/* an empty payload signs too; NULL with length 0 is the same */
	char e[65];
	sig_hex("1700000000", "", 0, WHSEC, e);
	snprintf(h, sizeof(h), "t=1700000000,v1=%s", e);
	CHECK(stripe_signature_ok(h, "", 0, WHSEC, NOW, TOL));
	CHECK(stripe_signature_ok(h, NULL, 0, WHSEC, NOW, TOL));
}

TEST(stripe_sig_refuses_a_wrong_secret_or_a_tampered_payload)
{
	char v1[65], h[256];
	v1_for(NOW, "whsec_another_secret", v1);
	snprintf(h, sizeof(h), "t=%" PRId64 ",v1=%s", NOW, v1);
	CHECK(!sig_ok(h));
	CHECK(stripe_signature_ok(h, event, strlen(event), "whsec_another_secret", NOW, TOL));

	v1_for(NOW, WHSEC, v1);
	snprintf(h, sizeof(h), "t=%" PRId64 ",v1=%s", NOW, v1);
	char tampered[sizeof(event)];
	memcpy(tampered, event, sizeof(event));
	tampered[8] ^= 1;
	CHECK(!stripe_signature_ok(h, tampered, strlen(tampered), WHSEC, NOW, TOL));
	CHECK(!stripe_signature_ok(h, event, strlen(event) - 1, WHSEC, NOW, TOL));
	/* the signature covers t: another t with the same v1 fails */
	snprintf(h, sizeof(h), "t=%" PRId64 ",v1=%s", NOW + 1, v1);
	CHECK(!sig_ok(h));
	/* a secret that is empty or missing never verifies */
	snprintf(h, sizeof(h), "t=%" PRId64 ",v1=%s", NOW, v1);
	CHECK(!stripe_signature_ok(h, event, strlen(event), "", NOW, TOL));
	CHECK(!stripe_signature_ok(h, event, strlen(event), NULL, NOW, TOL));
	CHECK(!stripe_signature_ok(NULL, event, strlen(event), WHSEC, NOW, TOL));
	CHECK(!stripe_signature_ok(h, NULL, 5, WHSEC, NOW, TOL));
	CHECK(!stripe_signature_ok(h, event, strlen(event), WHSEC, NOW, -1));
	/* upper-case hex is not what Stripe sends */
	for (char *p = v1; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 32);
	snprintf(h, sizeof(h), "t=%" PRId64 ",v1=%s", NOW, v1);
	CHECK(!sig_ok(h));
}

TEST(stripe_sig_checks_the_timestamp_both_ways)
{
	char v1[65], h[256];
	int64_t ts[] = { NOW - TOL, NOW + TOL, NOW - TOL - 1, NOW + TOL + 1, NOW - 86400, NOW + 86400 };
	bool want[] = { true, true, false, false, false, false };
	for (size_t i = 0; i < ARRAY_LEN(ts); i++) {
		v1_for(ts[i], WHSEC, v1);
		snprintf(h, sizeof(h), "t=%" PRId64 ",v1=%s", ts[i], v1);
		CHECK(sig_ok(h) == want[i]);
	}
	/* t = 0 and a now far away: no overflow, just too old */
	v1_for(0, WHSEC, v1);
	snprintf(h, sizeof(h), "t=0,v1=%s", v1);
	CHECK(!sig_ok(h));
	CHECK(stripe_signature_ok(h, event, strlen(event), WHSEC, 0, 0));
	CHECK(!stripe_signature_ok(h, event, strlen(event), WHSEC, INT64_MIN, TOL));
	CHECK(!stripe_signature_ok(h, event, strlen(event), WHSEC, INT64_MAX, INT64_MAX - 1));
	CHECK(stripe_signature_ok(h, event, strlen(event), WHSEC, INT64_MAX, INT64_MAX));
}

/* tmpl with '@' replaced by v1 and '#' by v1 less its last digit. */
static void expand(strbuf_t *out, const char *tmpl, const char *v1)
{
	sb_reset(out);
	for (const char *p = tmpl; *p; p++) {
		if (*p == '@')
			sb_adds(out, v1);
		else if (*p == '#')
			sb_add(out, v1, strlen(v1) - 1);
		else
			sb_addc(out, *p);
	}
}

TEST(stripe_sig_refuses_malformed_headers)
{
	char v1[65];
	v1_for(NOW, WHSEC, v1);
	const char *const tmpls[] = {
		"v1=@",                            /* no t */
		"t=1700000000",                    /* no v1 */
		"t=1700000000,v0=@",               /* v0 only */
		"t=1700000000,v2=@",
		"t=,v1=@",
		"t=1700000000,t=1700000000,v1=@",  /* t twice */
		"t=1700000000x,v1=@",
		"t=-1700000000,v1=@",
		"t=+1700000000,v1=@",
		"t= 1700000000,v1=@",
		"t=1700000000, v1=@",
		"t=1700000000,v1=@,",              /* trailing comma */
		",t=1700000000,v1=@",
		"t=1700000000,,v1=@",
		"t=1700000000,v1=@0",              /* 65 hex digits */
		"t=1700000000,v1=#",               /* 63 */
		"t=1700000000,v1 =@",
		"T=1700000000,V1=@",
		"t=1700000000;v1=@",
		"t=1700000000,=@",
		"t=1700000000,v1",
		"t=99999999999999999999999999,v1=@", /* overflow */
		"t=0000000000001700000000,v1=@",     /* more than 12 digits */
		"t=1700000000,v1=@\t",
		"", ",", "=", "==", "t", "t=", "garbage", "t=1700000000,v1=", "\x01\x02",
		"t=1700000000,v1=\xc3\xa9",
	};
	strbuf_t h;
	sb_init(&h, 1024);
	for (size_t i = 0; i < ARRAY_LEN(tmpls); i++) {
		expand(&h, tmpls[i], v1);
		if (sig_ok(h.buf)) {
			fprintf(stderr, "    accepted: %s\n", tmpls[i]);
			CHECK(!"a malformed header was accepted");
		}
	}
	/* the template machinery itself makes a good header */
	expand(&h, "t=1700000000,v1=@", v1);
	CHECK(sig_ok(h.buf));
	sb_release(&h);
}

TEST(stripe_sig_bounds_the_header_and_the_v1_list)
{
	char good[65], bad[65];
	v1_for(NOW, WHSEC, good);
	v1_for(NOW, "whsec_other", bad);
	strbuf_t h;
	sb_init(&h, 16384);

	/* one good among several v1 */
	sb_addf(&h, "t=%" PRId64 ",v1=%s,v1=%s,v0=%s", NOW, bad, good, bad);
	CHECK(sig_ok(h.buf));
	/* eight v1 is the most; the good one last */
	sb_reset(&h);
	sb_addf(&h, "t=%" PRId64, NOW);
	for (int i = 0; i < 7; i++)
		sb_addf(&h, ",v1=%s", bad);
	sb_addf(&h, ",v1=%s", good);
	CHECK(sig_ok(h.buf));
	sb_addf(&h, ",v1=%s", bad);
	CHECK(!sig_ok(h.buf));

	/* up to 4096 bytes is read; past that nothing is */
	sb_reset(&h);
	sb_addf(&h, "t=%" PRId64 ",v1=%s,x=", NOW, good);
	while (h.len < 4096)
		sb_addc(&h, 'a');
	CHECK(h.len == 4096 && sig_ok(h.buf));
	sb_addc(&h, 'a');
	CHECK(!sig_ok(h.buf));
	while (h.len < 12000)
		sb_adds(&h, ",v0=aaaa");
	CHECK(!sig_ok(h.buf));
	sb_release(&h);
}

/* ------------------------------------------------------------ pure helpers */

TEST(pay_amount_str_formats_cents)
{
	char out[32];
	CHECK(pay_amount_str(1234, out));
	CHECK_STR(out, "12.34");
	CHECK(pay_amount_str(5, out));
	CHECK_STR(out, "0.05");
	CHECK(pay_amount_str(0, out));
	CHECK_STR(out, "0.00");
	CHECK(pay_amount_str(100, out));
	CHECK_STR(out, "1.00");
	CHECK(pay_amount_str(99999999, out));
	CHECK_STR(out, "999999.99");
	CHECK(pay_amount_str(123456789012345LL, out));
	CHECK_STR(out, "1234567890123.45");
	CHECK(pay_amount_str(INT64_MAX, out));
	CHECK_STR(out, "92233720368547758.07");
	CHECK(!pay_amount_str(-1, out));
	CHECK(!pay_amount_str(INT64_MIN, out));
}

TEST(pay_currency_ok_takes_two_decimal_iso_codes)
{
	CHECK(pay_currency_ok("USD"));
	CHECK(pay_currency_ok("EUR"));
	CHECK(pay_currency_ok("GBP"));
	CHECK(!pay_currency_ok("usd"));
	CHECK(!pay_currency_ok("JPY")); /* no cents */
	CHECK(!pay_currency_ok("KRW"));
	CHECK(!pay_currency_ok("KWD")); /* thousandths */
	CHECK(!pay_currency_ok("HUF")); /* whole units at PayPal */
	CHECK(!pay_currency_ok("US"));
	CHECK(!pay_currency_ok("USDX"));
	CHECK(!pay_currency_ok(""));
	CHECK(!pay_currency_ok(NULL));
	CHECK(!pay_currency_ok("U$D"));
}

TEST(pay_ids_keys_and_tokens_are_checked)
{
	CHECK(pay_id_ok("5O190127TN364715T", PAY_ID_MAX));
	CHECK(pay_id_ok("pi_3MtwBwLkdIwHu7ix28a3tqPa", PAY_ID_MAX));
	CHECK(pay_id_ok("a-b_c", PAY_ID_MAX));
	CHECK(!pay_id_ok("../orders", PAY_ID_MAX));
	CHECK(!pay_id_ok("a/b", PAY_ID_MAX));
	CHECK(!pay_id_ok("a%2Fb", PAY_ID_MAX));
	CHECK(!pay_id_ok("a b", PAY_ID_MAX));
	CHECK(!pay_id_ok("a?x=1", PAY_ID_MAX));
	CHECK(!pay_id_ok("", PAY_ID_MAX));
	CHECK(!pay_id_ok(NULL, PAY_ID_MAX));
	char long_id[PAY_ID_MAX + 2];
	memset(long_id, 'A', sizeof(long_id) - 1);
	long_id[PAY_ID_MAX + 1] = '\0';
	CHECK(!pay_id_ok(long_id, PAY_ID_MAX));
	long_id[PAY_ID_MAX] = '\0';
	CHECK(pay_id_ok(long_id, PAY_ID_MAX));

	CHECK(pay_key_ok("hwc3d-order-123"));
	CHECK(!pay_key_ok("hwc3d-order-1\r\nX-Evil: 1"));
	CHECK(!pay_key_ok("a key"));
	CHECK(!pay_key_ok(""));
	CHECK(pay_key_ok(long_id)); /* 64 characters: the most */
	long_id[PAY_ID_MAX] = 'A';
	CHECK(!pay_key_ok(long_id));

	CHECK(pay_token_ok("tok_visa"));
	CHECK(pay_token_ok("pm_card_visa"));
	CHECK(!pay_token_ok("tok visa"));
	CHECK(!pay_token_ok("tok_\r\n"));
	CHECK(!pay_token_ok("tok_\xc3\xa9"));
	CHECK(!pay_token_ok(""));
	CHECK(!pay_token_ok(NULL));
	char long_tok[PAY_TOKEN_MAX + 2];
	memset(long_tok, 't', sizeof(long_tok) - 1);
	long_tok[PAY_TOKEN_MAX + 1] = '\0';
	CHECK(!pay_token_ok(long_tok));
}

TEST(pay_message_set_bounds_and_cleans)
{
	char out[PAY_MESSAGE_MAX];
	pay_message_set(out, "Your card was declined.", "x");
	CHECK_STR(out, "Your card was declined.");
	pay_message_set(out, NULL, "fallback");
	CHECK_STR(out, "fallback");
	pay_message_set(out, "", "fallback");
	CHECK_STR(out, "fallback");
	pay_message_set(out, "a\r\nb\tc\x7f", NULL);
	CHECK_STR(out, "a  b c ");
	/* 200 two-byte characters: cut to 127 of them, not in the middle of one */
	char big[401];
	for (int i = 0; i < 200; i++) {
		big[2 * i] = (char)0xc3;
		big[2 * i + 1] = (char)0xa9;
	}
	big[400] = '\0';
	pay_message_set(out, big, NULL);
	CHECK(strlen(out) == 254);
	CHECK(((unsigned char)out[253] & 0xc0) == 0x80 && (unsigned char)out[252] == 0xc3);
}

/* ------------------------------------------------------------ against the fakes */

static struct {
	bool tried, up;
	pid_t pid;
	int in_fd;
	char stripe[128], stripe_key[128], paypal[128], paypal_id[128], paypal_secret[128];
} fk;

static void fakes_stop(void)
{
	if (!fk.up)
		return;
	fk.up = false;
	close(fk.in_fd); /* the fake exits when its stdin closes */
	for (int i = 0; i < 100; i++) {
		if (waitpid(fk.pid, NULL, WNOHANG) == fk.pid)
			return;
		struct timespec ts = { 0, 20000000L };
		nanosleep(&ts, NULL);
	}
	kill(fk.pid, SIGKILL);
	waitpid(fk.pid, NULL, 0);
}

static bool copy_field(json_t *j, const char *key, char out[128])
{
	const char *s = json_string_value(json_object_get(j, key));
	if (!s || strlen(s) >= 128)
		return false;
	memcpy(out, s, strlen(s) + 1);
	return true;
}

/* Starts the fakes once for the whole run; false (with a note) when they
 * cannot run here. */
static bool fakes_up(const char *test)
{
	static const char py[] = "/usr/bin/python3", script[] = "tests/api/fakes/payments.py";
	if (!fk.tried) {
		fk.tried = true;
		int in[2], out[2];
		if (access(py, X_OK) || access(script, R_OK) || pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
			goto skip;
		fk.pid = fork();
		if (fk.pid == 0) {
			dup2(in[0], 0);
			dup2(out[1], 1);
			execl(py, py, script, (char *)NULL);
			_exit(127);
		}
		close(in[0]);
		close(out[1]);
		fk.in_fd = in[1];
		char line[2048];
		size_t n = 0;
		struct pollfd pfd = { .fd = out[0], .events = POLLIN };
		while (n < sizeof(line) - 1 && !memchr(line, '\n', n) && poll(&pfd, 1, 15000) == 1) {
			ssize_t got = read(out[0], line + n, sizeof(line) - 1 - n);
			if (got <= 0)
				break;
			n += (size_t)got;
		}
		close(out[0]);
		line[n] = '\0';
		json_t *j = json_loads(line, 0, NULL);
		fk.up = fk.pid > 0 && copy_field(j, "stripe", fk.stripe) && copy_field(j, "stripe_secret_key", fk.stripe_key) &&
			copy_field(j, "paypal", fk.paypal) && copy_field(j, "paypal_client_id", fk.paypal_id) &&
			copy_field(j, "paypal_client_secret", fk.paypal_secret);
		json_decref(j);
		if (fk.pid > 0 && !fk.up) {
			fk.up = true;
			fakes_stop();
		}
		if (fk.up)
			atexit(fakes_stop);
	}
skip:
	if (!fk.up)
		fprintf(stderr, "    skip %s: the payment fakes (%s %s) did not start\n", test, py, script);
	return fk.up;
}

static const char *const pay_vars[] = {
	"STRIPE_SECRET_KEY", "STRIPE_API_BASE", "PAYPAL_CLIENT_ID", "PAYPAL_CLIENT_SECRET", "PAYPAL_API_BASE",
};

static void env_clear(void)
{
	for (size_t i = 0; i < ARRAY_LEN(pay_vars); i++)
		unsetenv(pay_vars[i]);
}

static void env_fakes(void)
{
	setenv("STRIPE_SECRET_KEY", fk.stripe_key, 1);
	setenv("STRIPE_API_BASE", fk.stripe, 1);
	setenv("PAYPAL_CLIENT_ID", fk.paypal_id, 1);
	setenv("PAYPAL_CLIENT_SECRET", fk.paypal_secret, 1);
	setenv("PAYPAL_API_BASE", fk.paypal, 1);
}

/* A control call to a fake (POST with a JSON body, or GET); the answer. */
static json_t *fake_ctl(const char *base, const char *path, const char *body)
{
	strbuf_t url;
	sb_init(&url, 1024);
	sb_addf(&url, "%s%s", base, path);
	pay_req_t r = { .who = "test", .url = url.buf, .body = body, .content_type = "application/json" };
	pay_ans_t a;
	bool ok = pay_http(&r, &a) && a.status == 200;
	sb_release(&url);
	json_t *j = ok ? json_incref(a.json) : NULL;
	pay_ans_release(&a);
	CHECK(j != NULL);
	return j;
}

static void fake_config(const char *base, const char *json_text)
{
	json_decref(fake_ctl(base, "/_fake/config", json_text));
}

static int64_t fake_count(const char *base, const char *what)
{
	json_t *j = fake_ctl(base, "/_fake/state", NULL);
	int64_t n = json_integer_value(json_object_get(j, what));
	json_decref(j);
	return n;
}

static pay_charge_t charge_of(const char *key, int64_t cents, const char *token)
{
	pay_charge_t c = { .idempotency_key = key, .amount_cents = cents, .currency = "USD", .token = token,
			   .description = "HWC3D TXN-2026-000123" };
	return c;
}

TEST(stripe_charges_once_per_key)
{
	if (!fakes_up(__func__))
		return;
	env_fakes();
	CHECK(stripe_configured());
	int64_t before = fake_count(fk.stripe, "charges");
	pay_charge_t c = charge_of("hwc3d-order-s1", 5998, "tok_visa");
	stripe_charge(&c);
	CHECK(c.status == PAY_SUCCEEDED);
	CHECK(str_has_prefix(c.ref, "pi_"));
	pay_charge_t again = charge_of("hwc3d-order-s1", 5998, "tok_visa");
	stripe_charge(&again);
	CHECK(again.status == PAY_SUCCEEDED);
	CHECK_STR(again.ref, c.ref);
	CHECK(fake_count(fk.stripe, "charges") == before + 1);

	/* a payment method id rather than a token */
	pay_charge_t pm = charge_of("hwc3d-order-s2", 1000, "pm_card_visa");
	stripe_charge(&pm);
	CHECK(pm.status == PAY_SUCCEEDED);

	/* the same key with another amount: Stripe's idempotency_error, unknown */
	pay_charge_t other = charge_of("hwc3d-order-s1", 100, "tok_visa");
	stripe_charge(&other);
	CHECK(other.status == PAY_UNREACHABLE);
	CHECK(fake_count(fk.stripe, "charges") == before + 2);
	env_clear();
}

TEST(stripe_declines)
{
	if (!fakes_up(__func__))
		return;
	env_fakes();
	pay_charge_t c = charge_of("hwc3d-order-s10", 5998, "tok_chargeDeclined");
	stripe_charge(&c);
	CHECK(c.status == PAY_DECLINED);
	CHECK_STR(c.message, "Your card was declined.");
	CHECK(str_has_prefix(c.ref, "pi_"));
	/* the decline is the key's result too */
	pay_charge_t again = charge_of("hwc3d-order-s10", 5998, "tok_chargeDeclined");
	stripe_charge(&again);
	CHECK(again.status == PAY_DECLINED);

	c = charge_of("hwc3d-order-s11", 5998, "tok_chargeDeclinedInsufficientFunds");
	stripe_charge(&c);
	CHECK(c.status == PAY_DECLINED);
	CHECK_STR(c.message, "Your card has insufficient funds.");

	/* an invalid_request_error: declined with our words, not Stripe's
	 * (which quote the token) */
	c = charge_of("hwc3d-order-s12", 5998, "src_unknown");
	stripe_charge(&c);
	CHECK(c.status == PAY_DECLINED);
	CHECK(!strstr(c.message, "src_unknown"));

	/* tokens that cannot be sent, and no token at all, never reach Stripe */
	c = charge_of("hwc3d-order-s13", 5998, "tok visa");
	stripe_charge(&c);
	CHECK(c.status == PAY_DECLINED);
	c = charge_of("hwc3d-order-s13", 5998, NULL);
	stripe_charge(&c);
	CHECK(c.status == PAY_DECLINED);
	c = charge_of("bad key\r\n", 5998, "tok_visa");
	stripe_charge(&c);
	CHECK(c.status == PAY_DECLINED);
	c = charge_of("hwc3d-order-s14", 5998, "tok_visa");
	c.currency = "JPY";
	stripe_charge(&c);
	CHECK(c.status == PAY_DECLINED);

	/* 3-D Secure is not run here */
	fake_config(fk.stripe, "{\"next_intent_status\": \"requires_action\"}");
	c = charge_of("hwc3d-order-s15", 5998, "tok_visa");
	stripe_charge(&c);
	CHECK(c.status == PAY_DECLINED);
	CHECK(strstr(c.message, "3-D Secure") != NULL);
	env_clear();
}

TEST(stripe_unknown_outcomes_are_unreachable)
{
	if (!fakes_up(__func__))
		return;
	env_fakes();
	int64_t before = fake_count(fk.stripe, "charges");
	const char *const failures[] = { "500", "503", "\"drop\"", "\"garbage\"" };
	for (size_t i = 0; i < ARRAY_LEN(failures); i++) {
		char cfg[64], key[32];
		snprintf(cfg, sizeof(cfg), "{\"fail_next\": %s}", failures[i]);
		snprintf(key, sizeof(key), "hwc3d-order-s2%zu", i);
		fake_config(fk.stripe, cfg);
		pay_charge_t c = charge_of(key, 2500, "tok_visa");
		stripe_charge(&c);
		CHECK(c.status == PAY_UNREACHABLE);
		/* nothing was done: the retry charges */
		stripe_charge(&c);
		CHECK(c.status == PAY_SUCCEEDED);
	}
	CHECK(fake_count(fk.stripe, "charges") == before + 4);

	/* charged, answer lost: the retry finds the charge and takes no more */
	fake_config(fk.stripe, "{\"fail_next\": \"drop_after\"}");
	pay_charge_t c = charge_of("hwc3d-order-s30", 2500, "tok_visa");
	stripe_charge(&c);
	CHECK(c.status == PAY_UNREACHABLE);
	CHECK(fake_count(fk.stripe, "charges") == before + 5);
	stripe_charge(&c);
	CHECK(c.status == PAY_SUCCEEDED);
	CHECK(fake_count(fk.stripe, "charges") == before + 5);

	/* processing, still processing when read again */
	fake_config(fk.stripe, "{\"next_intent_status\": \"processing\"}");
	c = charge_of("hwc3d-order-s31", 2500, "tok_visa");
	stripe_charge(&c);
	CHECK(c.status == PAY_UNREACHABLE);
	CHECK(str_has_prefix(c.ref, "pi_"));

	/* a refused key, and no server at all */
	setenv("STRIPE_SECRET_KEY", "sk_test_wrong", 1);
	c = charge_of("hwc3d-order-s32", 2500, "tok_visa");
	stripe_charge(&c);
	CHECK(c.status == PAY_UNREACHABLE);
	env_fakes();
	setenv("STRIPE_API_BASE", "http://127.0.0.1:1", 1);
	stripe_charge(&c);
	CHECK(c.status == PAY_UNREACHABLE);
	setenv("STRIPE_API_BASE", "ftp://127.0.0.1:1", 1);
	stripe_charge(&c);
	CHECK(c.status == PAY_UNREACHABLE);
	env_clear();
	CHECK(!stripe_configured());
}

TEST(stripe_refunds)
{
	if (!fakes_up(__func__))
		return;
	env_fakes();
	pay_charge_t c = charge_of("hwc3d-order-s40", 3000, "tok_visa");
	stripe_charge(&c);
	CHECK(c.status == PAY_SUCCEEDED);
	char msg[PAY_MESSAGE_MAX];
	int64_t before = fake_count(fk.stripe, "refunds");
	CHECK(stripe_refund(c.ref, 1000, "hwc3d-order-s40", msg) == PAY_SUCCEEDED);
	CHECK(stripe_refund(c.ref, 1000, "hwc3d-order-s40", msg) == PAY_SUCCEEDED); /* replayed */
	CHECK(fake_count(fk.stripe, "refunds") == before + 1);
	CHECK(stripe_refund(c.ref, 5000, "hwc3d-refund-s40b", msg) == PAY_DECLINED);
	CHECK(strstr(msg, "larger") != NULL);
	CHECK(stripe_refund(c.ref, 2000, "hwc3d-refund-s40c", msg) == PAY_SUCCEEDED);
	CHECK(stripe_refund(c.ref, 2000, "hwc3d-refund-s40d", msg) == PAY_DECLINED);
	CHECK_STR(msg, "This payment is already refunded.");
	CHECK(stripe_refund("pi_../x", 100, "hwc3d-refund-s40e", msg) == PAY_DECLINED);
	CHECK(stripe_refund("pi_unknown", 100, "hwc3d-refund-s40f", msg) == PAY_DECLINED);
	fake_config(fk.stripe, "{\"fail_next\": 502}");
	CHECK(stripe_refund(c.ref, 100, "hwc3d-refund-s40g", msg) == PAY_UNREACHABLE);
	env_clear();
}

/* An order made on the fake as PayPal's JS SDK would; its id into out. */
static void paypal_order(int64_t cents, bool approved, char out[128])
{
	char body[128];
	snprintf(body, sizeof(body), "{\"name\": \"create_order\", \"args\": [%" PRId64 ", \"USD\", null, %s]}", cents,
		 approved ? "true" : "false");
	json_t *j = fake_ctl(fk.paypal, "/_fake/call", body);
	const char *id = json_string_value(json_object_get(j, "result"));
	snprintf(out, 128, "%s", id ? id : "");
	json_decref(j);
}

static void paypal_approve(const char *order_id)
{
	char body[256];
	snprintf(body, sizeof(body), "{\"name\": \"approve\", \"args\": [\"%.128s\"]}", order_id);
	json_decref(fake_ctl(fk.paypal, "/_fake/call", body));
}

TEST(paypal_create_approve_capture)
{
	if (!fakes_up(__func__))
		return;
	env_fakes();
	CHECK(paypal_configured());
	int64_t captures = fake_count(fk.paypal, "captures");
	pay_charge_t c = charge_of("hwc3d-order-p1", 1234, NULL);
	paypal_charge(&c);
	CHECK(c.status == PAY_DECLINED);
	CHECK_STR(c.message, "Approve the payment on PayPal first");
	CHECK(pay_id_ok(c.ref, PAY_ID_MAX));
	char order[PAY_REF_MAX];
	snprintf(order, sizeof(order), "%s", c.ref);

	/* the same key finds the same order, still waiting */
	paypal_charge(&c);
	CHECK(c.status == PAY_DECLINED);
	CHECK_STR(c.ref, order);

	paypal_approve(order);
	paypal_charge(&c);
	CHECK(c.status == PAY_SUCCEEDED);
	CHECK(str_has_prefix(c.ref, order) && c.ref[strlen(order)] == ':');
	char ref[PAY_REF_MAX];
	snprintf(ref, sizeof(ref), "%s", c.ref);
	paypal_charge(&c);
	CHECK(c.status == PAY_SUCCEEDED);
	CHECK_STR(c.ref, ref);
	/* with the order id as the token, as a client that kept it would */
	pay_charge_t t = charge_of("hwc3d-order-p1", 1234, order);
	paypal_charge(&t);
	CHECK(t.status == PAY_SUCCEEDED);
	CHECK_STR(t.ref, ref);
	CHECK(fake_count(fk.paypal, "captures") == captures + 1);

	char msg[PAY_MESSAGE_MAX];
	CHECK(paypal_refund(ref, 1234, "hwc3d-order-p1", msg) == PAY_SUCCEEDED);
	CHECK(paypal_refund(ref, 1234, "hwc3d-order-p1", msg) == PAY_SUCCEEDED); /* replayed */
	CHECK(paypal_refund(ref, 1234, "hwc3d-refund-p1b", msg) == PAY_DECLINED);
	CHECK_STR(msg, "This payment is already refunded.");
	CHECK(fake_count(fk.paypal, "refunds") >= 1);
	env_clear();
}

TEST(paypal_approved_order_as_token)
{
	if (!fakes_up(__func__))
		return;
	env_fakes();
	char order[128];
	paypal_order(5998, true, order);
	pay_charge_t c = charge_of("hwc3d-order-p10", 5998, order);
	paypal_charge(&c);
	CHECK(c.status == PAY_SUCCEEDED);
	/* the same order for another purchase: already used */
	pay_charge_t twice = charge_of("hwc3d-order-p11", 5998, order);
	paypal_charge(&twice);
	CHECK(twice.status == PAY_DECLINED);
	CHECK(strstr(twice.message, "already") != NULL);

	/* an order for another amount is not captured */
	paypal_order(100, true, order);
	c = charge_of("hwc3d-order-p12", 5998, order);
	int64_t captures = fake_count(fk.paypal, "captures");
	paypal_charge(&c);
	CHECK(c.status == PAY_DECLINED);
	CHECK(fake_count(fk.paypal, "captures") == captures);

	/* not approved yet; unknown; not an id */
	paypal_order(5998, false, order);
	c = charge_of("hwc3d-order-p13", 5998, order);
	paypal_charge(&c);
	CHECK(c.status == PAY_DECLINED);
	CHECK_STR(c.message, "Approve the payment on PayPal first");
	c = charge_of("hwc3d-order-p14", 5998, "NOSUCHORDER123");
	paypal_charge(&c);
	CHECK(c.status == PAY_DECLINED);
	c = charge_of("hwc3d-order-p15", 5998, "../../v1/oauth2/token");
	paypal_charge(&c);
	CHECK(c.status == PAY_DECLINED);

	/* refund by the order id alone, partly, then too much */
	paypal_order(3000, true, order);
	c = charge_of("hwc3d-order-p16", 3000, order);
	paypal_charge(&c);
	CHECK(c.status == PAY_SUCCEEDED);
	char msg[PAY_MESSAGE_MAX];
	CHECK(paypal_refund(order, 1000, "hwc3d-refund-p16a", msg) == PAY_SUCCEEDED);
	CHECK(paypal_refund(order, 2500, "hwc3d-refund-p16b", msg) == PAY_DECLINED);
	CHECK(strstr(msg, "larger") != NULL);
	CHECK(paypal_refund("../x", 100, "hwc3d-refund-p16c", msg) == PAY_DECLINED);
	env_clear();
}

TEST(paypal_declines_and_unknown_outcomes)
{
	if (!fakes_up(__func__))
		return;
	env_fakes();
	char order[128];
	paypal_order(2000, true, order);
	fake_config(fk.paypal, "{\"decline_next_capture\": true}");
	pay_charge_t c = charge_of("hwc3d-order-p20", 2000, order);
	paypal_charge(&c);
	CHECK(c.status == PAY_DECLINED);
	CHECK(strstr(c.message, "declined") != NULL);
	/* the buyer picks another card on PayPal; the same key captures */
	paypal_charge(&c);
	CHECK(c.status == PAY_SUCCEEDED);

	/* captured, answer lost: the retry finds the capture */
	paypal_order(2000, true, order);
	int64_t captures = fake_count(fk.paypal, "captures");
	fake_config(fk.paypal, "{\"fail_next\": \"drop_after\", \"fail_on\": \"/capture\"}");
	c = charge_of("hwc3d-order-p21", 2000, order);
	paypal_charge(&c);
	CHECK(c.status == PAY_UNREACHABLE);
	paypal_charge(&c);
	CHECK(c.status == PAY_SUCCEEDED);
	CHECK(fake_count(fk.paypal, "captures") == captures + 1);
	fake_config(fk.paypal, "{\"fail_on\": \"\"}");

	/* a 5xx and garbage on the order read */
	paypal_order(2000, true, order);
	c = charge_of("hwc3d-order-p22", 2000, order);
	fake_config(fk.paypal, "{\"fail_next\": 500}");
	paypal_charge(&c);
	CHECK(c.status == PAY_UNREACHABLE);
	fake_config(fk.paypal, "{\"fail_next\": \"garbage\"}");
	paypal_charge(&c);
	CHECK(c.status == PAY_UNREACHABLE);
	paypal_charge(&c);
	CHECK(c.status == PAY_SUCCEEDED);

	/* a pending capture is not money yet */
	paypal_order(2000, true, order);
	fake_config(fk.paypal, "{\"next_capture_status\": \"PENDING\"}");
	c = charge_of("hwc3d-order-p23", 2000, order);
	paypal_charge(&c);
	CHECK(c.status == PAY_UNREACHABLE);
	env_clear();
}

TEST(paypal_token_is_cached_and_renewed)
{
	if (!fakes_up(__func__))
		return;
	env_fakes();
	char order[128];
	paypal_order(1500, true, order);
	pay_charge_t c = charge_of("hwc3d-order-p30", 1500, NULL);
	paypal_charge(&c); /* makes sure a token is cached */
	int64_t issued = fake_count(fk.paypal, "tokens_issued");
	c = charge_of("hwc3d-order-p31", 1500, NULL);
	paypal_charge(&c);
	CHECK(c.status == PAY_DECLINED);
	CHECK(fake_count(fk.paypal, "tokens_issued") == issued);

	/* a revoked token: one 401, a new token, the call succeeds */
	json_decref(fake_ctl(fk.paypal, "/_fake/call", "{\"name\": \"revoke_tokens\"}"));
	c = charge_of("hwc3d-order-p32", 1500, order);
	paypal_charge(&c);
	CHECK(c.status == PAY_SUCCEEDED);
	CHECK(fake_count(fk.paypal, "tokens_issued") == issued + 1);

	/* credentials PayPal refuses */
	setenv("PAYPAL_CLIENT_ID", "someone-else", 1);
	c = charge_of("hwc3d-order-p33", 1500, NULL);
	paypal_charge(&c);
	CHECK(c.status == PAY_UNREACHABLE);
	env_fakes();
	setenv("PAYPAL_API_BASE", "http://127.0.0.1:1", 1);
	paypal_charge(&c);
	CHECK(c.status == PAY_UNREACHABLE);
	env_clear();
	CHECK(!paypal_configured());
}
