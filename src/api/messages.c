/*
 * messages.c: direct messages between two users, and blocks (issue 12,
 * point 3; guide section 7, /dashboard/messages).
 *
 * A conversation is the ordered pair of its two participants (migration
 * 0015): whoever writes first creates it, and the unique index on the pair
 * makes two racing first messages share one row.  Only its two
 * participants can see it; anyone else gets 404, the same answer as for a
 * conversation that does not exist.
 *
 * Nobody messages a banned or deleted user, and a banned user cannot send
 * (the dispatcher answers 403 before any handler runs).  A block, in either
 * direction, stops messages both ways: 403.
 *
 * PUT /api/messages/{id}/read takes a message id (the guide names it {id},
 * apart from {conversation_id}): it marks that message and every earlier
 * one the caller received in its conversation, as chat clients do when
 * they show the newest message.
 *
 * A new message is pushed to its recipient's /ws/notifications as
 * message_received {conversation_id, message} once committed.
 */
#include "api.h"
#include "paged.h"
#include "../core/util.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "../svc/events.h"

/* The longest message, in characters. */
#define MESSAGE_MAX_CHARS 5000
/* History pages default to more than the contract's 20: a chat shows more. */
#define HISTORY_DEFAULT_LIMIT 50

/* ===================================================== documents */

/* One message row: MSG_COLUMNS of "dm_messages m". */
#define MSG_COLUMNS(FIRST, NEXT)                                                                  \
	FIRST(MS_ID, "m.id") NEXT(MS_CONV, "m.conversation_id") NEXT(MS_SENDER, "m.sender_id")      \
	NEXT(MS_RECIPIENT, "m.recipient_id") NEXT(MS_CONTENT, "m.content") NEXT(MS_CREATED, "m.created_at") \
	NEXT(MS_READ, "m.read_at")
#define MSG_COLS MSG_COLUMNS(DB_COL_SQL, DB_COL_SQL_NEXT)
enum msg_col { MSG_COLUMNS(DB_COL_ENUM, DB_COL_ENUM) MS_COUNT };

static json_t *message_json(db_rows_t *r)
{
	bool read = !db_isnull(r, MS_READ);
	return json_pack("{s:I, s:I, s:I, s:I, s:s, s:b, s:o, s:o}",
		"id", (json_int_t)db_int(r, MS_ID),
		"conversation_id", (json_int_t)db_int(r, MS_CONV),
		"sender_id", (json_int_t)db_int(r, MS_SENDER),
		"recipient_id", (json_int_t)db_int(r, MS_RECIPIENT),
		"content", db_text(r, MS_CONTENT) ? db_text(r, MS_CONTENT) : "",
		"is_read", read,
		"read_at", read ? json_time(db_int(r, MS_READ)) : json_null(),
		"created_at", json_time(db_int(r, MS_CREATED)));
}

/* A conversation as its participant $1 sees it: the other participant,
 * the last message, the caller's unread count and whether the caller has
 * blocked the other. */
#define CONV_COLUMNS(FIRST, NEXT)                                                                  \
	FIRST(CV_ID, "c.id") NEXT(CV_CREATED, "c.created_at") NEXT(CV_LAST_AT, "c.last_message_at")   \
	NEXT(CV_U_ID, "u.id") NEXT(CV_U_NAME, "u.username") NEXT(CV_U_FULL, "u.full_name")            \
	NEXT(CV_U_AVATAR, "u.avatar_url") NEXT(CV_U_VERIFIED, "u.is_verified")                         \
	NEXT(CV_U_GONE, "u.deleted_at IS NOT NULL OR u.is_banned = TRUE")                               \
	NEXT(CV_M_ID, "m.id") NEXT(CV_M_SENDER, "m.sender_id") NEXT(CV_M_RECIPIENT, "m.recipient_id")  \
	NEXT(CV_M_CONTENT, "m.content") NEXT(CV_M_CREATED, "m.created_at") NEXT(CV_M_READ, "m.read_at") \
	NEXT(CV_UNREAD, "(SELECT COUNT(*) FROM dm_messages x WHERE x.recipient_id = $1"                 \
			" AND x.conversation_id = c.id AND x.read_at IS NULL)")                         \
	NEXT(CV_BLOCKED, "EXISTS (SELECT 1 FROM user_blocks b WHERE b.blocker_id = $1 AND b.blocked_id = u.id)")
