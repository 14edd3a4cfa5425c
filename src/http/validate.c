#include <limits.h>
#include <strings.h>
#include <math.h>
#include <wchar.h>
#include <wctype.h>
#include "validate.h"
#include "reply.h"
#include "../core/num.h"
#include "../core/util.h"

void v_init(valid_t *v, req_t *req, json_t *obj)
{
	v->req = req;
	v->obj = json_is_object(obj) ? obj : NULL;
	v->errors = NULL;
}

void v_error(valid_t *v, const char *field, const char *msg)
{
	if (!v->errors)
		v->errors = json_object();
	json_t *list = json_object_get(v->errors, field);
	if (!list) {
		list = json_array();
		json_object_set_new(v->errors, field, list);
	}
	json_array_append_new(list, json_string(msg));
}

bool v_ok(const valid_t *v)
{
	return v->errors == NULL;
}

int v_reply(valid_t *v)
{
	json_t *e = v->errors ? v->errors : json_object();
	v->errors = NULL;
	return reply_invalid(v->req, e);
}

static json_t *get(valid_t *v, const char *field)
{
	return v->obj ? json_object_get(v->obj, field) : NULL;
}

bool v_present(valid_t *v, const char *field)
{
	return get(v, field) != NULL;
}

bool v_is_null(valid_t *v, const char *field)
{
	return json_is_null(get(v, field));
}

/* Absent, or null where null is not allowed: reports and returns true when
 * the caller should stop looking at this field. */
static bool missing(valid_t *v, const char *field, json_t *j, int flags)
{
	if (!j) {
		if (flags & V_REQUIRED)
			v_error(v, field, "This field is required");
		return true;
	}
	if (json_is_null(j) && !(flags & V_NULLABLE)) {
		v_error(v, field, (flags & V_REQUIRED) ? "This field is required" : "Must not be null");
		return true;
	}
	return json_is_null(j);
}

size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* A JSON string j as field's value: NUL- and control-free, trimmed unless
 * V_NO_TRIM, min_chars..max_chars characters; an arena copy, or NULL after
 * a field error (msg, when given, replaces the specific message). */
static const char *str_value(valid_t *v, const char *field, json_t *j, int flags, size_t min_chars,
			     size_t max_chars, const char *msg)
{
	if (!json_is_string(j)) {
		v_error(v, field, msg ? msg : "Must be a string");
		return NULL;
	}
	const char *s = json_string_value(j);
	size_t len = json_string_length(j);
	if (strlen(s) != len) {
		v_error(v, field, msg ? msg : "Must not contain NUL characters");
		return NULL;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p < 0x20 && !((flags & V_MULTILINE) && (*p == '\n' || *p == '\t' || *p == '\r'))) ||
		    *p == 0x7f) {
			v_error(v, field, msg ? msg : "Must not contain control characters");
			return NULL;
		}
	}
	if (!(flags & V_NO_TRIM)) {
		while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
			s++;
		len = strlen(s);
		while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' || s[len - 1] == '\r'))
			len--;
	}
	char *out = arena_strndup(v->req->arena, s, len);
	size_t chars = utf8_chars(out);
	if (chars < min_chars) {
		v_error(v, field, msg ? msg : min_chars == 1 ? "Must not be empty"
			: arena_printf(v->req->arena, "Must be at least %zu characters", min_chars));
		return NULL;
	}
	if (max_chars && chars > max_chars) {
		v_error(v, field, msg ? msg : arena_printf(v->req->arena, "Must be at most %zu characters", max_chars));
		return NULL;
	}
	return out;
}

const char *v_str(valid_t *v, const char *field, int flags, size_t min_chars, size_t max_chars)
{
	json_t *j = get(v, field);
	if (missing(v, field, j, flags))
		return NULL;
	return str_value(v, field, j, flags, min_chars, max_chars, NULL);
}

size_t v_str_array(valid_t *v, const char *field, int flags, size_t max_items, size_t min_chars,
		   size_t max_chars, const char ***out)
{
	*out = NULL;
	json_t *j = get(v, field);
	if (missing(v, field, j, flags & ~V_NULLABLE))
		return 0;
	if (!json_is_array(j) || json_array_size(j) > max_items) {
		v_error(v, field, arena_printf(v->req->arena, "Must be a list of at most %zu items", max_items));
		return 0;
	}
	size_t n = json_array_size(j);
	const char **items = arena_alloc(v->req->arena, (n ? n : 1) * sizeof(*items));
	const char *msg = arena_printf(v->req->arena, "Each item must be %zu-%zu characters on one line",
				       min_chars, max_chars);
	for (size_t i = 0; i < n; i++) {
		items[i] = str_value(v, field, json_array_get(j, i), flags & ~V_MULTILINE, min_chars, max_chars, msg);
		if (!items[i])
			return 0;
	}
	*out = items;
	return n;
}

