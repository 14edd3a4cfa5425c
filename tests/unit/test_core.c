/* Arena, string builder, strict number parsing, config parsers. */
#include <stdint.h>
#include "t.h"
#include "core/arena.h"
#include "core/config.h"
#include "core/num.h"
#include "core/strbuf.h"
#include "core/util.h"

static int cleanups_run;
static void count_cleanup(void *arg)
{
	cleanups_run += *(int *)arg;
}

TEST(arena_allocates_aligned_and_big)
{
	arena_t *a = arena_new();
	for (int i = 0; i < 1000; i++) {
		char *p = arena_alloc(a, (size_t)(i % 37) + 1);
		CHECK(((uintptr_t)p & 15) == 0);
		memset(p, 'x', (size_t)(i % 37) + 1);
	}
	char *big = arena_alloc(a, 1 << 20); /* own chunk */
	memset(big, 0, 1 << 20);
	CHECK(arena_used(a) >= (1 << 20));
	char *s = arena_printf(a, "%s-%d", "abc", 42);
	CHECK_STR(s, "abc-42");
	CHECK_STR(arena_strndup(a, "hello", 3), "hel");
	arena_free(a);
}

TEST(arena_runs_cleanups_once)
{
	cleanups_run = 0;
	arena_t *a = arena_new();
	int one = 1, ten = 10;
	arena_defer(a, count_cleanup, &one);
	arena_defer(a, count_cleanup, &ten);
	CHECK(cleanups_run == 0);
	arena_free(a);
	CHECK(cleanups_run == 11);
}

TEST(strbuf_caps_and_formats)
{
	strbuf_t sb;
	sb_init(&sb, 8);
	CHECK(sb_adds(&sb, "1234"));
	CHECK(sb_addf(&sb, "%d", 567));
	CHECK(!sb_adds(&sb, "89")); /* would pass the cap */
	CHECK(sb.overflow);
	CHECK_STR(sb.buf, "1234567");
	sb_release(&sb);

	sb_init(&sb, 0);
	char big[600];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(sb_addf(&sb, "%s!", big)); /* longer than the small buffer */
	CHECK(sb.len == sizeof(big));
	sb_reset(&sb);
	CHECK(sb_add_json_str(&sb, "a\"b\\c\n\x01"));
	CHECK_STR(sb.buf, "\"a\\\"b\\\\c\\u000a\\u0001\"");
	size_t n;
	char *p = sb_detach(&sb, &n);
	CHECK(n == strlen(p));
	free(p);
}

/* Issue 8: fts_query's first append overflowed and the NULL buffer was
 * then read.  An empty or overflowed strbuf reads as "" (never NULL). */
TEST(strbuf_buffer_is_never_null)
{
	strbuf_t sb;
	sb_init(&sb, 4);
	CHECK(sb.buf != NULL && sb.buf[0] == '\0');
	CHECK(!sb_adds(&sb, "too long for the cap"));
	CHECK(sb.overflow && sb.len == 0);
	CHECK_STR(sb.buf, "");
	sb_reset(&sb);
	CHECK_STR(sb.buf, "");
	sb_release(&sb);
	CHECK_STR(sb.buf, "");
	size_t n = 9;
	char *p = sb_detach(&sb, &n); /* a fresh "" the caller owns */
	CHECK(p && !*p && n == 0);
	free(p);
	sb_release(&sb); /* releasing an empty one frees nothing */

	/* cut on a character boundary: a 4-byte emoji is kept whole or left out */
	sb_init(&sb, 0);
	CHECK(sb_add_json_strn(&sb, "ab\xf0\x9f\x98\x80" "cd", 4));
	CHECK_STR(sb.buf, "\"ab\"");
	sb_reset(&sb);
	CHECK(sb_add_json_strn(&sb, "ab\xf0\x9f\x98\x80" "cd", 6));
	CHECK_STR(sb.buf, "\"ab\xf0\x9f\x98\x80\"");
	sb_release(&sb);
}

