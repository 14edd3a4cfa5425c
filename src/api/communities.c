/*
 * communities.c: communities as their members see them (guide section 8):
 * the list, create, view, members, join and leave; the chats (the global
 * hub chat and each community's); posts with images or a 3D model,
 * reactions, comments, shares and reports.
 *
 * Who may do what:
 *   - anyone may read an active community, its members, posts, comments
 *     and the hub chat; a pending or rejected one exists only for its
 *     owner and admins (404 for others);
 *   - a community's own chat is read and written by its members (admins
 *     may read it);
 *   - only members post, comment and react (403 for others);
 *   - any signed-in user may share and report what they can see.
 *
 * Counters move in the transaction of the row that moves them, and only
 * when that row really changed, so repeats are harmless and counts exact.
 * Events are published after the commit, to "community:<id>" (events.h).
 */
#include "api.h"
#include "communities.h"
#include "models_common.h"
#include "paged.h"
#include "../core/config.h"
#include "../core/util.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "../svc/events.h"
#include "../svc/storage.h"

#define POST_CONTENT_MAX 5000
#define POST_IMAGES_MAX 4
#define COMMENT_MAX 2000
#define MESSAGE_MAX 1000
#define REPORT_DETAILS_MAX 1000
/* A user may have this many communities waiting for review at once. */
#define PENDING_PER_USER 5

const char *const community_categories[] = {
	"general", "modeling", "sculpting", "texturing", "animation", "rigging", "game-assets",
	"architecture", "characters", "vehicles", "3d-printing", "showcase", "help", NULL,
};
const char *const community_statuses[] = { "pending", "active", "rejected", NULL };
static const char *const reaction_kinds[] = { "like", "love", "laugh", "wow", "sad", "fire", NULL };
static const char *const report_reasons[] = { "spam", "harassment", "inappropriate", "copyright", "other", NULL };

static int64_t viewer_id(req_t *req)
{
	return req->user ? req->user->id : 0;
}

static bool viewer_admin(req_t *req)
{
	return req->user && req->user->is_admin;
}

const char *community_channel(req_t *req, int64_t community_id)
{
	return arena_printf(req->arena, "community:%lld", (long long)community_id);
}

/* ========================================================== documents */

json_t *user_brief_json(db_rows_t *r, int col)
{
	return json_pack("{s:I, s:s, s:s?, s:s?, s:b}", "id", (json_int_t)db_int(r, col), "username", db_text(r, col + 1),
			 "full_name", db_text(r, col + 2), "avatar_url", db_text(r, col + 3), "is_verified",
			 db_bool(r, col + 4));
}

json_t *community_json(db_rows_t *r)
{
	json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:o, s:o}",
		"id", (json_int_t)db_int(r, CC_ID), "name", db_text(r, CC_NAME),
		"description", db_text(r, CC_DESCRIPTION), "category", db_text(r, CC_CATEGORY),
		"rules", db_text(r, CC_RULES), "status", db_text(r, CC_STATUS),
		"members_count", (json_int_t)db_int(r, CC_MEMBERS_COUNT),
		"posts_count", (json_int_t)db_int(r, CC_POSTS_COUNT),
		"created_at", json_time(db_int(r, CC_CREATED_AT)), "updated_at", json_time(db_int(r, CC_UPDATED_AT)));
	json_object_set_new(o, "approved_at", db_isnull(r, CC_APPROVED_AT) ? json_null()
									  : json_time(db_int(r, CC_APPROVED_AT)));
	json_object_set_new(o, "owner", user_brief_json(r, CC_OWNER_ID));
	return o;
}

/* The caller's own state: is_member and member_role (null when not one);
 * col is the role column (NULL when not a member). */
static void add_membership(req_t *req, json_t *o, db_rows_t *r, int col)
{
	if (!req->user)
		return;
	json_object_set_new(o, "is_member", json_boolean(!db_isnull(r, col)));
	json_object_set_new(o, "member_role", db_isnull(r, col) ? json_null() : json_string(db_text(r, col)));
}

#define MEMBER_ROLE_COL \
	", (SELECT cm.role FROM community_members cm WHERE cm.community_id = c.id AND cm.user_id = $1)"

int reply_community(req_t *req, int status, int64_t id)
{
	db_rows_t *r = RQ(req, "SELECT " COMMUNITY_COLS MEMBER_ROLE_COL COMMUNITY_FROM " WHERE c.id = $2",
			  P_INT(viewer_id(req)), P_INT(id));
	if (!r)
		return reply_db_error(req, "read community");
	if (!db_next(r))
		return db_failed(r) ? reply_db_error(req, "read community")
				    : reply_error(req, ERR_NOT_FOUND, "Community not found");
	json_t *o = community_json(r);
	add_membership(req, o, r, CC_COUNT);
	return reply_json(req, status, o);
}

/* ============================================================ lookups */

struct community_ref {
	int64_t id, owner_id;
	bool active, is_member;
};

/* The community of id as the caller may see it; replies 404 (and returns
 * false) when it does not exist or is not active and the caller is
 * neither its owner nor an admin.  Released before returning (callers
 * write next). */
static bool community_find_or_404(req_t *req, int64_t id, struct community_ref *c)
{
	db_rows_t *r = DBQ(req->db,
		"SELECT c.owner_id, c.status = 'active',"
		" EXISTS (SELECT 1 FROM community_members cm WHERE cm.community_id = c.id AND cm.user_id = $2)"
		" FROM communities c WHERE c.id = $1", P_INT(id), P_INT(viewer_id(req)));
	if (!r) {
		reply_db_error(req, "find community");
		return false;
	}
	bool found = db_next(r);
	if (found)
		*c = (struct community_ref){ .id = id, .owner_id = db_int(r, 0), .active = db_bool(r, 1),
					     .is_member = db_bool(r, 2) };
	bool failed = db_failed(r);
	db_done(r);
	if (failed) {
		reply_db_error(req, "find community");
		return false;
	}
	if (!found || (!c->active && c->owner_id != viewer_id(req) && !viewer_admin(req))) {
		reply_error(req, ERR_NOT_FOUND, "Community not found");
		return false;
	}
	return true;
}

struct post_ref {
	int64_t id, community_id, author_id;
	bool is_member;
};

