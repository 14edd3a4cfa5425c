/*
 * parse.h: the WebSocket hub's parsers of untrusted input, as pure
 * functions (no request, no socket, no database), so that unit tests and
 * tests/fuzz/fuzz_ws.c reach them directly.  upgrade.c and hub.c call them.
 *
 * Nothing here allocates but ws_text_check (freed before it returns) and
 * ws_msg_parse (the parsed JSON, which the caller releases with
 * json_decref).  Every function is thread safe.
 */
#ifndef HWC_WS_PARSE_H
#define HWC_WS_PARSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A channel kind's buffer ("notifications" and the NUL fit). */
#define WS_KIND_SIZE 16
/* A path's id has at most this many digits. */
#define WS_MAX_ID_LEN 20
/* Sec-WebSocket-Accept: 28 base64 characters of a SHA-1, and the NUL. */
#define WS_ACCEPT_LEN 28
#define WS_ACCEPT_SIZE (WS_ACCEPT_LEN + 1)
/* A ?ticket= this long or longer is refused without a lookup. */
#define WS_TICKET_MAX 128

/* "/ws/notifications", "/ws/support/12", "/ws/community/7": the kind and
 * the id (0 for notifications; "/ws/community/0" is the communities' hub
 * chat).  Ids are decimal without a leading zero, 1 to INT64_MAX.  False
 * for anything else (path may be any C string), and then kind and id may
 * have been written. */
bool ws_parse_path(const char *path, char kind[WS_KIND_SIZE], int64_t *id);

/* Does a comma-separated header value (Connection, Upgrade; NULL: absent)
 * hold token, in any case, with spaces and tabs around it? */
bool ws_header_has_token(const char *v, const char *token);

/* Sec-WebSocket-Key: base64 of 16 bytes (RFC 6455, 4.1); NULL is false. */
bool ws_key_ok(const char *key);

/* Sec-WebSocket-Accept for key (RFC 6455, 4.2.2) into out; false, with
 * out untouched, when the key is not ws_key_ok. */
bool ws_accept(const char *key, char out[WS_ACCEPT_SIZE]);

/* May a browser at origin (NULL: no Origin header, not a browser) open a
 * socket?  cors_allowed: CORS_ORIGINS already allowed it; else it must be
 * public_url without its trailing slashes. */
bool ws_origin_ok(const char *origin, bool cors_allowed, const char *public_url);

/* Which credential the query carries (values as the query gave them, NULL
 * when absent): a non-empty ?ticket= wins over ?token=. */
typedef enum {
	WS_CRED_NONE,            /* neither: close 4401 */
	WS_CRED_TICKET,          /* look the ticket up */
	WS_CRED_TICKET_TOO_LONG, /* WS_TICKET_MAX or longer: close 4401, no lookup */
	WS_CRED_TOKEN,           /* an access JWT */
} ws_cred_t;
ws_cred_t ws_credential(const char *ticket, const char *token);

/* A client's text frame (RFC 6455 8.1): 0 when it is UTF-8 without a NUL,
 * else the close code (1007) with its reason in *reason. */
int ws_text_check(const uint8_t *msg, size_t len, const char **reason);

/* A client's message, after ws_text_check. */
typedef enum {
	WS_MSG_BAD,    /* not a JSON object with a string "type": answer an error */
	WS_MSG_PING,   /* {"type":"ping"}: answer a pong */
	WS_MSG_TYPING, /* {"type":"typing_indicator"}: is_typing is set */
	WS_MSG_OTHER,  /* any other type: the kind's handler, if any */
} ws_msg_kind_t;

typedef struct ws_client_msg {
	ws_msg_kind_t kind;
	const char *type; /* the "type" (in json); NULL when BAD */
	bool is_typing;   /* TYPING: data.is_typing is true, or is missing */
	json_t *json;     /* the parsed message, NULL when it is no JSON; the caller's */
} ws_client_msg_t;

/* Parses msg (len bytes; duplicate keys are refused) into *out and
 * returns out->kind.  The caller json_decref()s out->json in every case. */
ws_msg_kind_t ws_msg_parse(const uint8_t *msg, size_t len, ws_client_msg_t *out);

#endif
