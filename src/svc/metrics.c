#include "metrics.h"
#include "../core/util.h"
#include "../http/pool.h"

static const int statuses[] = { 200, 201, 202, 204, 206, 301, 302, 304, 400, 401, 402, 403, 404,
				405, 409, 413, 414, 415, 422, 429, 431, 500, 502, 503 };
#define NSTATUS (ARRAY_LEN(statuses) + 1) /* last: any other */
static const double buckets[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
				  0.5, 1, 2.5, 5, 10 };
#define NBUCKETS (ARRAY_LEN(buckets) + 1)

struct route_stats {
	uint64_t by_status[NSTATUS];
	uint64_t hist[NBUCKETS];
	uint64_t sum_us;
};

static metrics_route_t *routes;
static size_t nroutes;
static struct route_stats *stats; /* [0] = not a route, [i + 1] = routes[i] */
/* Open addressing over the labels: slot holds a route's index + 1, 0 when
 * empty; at most half full, so a probe ends at an empty slot. */
static uint32_t *slots;
static size_t nslots;

static const char *gauge_names[] = { "hwc3d_requests_in_flight", "hwc3d_websockets_open",
				     "hwc3d_jobs_running", "hwc3d_connections_open",
				     "hwc3d_connections_lingering", "hwc3d_jobs_queued", "hwc3d_jobs_failed",
				     "hwc3d_mail_outbox_queued", "hwc3d_mail_outbox_failed" };
static int64_t gauges[ARRAY_LEN(gauge_names)];
static int64_t started_ms;

