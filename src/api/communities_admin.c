/*
 * communities_admin.c: community moderation (guide section 13): every
 * community by status, create (active at once), edit, delete, approve;
 * and the reports of posts, resolved by dismissing them, removing the
 * post, or banning its author (which removes the post too).
 *
 * A report is resolved once: the update is guarded by status = 'open', so
 * two admins resolving it at once act once (the other gets 409).
 * Removing a post resolves every open report of it with the same action.
 */
#include "api.h"
#include "communities.h"
#include "paged.h"
#include "../auth/account.h"
#include "../core/util.h"
#include "../http/reply.h"
#include "../svc/audit.h"
#include "admin_common.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "../svc/notify.h"

#define NOTE_MAX 1000
#define REPORT_EXCERPT_CHARS 500

static json_t *admin_communities_rows(req_t *req, db_rows_t *r, const void *ctx)
{
	UNUSED(req);
	UNUSED(ctx);
	return rows_to_array(r, community_json);
}

static int admin_communities_list(req_t *req)
{
	valid_t v;
	page_t p;
	paged_begin(&v, req, &p);
	static const char *const statuses[] = { "all", "pending", "active", "rejected", NULL };
	const char *status = q_enum(&v, "status", statuses, "all");
	const char *search = q_str(&v, "search", 100);
	if (!v_ok(&v))
		return v_reply(&v);
	const char *like = search && *search ? like_contains(req->arena, utf8_lower(req->arena, search)) : NULL;
#define ADMIN_WHERE COMMUNITY_FROM " WHERE (CAST($1 AS TEXT) IS NULL OR c.status = $1)" \
	" AND (CAST($2 AS TEXT) IS NULL OR c.name_lower LIKE CAST($2 AS TEXT) ESCAPE '\\')"
	db_param_t filters[] = { P_TEXT(strcmp(status, "all") ? status : NULL), P_TEXT(like) };
	paged_t q = {
		.what = "list communities (admin)",
		.count_sql = "SELECT COUNT(*)" ADMIN_WHERE,
		.rows_sql = "SELECT " COMMUNITY_COLS ADMIN_WHERE " ORDER BY c.created_at DESC, c.id DESC",
		.params = filters, .nparams = 2,
		.rows = admin_communities_rows,
	};
#undef ADMIN_WHERE
	return paged_reply(req, &p, &q);
}

/* Replies 404 (false) when the path's {id} is no community. */
static bool community_exists_or_404(req_t *req, int64_t id, int64_t *owner)
{
	int rc = DBS(req->db, owner, "SELECT owner_id FROM communities WHERE id = $1", P_INT(id));
	if (rc < 0)
		reply_db_error(req, "find community");
	else if (rc == 0)
		reply_error(req, ERR_NOT_FOUND, "Community not found");
	return rc == 1;
}

static int admin_communities_get(req_t *req)
{
	int64_t owner;
	if (!community_exists_or_404(req, req_param_int(req, "id"), &owner))
		return DONE;
	return reply_community(req, 200, req_param_int(req, "id"));
}

static int admin_communities_create(req_t *req)
{
	valid_t v;
	v_init(&v, req, req_body(req));
	struct community_in in;
	community_read(&v, &in, true);
	const char *status = v_enum(&v, "status", 0, community_statuses, "active");
	if (!v_ok(&v))
		return v_reply(&v);
	int64_t id = community_insert(req, &in, status);
	if (!id)
		return DONE;
	audit_log(req->db, req, "community.create", "community", id, json_pack("{s:s?, s:s}", "name", in.name, "status", status));
	return reply_community(req, 201, id);
}