int64_t v_int(valid_t *v, const char *field, int flags, int64_t lo, int64_t hi, int64_t def)
{
	json_t *j = get(v, field);
	if (missing(v, field, j, flags))
		return def;
	if (!json_is_integer(j)) {
		v_error(v, field, "Must be an integer");
		return def;
	}
	int64_t x = json_integer_value(j);
	if (x < lo || x > hi) {
		v_error(v, field, arena_printf(v->req->arena, "Must be between %lld and %lld",
					       (long long)lo, (long long)hi));
		return def;
	}
	return x;
}

bool v_bool(valid_t *v, const char *field, int flags, bool def)
{
	json_t *j = get(v, field);
	if (missing(v, field, j, flags))
		return def;
	if (!json_is_boolean(j)) {
		v_error(v, field, "Must be true or false");
		return def;
	}
	return json_is_true(j);
}

int64_t v_money(valid_t *v, const char *field, int flags, int64_t max_cents, int64_t def)
{
	json_t *j = get(v, field);
	if (missing(v, field, j, flags))
		return def;
	int64_t cents = -1;
	if (json_is_integer(j)) {
		json_int_t x = json_integer_value(j);
		if (x >= 0 && x <= max_cents / 100)
			cents = x * 100;
	} else if (json_is_real(j)) {
		double d = json_real_value(j);
		double c = round(d * 100.0);
		if (d >= 0 && isfinite(d) && fabs(c - d * 100.0) < 1e-6 && c <= (double)max_cents)
			cents = (int64_t)c;
	} else if (json_is_string(j)) {
		if (!parse_cents(json_string_value(j), &cents) || cents > max_cents)
			cents = -1;
	}
	if (cents < 0 || cents > max_cents) {
		v_error(v, field, arena_printf(v->req->arena,
					       "Must be an amount from 0 to %lld.%02lld with at most two decimals",
					       (long long)(max_cents / 100), (long long)(max_cents % 100)));
		return def;
	}
	return cents;
}

static bool is_slug(const char *s)
{
	if (!*s || *s == '-')
		return false;
	char prev = 0;
	for (; *s; s++) {
		bool ok = (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-';
		if (!ok || (*s == '-' && prev == '-'))
			return false;
		prev = *s;
	}
	return prev != '-';
}

const char *v_slug(valid_t *v, const char *field, int flags, size_t max_chars)
{
	const char *s = v_str(v, field, flags, 1, max_chars);
	if (s && !is_slug(s)) {
		v_error(v, field, "Must be lowercase letters, digits and single hyphens");
		return NULL;
	}
	return s;
}

/* s when it is one of allowed (the list's own pointer), else NULL. */
static const char *one_of(const char *s, const char *const *allowed)
{
	for (const char *const *a = allowed; s && *a; a++)
		if (!strcmp(s, *a))
			return *a;
	return NULL;
}

/* "Must be one of: a, b, c" */
static void error_one_of(valid_t *v, const char *field, const char *const *allowed)
{
	strbuf_t sb;
	sb_init(&sb, 1024);
	sb_adds(&sb, "Must be one of: ");
	for (const char *const *a = allowed; *a; a++)
		sb_addf(&sb, "%s%s", a == allowed ? "" : ", ", *a);
	v_error(v, field, arena_strdup(v->req->arena, sb.buf));
	sb_release(&sb);
}

const char *v_enum(valid_t *v, const char *field, int flags, const char *const *allowed, const char *def)
{
	json_t *j = get(v, field);
	if (missing(v, field, j, flags))
		return def;
	const char *hit = one_of(json_string_value(j), allowed);
	if (hit)
		return hit;
	error_one_of(v, field, allowed);
	return def;
}

/* An absolute http(s) URL with a host and no spaces, quotes or controls. */
bool url_is_http(const char *s)
{
	size_t skip;
	if (!strncasecmp(s, "https://", 8))
		skip = 8;
	else if (!strncasecmp(s, "http://", 7))
		skip = 7;
	else
		return false;
	if (!s[skip] || s[skip] == '/' || s[skip] == '?' || s[skip] == '#')
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= 0x20 || *p == 0x7f || *p == '"' || *p == '<' || *p == '>' || *p == '\\' || *p == '`')
			return false;
	return true;
}