#define CONV_COLS CONV_COLUMNS(DB_COL_SQL, DB_COL_SQL_NEXT)
enum conv_col { CONV_COLUMNS(DB_COL_ENUM, DB_COL_ENUM) CV_COUNT };

#define CONV_FROM                                                                                  \
	" FROM dm_conversations c"                                                                 \
	" JOIN users u ON u.id = CASE WHEN c.user_low = $1 THEN c.user_high ELSE c.user_low END"   \
	" LEFT JOIN dm_messages m ON m.id = c.last_message_id"                                     \
	" WHERE (c.user_low = $1 OR c.user_high = $1)"

static json_t *conversation_json(db_rows_t *r)
{
	json_t *other = json_pack("{s:I, s:s, s:s?, s:s?, s:b, s:b}",
		"id", (json_int_t)db_int(r, CV_U_ID),
		"username", db_text(r, CV_U_NAME),
		"full_name", db_text(r, CV_U_FULL),
		"avatar_url", db_text(r, CV_U_AVATAR),
		"is_verified", db_bool(r, CV_U_VERIFIED),
		"is_active", !db_bool(r, CV_U_GONE));
	json_t *last = json_null();
	if (!db_isnull(r, CV_M_ID)) {
		bool read = !db_isnull(r, CV_M_READ);
		last = json_pack("{s:I, s:I, s:I, s:I, s:s, s:b, s:o, s:o}",
			"id", (json_int_t)db_int(r, CV_M_ID),
			"conversation_id", (json_int_t)db_int(r, CV_ID),
			"sender_id", (json_int_t)db_int(r, CV_M_SENDER),
			"recipient_id", (json_int_t)db_int(r, CV_M_RECIPIENT),
			"content", db_text(r, CV_M_CONTENT) ? db_text(r, CV_M_CONTENT) : "",
			"is_read", read,
			"read_at", read ? json_time(db_int(r, CV_M_READ)) : json_null(),
			"created_at", json_time(db_int(r, CV_M_CREATED)));
	}
	return json_pack("{s:I, s:o, s:o, s:I, s:b, s:o, s:o}",
		"id", (json_int_t)db_int(r, CV_ID),
		"other_user", other,
		"last_message", last,
		"unread_count", (json_int_t)db_int(r, CV_UNREAD),
		"is_blocked", db_bool(r, CV_BLOCKED),
		"updated_at", json_time(db_int(r, CV_LAST_AT)),
		"created_at", json_time(db_int(r, CV_CREATED)));
}

/* Every message the user has not read, over all conversations; -1 on error. */
static int64_t unread_total(req_t *req, int64_t uid)
{
	int64_t n = 0;
	if (DBS(req->db, &n, "SELECT COUNT(*) FROM dm_messages WHERE recipient_id = $1 AND read_at IS NULL",
		P_INT(uid)) < 0)
		return -1;
	return n;
}

/* ===================================================== conversations */

/* GET /api/messages: the caller's conversations, newest activity first,
 * with the envelope's unread_count over all of them. */
static int messages_list(req_t *req)
{
	valid_t v;
	page_t p;
	paged_begin(&v, req, &p);
	if (!v_ok(&v))
		return v_reply(&v);
	int64_t uid = req->user->id, total = 0;
	if (DBS(req->db, &total, "SELECT COUNT(*) FROM dm_conversations WHERE user_low = $1 OR user_high = $1",
		P_INT(uid)) < 0)
		return reply_db_error(req, "count conversations");
	if (page_too_deep(&p, total))
		return reply_page_too_deep(req);
	int64_t unread = unread_total(req, uid);
	if (unread < 0)
		return reply_db_error(req, "count unread messages");
	db_rows_t *r = RQ(req, "SELECT " CONV_COLS CONV_FROM " ORDER BY c.last_message_at DESC, c.id DESC LIMIT $2 OFFSET $3",
			  P_INT(uid), P_INT(p.limit), P_INT(p.offset));
	json_t *items = r ? rows_to_array(r, conversation_json) : NULL;
	if (!items)
		return reply_db_error(req, "list conversations");
	json_t *page = page_envelope(items, total, &p);
	json_object_set_new(page, "unread_count", json_integer(unread));
	return reply_ok(req, page);
}

