/* conditional.c: Range, If-None-Match and Accept-Encoding (conditional.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "conditional.h"
#include "../core/util.h"

/* The member [p, end) has a parameter q whose value is zero ("0", "0.",
 * "0.0" ... "0.000"; the name in any case, spaces around "=" and ";"). */
static bool q_is_zero(const char *p, const char *end)
{
	for (const char *s = memchr(p, ';', (size_t)(end - p)); s; s = memchr(s + 1, ';', (size_t)(end - s - 1))) {
		const char *t = s + 1;
		t += strspn(t, " \t");
		if (t >= end || (*t != 'q' && *t != 'Q'))
			continue;
		t++;
		t += strspn(t, " \t");
		if (t >= end || *t != '=')
			continue;
		t++;
		t += strspn(t, " \t");
		if (t >= end || *t != '0')
			return false;
		t++;
		if (t < end && *t == '.')
			for (t++; t < end && *t == '0'; t++)
				;
		while (t < end && (*t == ' ' || *t == '\t'))
			t++;
		return t == end || *t == ';';
	}
	return false;
}

bool http_accepts_gzip(const char *ae)
{
	int star = -1; /* the first "*" member: -1 none, 0 refuses, 1 accepts */
	for (const char *p = ae; p && *p;) {
		p += strspn(p, " \t,");
		size_t n = strcspn(p, " \t,;");
		const char *end = p + strcspn(p, ",");
		bool gzip = (n == 4 && !strncasecmp(p, "gzip", 4)) || (n == 6 && !strncasecmp(p, "x-gzip", 6));
		if (gzip)
			return !q_is_zero(p, end);
		if (n == 1 && *p == '*' && star < 0)
			star = !q_is_zero(p, end);
		p = end;
	}
	return star == 1;
}

bool http_etag_matches(const char *inm, const char *a, const char *b)
{
	if (!inm)
		return false;
	if (!strcmp(inm, "*"))
		return true;
	for (const char *p = inm; *p;) {
		p += strspn(p, " \t,");
		if (!strncmp(p, "W/", 2))
			p += 2;
		size_t n = strcspn(p, ",");
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if ((a && strlen(a) == n && !memcmp(a, p, n)) || (b && strlen(b) == n && !memcmp(b, p, n)))
			return true;
		p += strcspn(p, ",");
	}
	return false;
}

enum http_range http_range_parse(const char *h, uint64_t size, uint64_t *from, uint64_t *to)
{
	if (!h || strncmp(h, "bytes=", 6) || strchr(h, ','))
		return HTTP_RANGE_NONE;
	const char *p = h + 6;
	char *end;
	if (*p == '-') {
		/* A digit first: strtoull would take spaces and a sign. */
		if (p[1] < '0' || p[1] > '9')
			return HTTP_RANGE_NONE;
		errno = 0;
		unsigned long long n = strtoull(p + 1, &end, 10);
		if (*end || errno)
			return HTTP_RANGE_NONE;
		if (!n || !size)
			return HTTP_RANGE_UNSATISFIABLE;
		*from = n >= size ? 0 : size - n;
		*to = size - 1;
		return HTTP_RANGE_OK;
	}
	if (*p < '0' || *p > '9')
		return HTTP_RANGE_NONE;
	errno = 0;
	unsigned long long a = strtoull(p, &end, 10);
	if (*end != '-' || errno)
		return HTTP_RANGE_NONE;
	unsigned long long b = size ? size - 1 : 0;
	if (end[1]) {
		if (end[1] < '0' || end[1] > '9')
			return HTTP_RANGE_NONE;
		char *e2;
		b = strtoull(end + 1, &e2, 10);
		if (*e2 || errno || b < a)
			return HTTP_RANGE_NONE;
	}
	if (a >= size)
		return HTTP_RANGE_UNSATISFIABLE;
	*from = a;
	*to = b >= size ? size - 1 : b;
	return HTTP_RANGE_OK;
}