/* The post of the path's {id}, when it is not removed and its community is
 * visible to the caller; else 404.  Released before returning. */
static bool post_find_or_404(req_t *req, struct post_ref *p)
{
	int64_t id = req_param_int(req, "id");
	db_rows_t *r = DBQ(req->db,
		"SELECT p.community_id, p.author_id, c.owner_id, c.status = 'active',"
		" EXISTS (SELECT 1 FROM community_members cm WHERE cm.community_id = c.id AND cm.user_id = $2)"
		" FROM community_posts p JOIN communities c ON c.id = p.community_id"
		" WHERE p.id = $1 AND p.removed_at IS NULL", P_INT(id), P_INT(viewer_id(req)));
	if (!r) {
		reply_db_error(req, "find post");
		return false;
	}
	bool found = db_next(r), visible = false;
	if (found) {
		*p = (struct post_ref){ .id = id, .community_id = db_int(r, 0), .author_id = db_int(r, 1),
					.is_member = db_bool(r, 4) };
		visible = db_bool(r, 3) || db_int(r, 2) == viewer_id(req) || viewer_admin(req);
	}
	bool failed = db_failed(r);
	db_done(r);
	if (failed) {
		reply_db_error(req, "find post");
		return false;
	}
	if (!found || !visible) {
		reply_error(req, ERR_NOT_FOUND, "Post not found");
		return false;
	}
	return true;
}

static int reply_not_member(req_t *req, const char *what)
{
	return reply_error(req, ERR_FORBIDDEN, arena_printf(req->arena, "Join this community to %s", what));
}

/* ======================================================== communities */

void community_read(valid_t *v, struct community_in *in, bool create)
{
	int req_flag = create ? V_REQUIRED : 0;
	*in = (struct community_in){ 0 };
	in->name = v_str(v, "name", req_flag, 3, COMMUNITY_NAME_MAX);
	if (in->name)
		in->name_lower = utf8_lower(v->req->arena, in->name);
	in->description = v_str(v, "description", V_MULTILINE, 0, COMMUNITY_DESCRIPTION_MAX);
	in->category = v_enum(v, "category", 0, community_categories, create ? "general" : NULL);
	in->rules = v_str(v, "rules", V_MULTILINE, 0, COMMUNITY_RULES_MAX);
	if (create) {
		if (!in->description)
			in->description = "";
		if (!in->rules)
			in->rules = "";
	}
}

static int reply_name_taken(req_t *req)
{
	json_t *fe = json_pack("{s:[s]}", "name", "A community with this name already exists");
	return reply_error_fields(req, ERR_CONFLICT, "A community with this name already exists", fe);
}

int64_t community_insert(req_t *req, const struct community_in *in, const char *status)
{
	int64_t now = now_ms(), id = 0;
	bool active = !strcmp(status, "active");
	if (!db_begin(req->db)) {
		reply_db_error(req, "begin");
		return 0;
	}
	bool ok = DBS(req->db, &id,
		"INSERT INTO communities (name, name_lower, description, category, rules, status, owner_id,"
		" members_count, approved_at, approved_by, created_at, updated_at)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9, $10, $10) RETURNING id",
		P_TEXT(in->name), P_TEXT(in->name_lower), P_TEXT(in->description), P_TEXT(in->category),
		P_TEXT(in->rules), P_TEXT(status), P_INT(req->user->id), active ? P_INT(now) : P_NULL,
		active ? P_INT(req->user->id) : P_NULL, P_INT(now)) == 1;
	ok = ok && DBX(req->db, "INSERT INTO community_members (community_id, user_id, role, joined_at)"
			   " VALUES ($1, $2, 'owner', $3)", P_INT(id), P_INT(req->user->id), P_INT(now)) == 1;
	if (!ok || !db_commit(req->db)) {
		bool taken = db_error(req->db) == DB_ERR_UNIQUE;
		db_rollback(req->db);
		if (taken)
			reply_name_taken(req);
		else
			reply_db_error(req, "create community");
		return 0;
	}
	return id;
}

static json_t *communities_rows(req_t *req, db_rows_t *r, const void *ctx)
{
	UNUSED(ctx);
	json_t *items = json_array();
	while (db_next(r)) {
		json_t *o = community_json(r);
		add_membership(req, o, r, CC_COUNT);
		json_array_append_new(items, o);
	}
	bool failed = db_failed(r);
	db_done(r);
	if (failed) {
		json_decref(items);
		return NULL;
	}
	return items;
}

static int communities_list(req_t *req)
{
	valid_t v;
	page_t p;
	paged_begin(&v, req, &p);
	static const char *const sorts[] = { "popular", "newest", "name", NULL };
	const char *search = q_str(&v, "search", 100);
	const char *category = q_enum(&v, "category", community_categories, NULL);
	const char *sort = q_enum(&v, "sort", sorts, "popular");
	int joined = -1;
	q_bool(&v, "joined", &joined);
	if (!v_ok(&v))
		return v_reply(&v);
	if (joined == 1 && !req->user)
		return reply_error(req, ERR_UNAUTHORIZED, "Sign in to list the communities you joined");
	const char *like = search && *search ? like_contains(req->arena, utf8_lower(req->arena, search)) : NULL;
	/* joined=true: the caller's communities, their own pending ones too. */
#define LIST_WHERE COMMUNITY_FROM \
	" WHERE (c.status = 'active' OR ($4 = 1 AND c.owner_id = $1))" \
	" AND ($4 = 0 OR EXISTS (SELECT 1 FROM community_members cm WHERE cm.community_id = c.id AND cm.user_id = $1))" \
	" AND (CAST($2 AS TEXT) IS NULL OR c.category = $2)" \
	" AND (CAST($3 AS TEXT) IS NULL OR c.name_lower LIKE CAST($3 AS TEXT) ESCAPE '\\'" \
	"      OR lower(c.description) LIKE CAST($3 AS TEXT) ESCAPE '\\')"
#define LIST_SELECT "SELECT " COMMUNITY_COLS MEMBER_ROLE_COL LIST_WHERE
	const char *rows_sql = !strcmp(sort, "newest") ? LIST_SELECT " ORDER BY c.created_at DESC, c.id DESC"
			       : !strcmp(sort, "name") ? LIST_SELECT " ORDER BY c.name_lower, c.id"
						       : LIST_SELECT " ORDER BY c.members_count DESC, c.id DESC";
	db_param_t filters[] = { P_INT(viewer_id(req)), P_TEXT(category), P_TEXT(like), P_INT(joined == 1 ? 1 : 0) };
	paged_t q = {
		.what = "list communities",
		.count_sql = "SELECT COUNT(*)" LIST_WHERE,
		.rows_sql = rows_sql,
		.params = filters, .nparams = 4,
		.rows = communities_rows,
	};
#undef LIST_SELECT
#undef LIST_WHERE
	return paged_reply(req, &p, &q);
}