/* The conversation id as the participant uid sees it, or NULL when it is
 * not theirs (*failed on a database error).  Rows released. */
static json_t *conversation_find(req_t *req, int64_t uid, int64_t id, bool *failed)
{
	db_rows_t *r = RQ(req, "SELECT " CONV_COLS CONV_FROM " AND c.id = $2", P_INT(uid), P_INT(id));
	*failed = !r;
	if (!r)
		return NULL;
	json_t *c = db_next(r) ? conversation_json(r) : NULL;
	*failed = !c && db_failed(r);
	db_done(r);
	return c;
}

/* GET /api/messages/{id}?before=&page=&limit=: one page of history, oldest
 * first within the page.  ?before=<message id> pages back by key (what a
 * chat does: new messages do not shift the pages); page counts back from
 * the newest message (or from before). */
static int messages_get(req_t *req)
{
	valid_t v;
	v_init(&v, req, NULL);
	page_t p;
	p.page = q_int(&v, "page", 1, 1000000000, 1);
	p.limit = q_int(&v, "limit", 1, INT64_MAX, HISTORY_DEFAULT_LIMIT);
	if (p.limit > PAGE_MAX_LIMIT)
		p.limit = PAGE_MAX_LIMIT;
	p.offset = (p.page - 1) * p.limit;
	int64_t before = q_int(&v, "before", 1, INT64_MAX, INT64_MAX);
	if (!v_ok(&v))
		return v_reply(&v);
	int64_t uid = req->user->id, id = req_param_int(req, "id");
	bool failed;
	json_t *conv = conversation_find(req, uid, id, &failed);
	if (!conv)
		return failed ? reply_db_error(req, "read conversation") : reply_error(req, ERR_NOT_FOUND, "Conversation not found");
	int64_t total = 0;
	if (DBS(req->db, &total, "SELECT COUNT(*) FROM dm_messages WHERE conversation_id = $1", P_INT(id)) < 0) {
		json_decref(conv);
		return reply_db_error(req, "count messages");
	}
	if (page_too_deep(&p, total)) {
		json_decref(conv);
		return reply_page_too_deep(req);
	}
	/* One row more than the page says whether there is an older one. */
	db_rows_t *r = RQ(req, "SELECT " MSG_COLS " FROM dm_messages m WHERE m.conversation_id = $1 AND m.id < $2"
			       " ORDER BY m.id DESC LIMIT $3 OFFSET $4",
			  P_INT(id), P_INT(before), P_INT(p.limit + 1), P_INT(p.offset));
	json_t *newest_first = r ? rows_to_array(r, message_json) : NULL;
	if (!newest_first) {
		json_decref(conv);
		return reply_db_error(req, "read messages");
	}
	size_t n = json_array_size(newest_first);
	bool more = n > (size_t)p.limit;
	if (more)
		n = (size_t)p.limit;
	json_t *items = json_array();
	for (size_t i = n; i-- > 0;)
		json_array_append(items, json_array_get(newest_first, i));
	json_t *oldest = n ? json_array_get(items, 0) : NULL;
	json_t *next = more && oldest ? json_integer(json_integer_value(json_object_get(oldest, "id"))) : json_null();
	json_decref(newest_first);
	json_t *page = page_envelope(items, total, &p);
	json_object_set_new(page, "conversation", conv);
	json_object_set_new(page, "has_more", json_boolean(more));
	json_object_set_new(page, "next_before", next);
	return reply_ok(req, page);
}

/* ===================================================== sending */

/* Who may receive: the user exists and is neither deleted nor banned. */
enum peer { PEER_OK, PEER_MISSING, PEER_GONE, PEER_DB_ERROR };

