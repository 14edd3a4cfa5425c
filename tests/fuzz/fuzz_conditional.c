/*
 * fuzz_conditional: the Range, If-None-Match and Accept-Encoding parsers
 * of static files (http/conditional.c).
 *
 * Input: four lines split at '\n':
 *   1. the file size in decimal (anything else, or over 2^64 - 1: 100);
 *   2. the Range header;
 *   3. the If-None-Match header;
 *   4. the Accept-Encoding header (to the end of the input).
 * A missing line is an absent header (NULL); each header is a C string, so
 * it ends at its first NUL, as a header value does.
 *
 * Checked, besides ASan and UBSan on every read:
 *  - every parser is deterministic (a second call gives the same answer);
 *  - Range, on the given size and on 0, 1, 2, 100, 2^64 - 2 and 2^64 - 1:
 *    HTTP_RANGE_OK always has from <= to < size, other results leave from
 *    and to alone, and the result agrees with a reference written the
 *    plain way here (split at the '-', digits added up with an overflow
 *    check instead of strtoull);
 *  - If-None-Match, against a strong ETag made from the header (the header
 *    itself when it is one, else its ETag characters but ',' in quotes)
 *    and its "-gz" twin: agrees with a reference that splits a copy with
 *    strsep; a match means "*" or the header contains a tag; a header
 *    equal to the tag, or "W/" + the tag, or " tag\t", or any header +
 *    ", " + the tag, matches;
 *  - Accept-Encoding: a yes means the header names "gzip" (any case) or
 *    "*"; "gzip, " + any header is yes and "gzip;q=0, " + any header is
 *    no; "identity, " + the header answers as the header does; flipping
 *    the case of every letter but q changes nothing.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "fuzz.h"
#include "http/conditional.h"
#include "core/strbuf.h"
#include "core/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c) do { if (!(c)) { fprintf(stderr, "fuzz_conditional: %s\n", #c); abort(); } } while (0)

#define SENTINEL 0x5a5a5a5a5a5a5a5aULL
#define DEFAULT_SIZE 100

/* ---------------------------------------------------------- references */

/* n > 0 decimal digits that fit in 64 bits. */
static bool ref_number(const char *s, size_t n, uint64_t *out)
{
	if (!n)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		uint64_t d = (uint64_t)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static enum http_range ref_range(const char *h, uint64_t size, uint64_t *from, uint64_t *to)
{
	if (!h || strncmp(h, "bytes=", 6))
		return HTTP_RANGE_NONE;
	const char *spec = h + 6, *dash = strchr(spec, '-');
	if (strchr(spec, ',') || !dash)
		return HTTP_RANGE_NONE;
	const char *last = dash + 1;
	uint64_t a, b;
	if (dash == spec) {
		if (!ref_number(last, strlen(last), &b))
			return HTTP_RANGE_NONE;
		if (b == 0 || size == 0)
			return HTTP_RANGE_UNSATISFIABLE;
		*from = b >= size ? 0 : size - b;
		*to = size - 1;
		return HTTP_RANGE_OK;
	}
	if (!ref_number(spec, (size_t)(dash - spec), &a))
		return HTTP_RANGE_NONE;
	b = UINT64_MAX;
	if (*last && (!ref_number(last, strlen(last), &b) || b < a))
		return HTTP_RANGE_NONE;
	if (a >= size)
		return HTTP_RANGE_UNSATISFIABLE;
	*from = a;
	*to = b < size ? b : size - 1;
	return HTTP_RANGE_OK;
}

/* For non-empty tags a and b without ','. */
static bool ref_etag(const char *inm, const char *a, const char *b)
{
	if (!inm)
		return false;
	if (!strcmp(inm, "*"))
		return true;
	char *copy = xstrdup(inm), *rest = copy, *m;
	bool hit = false;
	while (!hit && (m = strsep(&rest, ",")) != NULL) {
		m += strspn(m, " \t");
		if (!strncmp(m, "W/", 2))
			m += 2;
		size_t n = strlen(m);
		while (n && (m[n - 1] == ' ' || m[n - 1] == '\t'))
			m[--n] = '\0';
		hit = (a && !strcmp(m, a)) || (b && !strcmp(m, b));
	}
	free(copy);
	return hit;
}

/* ---------------------------------------------------------- checks */

static void check_range(const char *h, uint64_t size)
{
	uint64_t f1 = SENTINEL, t1 = SENTINEL, f2 = SENTINEL, t2 = SENTINEL, rf = SENTINEL, rt = SENTINEL;
	enum http_range r1 = http_range_parse(h, size, &f1, &t1);
	enum http_range r2 = http_range_parse(h, size, &f2, &t2);
	enum http_range want = ref_range(h, size, &rf, &rt);
	ASSERT(r1 == HTTP_RANGE_OK || r1 == HTTP_RANGE_NONE || r1 == HTTP_RANGE_UNSATISFIABLE);
	ASSERT(r1 == r2 && f1 == f2 && t1 == t2);
	if (r1 == HTTP_RANGE_OK)
		ASSERT(f1 <= t1 && t1 < size);
	else
		ASSERT(f1 == SENTINEL && t1 == SENTINEL);
	if (r1 != want || f1 != rf || t1 != rt)
		fprintf(stderr, "fuzz_conditional: Range \"%.200s\" of %llu: got %d [%llu, %llu], want %d [%llu, %llu]\n",
			h, (unsigned long long)size, (int)r1, (unsigned long long)f1, (unsigned long long)t1, (int)want,
			(unsigned long long)rf, (unsigned long long)rt);
	ASSERT(r1 == want && f1 == rf && t1 == rt);
}

static const char *join(strbuf_t *sb, const char *a, const char *b, const char *c)
{
	sb_reset(sb);
	sb_adds(sb, a);
	sb_adds(sb, b);
	sb_adds(sb, c);
	ASSERT(!sb->overflow);
	return sb->buf;
}

static bool is_etagc(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x7e && c != ',') || c >= 0x80;
}

