/* sigv4.c: AWS Signature Version 4 (see sigv4.h), on libsodium's SHA-256
 * and HMAC-SHA256. */
#include <ctype.h>
#include <strings.h>
#include <sodium.h>
#include "sigv4.h"
#include "../core/util.h"

#define SIGV4_OUT_MAX ((size_t)64 << 10)

void sigv4_amz_date(time_t when, char out[17])
{
	struct tm tm;
	gmtime_r(&when, &tm);
	if (strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
		out[0] = '\0'; /* a year past 9999: nothing will verify it anyway */
}

static void hex_of(const unsigned char *bin, size_t n, char *out)
{
	sodium_bin2hex(out, n * 2 + 1, bin, n);
}

void sigv4_sha256_hex(const void *data, size_t n, char out[SIGV4_HEX_LEN])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, data, n);
	hex_of(h, sizeof(h), out);
}

bool sigv4_sha256_file(FILE *f, char out[SIGV4_HEX_LEN])
{
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	unsigned char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		crypto_hash_sha256_update(&st, buf, n);
	if (ferror(f))
		return false;
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_final(&st, h);
	hex_of(h, sizeof(h), out);
	rewind(f);
	return true;
}

/* ------------------------------------------------------------ headers */

struct canon_header {
	char *name;  /* lower case */
	char *value; /* trimmed, inner runs of spaces folded to one */
};

static int header_cmp(const void *a, const void *b)
{
	return strcmp(((const struct canon_header *)a)->name, ((const struct canon_header *)b)->name);
}

static void canon_value(strbuf_t *sb, const char *v)
{
	while (*v == ' ' || *v == '\t')
		v++;
	bool space = false;
	for (; *v; v++) {
		if (*v == ' ' || *v == '\t') {
			space = true;
			continue;
		}
		if (space)
			sb_addc(sb, ' ');
		space = false;
		sb_addc(sb, *v);
	}
}

/* The request's headers in canonical form, sorted by name; free with
 * canon_free. */
static struct canon_header *canon_headers(const struct sigv4_request *r)
{
	struct canon_header *h = xcalloc(r->n_headers ? r->n_headers : 1, sizeof(*h));
	for (size_t i = 0; i < r->n_headers; i++) {
		h[i].name = xstrdup(r->headers[i].name);
		for (char *p = h[i].name; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		strbuf_t v;
		sb_init(&v, SIGV4_OUT_MAX);
		canon_value(&v, r->headers[i].value);
		h[i].value = sb_detach(&v, NULL);
	}
	qsort(h, r->n_headers, sizeof(*h), header_cmp);
	return h;
}

static void canon_free(struct canon_header *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
}

static void add_signed_names(strbuf_t *sb, const struct canon_header *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_addc(sb, ';');
		sb_adds(sb, h[i].name);
	}
}

/* The buffer as a string, or NULL (and nothing to free) on overflow. */
static char *finish(strbuf_t *sb)
{
	if (sb->overflow) {
		sb_release(sb);
		return NULL;
	}
	return sb_detach(sb, NULL);
}

char *sigv4_signed_headers(const struct sigv4_request *r)
{
	struct canon_header *h = canon_headers(r);
	strbuf_t sb;
	sb_init(&sb, SIGV4_OUT_MAX);
	add_signed_names(&sb, h, r->n_headers);
	canon_free(h, r->n_headers);
	return finish(&sb);
}

char *sigv4_canonical_request(const struct sigv4_request *r)
{
	struct canon_header *h = canon_headers(r);
	strbuf_t sb;
	sb_init(&sb, SIGV4_OUT_MAX);
	sb_addf(&sb, "%s\n%s\n%s\n", r->method, r->canonical_uri, r->canonical_query ? r->canonical_query : "");
	for (size_t i = 0; i < r->n_headers; i++)
		sb_addf(&sb, "%s:%s\n", h[i].name, h[i].value);
	sb_addc(&sb, '\n');
	add_signed_names(&sb, h, r->n_headers);
	sb_addf(&sb, "\n%s", r->payload_hash);
	canon_free(h, r->n_headers);
	return finish(&sb);
}

/* ------------------------------------------------------------ signing */

static void add_scope(strbuf_t *sb, const struct sigv4_scope *s, const char *amz_date)
{
	sb_add(sb, amz_date, 8);
	sb_addf(sb, "/%s/%s/aws4_request", s->region, s->service);
}

char *sigv4_string_to_sign(const struct sigv4_scope *s, const char *canonical_request)
{
	char date[17], hash[SIGV4_HEX_LEN];
	sigv4_amz_date(s->when, date);
	sigv4_sha256_hex(canonical_request, strlen(canonical_request), hash);
	strbuf_t sb;
	sb_init(&sb, SIGV4_OUT_MAX);
	sb_addf(&sb, "AWS4-HMAC-SHA256\n%s\n", date);
	add_scope(&sb, s, date);
	sb_addf(&sb, "\n%s", hash);
	return finish(&sb);
}

static void hmac(const unsigned char *key, size_t keylen, const char *msg, size_t msglen,
		 unsigned char out[crypto_auth_hmacsha256_BYTES])
{
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, key, keylen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, msglen);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