static int communities_create(req_t *req)
{
	valid_t v;
	v_init(&v, req, req_body(req));
	struct community_in in;
	community_read(&v, &in, true);
	if (!v_ok(&v))
		return v_reply(&v);
	bool admin = viewer_admin(req);
	if (!admin) {
		int64_t pending = 0;
		if (DBS(req->db, &pending, "SELECT COUNT(*) FROM communities WHERE owner_id = $1 AND status = 'pending'",
			P_INT(req->user->id)) < 0)
			return reply_db_error(req, "count pending communities");
		if (pending >= PENDING_PER_USER)
			return reply_error(req, ERR_CONFLICT, arena_printf(req->arena,
				"You already have %d communities waiting for review", PENDING_PER_USER));
	}
	int64_t id = community_insert(req, &in, admin ? "active" : "pending");
	if (!id)
		return DONE;
	return reply_community(req, 201, id);
}

static int communities_get(req_t *req)
{
	struct community_ref c;
	if (!community_find_or_404(req, req_param_int(req, "id"), &c))
		return DONE;
	return reply_community(req, 200, c.id);
}

static json_t *member_json(db_rows_t *r)
{
	return json_pack("{s:o, s:s, s:o}", "user", user_brief_json(r, 0), "role", db_text(r, 5),
			 "joined_at", json_time(db_int(r, 6)));
}

static int communities_members(req_t *req)
{
	struct community_ref c;
	if (!community_find_or_404(req, req_param_int(req, "id"), &c))
		return DONE;
	valid_t v;
	page_t p;
	paged_begin(&v, req, &p);
	if (!v_ok(&v))
		return v_reply(&v);
	db_param_t filters[] = { P_INT(c.id) };
	paged_t q = {
		.what = "list members",
		.count_sql = "SELECT COUNT(*) FROM community_members WHERE community_id = $1",
		.rows_sql = "SELECT u.id, u.username, u.full_name, u.avatar_url, u.is_verified, cm.role, cm.joined_at"
			    " FROM community_members cm JOIN users u ON u.id = cm.user_id WHERE cm.community_id = $1"
			    " ORDER BY CASE WHEN cm.role = 'owner' THEN 0 ELSE 1 END, cm.joined_at, cm.user_id",
		.params = filters, .nparams = 1,
		.row = member_json,
	};
	return paged_reply(req, &p, &q);
}

/* Joins (on) or leaves; the counter moves with the row, once. */
static int membership(req_t *req, bool on)
{
	struct community_ref c;
	if (!community_find_or_404(req, req_param_int(req, "id"), &c))
		return DONE;
	if (on && !c.active)
		return reply_error(req, ERR_CONFLICT, "This community is waiting for review: it cannot be joined yet");
	if (!on && c.owner_id == req->user->id)
		return reply_error(req, ERR_CONFLICT, "The owner cannot leave their community");
	int64_t now = now_ms();
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	int64_t changed = on
		? DBX(req->db, "INSERT INTO community_members (community_id, user_id, role, joined_at)"
			       " VALUES ($1, $2, 'member', $3) ON CONFLICT DO NOTHING",
		      P_INT(c.id), P_INT(req->user->id), P_INT(now))
		: DBX(req->db, "DELETE FROM community_members WHERE community_id = $1 AND user_id = $2 AND role <> 'owner'",
		      P_INT(c.id), P_INT(req->user->id));
	bool ok = changed >= 0;
	if (ok && changed == 1)
		ok = DBX(req->db, on ? "UPDATE communities SET members_count = members_count + 1 WHERE id = $1"
				     : "UPDATE communities SET members_count = members_count - 1 WHERE id = $1 AND members_count > 0",
			 P_INT(c.id)) == 1;
	int64_t members = 0;
	ok = ok && DBS(req->db, &members, "SELECT members_count FROM communities WHERE id = $1", P_INT(c.id)) == 1;
	if (!ok || !db_commit(req->db)) {
		db_rollback(req->db);
		return reply_db_error(req, on ? "join community" : "leave community");
	}
	if (on && changed == 1) {
		json_t *u = json_pack("{s:I, s:s}", "id", (json_int_t)req->user->id, "username", req->user->username);
		events_publish(community_channel(req, c.id), "member_joined",
			       json_pack("{s:I, s:o, s:I}", "community_id", (json_int_t)c.id, "user", u,
					 "members_count", (json_int_t)members));
	}
	return reply_ok(req, json_pack("{s:I, s:b, s:I}", "community_id", (json_int_t)c.id, "is_member", on,
				       "members_count", (json_int_t)members));
}

static int communities_join(req_t *req)
{
	return membership(req, true);
}

static int communities_leave(req_t *req)
{
	return membership(req, false);
}

/* DELETE /api/communities/{id}/join: the guide names both forms. */
static int communities_unjoin(req_t *req)
{
	return membership(req, false);
}

/* ============================================================== chats */

#define MESSAGE_SELECT "SELECT m.id, m.community_id, m.content, m.created_at," \
	" u.id, u.username, u.full_name, u.avatar_url, u.is_verified" \
	" FROM community_messages m JOIN users u ON u.id = m.author_id"

static json_t *message_json(db_rows_t *r)
{
	return json_pack("{s:I, s:o, s:s, s:o, s:o}", "id", (json_int_t)db_int(r, 0),
			 "community_id", db_isnull(r, 1) ? json_null() : json_integer(db_int(r, 1)),
			 "content", db_text(r, 2), "created_at", json_time(db_int(r, 3)), "user", user_brief_json(r, 4));
}