static int admin_communities_update(req_t *req)
{
	int64_t id = req_param_int(req, "id"), owner;
	if (!community_exists_or_404(req, id, &owner))
		return DONE;
	valid_t v;
	v_init(&v, req, req_body(req));
	struct community_in in;
	community_read(&v, &in, false);
	const char *status = v_enum(&v, "status", 0, community_statuses, NULL);
	if (!v_ok(&v))
		return v_reply(&v);
	int64_t now = now_ms();
	int64_t n = DBX(req->db,
		"UPDATE communities SET name = COALESCE($2, name), name_lower = COALESCE($3, name_lower),"
		" description = COALESCE($4, description), category = COALESCE($5, category),"
		" rules = COALESCE($6, rules),"
		" approved_at = CASE WHEN CAST($7 AS TEXT) = 'active' AND status <> 'active' THEN $8 ELSE approved_at END,"
		" approved_by = CASE WHEN CAST($7 AS TEXT) = 'active' AND status <> 'active' THEN $9 ELSE approved_by END,"
		" status = COALESCE($7, status), updated_at = $8 WHERE id = $1",
		P_INT(id), P_TEXT(in.name), P_TEXT(in.name_lower), P_TEXT(in.description), P_TEXT(in.category),
		P_TEXT(in.rules), P_TEXT(status), P_INT(now), P_INT(req->user->id));
	if (n < 0) {
		if (db_error(req->db) == DB_ERR_UNIQUE) {
			json_t *fe = json_pack("{s:[s]}", "name", "A community with this name already exists");
			return reply_error_fields(req, ERR_CONFLICT, "A community with this name already exists", fe);
		}
		return reply_db_error(req, "update community");
	}
	if (n == 0)
		return reply_error(req, ERR_NOT_FOUND, "Community not found");
	audit_log(req->db, req, "community.update", "community", id, json_deep_copy(req_body(req)));
	return reply_community(req, 200, id);
}

static int admin_communities_delete(req_t *req)
{
	int64_t id = req_param_int(req, "id");
	int64_t n = DBX(req->db, "DELETE FROM communities WHERE id = $1", P_INT(id));
	if (n < 0)
		return reply_db_error(req, "delete community");
	if (n == 0)
		return reply_error(req, ERR_NOT_FOUND, "Community not found");
	audit_log(req->db, req, "community.delete", "community", id, NULL);
	return reply_ok(req, json_pack("{s:s, s:I}", "message", "Community deleted", "id", (json_int_t)id));
}

static int admin_communities_approve(req_t *req)
{
	int64_t id = req_param_int(req, "id"), owner;
	if (!community_exists_or_404(req, id, &owner))
		return DONE;
	int64_t now = now_ms();
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	int64_t n = DBX(req->db, "UPDATE communities SET status = 'active', approved_at = $2, approved_by = $3, updated_at = $2"
				 " WHERE id = $1 AND status <> 'active'", P_INT(id), P_INT(now), P_INT(req->user->id));
	bool ok = n >= 0;
	if (ok && n == 1 && owner != req->user->id) {
		char *name = NULL;
		db_rows_t *r = DBQ(req->db, "SELECT name FROM communities WHERE id = $1", P_INT(id));
		if (r && db_next(r))
			name = arena_strdup(req->arena, db_text(r, 0));
		if (r)
			db_done(r);
		ok = name && notify(req->db, owner, "community_approved", "Your community was approved",
				    arena_printf(req->arena, "'%s' is open: members can join it now", name),
				    arena_printf(req->arena, "/community/%lld", (long long)id));
	}
	if (ok && n == 1)
		audit_log(req->db, req, "community.approve", "community", id, NULL);
	if (!ok || !db_commit(req->db)) {
		db_rollback(req->db);
		return reply_db_error(req, "approve community");
	}
	return reply_community(req, 200, id); /* approving an active one again is harmless */
}

/* ============================================================ reports */

#define REPORT_SELECT "SELECT r.id, r.reason, r.details, r.status, r.action, r.note, r.created_at, r.resolved_at," \
	" rp.id, rp.username, p.id, p.community_id, p.content, p.kind, p.removed_at IS NOT NULL, p.created_at," \
	" a.id, a.username, a.is_banned, c.name" \
	" FROM community_reports r JOIN users rp ON rp.id = r.reporter_id" \
	" JOIN community_posts p ON p.id = r.post_id JOIN users a ON a.id = p.author_id" \
	" JOIN communities c ON c.id = p.community_id"

static json_t *opt_text(db_rows_t *r, int col)
{
	return db_isnull(r, col) ? json_null() : json_string(db_text(r, col));
}