static enum peer peer_check(req_t *req, int64_t id)
{
	db_rows_t *r = RQ(req, "SELECT deleted_at IS NOT NULL OR is_banned = TRUE FROM users WHERE id = $1", P_INT(id));
	if (!r)
		return PEER_DB_ERROR;
	enum peer e = PEER_MISSING;
	if (db_next(r))
		e = db_bool(r, 0) ? PEER_GONE : PEER_OK;
	else if (db_failed(r))
		e = PEER_DB_ERROR;
	db_done(r);
	return e;
}

/* 1 when a has blocked b, 2 when b has blocked a (and not a b), 0 when
 * neither, -1 on error. */
static int block_between(req_t *req, int64_t a, int64_t b)
{
	int64_t mine = 0, theirs = 0;
	if (DBS(req->db, &mine, "SELECT COUNT(*) FROM user_blocks WHERE blocker_id = $1 AND blocked_id = $2",
		P_INT(a), P_INT(b)) < 0 ||
	    DBS(req->db, &theirs, "SELECT COUNT(*) FROM user_blocks WHERE blocker_id = $1 AND blocked_id = $2",
		P_INT(b), P_INT(a)) < 0)
		return -1;
	return mine ? 1 : theirs ? 2 : 0;
}

/* The other participant of conversation id when uid is one; 0 when not
 * (or no such conversation), -1 on error. */
static int64_t conversation_peer(req_t *req, int64_t uid, int64_t id)
{
	int64_t other = 0;
	int rc = DBS(req->db, &other,
		     "SELECT CASE WHEN user_low = $2 THEN user_high ELSE user_low END FROM dm_conversations"
		     " WHERE id = $1 AND (user_low = $2 OR user_high = $2)", P_INT(id), P_INT(uid));
	return rc < 0 ? -1 : rc == 0 ? 0 : other;
}

/* Writes the message (and the conversation on the first one) in one
 * transaction; its id into *msg_id.  False on a database error (rolled
 * back). */
static bool message_store(req_t *req, int64_t from, int64_t to, const char *content, int64_t *conv_id,
			  int64_t *msg_id)
{
	int64_t lo = from < to ? from : to, hi = from < to ? to : from, now = now_ms();
	if (!db_begin(req->db))
		return false;
	/* A racing first message waits on the pair's unique index, then finds
	 * the row its twin made. */
	if (DBX(req->db, "INSERT INTO dm_conversations (user_low, user_high, last_message_at, created_at)"
			 " VALUES ($1, $2, $3, $3) ON CONFLICT (user_low, user_high) DO NOTHING",
		P_INT(lo), P_INT(hi), P_INT(now)) < 0 ||
	    DBS(req->db, conv_id, "SELECT id FROM dm_conversations WHERE user_low = $1 AND user_high = $2",
		P_INT(lo), P_INT(hi)) != 1 ||
	    DBS(req->db, msg_id, "INSERT INTO dm_messages (conversation_id, sender_id, recipient_id, content, created_at)"
				 " VALUES ($1, $2, $3, $4, $5) RETURNING id",
		P_INT(*conv_id), P_INT(from), P_INT(to), P_TEXT(content), P_INT(now)) != 1 ||
	    DBX(req->db, "UPDATE dm_conversations SET last_message_id = $2, last_message_at = $3"
			 " WHERE id = $1 AND (last_message_id IS NULL OR last_message_id < $2)",
		P_INT(*conv_id), P_INT(*msg_id), P_INT(now)) < 0 ||
	    !db_commit(req->db)) {
		db_rollback(req->db);
		return false;
	}
	return true;
}

/* POST /api/messages {recipient_id | conversation_id, content}: 201 with
 * the message. */
