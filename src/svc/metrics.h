/*
 * metrics.h: Prometheus counters for /metrics.
 *
 * Requests by route and status, a latency histogram per route, and gauges
 * (in-flight requests, open WebSockets, queue depths).  Updates are lock-free atomic adds;
 * the route set is fixed at start-up (metrics_init).  Thread safe.
 *
 * Routes are known by their labels, the method and pattern of the route
 * table, so this module knows nothing of requests or of the router.
 */
#ifndef HWC_METRICS_H
#define HWC_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include "../core/strbuf.h"

/* A route's labels: its method ("GET") and pattern ("/api/models/{id:int}"). */
typedef struct metrics_route {
	const char *method, *route;
} metrics_route_t;

/* Once, before serving: the routes to count (the array is copied; its
 * strings must outlive the metrics, as the route table's literals do). */
void metrics_init(const metrics_route_t *routes, size_t n);
void metrics_free(void);
/* One finished request.  A NULL route, or labels that were not given to
 * metrics_init, count as "not a route" (static files, 404s). */
void metrics_observe(const char *method, const char *route, int status, int64_t duration_us);
void metrics_gauge_add(const char *name, int64_t delta);
/* For gauges sampled elsewhere (queue depths: queue_gauges.h). */
void metrics_gauge_set(const char *name, int64_t value);
void metrics_render(strbuf_t *out);

#endif