/* The chat a request names (community_id: a community's, absent: the
 * hub's), when the caller may read it (write: post to it); 0 for the hub,
 * -1 after replying. */
static int64_t chat_target(req_t *req, int64_t community_id, bool write)
{
	if (!community_id)
		return 0;
	struct community_ref c;
	if (!community_find_or_404(req, community_id, &c))
		return -1;
	if (!c.is_member && (write || !viewer_admin(req))) {
		if (!req->user)
			reply_error(req, ERR_UNAUTHORIZED, "Sign in to read this community's chat");
		else
			reply_not_member(req, write ? "chat" : "read its chat");
		return -1;
	}
	return c.id;
}

static int communities_messages_list(req_t *req)
{
	valid_t v;
	page_t p;
	paged_begin(&v, req, &p);
	int64_t community_id = q_int(&v, "community_id", 1, INT64_MAX, 0);
	int64_t after = q_int(&v, "after_id", 0, INT64_MAX, 0);
	if (!v_ok(&v))
		return v_reply(&v);
	int64_t target = chat_target(req, community_id, false);
	if (target < 0)
		return DONE;
	/* Newest first; after_id (the last one a client has) gives only newer
	 * ones, for catching up after a reconnect. */
#define CHAT_WHERE " WHERE ((CAST($1 AS BIGINT) = 0 AND m.community_id IS NULL) OR m.community_id = $1) AND m.id > $2"
	db_param_t filters[] = { P_INT(target), P_INT(after) };
	paged_t q = {
		.what = "list chat messages",
		.count_sql = "SELECT COUNT(*) FROM community_messages m" CHAT_WHERE,
		.rows_sql = MESSAGE_SELECT CHAT_WHERE " ORDER BY m.id DESC",
		.params = filters, .nparams = 2,
		.row = message_json,
	};
#undef CHAT_WHERE
	return paged_reply(req, &p, &q);
}

static int communities_messages_send(req_t *req)
{
	valid_t v;
	v_init(&v, req, req_body(req));
	const char *content = v_str(&v, "content", V_REQUIRED | V_MULTILINE, 1, MESSAGE_MAX);
	int64_t community_id = v_int(&v, "community_id", V_NULLABLE, 1, INT64_MAX, 0);
	if (!v_ok(&v))
		return v_reply(&v);
	int64_t target = chat_target(req, community_id, true);
	if (target < 0)
		return DONE;
	int64_t id = 0;
	if (DBS(req->db, &id, "INSERT INTO community_messages (community_id, author_id, content, created_at)"
			      " VALUES ($1, $2, $3, $4) RETURNING id",
		target ? P_INT(target) : P_NULL, P_INT(req->user->id), P_TEXT(content), P_INT(now_ms())) != 1)
		return reply_db_error(req, "send chat message");
	db_rows_t *r = RQ(req, MESSAGE_SELECT " WHERE m.id = $1", P_INT(id));
	if (!r || !db_next(r))
		return reply_db_error(req, "read chat message");
	json_t *m = message_json(r);
	events_publish(community_channel(req, target), "message_received", json_deep_copy(m));
	return reply_created(req, m);
}

/* ============================================================== posts */

#define POST_COLUMNS(FIRST, NEXT) \
	FIRST(PC_ID, "p.id") NEXT(PC_COMMUNITY_ID, "p.community_id") NEXT(PC_KIND, "p.kind") \
	NEXT(PC_CONTENT, "p.content") NEXT(PC_MODEL_ID, "p.model_id") NEXT(PC_REACTIONS, "p.reactions_count") \
	NEXT(PC_COMMENTS, "p.comments_count") NEXT(PC_SHARES, "p.shares_count") NEXT(PC_CREATED_AT, "p.created_at") \
	NEXT(PC_AUTHOR_ID, "a.id") NEXT(PC_AUTHOR_USERNAME, "a.username") NEXT(PC_AUTHOR_FULL_NAME, "a.full_name") \
	NEXT(PC_AUTHOR_AVATAR_URL, "a.avatar_url") NEXT(PC_AUTHOR_IS_VERIFIED, "a.is_verified")
#define POST_COLS POST_COLUMNS(DB_COL_SQL, DB_COL_SQL_NEXT)
enum post_col { POST_COLUMNS(DB_COL_ENUM, DB_COL_ENUM) PC_COUNT };
#define POST_FROM " FROM community_posts p JOIN users a ON a.id = p.author_id"

static const char *share_url(req_t *req, int64_t community_id, int64_t post_id)
{
	return arena_printf(req->arena, "%s/community/%lld?post=%lld", cfg.frontend_url, (long long)community_id,
			    (long long)post_id);
}

static json_t *post_base_json(req_t *req, db_rows_t *r)
{
	json_t *o = json_pack("{s:I, s:I, s:s, s:s, s:o, s:[], s:n, s:{}, s:I, s:I, s:I, s:o, s:o, s:s}",
		"id", (json_int_t)db_int(r, PC_ID), "community_id", (json_int_t)db_int(r, PC_COMMUNITY_ID),
		"type", db_text(r, PC_KIND), "content", db_text(r, PC_CONTENT),
		"model_id", db_isnull(r, PC_MODEL_ID) ? json_null() : json_integer(db_int(r, PC_MODEL_ID)),
		"images", "model", "reactions",
		"reactions_count", (json_int_t)db_int(r, PC_REACTIONS), "comments_count", (json_int_t)db_int(r, PC_COMMENTS),
		"shares_count", (json_int_t)db_int(r, PC_SHARES), "created_at", json_time(db_int(r, PC_CREATED_AT)),
		"author", user_brief_json(r, PC_AUTHOR_ID),
		"share_url", share_url(req, db_int(r, PC_COMMUNITY_ID), db_int(r, PC_ID)));
	return o;
}

/* Rows of head + " IN (ids)" + tail; with_user binds the caller's id as
 * $1 first.  The caller runs db_done. */
