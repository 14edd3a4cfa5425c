/* Router matching and JSON depth checks. */
#include "t.h"
#include "http/router.h"
#include "http/validate.h"
#include "core/util.h"

static int h_dummy(struct req *r)
{
	(void)r;
	return 0;
}

static const route_t test_routes[] = {
	{ M_GET, "/api/models", h_dummy, ACCESS_PUBLIC, RL_GENERAL, BODY_NONE, 0, 0, "list" },
	{ M_POST, "/api/models", h_dummy, ACCESS_USER, RL_GENERAL, BODY_JSON, 0, 0, "create" },
	{ M_GET, "/api/models/featured", h_dummy, ACCESS_PUBLIC, RL_GENERAL, BODY_NONE, 0, 0, "featured" },
	{ M_GET, "/api/models/{id:int}", h_dummy, ACCESS_PUBLIC, RL_GENERAL, BODY_NONE, 0, 0, "get" },
	{ M_DELETE, "/api/models/{id:int}", h_dummy, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "delete" },
	{ M_POST, "/api/models/{id:int}/comments", h_dummy, ACCESS_USER, RL_GENERAL, BODY_JSON, 0, 0, "comment" },
	{ M_POST, "/api/auth/oauth/{provider}", h_dummy, ACCESS_PUBLIC, RL_AUTH, BODY_JSON, 0, 0, "oauth" },
	{ M_GET, "/api/users/{id:int}/followers", h_dummy, ACCESS_PUBLIC, RL_GENERAL, BODY_NONE, 0, 0, "followers" },
	{ M_GET, "/api/users/me/followers", h_dummy, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "my followers" },
};

static void match(router_t *r, method_t m, const char *path, match_t *out)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	router_match(r, m, buf, out);
}

TEST(router_literal_beats_param)
{
	router_t *r = router_new();
	router_add(r, test_routes, ARRAY_LEN(test_routes));
	match_t m;
	match(r, M_GET, "/api/models/featured", &m);
	CHECK(m.status == MATCH_OK && !strcmp(m.route->summary, "featured"));
	match(r, M_GET, "/api/models/42", &m);
	CHECK(m.status == MATCH_OK && !strcmp(m.route->summary, "get") && m.ints[0] == 42);
	match(r, M_GET, "/api/users/me/followers", &m);
	CHECK(m.status == MATCH_OK && !strcmp(m.route->summary, "my followers"));
	match(r, M_GET, "/api/users/7/followers", &m);
	CHECK(m.status == MATCH_OK && !strcmp(m.route->summary, "followers") && m.ints[0] == 7);
	router_free(r);
}

TEST(router_statuses)
{
	router_t *r = router_new();
	router_add(r, test_routes, ARRAY_LEN(test_routes));
	match_t m;
	match(r, M_PUT, "/api/models", &m);
	CHECK(m.status == MATCH_NO_METHOD);
	CHECK(m.allowed == ((1u << M_GET) | (1u << M_POST)));
	match(r, M_GET, "/api/nothing", &m);
	CHECK(m.status == MATCH_NO_PATH);
	match(r, M_GET, "/api/models/1'", &m);
	CHECK(m.status == MATCH_BAD_PARAM && !strcmp(m.bad_param, "id"));
	match(r, M_GET, "/api/models/0", &m);
	CHECK(m.status == MATCH_BAD_PARAM);
	match(r, M_GET, "/api/models/99999999999999999999", &m);
	CHECK(m.status == MATCH_BAD_PARAM);
	match(r, M_GET, "/api/models/", &m); /* trailing slash */
	CHECK(m.status == MATCH_OK && !strcmp(m.route->summary, "list"));
	match(r, M_GET, "/api//models", &m);
	CHECK(m.status == MATCH_NO_PATH);
	match(r, M_GET, "/api/../etc/passwd", &m);
	CHECK(m.status == MATCH_NO_PATH);
	match(r, M_GET, "api/models", &m);
	CHECK(m.status == MATCH_NO_PATH);
	match(r, M_POST, "/api/auth/oauth/github", &m);
	CHECK(m.status == MATCH_OK && !strcmp(m.values[0], "github") && !strcmp(m.names[0], "provider"));
	match(r, M_POST, "/api/models/5/comments", &m);
	CHECK(m.status == MATCH_OK && m.ints[0] == 5);
	char deep[200] = "";
	for (int i = 0; i < 30; i++)
		snprintf(deep + strlen(deep), sizeof(deep) - strlen(deep), "/a");
	match(r, M_GET, deep, &m);
	CHECK(m.status == MATCH_NO_PATH);
	router_free(r);
}

