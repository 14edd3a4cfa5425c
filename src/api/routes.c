#include "api.h"

router_t *routes_build(void)
{
	router_t *r = router_new();
	router_add(r, system_routes, system_routes_len);
	router_add(r, category_routes, category_routes_len);
	router_add(r, auth_routes, auth_routes_len);
	router_add(r, oauth_routes, oauth_routes_len);
	router_add(r, user_routes, user_routes_len);
	router_add(r, upload_routes, upload_routes_len);
	router_add(r, model_routes, model_routes_len);
	router_add(r, spec_routes, spec_routes_len);
	router_add(r, model_render_routes, model_render_routes_len);
	router_add(r, marketplace_routes, marketplace_routes_len);
	router_add(r, admin_model_routes, admin_model_routes_len);
	router_add(r, stats_routes, stats_routes_len);
	router_add(r, testimonial_routes, testimonial_routes_len);
	router_add(r, slide_routes, slide_routes_len);
	router_add(r, newsletter_routes, newsletter_routes_len);
	router_add(r, leaderboard_routes, leaderboard_routes_len);
	router_add(r, search_routes, search_routes_len);
	router_add(r, job_routes, job_routes_len);
	router_add(r, cart_routes, cart_routes_len);
	router_add(r, checkout_routes, checkout_routes_len);
	router_add(r, download_routes, download_routes_len);
	router_add(r, webhook_routes, webhook_routes_len);
	router_add(r, revenue_routes, revenue_routes_len);
	router_add(r, dashboard_routes, dashboard_routes_len);
	router_add(r, ws_routes, ws_routes_len);
	router_add(r, social_routes, social_routes_len);
	router_add(r, notification_routes, notification_routes_len);
	router_add(r, message_routes, message_routes_len);
	router_add(r, support_routes, support_routes_len);
	router_add(r, community_routes, community_routes_len);
	router_add(r, community_admin_routes, community_admin_routes_len);
	router_add(r, safety_routes, safety_routes_len);
	router_add(r, ai_routes, ai_routes_len);
	router_add(r, bounty_routes, bounty_routes_len);
	router_add(r, course_routes, course_routes_len);
	router_add(r, admin_user_routes, admin_user_routes_len);
	router_add(r, admin_overview_routes, admin_overview_routes_len);
	router_add(r, admin_analytics_routes, admin_analytics_routes_len);
	router_add(r, admin_email_routes, admin_email_routes_len);
	router_add(r, admin_settings_routes, admin_settings_routes_len);
	return r;
}