static db_rows_t *rows_for_ids(req_t *req, const char *head, const char *tail, bool with_user, const int64_t *ids,
			       size_t n)
{
	strbuf_t sql;
	sb_init(&sql, 0);
	sb_adds(&sql, head);
	db_param_t *p = arena_alloc(req->arena, (n + 1) * sizeof(*p));
	size_t np = 0;
	if (with_user)
		p[np++] = P_INT(viewer_id(req));
	np += (size_t)sql_id_in(req, &sql, p, ids, n, np + 1);
	sb_adds(&sql, tail);
	db_rows_t *r = db_query(req->db, sql.buf, p, (int)np);
	sb_release(&sql);
	return r;
}

static json_t *post_of(json_t *posts, const int64_t *ids, size_t n, int64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return json_array_get(posts, i);
	return NULL;
}

/* Runs a rows_for_ids query and hands each row to fn; false on error. */
static bool each_row(req_t *req, const char *head, const char *tail, bool with_user, const int64_t *ids, size_t n,
		     void (*fn)(req_t *req, db_rows_t *r, json_t *posts, const int64_t *ids, size_t n), json_t *posts)
{
	db_rows_t *r = rows_for_ids(req, head, tail, with_user, ids, n);
	if (!r)
		return false;
	while (db_next(r))
		fn(req, r, posts, ids, n);
	bool failed = db_failed(r);
	db_done(r);
	return !failed;
}

static void add_image(req_t *req, db_rows_t *r, json_t *posts, const int64_t *ids, size_t n)
{
	UNUSED(req);
	json_t *post = post_of(posts, ids, n, db_int(r, 0));
	if (!post)
		return;
	char *url = store_public_url(db_text(r, 2));
	json_array_append_new(json_object_get(post, "images"),
		json_pack("{s:I, s:s, s:o, s:o}", "upload_id", (json_int_t)db_int(r, 1), "url", url,
			  "width", db_isnull(r, 3) ? json_null() : json_integer(db_int(r, 3)),
			  "height", db_isnull(r, 4) ? json_null() : json_integer(db_int(r, 4))));
	free(url);
}

static void add_reaction(req_t *req, db_rows_t *r, json_t *posts, const int64_t *ids, size_t n)
{
	UNUSED(req);
	json_t *post = post_of(posts, ids, n, db_int(r, 0));
	if (post)
		json_object_set_new(json_object_get(post, "reactions"), db_text(r, 1), json_integer(db_int(r, 2)));
}

static void add_mine(req_t *req, db_rows_t *r, json_t *posts, const int64_t *ids, size_t n)
{
	UNUSED(req);
	json_t *post = post_of(posts, ids, n, db_int(r, 0));
	if (post)
		json_array_append_new(json_object_get(post, "my_reactions"), json_string(db_text(r, 1)));
}

/* ids are the models' here: every post is looked at. */
static void add_model(req_t *req, db_rows_t *r, json_t *posts, const int64_t *ids, size_t n)
{
	UNUSED(req);
	UNUSED(ids);
	UNUSED(n);
	int64_t model = db_int(r, MC_ID);
	size_t i;
	json_t *post;
	json_array_foreach(posts, i, post) {
		if (json_integer_value(json_object_get(post, "model_id")) == model)
			json_object_set_new(post, "model", model_json(r, false));
	}
}

/* Adds images, the model (public ones, and the caller's own), reaction
 * counts by kind and (mine) the caller's reactions to posts, whose ids
 * are ids in the same order.  False on a database error. */
static bool posts_finish(req_t *req, json_t *posts, const int64_t *ids, size_t n, bool mine)
{
	if (!n)
		return true;
	int64_t *models = arena_alloc(req->arena, n * sizeof(*models));
	size_t nm = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *post = json_array_get(posts, i);
		json_int_t m = json_integer_value(json_object_get(post, "model_id"));
		bool seen = false;
		for (size_t k = 0; k < nm; k++)
			seen = seen || models[k] == m;
		if (m > 0 && !seen)
			models[nm++] = m;
		if (mine && req->user)
			json_object_set_new(post, "my_reactions", json_array());
	}
	bool ok = each_row(req, "SELECT pi.post_id, pi.upload_id, up.storage_key, up.width, up.height"
				" FROM community_post_images pi JOIN uploads up ON up.id = pi.upload_id WHERE pi.post_id",
			   " ORDER BY pi.post_id, pi.position", false, ids, n, add_image, posts);
	ok = ok && each_row(req, "SELECT post_id, kind, COUNT(*) FROM community_post_reactions WHERE post_id",
			    " GROUP BY post_id, kind", false, ids, n, add_reaction, posts);
	if (ok && mine && req->user)
		ok = each_row(req, "SELECT post_id, kind FROM community_post_reactions WHERE user_id = $1 AND post_id",
			      " ORDER BY post_id, kind", true, ids, n, add_mine, posts);
	if (ok && nm)
		ok = each_row(req, "SELECT " MODEL_COLS MODEL_FROM " WHERE m.deleted_at IS NULL AND (" MODEL_PUBLIC
				   " OR m.creator_id = $1) AND m.id", "", true, models, nm, add_model, posts);
	return ok;
}

static json_t *posts_rows(req_t *req, db_rows_t *r, const void *ctx)
{
	UNUSED(ctx);
	json_t *posts = json_array();
	int64_t ids[PAGE_MAX_LIMIT];
	size_t n = 0;
	while (db_next(r)) {
		if (n < PAGE_MAX_LIMIT)
			ids[n++] = db_int(r, PC_ID);
		json_array_append_new(posts, post_base_json(req, r));
	}
	bool failed = db_failed(r);
	db_done(r);
	if (failed || !posts_finish(req, posts, ids, n, true)) {
		json_decref(posts);
		return NULL;
	}
	return posts;
}

/* One post's document (mine: with the caller's reactions); NULL on error
 * or when it is gone. */
static json_t *post_load(req_t *req, int64_t id, bool mine)
{
	db_rows_t *r = DBQ(req->db, "SELECT " POST_COLS POST_FROM " WHERE p.id = $1", P_INT(id));
	if (!r)
		return NULL;
	json_t *post = db_next(r) ? post_base_json(req, r) : NULL;
	db_done(r);
	if (!post)
		return NULL;
	json_t *one = json_array();
	json_array_append_new(one, post);
	bool ok = posts_finish(req, one, &id, 1, mine);
	json_incref(post);
	json_decref(one);
	if (!ok) {
		json_decref(post);
		return NULL;
	}
	return post;
}

