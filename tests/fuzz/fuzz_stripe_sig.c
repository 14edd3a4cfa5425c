/*
 * fuzz_stripe_sig: the Stripe-Signature header parser (stripe_sig.c).
 *
 * Input: the header, then a newline, then the payload (any bytes; no
 * newline means an empty payload).  In the header "$SIG" becomes the
 * valid v1 of the payload at t=1700000000 and "$T" becomes 1700000000, so
 * the fuzzer starts from accepted headers and mutates around them.  The
 * header is a C string: it ends at its first NUL, as a header value does.
 *
 * Checked: stripe_signature_ok agrees with a reference written the
 * obvious way here (a copy split with strsep, one HMAC update over a
 * joined buffer) on every input, with now = t + 100 and the default
 * tolerance; ASan and UBSan watch the parser's reads and arithmetic.
 */
#include <sodium.h>
#include <stdlib.h>
#include "fuzz.h"
#include "svc/payments.h"
#include "core/strbuf.h"
#include "core/util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c) do { if (!(c)) { fprintf(stderr, "fuzz_stripe_sig: %s\n", #c); abort(); } } while (0)

#define SECRET "whsec_fuzz_0123456789abcdef"
#define T_STR "1700000000"
#define NOW ((int64_t)1700000100)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	UNUSED(argc);
	UNUSED(argv);
	if (sodium_init() < 0)
		abort();
	return 0;
}

static void hmac_hex(const char *t, const uint8_t *payload, size_t len, char out[65])
{
	size_t tl = strlen(t);
	unsigned char *msg = xmalloc(tl + 1 + len);
	memcpy(msg, t, tl);
	msg[tl] = '.';
	if (len)
		memcpy(msg + tl + 1, payload, len);
	/* one update over the joined message (libsodium's one-shot call
	 * takes only 32-byte keys, and the secret is longer) */
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)SECRET, strlen(SECRET));
	crypto_auth_hmacsha256_update(&st, msg, tl + 1 + len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(out, 65, mac, sizeof(mac));
	free(msg);
}

/* The rules of payments.h, spelled out plainly. */
static bool reference(const char *header, const uint8_t *payload, size_t len)
{
	size_t n = strlen(header);
	if (n == 0 || n > 4096)
		return false;
	for (size_t i = 0; i < n; i++)
		if (header[i] <= ' ' || header[i] > '~')
			return false;
	char *copy = xstrdup(header), *rest = copy, *item, *t = NULL;
	char *v1[8];
	int n_t = 0, n_v1 = 0;
	bool bad = false;
	while (!bad && (item = strsep(&rest, ",")) != NULL) {
		char *eq = strchr(item, '=');
		if (!eq || eq == item) {
			bad = true;
			break;
		}
		*eq = '\0';
		if (!strcmp(item, "t")) {
			t = eq + 1;
			n_t++;
		} else if (!strcmp(item, "v1")) {
			if (n_v1 < 8)
				v1[n_v1] = eq + 1;
			n_v1++;
		}
	}
	bool ok = false;
	if (!bad && n_t == 1 && n_v1 >= 1 && n_v1 <= 8 && *t && strlen(t) <= 12 &&
	    strspn(t, "0123456789") == strlen(t)) {
		__int128 d = (__int128)NOW - (__int128)strtoll(t, NULL, 10);
		if (d < 0)
			d = -d;
		if (d <= STRIPE_SIGNATURE_TOLERANCE_S) {
			char hex[65];
			hmac_hex(t, payload, len, hex);
			for (int i = 0; i < n_v1; i++)
				if (!strcmp(v1[i], hex))
					ok = true;
		}
	}
	free(copy);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t hlen = nl ? (size_t)(nl - data) : size;
	const uint8_t *payload = nl ? nl + 1 : data + size;
	size_t plen = nl ? size - hlen - 1 : 0;

	char sig[65];
	hmac_hex(T_STR, payload, plen, sig);
	strbuf_t h;
	sb_init(&h, 1 << 20);
	for (size_t i = 0; i < hlen; i++) {
		if (hlen - i >= 4 && !memcmp(data + i, "$SIG", 4)) {
			sb_adds(&h, sig);
			i += 3;
		} else if (hlen - i >= 2 && !memcmp(data + i, "$T", 2)) {
			sb_adds(&h, T_STR);
			i += 1;
		} else {
			sb_addc(&h, (char)data[i]);
		}
	}
	bool got = stripe_signature_ok(h.buf, (const char *)payload, plen, SECRET, NOW, STRIPE_SIGNATURE_TOLERANCE_S);
	bool want = reference(h.buf, payload, plen);
	if (got != want)
		fprintf(stderr, "fuzz_stripe_sig: got %d, want %d for \"%.200s\"\n", got, want, h.buf);
	ASSERT(got == want);
	/* another secret never verifies what this one signed */
	if (got)
		ASSERT(!stripe_signature_ok(h.buf, (const char *)payload, plen, "whsec_other", NOW,
					    STRIPE_SIGNATURE_TOLERANCE_S));
	sb_release(&h);
	return 0;
}
