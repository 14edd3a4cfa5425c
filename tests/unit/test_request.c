/* The request accessors on a request built without libmicrohttpd, the
 * bearer token as auth_identify receives it, and metrics by route labels. */
#include <stdlib.h>
#include "t.h"
#include "auth/auth.h"
#include "auth/token.h"
#include "core/config.h"
#include "core/util.h"
#include "http/request.h"
#include "svc/metrics.h"

static req_t *kv_req(arena_t *a, const char *const *headers, const char *const *query, const char *const *cookies)
{
	req_t *req = arena_calloc(a, sizeof(*req));
	req->arena = a;
	req->header_kv = headers;
	req->query_kv = query;
	req->cookie_kv = cookies;
	return req;
}

TEST(request_kv_accessors)
{
	arena_t *a = arena_new();
	static const char *const hdrs[] = { "Content-Type", "application/json", "X-A", "1", "x-a", "2", NULL };
	static const char *const query[] = { "tag", "a", "page", "3", "TAG", "b", "tag", NULL, NULL };
	static const char *const cookies[] = { "hwc_refresh", "r-token", "other", "x", NULL };
	req_t *req = kv_req(a, hdrs, query, cookies);
	CHECK_STR(req_header(req, "content-type"), "application/json");
	CHECK_STR(req_header(req, "X-A"), "1"); /* the first match */
	CHECK(!req_header(req, "Cookie"));
	CHECK_STR(req_query(req, "page"), "3");
	CHECK(!req_query(req, "missing"));
	const char *vals[2] = { 0 };
	CHECK(req_query_values(req, "tag", vals, 2) == 3); /* all three, two kept */
	CHECK_STR(vals[0], "a");
	CHECK_STR(vals[1], "b");
	CHECK(req_query_values(req, "missing", vals, 2) == 0);
	CHECK_STR(req_cookie(req, "hwc_refresh"), "r-token");
	CHECK(!req_cookie(req, "tag"));
	req_t *bare = kv_req(a, NULL, NULL, NULL);
	CHECK(!req_cookie(bare, "hwc_refresh") && !req_header(bare, "X-A") && !req_query(bare, "tag"));
	CHECK(req_query_values(bare, "tag", vals, 2) == 0);
	char buf[64];
	CHECK(!req_peer_address(bare, buf, sizeof(buf)));
	arena_free(a);
}

TEST(request_bearer_token)
{
	arena_t *a = arena_new();
	static const char *const none[] = { NULL };
	static const char *const empty[] = { "Authorization", "", NULL };
	static const char *const basic[] = { "Authorization", "Basic dXNlcjpwdw==", NULL };
	static const char *const bearer[] = { "Authorization", "bearer   abc.def.ghi", NULL };
	static const char *const blank[] = { "Authorization", "Bearer ", NULL };
	CHECK(!req_bearer_token(kv_req(a, none, NULL, NULL)));
	CHECK(!req_bearer_token(kv_req(a, empty, NULL, NULL)));
	CHECK_STR(req_bearer_token(kv_req(a, basic, NULL, NULL)), "");
	CHECK_STR(req_bearer_token(kv_req(a, bearer, NULL, NULL)), "abc.def.ghi");
	CHECK_STR(req_bearer_token(kv_req(a, blank, NULL, NULL)), "");
	arena_free(a);
}

TEST(auth_identify_takes_the_token)
{
	char saved[sizeof(cfg.jwt_secret)];
	size_t saved_len = cfg.jwt_secret_len;
	memcpy(saved, cfg.jwt_secret, sizeof(saved));
	const char *secret = "unit-test-secret-unit-test-secret-0123456789";
	cfg.jwt_secret_len = strlen(secret);
	memcpy(cfg.jwt_secret, secret, cfg.jwt_secret_len);

	arena_t *a = arena_new();
	auth_user_t *user = NULL;
	CHECK(auth_identify(NULL, a, NULL, &user) == AUTH_NONE);
	CHECK(auth_identify(NULL, a, "", &user) == AUTH_INVALID);   /* another scheme */
	CHECK(auth_identify(NULL, a, "a.b.c", &user) == AUTH_INVALID);
	char *tok = token_issue(42, "user", 60, 0);
	CHECK(tok != NULL);
	/* A token that verifies needs its user from the database. */
	CHECK(auth_identify(NULL, a, tok, &user) == AUTH_DB_ERROR);
	CHECK(user == NULL);
	free(tok);
	arena_free(a);

	cfg.jwt_secret_len = saved_len;
	memcpy(cfg.jwt_secret, saved, sizeof(saved));
}

TEST(metrics_by_route_labels)
{
	static const metrics_route_t routes[] = {
		{ "GET", "/api/models" },
		{ "POST", "/api/models" },
		{ "GET", "/api/models/{id:int}" },
	};
	metrics_init(routes, ARRAY_LEN(routes));
	/* Labels are compared as strings, not by pointer. */
	char method[8], route[32];
	snprintf(method, sizeof(method), "POST");
	snprintf(route, sizeof(route), "/api/models");
	metrics_observe(method, route, 201, 1500);
	metrics_observe("GET", "/api/models/{id:int}", 404, 100);
	metrics_observe("GET", "/api/models/{id:int}", 404, 100);
	metrics_observe(NULL, NULL, 404, 100);
	metrics_observe("DELETE", "/api/models", 200, 100); /* not a route */
	strbuf_t sb;
	sb_init(&sb, 0);
	metrics_render(&sb);
	const char *out = sb.buf;
	CHECK(strstr(out, "hwc3d_http_requests_total{method=\"POST\",route=\"/api/models\",status=\"201\"} 1\n"));
	CHECK(strstr(out, "hwc3d_http_requests_total{method=\"GET\",route=\"/api/models/{id:int}\",status=\"404\"} 2\n"));
	CHECK(strstr(out, "hwc3d_http_requests_total{method=\"\",route=\"(none)\",status=\"404\"} 1\n"));
	CHECK(strstr(out, "hwc3d_http_requests_total{method=\"\",route=\"(none)\",status=\"200\"} 1\n"));
	CHECK(!strstr(out, "method=\"GET\",route=\"/api/models\","));
	CHECK(strstr(out, "hwc3d_http_request_duration_seconds_count{method=\"POST\",route=\"/api/models\"} 1\n"));
	sb_release(&sb);
	metrics_free();
}
