/* core/jsonw: the hand-written JSON gives jansson's text (reply.c's dump
 * flags), so the hot paths and the tree paths agree byte for byte. */
#include <jansson.h>
#include <stdlib.h>
#include "t.h"
#include "core/jsonw.h"
#include "core/strbuf.h"

#define DUMP_FLAGS (JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15))

/* jansson's text for v (consumed). */
static char *jansson_text(json_t *v)
{
	char *s = json_dumps(v, DUMP_FLAGS);
	json_decref(v);
	return s;
}

static bool same_as_jansson(strbuf_t *sb, json_t *v)
{
	char *want = jansson_text(v);
	bool same = want && sb->buf && !strcmp(sb->buf, want);
	if (!same)
		fprintf(stderr, "    got  %s\n    want %s\n", sb->buf ? sb->buf : "(null)", want ? want : "(null)");
	free(want);
	sb_reset(sb);
	return same;
}

TEST(jsonw_strings_match_jansson)
{
	static const char *const cases[] = {
		"", "plain", "quote \" and backslash \\", "new\nline\ttab\rret\bback\fform",
		"\x01\x1f control", "slash / stays", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x89", "\x7f del",
	};
	strbuf_t sb;
	sb_init(&sb, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		jw_str(&sb, cases[i]);
		CHECK(same_as_jansson(&sb, json_string(cases[i])));
	}
	jw_str(&sb, NULL);
	CHECK(same_as_jansson(&sb, json_null()));
	/* not UTF-8 (jansson refuses such a string): each bad byte is U+FFFD */
	static const char *const bad[] = { "a\xff" "b", "\xc3", "\xe2\x82", "\xed\xa0\x80", "\xc0\xaf", "\xf5\x80\x80\x80" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		jw_str(&sb, bad[i]);
		json_error_t e;
		json_t *back = json_loads(sb.buf, JSON_DECODE_ANY, &e);
		CHECK(json_is_string(back) && strstr(json_string_value(back), "\xef\xbf\xbd"));
		json_decref(back);
		sb_reset(&sb);
	}
	sb_release(&sb);
}

TEST(jsonw_numbers_match_jansson)
{
	strbuf_t sb;
	sb_init(&sb, 0);
	static const int64_t ints[] = { 0, 1, -1, 42, 1234567890123LL, INT64_MAX, INT64_MIN };
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		jw_int(&sb, ints[i]);
		CHECK(same_as_jansson(&sb, json_integer(ints[i])));
	}
	static const int64_t cents[] = { 0, 1, 999, 1000, 6246, 100000000, 99999999999LL, 5 };
	for (size_t i = 0; i < sizeof(cents) / sizeof(cents[0]); i++) {
		jw_money(&sb, cents[i]);
		CHECK(same_as_jansson(&sb, json_real((double)cents[i] / 100.0)));
	}
	static const double reals[] = { 0.0, 4.333333333333333, 1e20, 1e-7, 2.5, 3.0, 123456789012345678.0 };
	for (size_t i = 0; i < sizeof(reals) / sizeof(reals[0]); i++) {
		jw_real(&sb, reals[i]);
		CHECK(same_as_jansson(&sb, json_real(reals[i])));
	}
	jw_bool(&sb, true);
	CHECK(same_as_jansson(&sb, json_true()));
	jw_bool(&sb, false);
	CHECK(same_as_jansson(&sb, json_false()));
	sb_release(&sb);
}

TEST(jsonw_string_arrays)
{
	strbuf_t sb;
	sb_init(&sb, 0);
	/* what the handlers store: copied through, compacted */
	static const struct { const char *in, *out; } ok[] = {
		{ "[]", "[]" },
		{ "[\"a\",\"b c\"]", "[\"a\",\"b c\"]" },
		{ " [ \"a\" , \"\\\"q\\\"\\u00e9\" ] ", "[\"a\",\"\\\"q\\\"\\u00e9\"]" },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		jw_str_array(&sb, ok[i].in);
		CHECK_STR(sb.buf, ok[i].out);
		sb_reset(&sb);
	}
	/* anything else: through jansson (UTF-8 as text), or [] */
	jw_str_array(&sb, "[\"caf\xc3\xa9\", 3, \"x\"]");
	CHECK_STR(sb.buf, "[\"caf\xc3\xa9\",\"x\"]");
	sb_reset(&sb);
	static const char *const junk[] = { NULL, "", "{}", "[", "[\"a\"", "[\"a\",]", "[\"a\"]x", "\"a\"", "[\"\\u12\"]",
					    "[\"a\\", "[\"a\" \"b\"]", "null",
					    /* jansson refuses NUL and lone surrogates */
					    "[\"an\\u0000x\"]", "[\"\\ud800\"]", "[\"\\uDFFF\"]" };
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		jw_str_array(&sb, junk[i]);
		CHECK_STR(sb.buf, "[]");
		sb_reset(&sb);
	}
	sb_release(&sb);
}
