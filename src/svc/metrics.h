/*
 * metrics.h: Prometheus counters for /metrics.
 *
 * Requests by route and status, a latency histogram per route, and gauges
 * (in-flight requests, open WebSockets).  Updates are lock-free atomic adds;
 * the route set is fixed at start-up (metrics_init).  Thread safe.
 */
#ifndef HWC_METRICS_H
#define HWC_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include "../core/strbuf.h"
#include "../http/router.h"

void metrics_init(const router_t *router);
void metrics_free(void);
/* route_index -1: not a route (static files, 404s). */
void metrics_observe(int route_index, int status, int64_t duration_us);
void metrics_gauge_add(const char *name, int64_t delta);
void metrics_render(strbuf_t *out);

#endif