void sigv4_signature(const struct sigv4_scope *s, const char *string_to_sign, char out[SIGV4_HEX_LEN])
{
	char date[17];
	sigv4_amz_date(s->when, date);
	/* kSecret = "AWS4" + secret; kDate, kRegion, kService, kSigning follow. */
	size_t slen = strlen(s->secret_key);
	unsigned char *secret = xmalloc(slen + 4);
	memcpy(secret, "AWS4", 4);
	memcpy(secret + 4, s->secret_key, slen);
	unsigned char k1[crypto_auth_hmacsha256_BYTES], k2[sizeof(k1)];
	hmac(secret, slen + 4, date, 8, k1);
	sodium_memzero(secret, slen + 4);
	free(secret);
	hmac(k1, sizeof(k1), s->region, strlen(s->region), k2);
	hmac(k2, sizeof(k2), s->service, strlen(s->service), k1);
	hmac(k1, sizeof(k1), "aws4_request", 12, k2);
	unsigned char sig[crypto_auth_hmacsha256_BYTES];
	hmac(k2, sizeof(k2), string_to_sign, strlen(string_to_sign), sig);
	sodium_memzero(k1, sizeof(k1));
	sodium_memzero(k2, sizeof(k2));
	hex_of(sig, sizeof(sig), out);
}

/* The signature of r, or false when an input was too large. */
static bool sign_request(const struct sigv4_scope *s, const struct sigv4_request *r, char sig[SIGV4_HEX_LEN])
{
	char *creq = sigv4_canonical_request(r);
	char *sts = creq ? sigv4_string_to_sign(s, creq) : NULL;
	if (sts)
		sigv4_signature(s, sts, sig);
	free(creq);
	free(sts);
	return sts != NULL;
}

char *sigv4_authorization(const struct sigv4_scope *s, const struct sigv4_request *r)
{
	char sig[SIGV4_HEX_LEN], date[17];
	char *names = sigv4_signed_headers(r);
	if (!names || !sign_request(s, r, sig)) {
		free(names);
		return NULL;
	}
	sigv4_amz_date(s->when, date);
	strbuf_t sb;
	sb_init(&sb, SIGV4_OUT_MAX);
	sb_addf(&sb, "AWS4-HMAC-SHA256 Credential=%s/", s->access_key);
	add_scope(&sb, s, date);
	sb_addf(&sb, ",SignedHeaders=%s,Signature=%s", names, sig);
	free(names);
	return finish(&sb);
}

struct enc_param {
	char *name, *value; /* encoded */
};

static int param_cmp(const void *a, const void *b)
{
	const struct enc_param *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->value, y->value);
}

static char *encoded(const char *s)
{
	strbuf_t sb;
	sb_init(&sb, SIGV4_OUT_MAX);
	sb_add_uri_encoded(&sb, s, false);
	return finish(&sb);
}

char *sigv4_presign(const struct sigv4_scope *s, const char *method, const char *origin, const char *host,
		    const char *canonical_uri, int expires_s, const struct sigv4_param *extra, size_t n_extra)
{
	if (expires_s < 1 || expires_s > SIGV4_MAX_EXPIRES || n_extra > 8)
		return NULL;
	char date[17], expires[16];
	sigv4_amz_date(s->when, date);
	snprintf(expires, sizeof(expires), "%d", expires_s);
	strbuf_t cred;
	sb_init(&cred, SIGV4_OUT_MAX);
	sb_addf(&cred, "%s/", s->access_key);
	add_scope(&cred, s, date);
	if (cred.overflow) {
		sb_release(&cred);
		return NULL;
	}

	/* The canonical query: every parameter encoded, sorted by name. */
	struct sigv4_param own[] = {
		{ "X-Amz-Algorithm", "AWS4-HMAC-SHA256" },
		{ "X-Amz-Credential", cred.buf },
		{ "X-Amz-Date", date },
		{ "X-Amz-Expires", expires },
		{ "X-Amz-SignedHeaders", "host" },
	};
	struct enc_param p[ARRAY_LEN(own) + 8];
	size_t n = 0;
	bool bad = false;
	for (size_t i = 0; i < ARRAY_LEN(own) + n_extra; i++) {
		const struct sigv4_param *src = i < ARRAY_LEN(own) ? &own[i] : &extra[i - ARRAY_LEN(own)];
		if (i >= ARRAY_LEN(own) && !strncasecmp(src->name, "X-Amz-", 6))
			bad = true;
		p[n].name = encoded(src->name);
		p[n].value = encoded(src->value);
		bad |= !p[n].name || !p[n].value;
		n++;
	}
	sb_release(&cred);
	qsort(p, n, sizeof(p[0]), param_cmp);
	strbuf_t q;
	sb_init(&q, SIGV4_OUT_MAX);
	for (size_t i = 0; i < n; i++) {
		if (!bad)
			sb_addf(&q, "%s%s=%s", i ? "&" : "", p[i].name, p[i].value);
		free(p[i].name);
		free(p[i].value);
	}
	if (bad || q.overflow) {
		sb_release(&q);
		return NULL;
	}

	struct sigv4_header h = { "host", host };
	struct sigv4_request r = {
		.method = method,
		.canonical_uri = canonical_uri,
		.canonical_query = q.buf,
		.headers = &h,
		.n_headers = 1,
		.payload_hash = SIGV4_UNSIGNED_PAYLOAD,
	};
	char sig[SIGV4_HEX_LEN];
	if (!sign_request(s, &r, sig)) {
		sb_release(&q);
		return NULL;
	}
	strbuf_t url;
	sb_init(&url, SIGV4_OUT_MAX);
	sb_addf(&url, "%s%s?%s&X-Amz-Signature=%s", origin, canonical_uri, q.buf, sig);
	sb_release(&q);
	return finish(&url);
}
