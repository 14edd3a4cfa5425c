/*
 * social.c: follows (issue 12, point 1).
 *
 * A follow is one row of follows.  Following twice, or unfollowing what
 * is not followed, is harmless: the answer is the same state.  The two
 * counters on users (the followee's followers_count, the follower's
 * following_count) and the followee's day in creator_daily (the creator
 * dashboard's new followers, rollup.h) move only when the row really
 * changed, in the same transaction, so they stay exact when requests
 * race.  Lock order: the two users rows in ascending id (two users
 * following each other at once never wait on each other in a cycle),
 * then creator_daily, as rollup.h asks.
 *
 * A new follow notifies the followee: a notification row (at most one per
 * follower and FOLLOW_NOTIFY_EVERY_MS, so follow, unfollow, follow again
 * does not become a stream of them), pushed after the commit on the
 * followee's /ws/notifications by notify_flush() as every notification is.
 *
 * The lists are public for any visible user (not deleted, not banned),
 * newest first.  They show the accounts that are still visible, and the
 * page's total counts that same set.
 */
#include "api.h"
#include "paged.h"
#include "social.h"
#include "../auth/account.h"
#include "../core/util.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "../svc/notify.h"
#include "../svc/rollup.h"

#define FOLLOW_NOTIFY_EVERY_MS (24LL * 3600 * 1000)

#define USER_VISIBLE "u.deleted_at IS NULL AND u.is_banned = FALSE"

/* 1 when the user exists and may be seen (not deleted, not banned), 0 when
 * not, -1 on a database error. */
static int user_visible(req_t *req, int64_t id)
{
	int64_t n = 0;
	int rc = DBS(req->db, &n, "SELECT COUNT(*) FROM users u WHERE u.id = $1 AND " USER_VISIBLE, P_INT(id));
	return rc < 0 ? -1 : n > 0;
}

/* 1 when follower follows followee, 0 when not, -1 on a database error. */
static int follows(db_t *db, int64_t follower, int64_t followee)
{
	int64_t n = 0;
	int rc = DBS(db, &n, "SELECT COUNT(*) FROM follows WHERE follower_id = $1 AND followee_id = $2",
		     P_INT(follower), P_INT(followee));
	return rc < 0 ? -1 : n > 0;
}

bool follow_state_add(req_t *req, json_t *user_doc, int64_t user_id)
{
	if (!req->user || !user_doc)
		return true;
	int f = follows(req->db, req->user->id, user_id);
	if (f < 0)
		return false;
	json_object_set_new(user_doc, "is_following", json_boolean(f));
	return true;
}

/* Both counters of a follow (delta +1) or an unfollow (-1), in ascending
 * id order (the lock order above).  A counter never goes below 0. */
static bool count_follow(db_t *db, int64_t follower, int64_t followee, int delta)
{
	static const char followers_sql[] =
		"UPDATE users SET followers_count = CASE WHEN followers_count + $2 < 0 THEN 0"
		" ELSE followers_count + $2 END WHERE id = $1";
	static const char following_sql[] =
		"UPDATE users SET following_count = CASE WHEN following_count + $2 < 0 THEN 0"
		" ELSE following_count + $2 END WHERE id = $1";
	if (follower < followee)
		return DBX(db, following_sql, P_INT(follower), P_INT(delta)) == 1 &&
		       DBX(db, followers_sql, P_INT(followee), P_INT(delta)) == 1;
	return DBX(db, followers_sql, P_INT(followee), P_INT(delta)) == 1 &&
	       DBX(db, following_sql, P_INT(follower), P_INT(delta)) == 1;
}

/* The followee's notification of a new follower, unless this follower
 * already made one lately (its link is the follower's profile). */
static bool notify_follow(req_t *req, int64_t followee, int64_t now)
{
	const char *url = arena_printf(req->arena, "/u/%s", req->user->username);
	int64_t recent = 0;
	if (DBS(req->db, &recent, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND created_at > $2"
		" AND type = 'new_follower' AND action_url = $3",
		P_INT(followee), P_INT(now - FOLLOW_NOTIFY_EVERY_MS), P_TEXT(url)) < 0)
		return false;
	if (recent > 0)
		return true;
	return notify(req->db, followee, "new_follower", "New follower",
		      arena_printf(req->arena, "%s started following you", req->user->username), url);
}

static int follow(req_t *req, bool on)
{
	int64_t target = req_param_int(req, "id"), me = req->user->id;
	if (target == me)
		return reply_invalid1(req, "id", on ? "You cannot follow yourself" : "You cannot unfollow yourself");
	int found = user_visible(req, target);
	if (found < 0)
		return reply_db_error(req, "find user");
	if (!found)
		return reply_error(req, ERR_NOT_FOUND, "User not found");
	int64_t now = now_ms();
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	int64_t changed = on
		? DBX(req->db, "INSERT INTO follows (follower_id, followee_id, created_at) VALUES ($1, $2, $3)"
			       " ON CONFLICT DO NOTHING", P_INT(me), P_INT(target), P_INT(now))
		: DBX(req->db, "DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2", P_INT(me), P_INT(target));
	bool ok = changed >= 0;
	if (ok && changed == 1) {
		ok = count_follow(req->db, me, target, on ? 1 : -1) && rollup_follow(req->db, target, on ? 1 : -1, now);
		if (ok && on)
			ok = notify_follow(req, target, now);
	}
	int64_t followers = 0, following = 0;
	ok = ok && DBS(req->db, &followers, "SELECT followers_count FROM users WHERE id = $1", P_INT(target)) == 1 &&
	     DBS(req->db, &following, "SELECT following_count FROM users WHERE id = $1", P_INT(me)) == 1;
	if (!ok || !db_commit(req->db)) {
		db_rollback(req->db);
		notify_discard();
		return reply_db_error(req, on ? "follow" : "unfollow");
	}
	notify_flush(); /* the new_follower notification, live on the followee's /ws/notifications */
	return reply_ok(req, json_pack("{s:I, s:b, s:I, s:I}", "user_id", (json_int_t)target, "is_following", on,
				       "followers_count", (json_int_t)followers, "following_count", (json_int_t)following));
}

