/*
 * ws.c: tickets for the WebSocket endpoints (ws/ws.h).
 *
 * POST /api/ws/ticket answers {ticket, expires_in, expires_at}: a
 * credential for ?ticket= that works once, within WS_TICKET_TTL_S
 * seconds, on any instance (the database keeps its SHA-256, never the
 * ticket).  It carries the caller's admin rights of this request.  Each
 * call also deletes the tickets that expired, so the table holds only
 * what a few seconds of calls made.
 */
#include "api.h"
#include "../auth/account.h"
#include "../core/util.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "../ws/ws.h"

static int ws_ticket_create(req_t *req)
{
	char ticket[48], hash[65];
	token_random(ticket);
	token_hash(ticket, hash);
	int64_t now = now_ms(), expires = now + (int64_t)WS_TICKET_TTL_S * 1000;
	if (DBX(req->db, "DELETE FROM ws_tickets WHERE expires_at <= $1", P_INT(now)) < 0 ||
	    DBX(req->db, "INSERT INTO ws_tickets (token_hash, user_id, is_admin, created_at, expires_at)"
		" VALUES ($1, $2, $3, $4, $5)", P_TEXT(hash), P_INT(req->user->id), P_BOOL(req->user->is_admin),
		P_INT(now), P_INT(expires)) != 1)
		return reply_db_error(req, "create websocket ticket");
	return reply_created(req, json_pack("{s:s, s:i, s:o}", "ticket", ticket, "expires_in", WS_TICKET_TTL_S,
					    "expires_at", json_time(expires)));
}

const route_t ws_routes[] = {
	{ M_POST, "/api/ws/ticket", ws_ticket_create, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0,
	  "A single-use, 30-second ticket for ?ticket= on the WebSocket endpoints" },
};
const size_t ws_routes_len = ARRAY_LEN(ws_routes);