TEST(parse_i64_is_strict)
{
	int64_t v = 7;
	CHECK(parse_i64("0", &v) && v == 0);
	CHECK(parse_i64("-42", &v) && v == -42);
	CHECK(parse_i64("9223372036854775807", &v) && v == INT64_MAX);
	CHECK(parse_i64("-9223372036854775808", &v) && v == INT64_MIN);
	v = 7;
	CHECK(!parse_i64("9223372036854775808", &v) && v == 7);
	CHECK(!parse_i64("", &v));
	CHECK(!parse_i64(" 1", &v));
	CHECK(!parse_i64("1 ", &v));
	CHECK(!parse_i64("+1", &v));
	CHECK(!parse_i64("0x10", &v));
	CHECK(!parse_i64("1e3", &v));
	CHECK(!parse_i64("-", &v));
	CHECK(!parse_i64(NULL, &v));
	CHECK(parse_i64_range("5", 1, 10, &v) && v == 5);
	CHECK(!parse_i64_range("11", 1, 10, &v));
}

TEST(parse_cents_two_decimals)
{
	int64_t c;
	CHECK(parse_cents("12", &c) && c == 1200);
	CHECK(parse_cents("12.5", &c) && c == 1250);
	CHECK(parse_cents("0.99", &c) && c == 99);
	CHECK(!parse_cents("1.999", &c));
	CHECK(!parse_cents("-1", &c));
	CHECK(!parse_cents("1.", &c));
	CHECK(!parse_cents(".5", &c));
	CHECK(!parse_cents("99999999999999999999", &c));
}

TEST(parse_rate_units)
{
	struct rate_rule r;
	CHECK(parse_rate("5/minute", &r) && r.limit == 5 && r.window_ms == 60000);
	CHECK(parse_rate("10/hour", &r) && r.limit == 10 && r.window_ms == 3600000);
	CHECK(parse_rate("3/second", &r) && r.window_ms == 1000);
	CHECK(parse_rate("1000/day", &r) && r.window_ms == 86400000);
	CHECK(!parse_rate("5/fortnight", &r));
	CHECK(!parse_rate("0/minute", &r));
	CHECK(!parse_rate("x/minute", &r));
	CHECK(!parse_rate("5", &r));
	CHECK(!parse_rate("/minute", &r));
}

TEST(cidr_matching)
{
	struct cidr c;
	CHECK(parse_cidr("10.0.0.0/8", &c));
	CHECK(cidr_match(&c, "10.1.2.3"));
	CHECK(!cidr_match(&c, "11.1.2.3"));
	CHECK(cidr_match(&c, "::ffff:10.9.9.9")); /* v4-mapped */
	CHECK(parse_cidr("127.0.0.1", &c) && c.bits == 32);
	CHECK(cidr_match(&c, "127.0.0.1") && !cidr_match(&c, "127.0.0.2"));
	CHECK(parse_cidr("fd00::/8", &c));
	CHECK(cidr_match(&c, "fd12::1") && !cidr_match(&c, "fe80::1"));
	CHECK(parse_cidr("192.168.1.0/23", &c));
	CHECK(cidr_match(&c, "192.168.0.77") && !cidr_match(&c, "192.168.2.1"));
	CHECK(!parse_cidr("10.0.0.0/33", &c));
	CHECK(!parse_cidr("not-an-ip", &c));
	CHECK(!parse_cidr("", &c));
	CHECK(!cidr_match(&c, "garbage"));
}

TEST(iso8601_formats_utc)
{
	char buf[32];
	iso8601_ms(1708079400000LL, buf);
	CHECK_STR(buf, "2024-02-16T10:30:00Z");
}

TEST(percent_decode_keeps_nul_encoded)
{
	char a[] = "/api/categories%00/x";
	CHECK(percent_decode_keep_nul(a) == strlen("/api/categories%00/x") && !strcmp(a, "/api/categories%00/x"));
	char b[] = "a%20b%2Fc%e2%82%ac";
	size_t n = percent_decode_keep_nul(b);
	CHECK(n == 8 && !strcmp(b, "a b/c\xe2\x82\xac"));
	char c[] = "%zz%4%%41";
	CHECK(percent_decode_keep_nul(c) == 7 && !strcmp(c, "%zz%4%A"));
	CHECK(hex_digit('f') == 15 && hex_digit('F') == 15 && hex_digit('9') == 9 && hex_digit('g') == -1);
}