/* A strong ETag from the header: itself when it is one, else its ETag
 * characters (at most 64) in quotes. */
static void make_tag(const char *inm, strbuf_t *tag)
{
	size_t n = inm ? strlen(inm) : 0;
	bool strong = n >= 2 && inm[0] == '"' && inm[n - 1] == '"';
	for (size_t i = 1; strong && i + 1 < n; i++)
		strong = is_etagc((unsigned char)inm[i]);
	if (strong) {
		sb_adds(tag, inm);
		return;
	}
	sb_addc(tag, '"');
	for (size_t i = 0, k = 0; i < n && k < 64; i++)
		if (is_etagc((unsigned char)inm[i])) {
			sb_addc(tag, inm[i]);
			k++;
		}
	sb_addc(tag, '"');
}

static void check_etag(const char *inm)
{
	strbuf_t tag, gz, sb;
	sb_init(&tag, 0);
	sb_init(&gz, 0);
	sb_init(&sb, 0);
	make_tag(inm, &tag);
	sb_add(&gz, tag.buf, tag.len - 1);
	sb_adds(&gz, "-gz\"");
	const char *a = tag.buf, *b = gz.buf;

	bool got = http_etag_matches(inm, a, b);
	ASSERT(got == http_etag_matches(inm, a, b));
	if (got != ref_etag(inm, a, b))
		fprintf(stderr, "fuzz_conditional: If-None-Match \"%.200s\" for %s: got %d\n", inm, a, got);
	ASSERT(got == ref_etag(inm, a, b));
	ASSERT(http_etag_matches(inm, a, NULL) == ref_etag(inm, a, NULL));
	ASSERT(http_etag_matches(inm, "\"abc\"", NULL) == ref_etag(inm, "\"abc\"", NULL));
	if (got)
		ASSERT(!strcmp(inm, "*") || strstr(inm, a) || strstr(inm, b));
	if (inm && !strcmp(inm, "*"))
		ASSERT(http_etag_matches(inm, NULL, NULL));

	ASSERT(http_etag_matches(a, a, NULL));
	ASSERT(http_etag_matches(a, NULL, a));
	ASSERT(http_etag_matches(b, a, b));
	ASSERT(http_etag_matches(join(&sb, "W/", a, ""), a, NULL));
	ASSERT(http_etag_matches(join(&sb, " ", a, "\t"), a, NULL));
	if (inm)
		ASSERT(http_etag_matches(join(&sb, inm, ", ", a), a, NULL));
	sb_release(&tag);
	sb_release(&gz);
	sb_release(&sb);
}

static void check_accept_encoding(const char *ae)
{
	bool got = http_accepts_gzip(ae);
	ASSERT(got == http_accepts_gzip(ae));
	if (!ae) {
		ASSERT(!got);
		return;
	}
	if (got)
		ASSERT(strcasestr(ae, "gzip") || strchr(ae, '*'));
	strbuf_t sb;
	sb_init(&sb, 0);
	ASSERT(http_accepts_gzip(join(&sb, "gzip, ", ae, "")));
	ASSERT(!http_accepts_gzip(join(&sb, "gzip;q=0, ", ae, "")));
	ASSERT(http_accepts_gzip(join(&sb, "identity, ", ae, "")) == got);
	char *flip = xstrdup(ae);
	for (char *p = flip; *p; p++)
		if (*p >= 'a' && *p <= 'z' && *p != 'q')
			*p = (char)(*p - 'a' + 'A');
		else if (*p >= 'A' && *p <= 'Z' && *p != 'Q')
			*p = (char)(*p - 'A' + 'a');
	ASSERT(http_accepts_gzip(flip) == got);
	free(flip);
	sb_release(&sb);
}

/* ---------------------------------------------------------- input */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* lines[i] is NULL when the input has fewer lines. */
	char *copy = xmalloc(size + 1);
	memcpy(copy, data, size);
	copy[size] = '\0';
	char *lines[4] = { NULL, NULL, NULL, NULL };
	char *p = copy;
	for (int i = 0; i < 4 && p; i++) {
		lines[i] = p;
		char *nl = i < 3 ? memchr(p, '\n', (size_t)(copy + size - p)) : NULL;
		if (nl)
			*nl = '\0';
		p = nl ? nl + 1 : NULL;
	}

	uint64_t file_size = DEFAULT_SIZE;
	if (lines[0] && !ref_number(lines[0], strlen(lines[0]), &file_size))
		file_size = DEFAULT_SIZE;
	const uint64_t sizes[] = { file_size, 0, 1, 2, 100, UINT64_MAX - 1, UINT64_MAX };
	for (size_t i = 0; i < ARRAY_LEN(sizes); i++)
		check_range(lines[1], sizes[i]);
	check_etag(lines[2]);
	check_accept_encoding(lines[3]);
	free(copy);
	return 0;
}