/* A path on this site: "/..." but not "//host" (protocol-relative) nor
 * "/\host" (which browsers also read as another host). */
bool url_is_local_path(const char *s)
{
	if (s[0] != '/' || s[1] == '/' || s[1] == '\\')
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= 0x20 || *p == 0x7f || *p == '"' || *p == '<' || *p == '>' || *p == '\\' || *p == '`')
			return false;
	return true;
}

/* The one value of a scalar query parameter, or NULL when it is absent or
 * unusable: given more than once (which of two values a proxy and this
 * server each believe must never differ), or longer than max_bytes after
 * percent-decoding (too_long is then the message, or when NULL "Must be at
 * most max_chars characters and max_bytes bytes").  A bare `?name` has no
 * value and counts as absent. */
static const char *q_value(valid_t *v, const char *name, size_t max_bytes, const char *too_long,
			   size_t max_chars)
{
	const char *val[1] = { NULL };
	size_t n = req_query_values(v->req, name, val, 1);
	if (n == 0)
		return NULL;
	if (n > 1) {
		v_error(v, name, "Must be given only once");
		return NULL;
	}
	if (val[0] && strnlen(val[0], max_bytes + 1) > max_bytes) {
		v_error(v, name, too_long ? too_long
			: arena_printf(v->req->arena, "Must be at most %zu characters and %zu bytes",
				       max_chars, max_bytes));
		return NULL;
	}
	return val[0];
}

int64_t q_int(valid_t *v, const char *name, int64_t lo, int64_t hi, int64_t def)
{
	/* 20 digits and a sign hold every int64; more is not a number we take */
	const char *s = q_value(v, name, Q_INT_MAX_BYTES, "Must be an integer", 0);
	if (!s || !*s)
		return def;
	int64_t x;
	if (!parse_i64(s, &x)) {
		v_error(v, name, "Must be an integer");
		return def;
	}
	if (x < lo || x > hi) {
		v_error(v, name, arena_printf(v->req->arena, "Must be between %lld and %lld",
					      (long long)lo, (long long)hi));
		return def;
	}
	return x;
}

bool q_bool(valid_t *v, const char *name, int *out)
{
	const char *s = q_value(v, name, Q_INT_MAX_BYTES, "Must be true or false", 0);
	*out = -1;
	if (!s || !*s)
		return false;
	bool b;
	if (!parse_bool(s, &b)) {
		v_error(v, name, "Must be true or false");
		return false;
	}
	*out = b;
	return true;
}

const char *q_enum(valid_t *v, const char *name, const char *const *allowed, const char *def)
{
	const char *s = q_strn(v, name, 64, 256);
	if (!s || !*s)
		return v_ok(v) ? def : NULL;
	const char *hit = one_of(s, allowed);
	if (!hit)
		error_one_of(v, name, allowed);
	return hit;
}

int64_t q_money(valid_t *v, const char *name, int64_t def)
{
	static const char msg[] = "Must be an amount like 10 or 9.99";
	const char *s = q_value(v, name, Q_INT_MAX_BYTES, msg, 0);
	if (!s || !*s)
		return def;
	int64_t cents;
	if (!parse_cents(s, &cents)) {
		v_error(v, name, msg);
		return def;
	}
	return cents;
}

/* One end of a range: digits first (no sign, no space), then the kind's
 * own strict parser. */
static bool range_end(const char *s, size_t len, enum q_range_kind kind, int64_t *out)
{
	char buf[Q_RANGE_MAX_BYTES + 1];
	if (len == 0 || len >= sizeof(buf) || s[0] < '0' || s[0] > '9')
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return kind == Q_RANGE_MONEY ? parse_cents(buf, out) : parse_i64_range(buf, 0, INT64_MAX, out);
}

bool range_parse(const char *s, enum q_range_kind kind, q_range_t *out)
{
	size_t n = strnlen(s, Q_RANGE_MAX_BYTES + 1);
	const char *dash = memchr(s, '-', n);
	if (n > Q_RANGE_MAX_BYTES || !dash || memchr(dash + 1, '-', n - (size_t)(dash + 1 - s)))
		return false;
	size_t lo_len = (size_t)(dash - s), hi_len = n - lo_len - 1;
	q_range_t r = { -1, -1 };
	if (!lo_len && !hi_len)
		return false; /* "-": a range that says nothing is a mistake */
	if (lo_len && !range_end(s, lo_len, kind, &r.lo))
		return false;
	if (hi_len && !range_end(dash + 1, hi_len, kind, &r.hi))
		return false;
	if (r.lo >= 0 && r.hi >= 0 && r.lo > r.hi)
		return false;
	*out = r;
	return true;
}

