#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include "framing.h"

int http_is_token(const char *s)
{
	if (!s || !*s)
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p;
		bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c && strchr("!#$%&'*+-.^_`|~", c));
		if (!ok)
			return 0;
	}
	return 1;
}

/* Decimal digits only, at most 18 of them (no sign, no spaces, no list). */
static bool content_length_ok(const char *v)
{
	size_t n = strlen(v);
	if (n == 0 || n > 18)
		return false;
	for (size_t i = 0; i < n; i++)
		if (v[i] < '0' || v[i] > '9')
			return false;
	return true;
}

/* A field name that begins with a framing field's name but is longer is
 * what MHD 0.9.75 makes of an obs-fold continuation ("Transfer-Encoding:\r\n
 * chunked" arrives as a field named "Transfer-Encodingchunked"). */
static bool folded_into(const char *name, const char *field)
{
	size_t n = strlen(field);
	return strlen(name) > n && !strncasecmp(name, field, n);
}

static framing_verdict_t bad(int status, const char *detail)
{
	return (framing_verdict_t){ status, detail };
}

framing_verdict_t http_framing_check(const http_field_t *fields, size_t n)
{
	size_t total = 0, n_cl = 0, n_te = 0;
	if (n > HTTP_MAX_HEADERS)
		return bad(431, "Too many header fields");
	for (size_t i = 0; i < n; i++) {
		const char *name = fields[i].name ? fields[i].name : "";
		const char *value = fields[i].value ? fields[i].value : "";
		size_t nl = strlen(name), vl = strlen(value);
		if (nl + vl > HTTP_MAX_FIELD_BYTES)
			return bad(431, "A header field is too large");
		total += nl + vl + 4;
		if (total > HTTP_MAX_HEADER_BYTES)
			return bad(431, "The header section is too large");
		/* Whitespace before the colon, or a folded continuation line,
		 * leaves characters in the name that a token cannot hold. */
		if (!http_is_token(name))
			return bad(400, "Malformed header field name (whitespace before the colon, or a folded line)");
		for (const unsigned char *p = (const unsigned char *)value; *p; p++)
			if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
				return bad(400, "Control character in a header field value");
		if (!strcasecmp(name, "Content-Length")) {
			n_cl++;
			if (!content_length_ok(value))
				return bad(400, "Invalid Content-Length");
		} else if (!strcasecmp(name, "Transfer-Encoding")) {
			n_te++;
			if (strcasecmp(value, "chunked"))
				return bad(400, "Unsupported Transfer-Encoding (only chunked is accepted)");
		} else if (folded_into(name, "Content-Length") || folded_into(name, "Transfer-Encoding")) {
			return bad(400, "Obsolete line folding is not accepted");
		}
	}
	if (n_cl > 1)
		return bad(400, "More than one Content-Length");
	if (n_te > 1)
		return bad(400, "More than one Transfer-Encoding");
	if (n_cl && n_te)
		return bad(400, "Content-Length together with Transfer-Encoding");
	return (framing_verdict_t){ 0, NULL };
}