static int users_follow(req_t *req)
{
	return follow(req, true);
}

static int users_unfollow(req_t *req)
{
	return follow(req, false);
}

/* ---------------------------------------------------------------- lists */

/* Which side of the follow a list shows: the followers of a user (the
 * rows whose followee it is) or the users it follows. */
enum side { FOLLOWERS, FOLLOWING };

static json_t *follow_rows(req_t *req, db_rows_t *r)
{
	json_t *items = json_array();
	while (db_next(r)) {
		json_t *u = user_json_row(r);
		json_object_set_new(u, "followed_at", json_time(db_int(r, UC_COUNT)));
		if (req->user)
			json_object_set_new(u, "is_following", json_boolean(db_bool(r, UC_COUNT + 1)));
		json_array_append_new(items, u);
	}
	if (db_failed(r)) {
		json_decref(items);
		items = NULL;
	}
	db_done(r);
	return items;
}

/* One page of user_id's followers or followees, each a public profile
 * with followed_at and, for a signed-in caller, is_following (does the
 * caller follow them: a follow-back button). */
static int reply_follow_list(req_t *req, int64_t user_id, enum side side)
{
	valid_t v;
	page_t p;
	paged_begin(&v, req, &p);
	if (!v_ok(&v))
		return v_reply(&v);
	/* the listed user is on the other side of the row from user_id */
	static const char *const join[] = {
		[FOLLOWERS] = " FROM follows f JOIN users u ON u.id = f.follower_id WHERE f.followee_id = $1 AND " USER_VISIBLE,
		[FOLLOWING] = " FROM follows f JOIN users u ON u.id = f.followee_id WHERE f.follower_id = $1 AND " USER_VISIBLE,
	};
	static const char *const order[] = {
		[FOLLOWERS] = " ORDER BY f.created_at DESC, f.follower_id DESC",
		[FOLLOWING] = " ORDER BY f.created_at DESC, f.followee_id DESC",
	};
	int64_t total = 0;
	if (db_scalar(req->db, arena_printf(req->arena, "SELECT COUNT(*)%s", join[side]), DB_PARAMS(P_INT(user_id)),
		      &total) < 0)
		return reply_db_error(req, "count follows");
	if (page_too_deep(&p, total))
		return reply_page_too_deep(req);
	json_t *items;
	if (p.offset >= total) {
		items = json_array(); /* past the end: no query */
	} else {
		const char *sql = arena_printf(req->arena,
			"SELECT " USER_PUBLIC_COLS ", f.created_at,"
			" EXISTS (SELECT 1 FROM follows mine WHERE mine.follower_id = $2 AND mine.followee_id = u.id)"
			"%s%s LIMIT $3 OFFSET $4", join[side], order[side]);
		db_rows_t *r = RQ(req, sql, P_INT(user_id), P_INT(req->user ? req->user->id : 0), P_INT(p.limit),
				  P_INT(p.offset));
		items = r ? follow_rows(req, r) : NULL;
		if (!items)
			return reply_db_error(req, "list follows");
	}
	return reply_ok(req, page_envelope(items, total, &p));
}

static int reply_user_list(req_t *req, enum side side)
{
	int64_t id = req_param_int(req, "id");
	int found = user_visible(req, id);
	if (found < 0)
		return reply_db_error(req, "find user");
	if (!found)
		return reply_error(req, ERR_NOT_FOUND, "User not found");
	return reply_follow_list(req, id, side);
}

static int users_my_followers(req_t *req)
{
	return reply_follow_list(req, req->user->id, FOLLOWERS);
}

static int users_my_following(req_t *req)
{
	return reply_follow_list(req, req->user->id, FOLLOWING);
}

static int users_followers(req_t *req)
{
	return reply_user_list(req, FOLLOWERS);
}

static int users_following(req_t *req)
{
	return reply_user_list(req, FOLLOWING);
}

const route_t social_routes[] = {
	{ M_POST, "/api/users/{id:int}/follow", users_follow, ACCESS_VERIFIED, RL_GENERAL, BODY_NONE, 0, 0, "Follow a user (idempotent)" },
	{ M_DELETE, "/api/users/{id:int}/follow", users_unfollow, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "Unfollow a user (idempotent)" },
	{ M_GET, "/api/users/me/followers", users_my_followers, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "The caller's followers, newest first" },
	{ M_GET, "/api/users/me/following", users_my_following, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "The users the caller follows, newest first" },
	{ M_GET, "/api/users/{id:int}/followers", users_followers, ACCESS_OPTIONAL, RL_GENERAL, BODY_NONE, 0, 0, "A user's followers, newest first" },
	{ M_GET, "/api/users/{id:int}/following", users_following, ACCESS_OPTIONAL, RL_GENERAL, BODY_NONE, 0, 0, "The users a user follows, newest first" },
};
EXPORT_ROUTES(social_routes);