static int communities_posts_list(req_t *req)
{
	struct community_ref c;
	if (!community_find_or_404(req, req_param_int(req, "id"), &c))
		return DONE;
	valid_t v;
	page_t p;
	paged_begin(&v, req, &p);
	static const char *const filters_allowed[] = { "recent", "popular", "media", NULL };
	const char *filter = q_enum(&v, "filter", filters_allowed, "recent");
	if (!v_ok(&v))
		return v_reply(&v);
	bool media = !strcmp(filter, "media");
/* a banned author's posts are hidden while the ban lasts */
#define POSTS_WHERE POST_FROM " WHERE p.community_id = $1 AND p.removed_at IS NULL AND a.is_banned = FALSE" \
	" AND ($2 = 0 OR p.has_media = TRUE)"
	db_param_t filters[] = { P_INT(c.id), P_INT(media ? 1 : 0) };
	paged_t q = {
		.what = "list posts",
		.count_sql = "SELECT COUNT(*)" POSTS_WHERE,
		.rows_sql = !strcmp(filter, "popular")
			? "SELECT " POST_COLS POSTS_WHERE
			  " ORDER BY p.reactions_count + p.comments_count DESC, p.created_at DESC, p.id DESC"
			: "SELECT " POST_COLS POSTS_WHERE " ORDER BY p.created_at DESC, p.id DESC",
		.params = filters, .nparams = 2,
		.rows = posts_rows,
	};
#undef POSTS_WHERE
	return paged_reply(req, &p, &q);
}

/* image_upload_ids: each one an image upload of the caller's.  Returns
 * how many (at most POST_IMAGES_MAX) into ids. */
static size_t read_images(valid_t *v, int64_t *ids)
{
	json_t *j = json_object_get(v->obj, "image_upload_ids");
	if (!j || json_is_null(j))
		return 0;
	if (!json_is_array(j) || json_array_size(j) > POST_IMAGES_MAX) {
		v_error(v, "image_upload_ids", arena_printf(v->req->arena, "Must be a list of at most %d image upload ids",
							    POST_IMAGES_MAX));
		return 0;
	}
	size_t n = 0, i;
	json_t *e;
	json_array_foreach(j, i, e) {
		json_int_t id = json_is_integer(e) ? json_integer_value(e) : 0;
		for (size_t k = 0; id > 0 && k < n; k++)
			if (ids[k] == id)
				id = 0; /* twice */
		int64_t c = 0;
		if (id <= 0 || DBS(v->req->db, &c, "SELECT COUNT(*) FROM uploads WHERE id = $1 AND user_id = $2 AND kind = 'image'",
				   P_INT(id), P_INT(v->req->user->id)) != 1 || c != 1) {
			v_error(v, "image_upload_ids", "Each must be the id of an image you uploaded, once");
			return 0;
		}
		ids[n++] = id;
	}
	return n;
}

/* model_id: a public model, or one of the caller's own. */
static int64_t read_model(valid_t *v)
{
	int64_t id = v_int(v, "model_id", V_NULLABLE, 1, INT64_MAX, 0);
	if (!id)
		return 0;
	int64_t c = 0;
	if (DBS(v->req->db, &c, "SELECT COUNT(*) FROM models m WHERE m.id = $1 AND m.deleted_at IS NULL AND ("
				MODEL_PUBLIC " OR m.creator_id = $2)", P_INT(id), P_INT(v->req->user->id)) != 1 || c != 1) {
		v_error(v, "model_id", "Must be a public model, or one of yours");
		return 0;
	}
	return id;
}

static int communities_posts_create(req_t *req)
{
	struct community_ref c;
	if (!community_find_or_404(req, req_param_int(req, "id"), &c))
		return DONE;
	if (!c.is_member)
		return reply_not_member(req, "post");
	valid_t v;
	v_init(&v, req, req_body(req));
	const char *content = v_str(&v, "content", V_MULTILINE, 0, POST_CONTENT_MAX);
	int64_t images[POST_IMAGES_MAX];
	size_t nimages = read_images(&v, images);
	int64_t model = read_model(&v);
	if (v_ok(&v) && (!content || !*content) && !nimages && !model)
		v_error(&v, "content", "Write something, or add an image or a model");
	if (!v_ok(&v))
		return v_reply(&v);
	const char *kind = model ? "model" : nimages ? "image" : "text";
	int64_t now = now_ms(), id = 0;
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	bool ok = DBS(req->db, &id,
		"INSERT INTO community_posts (community_id, author_id, kind, content, model_id, has_media, created_at)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
		P_INT(c.id), P_INT(req->user->id), P_TEXT(kind), P_TEXT(content ? content : ""),
		model ? P_INT(model) : P_NULL, P_BOOL(model || nimages), P_INT(now)) == 1;
	for (size_t i = 0; ok && i < nimages; i++)
		ok = DBX(req->db, "INSERT INTO community_post_images (post_id, position, upload_id) VALUES ($1, $2, $3)",
			 P_INT(id), P_INT(i), P_INT(images[i])) == 1;
	ok = ok && DBX(req->db, "UPDATE communities SET posts_count = posts_count + 1 WHERE id = $1", P_INT(c.id)) == 1;
	if (!ok || !db_commit(req->db)) {
		db_rollback(req->db);
		return reply_db_error(req, "create post");
	}
	json_t *post = post_load(req, id, false);
	if (!post)
		return reply_db_error(req, "read post");
	events_publish(community_channel(req, c.id), "new_post",
		       json_pack("{s:I, s:o}", "community_id", (json_int_t)c.id, "post", json_deep_copy(post)));
	if (req->user)
		json_object_set_new(post, "my_reactions", json_array());
	return reply_created(req, post);
}

/* ========================================================== reactions */

/* {post_id, type, reacted, reactions {kind: n}, reactions_count,
 * my_reactions}. */
static json_t *reaction_state(req_t *req, int64_t post_id)
{
	json_t *post = post_load(req, post_id, true);
	if (!post)
		return NULL;
	json_t *o = json_pack("{s:I, s:O, s:O, s:O}", "post_id", (json_int_t)post_id,
			      "reactions", json_object_get(post, "reactions"),
			      "reactions_count", json_object_get(post, "reactions_count"),
			      "my_reactions", json_object_get(post, "my_reactions"));
	json_decref(post);
	return o;
}

