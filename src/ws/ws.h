/*
 * ws.h: the WebSocket channels (issue 12, point 6), as the features that
 * own their objects see them.
 *
 * Three endpoints on the HTTP port, each one channel:
 *   /ws/notifications       "user:<caller id>"     any signed-in user
 *   /ws/support/{id}        "support:<id>"         the "support" kind decides
 *   /ws/community/{id}      "community:<id>"       the "community" kind decides
 * A client authenticates with ?ticket= (POST /api/ws/ticket: single use,
 * 30 seconds) or ?token= (an access JWT).  A bad credential closes the
 * socket with 4401; an object the caller may not reach (not theirs,
 * missing, or a kind no feature registered yet) closes it with 4403.
 * Servers send {"type", "data"} text frames (events.h publishes them).
 *
 * A feature registers its kind once, before the server starts serving
 * (main.c, or its routes' setup):
 *
 *     ws_register_channel("support", support_ws_authorize);
 *     ws_register_handler("support", support_ws_message);   // optional
 *
 * authorize runs on an HTTP poll thread during the upgrade, with that
 * thread's database connection: one short lookup, no writes.
 *
 * Clients may send {"type":"ping"} (answered {"type":"pong"}) and
 * {"type":"typing_indicator", "data":{"is_typing":bool}} (relayed to the
 * channel's other subscribers, on every instance, as a typing_indicator
 * event with the sender's user_id and username; support and community
 * channels only).  Any other message of an object with a string "type"
 * goes to the kind's handler, if one is registered, on the WebSocket
 * worker thread (never the hub's), with that thread's database
 * connection; what it publishes reaches subscribers through events.h.
 * Messages beyond a small per-socket budget (a burst of 30, then 10 a
 * second) are dropped.
 *
 * Registration is thread safe but meant for start-up; the table holds a
 * few kinds (WS_MAX_KINDS).
 */
#ifndef HWC_WS_H
#define HWC_WS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "../auth/auth.h"
#include "../db/db.h"

#define WS_MAX_KINDS 8
/* A text message from a client may be at most this long (longer: 1009). */
#define WS_MAX_MESSAGE 65536
/* A WebSocket ticket lives this long (POST /api/ws/ticket). */
#define WS_TICKET_TTL_S 30

typedef enum { WS_ALLOWED, WS_FORBIDDEN, WS_MISSING } ws_authz_t;

typedef ws_authz_t (*ws_authorize_fn)(db_t *db, const auth_user_t *user, int64_t id);

/* A client message for a kind's handler; everything is borrowed for the
 * call. */
typedef struct ws_message {
	int64_t user_id;
	bool is_admin;
	const char *kind;    /* "support" */
	int64_t id;          /* the ticket or community id */
	const char *channel; /* "support:<id>" */
	const char *type;    /* the message's "type" */
	json_t *msg;         /* the whole message (an object) */
} ws_message_t;

typedef void (*ws_message_fn)(db_t *db, const ws_message_t *m);

/* False when the table is full or kind is not "support"/"community"-like
 * (lowercase letters, under 16 bytes). */
bool ws_register_channel(const char *kind, ws_authorize_fn authorize);
bool ws_register_handler(const char *kind, ws_message_fn on_message);

#endif