bool q_range(valid_t *v, const char *name, enum q_range_kind kind, q_range_t *out)
{
	const char *msg = kind == Q_RANGE_MONEY
		? "Must be a price range min-max in dollars (at most two decimals), either end open: 10-, -20, 9.99-20"
		: "Must be a range min-max of whole numbers, either end open: 1000-, -5000, 1000-5000";
	out->lo = out->hi = -1;
	const char *s = q_value(v, name, Q_RANGE_MAX_BYTES, msg, 0);
	if (!s || !*s)
		return false;
	if (!range_parse(s, kind, out)) {
		q_range_t probe;
		/* well-formed ends in the wrong order get their own message */
		const char *dash = strchr(s, '-');
		if (dash && dash != s && dash[1] && range_parse(arena_printf(v->req->arena, "-%s", dash + 1), kind, &probe) &&
		    range_parse(arena_strndup(v->req->arena, s, (size_t)(dash - s + 1)), kind, &probe))
			msg = "The lower end must not be above the upper end";
		v_error(v, name, msg);
		out->lo = out->hi = -1;
		return false;
	}
	return true;
}

bool utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		unsigned c = *p;
		int n;
		uint32_t cp;
		if (c < 0x80) {
			p++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		for (int i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		/* overlong forms, surrogates, beyond Unicode */
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		p += n + 1;
	}
	return true;
}

/* Text of a query value: valid UTF-8 without control characters, else a
 * field error and false. */
static bool q_text_ok(valid_t *v, const char *name, const char *s)
{
	if (!utf8_valid(s)) {
		v_error(v, name, "Must be valid UTF-8 text");
		return false;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			v_error(v, name, "Must not contain control characters");
			return false;
		}
	}
	return true;
}

const char *q_strn(valid_t *v, const char *name, size_t max_chars, size_t max_bytes)
{
	if (max_bytes > Q_VALUE_MAX_BYTES)
		max_bytes = Q_VALUE_MAX_BYTES;
	const char *s = q_value(v, name, max_bytes, NULL, max_chars);
	if (!s || !q_text_ok(v, name, s))
		return NULL;
	if (utf8_chars(s) > max_chars) {
		v_error(v, name, arena_printf(v->req->arena, "Must be at most %zu characters", max_chars));
		return NULL;
	}
	return s;
}

const char *q_str(valid_t *v, const char *name, size_t max_chars)
{
	/* a character is at most 4 bytes of UTF-8 */
	return q_strn(v, name, max_chars, max_chars > Q_VALUE_MAX_BYTES / 4 ? Q_VALUE_MAX_BYTES : max_chars * 4);
}

size_t q_list(valid_t *v, const char *name, size_t max_items, size_t max_chars, size_t max_bytes,
	      const char ***out)
{
	*out = NULL;
	const char *vals[Q_LIST_MAX_ITEMS];
	HWC_ASSERT(max_items >= 1 && max_items <= Q_LIST_MAX_ITEMS);
	size_t n = req_query_values(v->req, name, vals, max_items);
	if (n == 0)
		return 0;
#define TOO_MANY() v_error(v, name, arena_printf(v->req->arena, \
		"Must be a comma-separated list of at most %zu items", max_items))
	if (n > max_items) { /* more occurrences than items: refused outright */
		TOO_MANY();
		return 0;
	}
	const char **items = arena_alloc(v->req->arena, max_items * sizeof(*items));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (!vals[i])
			continue;
		if (strnlen(vals[i], Q_VALUE_MAX_BYTES + 1) > Q_VALUE_MAX_BYTES) {
			v_error(v, name, arena_printf(v->req->arena, "Must be at most %d bytes", Q_VALUE_MAX_BYTES));
			return 0;
		}
		if (!q_text_ok(v, name, vals[i]))
			return 0;
		const char *p = vals[i];
		for (;;) {
			const char *end = strchr(p, ',');
			size_t len = end ? (size_t)(end - p) : strlen(p);
			const char *t = p;
			while (len && *t == ' ')
				t++, len--;
			while (len && t[len - 1] == ' ')
				len--;
			if (len) {
				if (k == max_items) {
					TOO_MANY();
					return 0;
				}
				char *item = arena_strndup(v->req->arena, t, len);
				if (len > max_bytes || utf8_chars(item) > max_chars) {
					v_error(v, name, arena_printf(v->req->arena,
						"Each item must be at most %zu characters and %zu bytes", max_chars, max_bytes));
					return 0;
				}
				items[k++] = item;
			}
			if (!end)
				break;
			p = end + 1;
		}
	}