static int messages_send(req_t *req)
{
	valid_t v;
	v_init(&v, req, req_body(req));
	int64_t to = v_int(&v, "recipient_id", 0, 1, INT64_MAX, 0);
	int64_t conv = v_int(&v, "conversation_id", 0, 1, INT64_MAX, 0);
	const char *content = v_str(&v, "content", V_REQUIRED | V_MULTILINE, 1, MESSAGE_MAX_CHARS);
	if (v_ok(&v) && !to && !conv)
		v_error(&v, "recipient_id", "Give recipient_id (or the conversation_id of an existing conversation)");
	int64_t uid = req->user->id;
	if (v_ok(&v) && to == uid)
		v_error(&v, "recipient_id", "You cannot message yourself");
	if (!v_ok(&v))
		return v_reply(&v);

	if (conv) {
		int64_t other = conversation_peer(req, uid, conv);
		if (other < 0)
			return reply_db_error(req, "read conversation");
		if (other == 0)
			return reply_error(req, ERR_NOT_FOUND, "Conversation not found");
		if (to && to != other)
			return reply_invalid1(req, "recipient_id", "Not the other participant of this conversation");
		to = other;
	}
	switch (peer_check(req, to)) {
	case PEER_OK:
		break;
	case PEER_MISSING:
		return reply_error(req, ERR_NOT_FOUND, "User not found");
	case PEER_GONE:
		/* a conversation shows who it was with; a fresh one looks missing, as the profile does */
		return conv ? reply_error(req, ERR_FORBIDDEN, "This user can no longer receive messages")
			    : reply_error(req, ERR_NOT_FOUND, "User not found");
	default:
		return reply_db_error(req, "read recipient");
	}
	int blocked = block_between(req, uid, to);
	if (blocked < 0)
		return reply_db_error(req, "read blocks");
	if (blocked == 1)
		return reply_error(req, ERR_FORBIDDEN, "You have blocked this user: unblock them to send a message");
	if (blocked == 2)
		return reply_error(req, ERR_FORBIDDEN, "You cannot message this user");
	req_rows_release(req); /* before the transaction */

	int64_t conv_id = 0, msg_id = 0;
	if (!message_store(req, uid, to, content, &conv_id, &msg_id))
		return reply_db_error(req, "send message");
	db_rows_t *r = RQ(req, "SELECT " MSG_COLS " FROM dm_messages m WHERE m.id = $1", P_INT(msg_id));
	json_t *msg = r && db_next(r) ? message_json(r) : NULL;
	if (!msg)
		return reply_db_error(req, "read message");
	/* The event gets its own copy: the hub serialises it on its thread. */
	json_t *sender = json_pack("{s:I, s:s}", "id", (json_int_t)uid, "username", req->user->username);
	events_publish_user(to, "message_received",
			    json_pack("{s:I, s:o, s:o}", "conversation_id", (json_int_t)conv_id,
				      "message", json_deep_copy(msg),
				      "sender", sender));
	return reply_created(req, msg);
}

/* PUT /api/messages/{id}/read: the message {id} and every earlier one the
 * caller received in its conversation are read. */
static int messages_read(req_t *req)
{
	int64_t uid = req->user->id, id = req_param_int(req, "id"), conv = 0;
	int rc = DBS(req->db, &conv, "SELECT conversation_id FROM dm_messages WHERE id = $1"
				     " AND (sender_id = $2 OR recipient_id = $2)", P_INT(id), P_INT(uid));
	if (rc < 0)
		return reply_db_error(req, "read message");
	if (rc == 0)
		return reply_error(req, ERR_NOT_FOUND, "Message not found");
	int64_t marked = DBX(req->db, "UPDATE dm_messages SET read_at = $4 WHERE conversation_id = $1"
				      " AND recipient_id = $2 AND id <= $3 AND read_at IS NULL",
			     P_INT(conv), P_INT(uid), P_INT(id), P_INT(now_ms()));
	if (marked < 0)
		return reply_db_error(req, "mark read");
	int64_t left = 0;
	if (DBS(req->db, &left, "SELECT COUNT(*) FROM dm_messages WHERE recipient_id = $1 AND conversation_id = $2"
				" AND read_at IS NULL", P_INT(uid), P_INT(conv)) < 0)
		return reply_db_error(req, "count unread messages");
	int64_t all = unread_total(req, uid);
	if (all < 0)
		return reply_db_error(req, "count unread messages");
	return reply_ok(req, json_pack("{s:I, s:I, s:I, s:I, s:I}", "conversation_id", (json_int_t)conv,
				       "message_id", (json_int_t)id, "marked_count", (json_int_t)marked,
				       "unread_count", (json_int_t)left, "total_unread_count", (json_int_t)all));
}

/* ===================================================== blocks */

