/*
 * api.h: the route tables of every resource area, gathered by routes.c.
 *
 * Each src/api/<area>.c keeps its handlers static and exports one array
 * <area>_routes[] and its length.
 */
#ifndef HWC_API_H
#define HWC_API_H

#include <stddef.h>
#include "../http/router.h"

#define EXPORT_ROUTES(name) const size_t name##_len = sizeof(name) / sizeof(name[0])
#define DECLARE_ROUTES(name) extern const route_t name[]; extern const size_t name##_len

DECLARE_ROUTES(system_routes);
DECLARE_ROUTES(category_routes);
DECLARE_ROUTES(auth_routes);
DECLARE_ROUTES(oauth_routes);
DECLARE_ROUTES(user_routes);
DECLARE_ROUTES(upload_routes);
DECLARE_ROUTES(model_routes);
DECLARE_ROUTES(spec_routes);
DECLARE_ROUTES(model_render_routes);
DECLARE_ROUTES(marketplace_routes);
DECLARE_ROUTES(admin_model_routes);
DECLARE_ROUTES(stats_routes);
DECLARE_ROUTES(testimonial_routes);
DECLARE_ROUTES(slide_routes);
DECLARE_ROUTES(newsletter_routes);
DECLARE_ROUTES(leaderboard_routes);
DECLARE_ROUTES(search_routes);
DECLARE_ROUTES(job_routes);
DECLARE_ROUTES(cart_routes);
DECLARE_ROUTES(checkout_routes);
DECLARE_ROUTES(download_routes);
DECLARE_ROUTES(webhook_routes);
DECLARE_ROUTES(revenue_routes);
DECLARE_ROUTES(dashboard_routes);
DECLARE_ROUTES(ws_routes);
DECLARE_ROUTES(social_routes);
DECLARE_ROUTES(notification_routes);
DECLARE_ROUTES(message_routes);
DECLARE_ROUTES(support_routes);
DECLARE_ROUTES(community_routes);
DECLARE_ROUTES(community_admin_routes);
DECLARE_ROUTES(safety_routes);
DECLARE_ROUTES(ai_routes);
DECLARE_ROUTES(bounty_routes);
DECLARE_ROUTES(course_routes);
DECLARE_ROUTES(admin_user_routes);
DECLARE_ROUTES(admin_overview_routes);
DECLARE_ROUTES(admin_analytics_routes);
DECLARE_ROUTES(admin_email_routes);
DECLARE_ROUTES(admin_settings_routes);

/* Builds the router with every route of every area. */
router_t *routes_build(void);

/* ws_channels.c: registers the support and community channels with the
 * WebSocket hub; false when the hub's table refused one. */
bool ws_channels_register(void);

/* The OpenAPI document (generated into the binary from docs/openapi.yaml). */
extern const char hwc_openapi_json[];
extern const size_t hwc_openapi_json_len;

#endif
