/*
 * communities.h: what communities.c (the members' side) and
 * communities_admin.c (moderation) share: the community document, the
 * fields a body may set, and the WebSocket authorisation of
 * /ws/community/{id}.
 *
 * A community is pending until an admin approves it (active), unless an
 * admin created it; only active ones are listed and may be joined.  A
 * pending or rejected community is visible to its owner and to admins
 * only: to anyone else it does not exist (404).
 */
#ifndef HWC_COMMUNITIES_H
#define HWC_COMMUNITIES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "../db/db.h"
#include "../http/request.h"
#include "../http/validate.h"

#define COMMUNITY_NAME_MAX 60
#define COMMUNITY_DESCRIPTION_MAX 1000
#define COMMUNITY_RULES_MAX 2000

/* The categories a community may have (slugs, NULL-terminated). */
extern const char *const community_categories[];
extern const char *const community_statuses[]; /* pending, active, rejected */

/* The columns of a community row (COMMUNITY_FROM); a query that selects
 * more reads them from CC_COUNT on. */
#define COMMUNITY_COLUMNS(FIRST, NEXT) \
	FIRST(CC_ID, "c.id") \
	NEXT(CC_NAME, "c.name") \
	NEXT(CC_DESCRIPTION, "c.description") \
	NEXT(CC_CATEGORY, "c.category") \
	NEXT(CC_RULES, "c.rules") \
	NEXT(CC_STATUS, "c.status") \
	NEXT(CC_MEMBERS_COUNT, "c.members_count") \
	NEXT(CC_POSTS_COUNT, "c.posts_count") \
	NEXT(CC_CREATED_AT, "c.created_at") \
	NEXT(CC_UPDATED_AT, "c.updated_at") \
	NEXT(CC_APPROVED_AT, "c.approved_at") \
	NEXT(CC_OWNER_ID, "o.id") \
	NEXT(CC_OWNER_USERNAME, "o.username") \
	NEXT(CC_OWNER_FULL_NAME, "o.full_name") \
	NEXT(CC_OWNER_AVATAR_URL, "o.avatar_url") \
	NEXT(CC_OWNER_IS_VERIFIED, "o.is_verified")
#define COMMUNITY_COLS COMMUNITY_COLUMNS(DB_COL_SQL, DB_COL_SQL_NEXT)
enum community_col { COMMUNITY_COLUMNS(DB_COL_ENUM, DB_COL_ENUM) CC_COUNT };
#define COMMUNITY_FROM " FROM communities c JOIN users o ON o.id = c.owner_id"

/* The document of a row of COMMUNITY_COLS. */
json_t *community_json(db_rows_t *r);

/* {id, username, full_name, avatar_url, is_verified} from five columns
 * starting at col. */
json_t *user_brief_json(db_rows_t *r, int col);

/* What a body may set on a community.  create: name is required and the
 * others default; otherwise each is NULL when absent. */
struct community_in {
	const char *name, *name_lower, *description, *category, *rules;
};
void community_read(valid_t *v, struct community_in *in, bool create);

/* Inserts a community owned by the caller (its first member, the owner)
 * with this status, in one transaction; replies 409 when the name is
 * taken.  Returns the new id, or 0 after replying. */
int64_t community_insert(req_t *req, const struct community_in *in, const char *status);

/* Replies with the community document of id (status), as its owner or an
 * admin sees it (is_member added for the caller). */
int reply_community(req_t *req, int status, int64_t id);

/* The authorisation of /ws/community/{id}, registered with the hub:
 * allowed for a member of an active community, and for admins; forbidden
 * for anyone else; missing when there is no such community.  id 0 is the
 * global hub chat (channel "community:0"), open to every signed-in user. */
enum community_ws_auth { COMMUNITY_WS_ALLOWED, COMMUNITY_WS_FORBIDDEN, COMMUNITY_WS_MISSING, COMMUNITY_WS_ERROR };
enum community_ws_auth community_ws_authorize(db_t *db, int64_t user_id, bool is_admin, int64_t community_id);

/* The event channel of a community ("community:<id>", 0 the hub), an
 * arena string. */
const char *community_channel(req_t *req, int64_t community_id);

#endif