static int react(req_t *req, bool on)
{
	struct post_ref p;
	if (!post_find_or_404(req, &p))
		return DONE;
	valid_t v;
	const char *kind;
	if (on) {
		v_init(&v, req, req_body(req));
		kind = v_enum(&v, "type", 0, reaction_kinds, "like");
	} else {
		v_init(&v, req, NULL);
		kind = q_enum(&v, "type", reaction_kinds, "like");
	}
	if (!v_ok(&v))
		return v_reply(&v);
	if (on && !p.is_member)
		return reply_not_member(req, "react");
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	int64_t changed = on
		? DBX(req->db, "INSERT INTO community_post_reactions (post_id, user_id, kind, created_at)"
			       " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
		      P_INT(p.id), P_INT(req->user->id), P_TEXT(kind), P_INT(now_ms()))
		: DBX(req->db, "DELETE FROM community_post_reactions WHERE post_id = $1 AND user_id = $2 AND kind = $3",
		      P_INT(p.id), P_INT(req->user->id), P_TEXT(kind));
	bool ok = changed >= 0;
	if (ok && changed == 1)
		ok = DBX(req->db, on ? "UPDATE community_posts SET reactions_count = reactions_count + 1 WHERE id = $1"
				     : "UPDATE community_posts SET reactions_count = reactions_count - 1"
				       " WHERE id = $1 AND reactions_count > 0", P_INT(p.id)) == 1;
	if (!ok || !db_commit(req->db)) {
		db_rollback(req->db);
		return reply_db_error(req, "react");
	}
	json_t *state = reaction_state(req, p.id);
	if (!state)
		return reply_db_error(req, "read reactions");
	json_object_set_new(state, "type", json_string(kind));
	json_object_set_new(state, "reacted", json_boolean(on));
	if (changed == 1) {
		json_t *data = json_pack("{s:I, s:I, s:s, s:b, s:{s:I, s:s}, s:o, s:o}", "community_id",
			(json_int_t)p.community_id, "post_id", (json_int_t)p.id, "type", kind, "removed", !on,
			"user", "id", (json_int_t)req->user->id, "username", req->user->username,
			"reactions", json_deep_copy(json_object_get(state, "reactions")),
			"reactions_count", json_deep_copy(json_object_get(state, "reactions_count")));
		events_publish(community_channel(req, p.community_id), "new_reaction", data);
	}
	return reply_ok(req, state);
}

static int posts_react(req_t *req)
{
	return react(req, true);
}

static int posts_unreact(req_t *req)
{
	return react(req, false);
}

/* =========================================================== comments */

#define COMMENT_SELECT "SELECT cc.id, cc.post_id, cc.content, cc.created_at," \
	" u.id, u.username, u.full_name, u.avatar_url, u.is_verified" \
	" FROM community_comments cc JOIN users u ON u.id = cc.author_id"

static json_t *comment_json(db_rows_t *r)
{
	return json_pack("{s:I, s:I, s:s, s:o, s:o}", "id", (json_int_t)db_int(r, 0), "post_id",
			 (json_int_t)db_int(r, 1), "content", db_text(r, 2), "created_at", json_time(db_int(r, 3)),
			 "author", user_brief_json(r, 4));
}

static int posts_comments_list(req_t *req)
{
	struct post_ref p;
	if (!post_find_or_404(req, &p))
		return DONE;
	valid_t v;
	page_t pg;
	paged_begin(&v, req, &pg);
	if (!v_ok(&v))
		return v_reply(&v);
	db_param_t filters[] = { P_INT(p.id) };
	paged_t q = {
		.what = "list post comments",
		.count_sql = "SELECT COUNT(*) FROM community_comments WHERE post_id = $1",
		.rows_sql = COMMENT_SELECT " WHERE cc.post_id = $1 AND u.is_banned = FALSE ORDER BY cc.created_at, cc.id",
		.params = filters, .nparams = 1,
		.row = comment_json,
	};
	return paged_reply(req, &pg, &q);
}

static int posts_comments_add(req_t *req)
{
	struct post_ref p;
	if (!post_find_or_404(req, &p))
		return DONE;
	valid_t v;
	v_init(&v, req, req_body(req));
	const char *content = v_str(&v, "content", V_REQUIRED | V_MULTILINE, 1, COMMENT_MAX);
	if (!v_ok(&v))
		return v_reply(&v);
	if (!p.is_member)
		return reply_not_member(req, "comment");
	int64_t id = 0, count = 0;
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	bool ok = DBS(req->db, &id, "INSERT INTO community_comments (post_id, author_id, content, created_at)"
				    " VALUES ($1, $2, $3, $4) RETURNING id",
		      P_INT(p.id), P_INT(req->user->id), P_TEXT(content), P_INT(now_ms())) == 1;
	ok = ok && DBS(req->db, &count, "UPDATE community_posts SET comments_count = comments_count + 1 WHERE id = $1"
					" RETURNING comments_count", P_INT(p.id)) == 1;
	if (!ok || !db_commit(req->db)) {
		db_rollback(req->db);
		return reply_db_error(req, "add comment");
	}
	db_rows_t *r = RQ(req, COMMENT_SELECT " WHERE cc.id = $1", P_INT(id));
	if (!r || !db_next(r))
		return reply_db_error(req, "read comment");
	json_t *c = comment_json(r);
	events_publish(community_channel(req, p.community_id), "new_comment",
		       json_pack("{s:I, s:I, s:o, s:I}", "community_id", (json_int_t)p.community_id, "post_id",
				 (json_int_t)p.id, "comment", json_deep_copy(c), "comments_count", (json_int_t)count));
	json_object_set_new(c, "comments_count", json_integer(count));
	return reply_created(req, c);
}

/* ===================================================== share, report */