TEST(json_depth_limit)
{
	const char *ok = "{\"a\":[[{\"b\":1}]]}";
	CHECK(!json_depth_exceeds(ok, strlen(ok), 4));
	CHECK(json_depth_exceeds(ok, strlen(ok), 3));
	const char *in_string = "{\"a\":\"[[[[[[[[[[\"}";
	CHECK(!json_depth_exceeds(in_string, strlen(in_string), 2));
	const char *escaped = "{\"a\":\"\\\"[[[[\"}";
	CHECK(!json_depth_exceeds(escaped, strlen(escaped), 2));
	char deep[2001];
	memset(deep, '[', 2000);
	deep[2000] = '\0';
	CHECK(json_depth_exceeds(deep, 2000, 32));
}

TEST(utf8_char_count)
{
	CHECK(utf8_chars("abc") == 3);
	CHECK(utf8_chars("h\xc3\xa9llo") == 5);
	CHECK(utf8_chars("\xf0\x9f\x98\x80") == 1);
}

TEST(range_parse_forms)
{
	q_range_t r;
	CHECK(range_parse("10-20", Q_RANGE_INT, &r) && r.lo == 10 && r.hi == 20);
	CHECK(range_parse("10-", Q_RANGE_INT, &r) && r.lo == 10 && r.hi == -1);
	CHECK(range_parse("-20", Q_RANGE_INT, &r) && r.lo == -1 && r.hi == 20);
	CHECK(range_parse("0-0", Q_RANGE_INT, &r) && r.lo == 0 && r.hi == 0);
	CHECK(range_parse("9.99-20.5", Q_RANGE_MONEY, &r) && r.lo == 999 && r.hi == 2050);
	CHECK(range_parse("-0.01", Q_RANGE_MONEY, &r) && r.lo == -1 && r.hi == 1);
	CHECK(range_parse("9223372036854775807-", Q_RANGE_INT, &r) && r.lo == INT64_MAX);
	const char *bad[] = { "", "-", "abc", "10", "10-5", "1-2-3", "--5", "5--", "-5-", "+1-2", "1-+2", " 1-2",
			      "1 -2", "1-2 ", "0x1-2", "1.5-2", "9223372036854775808-", "1--0",
			      "123456789012345678901-1", NULL };
	for (const char **b = bad; *b; b++)
		CHECK(!range_parse(*b, Q_RANGE_INT, &r));
	const char *bad_money[] = { "1.234-2", "1.-2", ".5-1", "10-5", "1e3-", "-", "5.00-4.99", NULL };
	for (const char **b = bad_money; *b; b++)
		CHECK(!range_parse(*b, Q_RANGE_MONEY, &r));
	/* too long: past Q_RANGE_MAX_BYTES even when each end would parse */
	char long_range[64];
	memset(long_range, '0', sizeof(long_range) - 1);
	long_range[sizeof(long_range) - 1] = '\0';
	long_range[30] = '-';
	CHECK(!range_parse(long_range, Q_RANGE_INT, &r));
}

/* v_str_array: bounded items, each trimmed and bounded like v_str; null,
 * a non-array, too many items or one bad item is a field error. */
static arena_t *str_array_arena;

static size_t str_array(const char *body, size_t max_items, const char ***out, bool *ok)
{
	req_t req = { .arena = str_array_arena };
	json_t *j = json_loads(body, JSON_ALLOW_NUL, NULL);
	valid_t v;
	v_init(&v, &req, j);
	size_t n = v_str_array(&v, "tags", 0, max_items, 1, 5, out);
	*ok = v_ok(&v);
	json_decref(v.errors);
	json_decref(j);
	return n;
}

TEST(v_str_array_bounds)
{
	const char **items;
	bool ok;
	str_array_arena = arena_new();
	CHECK(str_array("{\"tags\": [\" ab \", \"cde\"]}", 3, &items, &ok) == 2 && ok);
	CHECK(items && !strcmp(items[0], "ab") && !strcmp(items[1], "cde"));
	CHECK(str_array("{\"tags\": []}", 3, &items, &ok) == 0 && ok && items);
	CHECK(str_array("{}", 3, &items, &ok) == 0 && ok && !items);
	CHECK(str_array("{\"tags\": null}", 3, &items, &ok) == 0 && !ok && !items);
	CHECK(str_array("{\"tags\": \"ab\"}", 3, &items, &ok) == 0 && !ok && !items);
	CHECK(str_array("{\"tags\": [\"a\", \"b\", \"c\", \"d\"]}", 3, &items, &ok) == 0 && !ok);
	CHECK(str_array("{\"tags\": [\"abcdef\"]}", 3, &items, &ok) == 0 && !ok);
	CHECK(str_array("{\"tags\": [\"  \"]}", 3, &items, &ok) == 0 && !ok);
	CHECK(str_array("{\"tags\": [\"a\\nb\"]}", 3, &items, &ok) == 0 && !ok);
	CHECK(str_array("{\"tags\": [1]}", 3, &items, &ok) == 0 && !ok);
	CHECK(str_array("{\"tags\": [\"a\\u0000b\"]}", 3, &items, &ok) == 0 && !ok);
	arena_free(str_array_arena);
}