static int block_reply(req_t *req, int64_t id, bool blocked)
{
	return reply_ok(req, json_pack("{s:I, s:b}", "user_id", (json_int_t)id, "is_blocked", blocked));
}

/* The target of a block: not the caller (422), an existing account (404). */
static int64_t block_target(req_t *req)
{
	int64_t id = req_param_int(req, "id");
	if (id == req->user->id) {
		reply_invalid1(req, "id", "You cannot block yourself");
		return 0;
	}
	int64_t n = 0;
	if (DBS(req->db, &n, "SELECT COUNT(*) FROM users WHERE id = $1 AND deleted_at IS NULL", P_INT(id)) < 0) {
		reply_db_error(req, "read user");
		return 0;
	}
	if (!n) {
		reply_error(req, ERR_NOT_FOUND, "User not found");
		return 0;
	}
	return id;
}

/* POST /api/users/{id}/block: idempotent. */
static int users_block(req_t *req)
{
	int64_t id = block_target(req);
	if (!id)
		return DONE;
	if (DBX(req->db, "INSERT INTO user_blocks (blocker_id, blocked_id, created_at) VALUES ($1, $2, $3)"
			 " ON CONFLICT (blocker_id, blocked_id) DO NOTHING",
		P_INT(req->user->id), P_INT(id), P_INT(now_ms())) < 0)
		return reply_db_error(req, "block user");
	return block_reply(req, id, true);
}

/* DELETE /api/users/{id}/block: idempotent. */
static int users_unblock(req_t *req)
{
	int64_t id = block_target(req);
	if (!id)
		return DONE;
	if (DBX(req->db, "DELETE FROM user_blocks WHERE blocker_id = $1 AND blocked_id = $2",
		P_INT(req->user->id), P_INT(id)) < 0)
		return reply_db_error(req, "unblock user");
	return block_reply(req, id, false);
}

static json_t *blocked_json(db_rows_t *r)
{
	return json_pack("{s:I, s:s, s:s?, s:s?, s:o}", "id", (json_int_t)db_int(r, 0), "username", db_text(r, 1),
			 "full_name", db_text(r, 2), "avatar_url", db_text(r, 3), "blocked_at", json_time(db_int(r, 4)));
}

/* GET /api/users/me/blocks: whom the caller has blocked, newest first. */
static int users_blocks(req_t *req)
{
	valid_t v;
	page_t p;
	paged_begin(&v, req, &p);
	if (!v_ok(&v))
		return v_reply(&v);
	db_param_t params[] = { P_INT(req->user->id) };
	paged_t q = {
		.what = "list blocks",
		.count_sql = "SELECT COUNT(*) FROM user_blocks WHERE blocker_id = $1",
		.rows_sql = "SELECT u.id, u.username, u.full_name, u.avatar_url, b.created_at FROM user_blocks b"
			    " JOIN users u ON u.id = b.blocked_id WHERE b.blocker_id = $1"
			    " ORDER BY b.created_at DESC, u.id DESC",
		.params = params,
		.nparams = 1,
		.row = blocked_json,
	};
	return paged_reply(req, &p, &q);
}

/* A message is at most 5,000 characters; escaped as \uXXXX that is 30 KB. */
#define MESSAGE_BODY_LIMIT (64 * 1024)

const route_t message_routes[] = {
	{ M_GET, "/api/messages", messages_list, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "The caller's conversations, newest activity first" },
	{ M_POST, "/api/messages", messages_send, ACCESS_VERIFIED, RL_GENERAL, BODY_JSON, MESSAGE_BODY_LIMIT, 0, "Send a direct message (creates the conversation once)" },
	{ M_GET, "/api/messages/{id:int}", messages_get, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "A conversation's messages, paged back from the newest" },
	{ M_PUT, "/api/messages/{id:int}/read", messages_read, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "Mark a message and the earlier ones read" },
	{ M_POST, "/api/users/{id:int}/block", users_block, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "Block a user (no messages either way)" },
	{ M_DELETE, "/api/users/{id:int}/block", users_unblock, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "Unblock a user" },
	{ M_GET, "/api/users/me/blocks", users_blocks, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "The users the caller has blocked" },
};
EXPORT_ROUTES(message_routes);