static int posts_share(req_t *req)
{
	struct post_ref p;
	if (!post_find_or_404(req, &p))
		return DONE;
	int64_t shares = 0;
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	int64_t fresh = DBX(req->db, "INSERT INTO community_post_shares (post_id, user_id, created_at) VALUES ($1, $2, $3)"
				     " ON CONFLICT DO NOTHING", P_INT(p.id), P_INT(req->user->id), P_INT(now_ms()));
	bool ok = fresh >= 0;
	if (ok && fresh == 1)
		ok = DBX(req->db, "UPDATE community_posts SET shares_count = shares_count + 1 WHERE id = $1", P_INT(p.id)) == 1;
	ok = ok && DBS(req->db, &shares, "SELECT shares_count FROM community_posts WHERE id = $1", P_INT(p.id)) == 1;
	if (!ok || !db_commit(req->db)) {
		db_rollback(req->db);
		return reply_db_error(req, "share post");
	}
	return reply_ok(req, json_pack("{s:I, s:s, s:I}", "post_id", (json_int_t)p.id, "share_url",
				       share_url(req, p.community_id, p.id), "shares_count", (json_int_t)shares));
}

static int posts_report(req_t *req)
{
	struct post_ref p;
	if (!post_find_or_404(req, &p))
		return DONE;
	valid_t v;
	v_init(&v, req, req_body(req));
	const char *reason = v_enum(&v, "reason", V_REQUIRED, report_reasons, NULL);
	const char *details = v_str(&v, "details", V_MULTILINE, 0, REPORT_DETAILS_MAX);
	if (!v_ok(&v))
		return v_reply(&v);
	if (p.author_id == req->user->id)
		return reply_invalid1(req, "reason", "You cannot report your own post");
	int64_t id = 0;
	int64_t added = DBX(req->db, "INSERT INTO community_reports (post_id, reporter_id, reason, details, created_at)"
				     " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
			    P_INT(p.id), P_INT(req->user->id), P_TEXT(reason), P_TEXT(details ? details : ""),
			    P_INT(now_ms()));
	if (added < 0 || DBS(req->db, &id, "SELECT id FROM community_reports WHERE post_id = $1 AND reporter_id = $2",
			     P_INT(p.id), P_INT(req->user->id)) != 1)
		return reply_db_error(req, "report post");
	/* Reporting twice is harmless: the first report stands. */
	return reply_json(req, added ? 201 : 200, json_pack("{s:I, s:I, s:s, s:s}", "id", (json_int_t)id, "post_id",
		(json_int_t)p.id, "status", "open", "message",
		added ? "Thank you: a moderator will look at this post" : "You have already reported this post"));
}

/* ========================================================== WebSocket */

enum community_ws_auth community_ws_authorize(db_t *db, int64_t user_id, bool is_admin, int64_t community_id)
{
	if (community_id == 0)
		return COMMUNITY_WS_ALLOWED; /* the hub chat */
	db_rows_t *r = DBQ(db, "SELECT c.status = 'active', EXISTS (SELECT 1 FROM community_members cm"
			       " WHERE cm.community_id = c.id AND cm.user_id = $2) FROM communities c WHERE c.id = $1",
			   P_INT(community_id), P_INT(user_id));
	if (!r)
		return COMMUNITY_WS_ERROR;
	enum community_ws_auth a = COMMUNITY_WS_MISSING;
	if (db_next(r))
		a = is_admin || (db_bool(r, 0) && db_bool(r, 1)) ? COMMUNITY_WS_ALLOWED : COMMUNITY_WS_FORBIDDEN;
	else if (db_failed(r))
		a = COMMUNITY_WS_ERROR;
	db_done(r);
	return a;
}

const route_t community_routes[] = {
	{ M_GET, "/api/communities", communities_list, ACCESS_OPTIONAL, RL_GENERAL, BODY_NONE, 0, 0, "Active communities: search, category, paged" },
	{ M_POST, "/api/communities", communities_create, ACCESS_VERIFIED, RL_GENERAL, BODY_JSON, 0, 0, "Create a community (pending review unless by an admin)" },
	{ M_GET, "/api/communities/messages", communities_messages_list, ACCESS_OPTIONAL, RL_GENERAL, BODY_NONE, 0, 0, "Chat messages: the hub's, or a community's" },
	{ M_POST, "/api/communities/messages", communities_messages_send, ACCESS_VERIFIED, RL_GENERAL, BODY_JSON, 0, 0, "Send a chat message" },
	{ M_GET, "/api/communities/{id:int}", communities_get, ACCESS_OPTIONAL, RL_GENERAL, BODY_NONE, 0, 0, "A community" },
	{ M_GET, "/api/communities/{id:int}/members", communities_members, ACCESS_OPTIONAL, RL_GENERAL, BODY_NONE, 0, 0, "Members, paged" },
	{ M_POST, "/api/communities/{id:int}/join", communities_join, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "Join (idempotent)" },
	{ M_DELETE, "/api/communities/{id:int}/join", communities_unjoin, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "Leave (idempotent)" },
	{ M_DELETE, "/api/communities/{id:int}/leave", communities_leave, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "Leave (idempotent)" },
	{ M_GET, "/api/communities/{id:int}/posts", communities_posts_list, ACCESS_OPTIONAL, RL_GENERAL, BODY_NONE, 0, 0, "Posts: recent, popular or media" },
	{ M_POST, "/api/communities/{id:int}/posts", communities_posts_create, ACCESS_VERIFIED, RL_GENERAL, BODY_JSON, 0, 0, "Post (members)" },
	{ M_POST, "/api/posts/{id:int}/react", posts_react, ACCESS_USER, RL_GENERAL, BODY_JSON, 0, 0, "React (one per kind, idempotent)" },
	{ M_DELETE, "/api/posts/{id:int}/react", posts_unreact, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "Remove a reaction (idempotent)" },
	{ M_GET, "/api/posts/{id:int}/comments", posts_comments_list, ACCESS_OPTIONAL, RL_GENERAL, BODY_NONE, 0, 0, "Comments, oldest first" },
	{ M_POST, "/api/posts/{id:int}/comments", posts_comments_add, ACCESS_VERIFIED, RL_GENERAL, BODY_JSON, 0, 0, "Comment (members)" },
	{ M_POST, "/api/posts/{id:int}/share", posts_share, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "Share link (counted once per user)" },
	{ M_POST, "/api/posts/{id:int}/report", posts_report, ACCESS_USER, RL_GENERAL, BODY_JSON, 0, 0, "Report a post" },
};
EXPORT_ROUTES(community_routes);