/* The first REPORT_EXCERPT_CHARS characters of s. */
static json_t *excerpt(const char *s)
{
	size_t chars = 0, i = 0;
	for (; s[i] && chars < REPORT_EXCERPT_CHARS; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			chars++;
	while (s[i] && ((unsigned char)s[i] & 0xC0) == 0x80)
		i++;
	return json_stringn(s, i);
}

static json_t *report_json(db_rows_t *r)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:{s:I, s:s},"
			 " s:{s:I, s:I, s:s, s:o, s:b, s:o, s:{s:I, s:s, s:b}}, s:{s:I, s:s}}",
		"id", (json_int_t)db_int(r, 0), "reason", db_text(r, 1), "details", db_text(r, 2), "status", db_text(r, 3),
		"action", opt_text(r, 4), "note", opt_text(r, 5), "created_at", json_time(db_int(r, 6)),
		"resolved_at", db_isnull(r, 7) ? json_null() : json_time(db_int(r, 7)),
		"reporter", "id", (json_int_t)db_int(r, 8), "username", db_text(r, 9),
		"post", "id", (json_int_t)db_int(r, 10), "community_id", (json_int_t)db_int(r, 11), "type", db_text(r, 13),
		"content", excerpt(db_text(r, 12)), "is_removed", db_bool(r, 14), "created_at", json_time(db_int(r, 15)),
		"author", "id", (json_int_t)db_int(r, 16), "username", db_text(r, 17), "is_banned", db_bool(r, 18),
		"community", "id", (json_int_t)db_int(r, 11), "name", db_text(r, 19));
}

static int admin_reports_list(req_t *req)
{
	valid_t v;
	page_t p;
	paged_begin(&v, req, &p);
	static const char *const statuses[] = { "open", "resolved", "all", NULL };
	const char *status = q_enum(&v, "status", statuses, "open");
	if (!v_ok(&v))
		return v_reply(&v);
#define REPORTS_WHERE " WHERE (CAST($1 AS TEXT) IS NULL OR r.status = $1)"
	db_param_t filters[] = { P_TEXT(strcmp(status, "all") ? status : NULL) };
	paged_t q = {
		.what = "list reports",
		.count_sql = "SELECT COUNT(*) FROM community_reports r" REPORTS_WHERE,
		.rows_sql = REPORT_SELECT REPORTS_WHERE " ORDER BY r.created_at DESC, r.id DESC",
		.params = filters, .nparams = 1,
		.row = report_json,
	};
#undef REPORTS_WHERE
	return paged_reply(req, &p, &q);
}

struct report_ref {
	int64_t id, post_id, community_id, author_id;
	bool open, author_admin;
};

static bool report_find_or_404(req_t *req, struct report_ref *rep)
{
	int64_t id = req_param_int(req, "id");
	db_rows_t *r = DBQ(req->db, "SELECT r.post_id, p.community_id, p.author_id, r.status = 'open', a.role = 'admin'"
				    " FROM community_reports r JOIN community_posts p ON p.id = r.post_id"
				    " JOIN users a ON a.id = p.author_id WHERE r.id = $1", P_INT(id));
	if (!r) {
		reply_db_error(req, "find report");
		return false;
	}
	bool found = db_next(r);
	if (found)
		*rep = (struct report_ref){ .id = id, .post_id = db_int(r, 0), .community_id = db_int(r, 1),
					    .author_id = db_int(r, 2), .open = db_bool(r, 3), .author_admin = db_bool(r, 4) };
	bool failed = db_failed(r);
	db_done(r);
	if (failed)
		reply_db_error(req, "find report");
	else if (!found)
		reply_error(req, ERR_NOT_FOUND, "Report not found");
	return found && !failed;
}

/* Removes the post (once: the community's posts_count moves with it). */
static bool remove_post(req_t *req, const struct report_ref *rep, int64_t now)
{
	int64_t n = DBX(req->db, "UPDATE community_posts SET removed_at = $2 WHERE id = $1 AND removed_at IS NULL",
			P_INT(rep->post_id), P_INT(now));
	if (n == 1)
		return DBX(req->db, "UPDATE communities SET posts_count = posts_count - 1 WHERE id = $1 AND posts_count > 0",
			   P_INT(rep->community_id)) >= 0;
	return n == 0;
}