#undef TOO_MANY
	*out = items;
	return k;
}

void q_page(valid_t *v, page_t *p)
{
	/* A page past ~10^9 rows is nonsense, and keeps offset from overflowing. */
	p->page = q_int(v, "page", 1, 1000000000, 1);
	p->limit = q_int(v, "limit", 1, INT64_MAX, PAGE_DEFAULT_LIMIT);
	if (p->limit > PAGE_MAX_LIMIT)
		p->limit = PAGE_MAX_LIMIT;
	p->offset = (p->page - 1) * p->limit;
}

json_t *page_envelope(json_t *items, int64_t total, const page_t *p)
{
	int64_t pages = total ? (total + p->limit - 1) / p->limit : 0;
	return json_pack("{s:o, s:I, s:I, s:I, s:I}", "items", items, "total", (json_int_t)total,
			 "page", (json_int_t)p->page, "limit", (json_int_t)p->limit,
			 "pages", (json_int_t)pages);
}

json_t *json_time(int64_t ms)
{
	if (ms <= 0)
		return json_null();
	char buf[32];
	iso8601_ms(ms, buf);
	return json_string(buf);
}

bool json_depth_exceeds(const char *s, size_t n, int max)
{
	int depth = 0;
	bool in_str = false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if (c == '{' || c == '[') {
			if (++depth > max)
				return true;
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return false;
}

char *like_contains(arena_t *a, const char *s)
{
	size_t n = strlen(s);
	char *out = arena_alloc(a, 2 * n + 3);
	size_t j = 0;
	out[j++] = '%';
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' || s[i] == '_' || s[i] == '\\')
			out[j++] = '\\';
		out[j++] = s[i];
	}
	out[j++] = '%';
	out[j] = '\0';
	return out;
}

char *arena_json_dumps(arena_t *a, const json_t *j, size_t flags)
{
	char *out = json_dumps(j, flags);
	char *copy = arena_strdup(a, out ? out : "");
	free(out);
	return copy;
}

char *utf8_lower(arena_t *a, const char *s)
{
	/* towlower follows LC_CTYPE, which main() sets to C.UTF-8. */
	size_t n = strlen(s);
	char *out = arena_alloc(a, n * 2 + 1);
	mbstate_t in, outst;
	memset(&in, 0, sizeof(in));
	memset(&outst, 0, sizeof(outst));
	size_t j = 0;
	const char *p = s;
	while (*p) {
		wchar_t wc;
		size_t k = mbrtowc(&wc, p, n - (size_t)(p - s), &in);
		if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
			/* not a character the locale knows: copy the byte */
			out[j++] = *p++;
			memset(&in, 0, sizeof(in));
			continue;
		}
		char buf[MB_LEN_MAX];
		size_t w = wcrtomb(buf, (wchar_t)towlower((wint_t)wc), &outst);
		if (w == (size_t)-1 || j + w > n * 2) {
			memcpy(out + j, p, k);
			j += k;
		} else {
			memcpy(out + j, buf, w);
			j += w;
		}
		p += k;
	}
	out[j] = '\0';
	return out;
}

/* One of plain or with_req is set. */
static json_t *collect_rows(db_rows_t *r, json_t *(*plain)(db_rows_t *r), req_t *req,
			    json_t *(*with_req)(req_t *req, db_rows_t *r))
{
	json_t *items = json_array();
	while (db_next(r))
		json_array_append_new(items, plain ? plain(r) : with_req(req, r));
	bool failed = db_failed(r);
	db_done(r);
	if (failed) {
		json_decref(items);
		return NULL;
	}
	return items;
}

json_t *rows_to_array(db_rows_t *r, json_t *(*fn)(db_rows_t *r))
{
	return collect_rows(r, fn, NULL, NULL);
}

json_t *rows_to_array_req(req_t *req, db_rows_t *r, json_t *(*fn)(req_t *req, db_rows_t *r))
{
	return collect_rows(r, NULL, req, fn);
}