static size_t label_hash(const char *method, const char *route)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (const char *p = method; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	h = (h ^ ' ') * 1099511628211ULL;
	for (const char *p = route; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return (size_t)h;
}

/* The stats slot of a route's labels: 0 (not a route) when unknown. */
static size_t route_slot(const char *method, const char *route)
{
	if (!method || !route || !nslots)
		return 0;
	for (size_t i = label_hash(method, route) & (nslots - 1);; i = (i + 1) & (nslots - 1)) {
		uint32_t k = slots[i];
		if (!k)
			return 0;
		if (!strcmp(routes[k - 1].route, route) && !strcmp(routes[k - 1].method, method))
			return k;
	}
}

void metrics_init(const metrics_route_t *r, size_t n)
{
	nroutes = n;
	routes = xcalloc(n ? n : 1, sizeof(*routes));
	if (n)
		memcpy(routes, r, n * sizeof(*routes));
	stats = xcalloc(nroutes + 1, sizeof(*stats));
	for (nslots = 16; nslots < 2 * n; nslots *= 2)
		;
	slots = xcalloc(nslots, sizeof(*slots));
	for (size_t k = 0; k < n; k++) {
		if (route_slot(routes[k].method, routes[k].route))
			continue; /* the same labels twice: the first counts */
		size_t i = label_hash(routes[k].method, routes[k].route) & (nslots - 1);
		while (slots[i])
			i = (i + 1) & (nslots - 1);
		slots[i] = (uint32_t)(k + 1);
	}
	started_ms = now_ms();
}

void metrics_free(void)
{
	free(stats);
	free(slots);
	free(routes);
	stats = NULL;
	slots = NULL;
	routes = NULL;
	nslots = nroutes = 0;
}

static size_t status_slot(int status)
{
	for (size_t i = 0; i < ARRAY_LEN(statuses); i++)
		if (statuses[i] == status)
			return i;
	return NSTATUS - 1;
}

void metrics_observe(const char *method, const char *route, int status, int64_t duration_us)
{
	if (!stats)
		return;
	struct route_stats *s = &stats[route_slot(method, route)];
	__atomic_add_fetch(&s->by_status[status_slot(status)], 1, __ATOMIC_RELAXED);
	double secs = (double)duration_us / 1e6;
	size_t b = 0;
	while (b < ARRAY_LEN(buckets) && secs > buckets[b])
		b++;
	__atomic_add_fetch(&s->hist[b], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&s->sum_us, (uint64_t)(duration_us > 0 ? duration_us : 0), __ATOMIC_RELAXED);
}

void metrics_gauge_add(const char *name, int64_t delta)
{
	for (size_t i = 0; i < ARRAY_LEN(gauge_names); i++)
		if (!strcmp(gauge_names[i], name))
			__atomic_add_fetch(&gauges[i], delta, __ATOMIC_RELAXED);
}

void metrics_gauge_set(const char *name, int64_t value)
{
	for (size_t i = 0; i < ARRAY_LEN(gauge_names); i++)
		if (!strcmp(gauge_names[i], name))
			__atomic_store_n(&gauges[i], value, __ATOMIC_RELAXED);
}

static void labels(strbuf_t *out, size_t i)
{
	if (i == 0) {
		sb_adds(out, "method=\"\",route=\"(none)\"");
		return;
	}
	sb_addf(out, "method=\"%s\",route=\"%s\"", routes[i - 1].method, routes[i - 1].route);
}

void metrics_render(strbuf_t *out)
{
	sb_adds(out, "# HELP hwc3d_http_requests_total HTTP requests by route and status.\n"
		     "# TYPE hwc3d_http_requests_total counter\n");
	for (size_t i = 0; stats && i <= nroutes; i++) {
		for (size_t s = 0; s < NSTATUS; s++) {
			uint64_t n = __atomic_load_n(&stats[i].by_status[s], __ATOMIC_RELAXED);
			if (!n)
				continue;
			sb_adds(out, "hwc3d_http_requests_total{");
			labels(out, i);
			if (s < ARRAY_LEN(statuses))
				sb_addf(out, ",status=\"%d\"} %llu\n", statuses[s], (unsigned long long)n);
			else
				sb_addf(out, ",status=\"other\"} %llu\n", (unsigned long long)n);
		}
	}
	sb_adds(out, "# HELP hwc3d_http_request_duration_seconds Request latency by route.\n"
		     "# TYPE hwc3d_http_request_duration_seconds histogram\n");
	for (size_t i = 0; stats && i <= nroutes; i++) {
		uint64_t cum = 0, h[NBUCKETS];
		for (size_t b = 0; b < NBUCKETS; b++)
			h[b] = __atomic_load_n(&stats[i].hist[b], __ATOMIC_RELAXED);
		uint64_t total = 0;
		for (size_t b = 0; b < NBUCKETS; b++)
			total += h[b];
		if (!total)
			continue;
		for (size_t b = 0; b < NBUCKETS; b++) {
			cum += h[b];
			sb_adds(out, "hwc3d_http_request_duration_seconds_bucket{");
			labels(out, i);
			if (b < ARRAY_LEN(buckets))
				sb_addf(out, ",le=\"%g\"} %llu\n", buckets[b], (unsigned long long)cum);
			else
				sb_addf(out, ",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
		}
		sb_adds(out, "hwc3d_http_request_duration_seconds_sum{");
		labels(out, i);
		sb_addf(out, "} %.6f\n", (double)__atomic_load_n(&stats[i].sum_us, __ATOMIC_RELAXED) / 1e6);
		sb_adds(out, "hwc3d_http_request_duration_seconds_count{");
		labels(out, i);
		sb_addf(out, "} %llu\n", (unsigned long long)total);
	}
	for (size_t g = 0; g < ARRAY_LEN(gauge_names); g++)
		sb_addf(out, "# TYPE %s gauge\n%s %lld\n", gauge_names[g], gauge_names[g],
			(long long)__atomic_load_n(&gauges[g], __ATOMIC_RELAXED));
	sb_addf(out, "# TYPE hwc3d_uptime_seconds gauge\nhwc3d_uptime_seconds %lld\n",
		(long long)((now_ms() - started_ms) / 1000));
	pool_metrics_write(out);
}
