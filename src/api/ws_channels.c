/*
 * ws_channels.c: the features' WebSocket channels, registered with the
 * hub (src/ws/ws.h) before the server serves: who may subscribe to a
 * support ticket's and a community's events.
 */
#include "api.h"
#include "communities.h"
#include "support.h"
#include "../ws/ws.h"

static ws_authz_t ws_support_channel(db_t *db, const auth_user_t *user, int64_t id)
{
	switch (support_ws_authorize(db, user->id, user->is_admin, id)) {
	case SUPPORT_WS_ALLOWED:
		return WS_ALLOWED;
	case SUPPORT_WS_FORBIDDEN:
		return WS_FORBIDDEN;
	default: /* missing, or the database did not answer: no subscription */
		return WS_MISSING;
	}
}

static ws_authz_t ws_community_channel(db_t *db, const auth_user_t *user, int64_t id)
{
	switch (community_ws_authorize(db, user->id, user->is_admin, id)) {
	case COMMUNITY_WS_ALLOWED:
		return WS_ALLOWED;
	case COMMUNITY_WS_FORBIDDEN:
		return WS_FORBIDDEN;
	default:
		return WS_MISSING;
	}
}

bool ws_channels_register(void)
{
	return ws_register_channel("support", ws_support_channel) && ws_register_channel("community", ws_community_channel);
}
