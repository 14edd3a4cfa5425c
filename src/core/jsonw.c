#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "jsonw.h"
#include "util.h"

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if none. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len;
	uint32_t cp;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* overlong forms, surrogates and past U+10FFFF are not UTF-8 */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void jw_str(strbuf_t *sb, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	if (!s) {
		sb_add(sb, "null", 4);
		return;
	}
	sb_addc(sb, '"');
	const unsigned char *p = (const unsigned char *)s, *run = p;
	size_t left = strlen(s);
	while (left) {
		unsigned char c = *p;
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			p++, left--;
			continue;
		}
		size_t u = c >= 0x80 ? utf8_seq(p, left) : 0;
		if (u) {
			p += u, left -= u;
			continue;
		}
		sb_add(sb, run, (size_t)(p - run));
		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };
			sb_add(sb, esc, 2);
		} else if (c == '\n') {
			sb_add(sb, "\\n", 2);
		} else if (c == '\r') {
			sb_add(sb, "\\r", 2);
		} else if (c == '\t') {
			sb_add(sb, "\\t", 2);
		} else if (c == '\b') {
			sb_add(sb, "\\b", 2);
		} else if (c == '\f') {
			sb_add(sb, "\\f", 2);
		} else if (c < 0x20) {
			char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			sb_add(sb, esc, 6);
		} else {
			sb_add(sb, "\\ufffd", 6); /* a byte that is not UTF-8 */
		}
		p++, left--;
		run = p;
	}
	sb_add(sb, run, (size_t)(p - run));
	sb_addc(sb, '"');
}

void jw_int(strbuf_t *sb, int64_t v)
{
	char buf[24], *e = buf + sizeof(buf), *p = e;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	sb_add(sb, p, (size_t)(e - p));
}

void jw_bool(strbuf_t *sb, bool b)
{
	if (b)
		sb_add(sb, "true", 4);
	else
		sb_add(sb, "false", 5);
}

void jw_real(strbuf_t *sb, double d)
{
	if (!isfinite(d)) /* jansson has no such real; nor does JSON */
		d = 0.0;
	char buf[40];
	int n = snprintf(buf, sizeof(buf), "%.15g", d);
	if (n < 0 || (size_t)n >= sizeof(buf) - 2)
		n = snprintf(buf, sizeof(buf), "0");
	char *e = strchr(buf, 'e');
	if (e) {
		/* jansson's exponent: no '+', no leading zeros (1e20, 1e-7) */
		char *to = e + 1, *from = to;
		if (*from == '+')
			from++;
		else if (*from == '-')
			to++, from++;
		while (*from == '0' && from[1])
			from++;
		memmove(to, from, strlen(from) + 1);
		n = (int)strlen(buf);
	} else if (!strchr(buf, '.')) {
		buf[n++] = '.';
		buf[n++] = '0';
		buf[n] = '\0';
	}
	sb_add(sb, buf, (size_t)n);
}

void jw_money(strbuf_t *sb, int64_t cents)
{
	jw_real(sb, (double)cents / 100.0);
}

void jw_time(strbuf_t *sb, int64_t ms)
{
	if (ms <= 0) {
		sb_add(sb, "null", 4);
		return;
	}
	char buf[32];
	iso8601_ms(ms, buf);
	sb_addc(sb, '"');
	sb_adds(sb, buf);
	sb_addc(sb, '"');
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* The end of the string literal that starts at p (its opening quote), when
 * it is one of printable ASCII and simple escapes; NULL otherwise. */
static const char *plain_literal_end(const char *p)
{
	for (p++; *p != '"'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c >= 0x7f)
			return NULL;
		if (c == '\\') {
			p++;
			if (*p == 'u') {
				/* \u0000 and lone surrogates are refused by jansson
				 * (and by our reader): those take the slow path. */
				int v = 0;
				for (int i = 1; i <= 4; i++) {
					int d = hex_digit(p[i]);
					if (d < 0)
						return NULL;
					v = v * 16 + d;
				}
				if (v == 0 || (v >= 0xd800 && v <= 0xdfff))
					return NULL;
				p += 4;
			} else if (!*p || !strchr("\"\\/bfnrt", *p)) {
				return NULL;
			}
		}
	}
	return p + 1;
}

void jw_str_array(strbuf_t *sb, const char *text)
{
	/* The stored arrays are our own compact dumps of plain tags: copied
	 * through when they scan as such; anything else goes through jansson. */
	size_t start = sb->len;
	const char *p = text ? skip_ws(text) : NULL;
	if (p && *p == '[') {
		sb_addc(sb, '[');
		p = skip_ws(p + 1);
		bool first = true, ok = true;
		while (ok && *p != ']') {
			if (!first) {
				ok = *p == ',';
				if (!ok)
					break;
				p = skip_ws(p + 1);
			}
			const char *end = ok && *p == '"' ? plain_literal_end(p) : NULL;
			ok = end != NULL;
			if (ok) {
				if (!first)
					sb_addc(sb, ',');
				sb_add(sb, p, (size_t)(end - p));
				p = skip_ws(end);
				first = false;
			}
		}
		if (ok && *skip_ws(p + 1) == '\0') {
			sb_addc(sb, ']');
			return;
		}
		sb->len = start; /* not plain: the slow path */
		if (sb->buf)
			sb->buf[start] = '\0';
	}
	json_error_t e;
	json_t *j = text ? json_loads(text, 0, &e) : NULL;
	size_t n = json_array_size(j);
	sb_addc(sb, '[');
	for (size_t i = 0, w = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(j, i));
		if (!s)
			continue;
		if (w++)
			sb_addc(sb, ',');
		jw_str(sb, s);
	}
	sb_addc(sb, ']');
	json_decref(j);
}
