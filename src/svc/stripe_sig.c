/*
 * stripe_sig.c: Stripe webhook signatures (payments.h, stripe_signature_ok).
 *
 * The header is "t=<unix seconds>,v1=<hex>[,v1=<hex>...][,v0=<hex>]"
 * (Stripe signs with every active endpoint secret, so a header may carry
 * several v1 while a secret is being rolled).  The signature is the
 * lower-case hex HMAC-SHA256, keyed with the endpoint secret as it is
 * written ("whsec_..."), of "<t>.<payload>", t exactly as sent.
 *
 * Parsing is strict and bounded, and allocates nothing: the header is read
 * in place up to HEADER_MAX bytes; it is a comma-separated list of
 * name=value items, none empty; exactly one t, all digits (at most 12:
 * until the year 33658), and 1..V1_MAX v1.  Other schemes (v0, future
 * ones) are skipped, as Stripe's own libraries do, but still count
 * against the bounds.  No whitespace is allowed (the server hands over
 * the header value trimmed).  Each v1 is compared with the expected hex in
 * constant time (sodium_memcmp); a v1 of another length just does not
 * match.  The timestamp must be within tolerance_s of now_s either way:
 * Stripe's libraries only refuse old ones, but a timestamp from the future
 * is no more a fresh delivery than an old one.
 */
#include <sodium.h>
#include "payments.h"
#include "../core/util.h"

#define HEADER_MAX 4096
#define V1_MAX 8
#define T_DIGITS_MAX 12
#define SIG_HEX_LEN (crypto_auth_hmacsha256_BYTES * 2)

struct item {
	const char *name, *value;
	size_t name_len, value_len;
};

/* The next item of the header at *p (advanced past it and its comma).
 * False at the end or on a malformed item (*bad set). */
static bool next_item(const char **p, const char *end, struct item *it, bool *bad)
{
	if (*p >= end)
		return false;
	const char *start = *p, *comma = memchr(start, ',', (size_t)(end - start));
	const char *stop = comma ? comma : end;
	const char *eq = memchr(start, '=', (size_t)(stop - start));
	if (!eq || eq == start || (comma && comma + 1 == end)) {
		*bad = true; /* no '=', an empty name, or a trailing comma */
		return false;
	}
	it->name = start;
	it->name_len = (size_t)(eq - start);
	it->value = eq + 1;
	it->value_len = (size_t)(stop - it->value);
	*p = comma ? comma + 1 : end;
	return true;
}

static bool is(const struct item *it, const char *name)
{
	return it->name_len == strlen(name) && !memcmp(it->name, name, it->name_len);
}

bool stripe_signature_ok(const char *header, const char *payload, size_t len, const char *secret, int64_t now_s,
			 int64_t tolerance_s)
{
	if (!header || !secret || !*secret || (!payload && len) || tolerance_s < 0)
		return false;
	size_t hlen = strnlen(header, HEADER_MAX + 1);
	if (hlen == 0 || hlen > HEADER_MAX)
		return false;
	const char *p = header, *end = header + hlen;
	for (const char *q = p; q < end; q++)
		if (*q <= ' ' || *q > '~')
			return false;

	struct item it, t = { 0 }, v1[V1_MAX];
	size_t n_v1 = 0;
	bool bad = false, have_t = false;
	while (next_item(&p, end, &it, &bad)) {
		if (is(&it, "t")) {
			if (have_t)
				return false;
			t = it;
			have_t = true;
		} else if (is(&it, "v1")) {
			if (n_v1 == V1_MAX)
				return false;
			v1[n_v1++] = it;
		}
	}
	if (bad || !have_t || n_v1 == 0 || t.value_len == 0 || t.value_len > T_DIGITS_MAX)
		return false;

	int64_t ts = 0;
	for (size_t i = 0; i < t.value_len; i++) {
		if (t.value[i] < '0' || t.value[i] > '9')
			return false;
		ts = ts * 10 + (t.value[i] - '0'); /* at most 12 digits: no overflow */
	}
	/* |now - t| <= tolerance, without overflowing on any now_s */
	if (now_s >= ts ? (uint64_t)now_s - (uint64_t)ts > (uint64_t)tolerance_s
			: (uint64_t)ts - (uint64_t)now_s > (uint64_t)tolerance_s)
		return false;

	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char hex[SIG_HEX_LEN + 1];
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)t.value, t.value_len);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	if (len)
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)payload, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));

	/* every v1 is compared, so the time taken does not say which matched */
	bool ok = false;
	for (size_t i = 0; i < n_v1; i++)
		if (v1[i].value_len == SIG_HEX_LEN && sodium_memcmp(v1[i].value, hex, SIG_HEX_LEN) == 0)
			ok = true;
	sodium_memzero(&st, sizeof(st));
	return ok;
}