static int admin_reports_resolve(req_t *req)
{
	struct report_ref rep;
	if (!report_find_or_404(req, &rep))
		return DONE;
	valid_t v;
	v_init(&v, req, req_body(req));
	static const char *const actions[] = { "dismiss", "remove", "ban", NULL };
	const char *action = v_enum(&v, "action", V_REQUIRED, actions, NULL);
	const char *note = v_str(&v, "note", V_MULTILINE, 0, NOTE_MAX);
	if (v_ok(&v) && !strcmp(action, "ban") && (rep.author_admin || rep.author_id == req->user->id))
		v_error(&v, "action", "An administrator cannot be banned from here");
	if (!v_ok(&v))
		return v_reply(&v);
	if (!rep.open)
		return reply_error(req, ERR_CONFLICT, "This report is already resolved");
	bool dismiss = !strcmp(action, "dismiss");
	int64_t now = now_ms();
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	/* This report, or (the post goes) every open report of the post. */
	int64_t n = DBX(req->db,
		"UPDATE community_reports SET status = 'resolved', action = $3, note = $4, resolved_by = $5, resolved_at = $6"
		" WHERE status = 'open' AND (id = $1 OR ($7 = 1 AND post_id = $2))",
		P_INT(rep.id), P_INT(rep.post_id), P_TEXT(action), P_TEXT(note), P_INT(req->user->id), P_INT(now),
		P_INT(dismiss ? 0 : 1));
	bool ok = n >= 0, raced = false;
	if (ok && n == 0)
		raced = true; /* another admin resolved it first */
	if (ok && !raced && !dismiss)
		ok = remove_post(req, &rep, now);
	int64_t hidden = 0;
	if (ok && !raced && !strcmp(action, "ban")) /* as POST /api/admin/users/{id}/ban does */
		ok = user_ban_apply(req, rep.author_id, arena_printf(req->arena, "Report %lld: %s", (long long)rep.id,
								     note ? note : "banned on a report"), &hidden);
	if (ok && !raced)
		audit_log(req->db, req, "report.resolve", "community_report", rep.id,
			  json_pack("{s:s, s:s?, s:I, s:I}", "action", action, "note", note, "post_id", (json_int_t)rep.post_id,
				    "author_id", (json_int_t)rep.author_id));
	if (!ok || raced || !db_commit(req->db)) {
		db_rollback(req->db);
		if (raced)
			return reply_error(req, ERR_CONFLICT, "This report is already resolved");
		return reply_db_error(req, "resolve report");
	}
	db_rows_t *r = RQ(req, REPORT_SELECT " WHERE r.id = $1", P_INT(rep.id));
	if (!r || !db_next(r))
		return reply_db_error(req, "read report");
	return reply_ok(req, report_json(r));
}

const route_t community_admin_routes[] = {
	{ M_GET, "/api/admin/communities", admin_communities_list, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Communities by status" },
	{ M_POST, "/api/admin/communities", admin_communities_create, ACCESS_ADMIN, RL_ADMIN, BODY_JSON, 0, 0, "Create a community (active)" },
	{ M_GET, "/api/admin/communities/{id:int}", admin_communities_get, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "A community" },
	{ M_PUT, "/api/admin/communities/{id:int}", admin_communities_update, ACCESS_ADMIN, RL_ADMIN, BODY_JSON, 0, 0, "Edit a community" },
	{ M_DELETE, "/api/admin/communities/{id:int}", admin_communities_delete, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Delete a community" },
	{ M_PUT, "/api/admin/communities/{id:int}/approve", admin_communities_approve, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Approve a community" },
	{ M_GET, "/api/admin/reports", admin_reports_list, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Reports of posts" },
	{ M_PUT, "/api/admin/reports/{id:int}/resolve", admin_reports_resolve, ACCESS_ADMIN, RL_ADMIN, BODY_JSON, 0, 0, "Resolve a report: dismiss, remove, ban" },
};
EXPORT_ROUTES(community_admin_routes);
