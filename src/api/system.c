/* system.c: health, readiness, metrics, the OpenAPI document, version. */
#include <arpa/inet.h>
#include "api.h"
#include "../auth/internal.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../svc/metrics.h"
#include "../core/util.h"
#include "../version.h"

static int system_healthz(req_t *req)
{
	return reply_ok(req, json_pack("{s:s}", "status", "ok"));
}

static int system_readyz(req_t *req)
{
	db_t *db = db_thread();
	if (!db || !db_ping(db))
		return reply_error(req, ERR_UNAVAILABLE, "Database not reachable");
	return reply_ok(req, json_pack("{s:s, s:s}", "status", "ready", "database",
				       db_kind(db) == DB_PG ? "postgresql" : "sqlite"));
}

/* Loopback and TRUSTED_PROXIES only (both the peer and the forwarded
 * client, see auth/internal.h), or a bearer METRICS_TOKEN; others get 403. */
static int system_metrics(req_t *req)
{
	char peer[INET6_ADDRSTRLEN];
	if (!internal_access_allowed(req_peer_address(req, peer, sizeof(peer)), req->ip, req_header(req, "Authorization")))
		return reply_error(req, ERR_FORBIDDEN, "Metrics are served to loopback, TRUSTED_PROXIES or a METRICS_TOKEN bearer");
	strbuf_t sb;
	sb_init(&sb, 0);
	metrics_render(&sb);
	reply_bytes(req, 200, "text/plain; version=0.0.4; charset=utf-8", sb.buf, sb.len);
	sb_release(&sb);
	return DONE;
}

static int system_openapi(req_t *req)
{
	return reply_bytes(req, 200, "application/json", hwc_openapi_json, hwc_openapi_json_len);
}

static int system_version(req_t *req)
{
	return reply_ok(req, json_pack("{s:s, s:s}", "name", "hwc3d", "version", HWC_VERSION));
}

const route_t system_routes[] = {
	{ M_GET, "/healthz", system_healthz, ACCESS_PUBLIC, RL_NONE, BODY_NONE, 0, ROUTE_NO_DB, "Liveness" },
	{ M_GET, "/readyz", system_readyz, ACCESS_PUBLIC, RL_NONE, BODY_NONE, 0, ROUTE_NO_DB, "Readiness (checks the database)" },
	{ M_GET, "/metrics", system_metrics, ACCESS_PUBLIC, RL_NONE, BODY_NONE, 0, ROUTE_NO_DB, "Prometheus metrics" },
	{ M_GET, "/api/openapi.json", system_openapi, ACCESS_PUBLIC, RL_NONE, BODY_NONE, 0, ROUTE_NO_DB, "This API's OpenAPI document" },
	{ M_GET, "/api/version", system_version, ACCESS_PUBLIC, RL_NONE, BODY_NONE, 0, ROUTE_NO_DB, "Server version" },
};
EXPORT_ROUTES(system_routes);
