#include "num.h"
#include "util.h"

bool parse_i64(const char *s, int64_t *out)
{
	if (!s || !*s)
		return false;
	const char *p = s;
	bool neg = false;
	if (*p == '-') {
		neg = true;
		p++;
	}
	if (!*p)
		return false;
	uint64_t v = 0;
	uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		unsigned d = (unsigned)(*p - '0');
		if (v > (limit - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (neg)
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return true;
}

bool parse_i64_range(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	int64_t v;
	if (!parse_i64(s, &v) || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

bool parse_cents(const char *s, int64_t *out)
{
	if (!s || !*s || *s == '-')
		return false;
	int64_t whole = 0, frac = 0;
	const char *p = s;
	int digits = 0;
	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		if (whole > (INT64_MAX / 100 - 9) / 10)
			return false;
		whole = whole * 10 + (*p - '0');
	}
	if (!digits)
		return false;
	if (*p == '.') {
		p++;
		int fd = 0;
		for (; *p >= '0' && *p <= '9'; p++, fd++) {
			if (fd >= 2)
				return false;
			frac = frac * 10 + (*p - '0');
		}
		if (!fd)
			return false;
		if (fd == 1)
			frac *= 10;
	}
	if (*p)
		return false;
	*out = whole * 100 + frac;
	return true;
}

bool parse_bool(const char *s, bool *out)
{
	if (!s)
		return false;
	if (!strcmp(s, "true") || !strcmp(s, "1")) {
		*out = true;
		return true;
	}
	if (!strcmp(s, "false") || !strcmp(s, "0")) {
		*out = false;
		return true;
	}
	return false;
}
