/* The WebSocket hub's parsers (ws/parse.h). */
#include <stdint.h>
#include <stdlib.h>
#include "t.h"
#include "ws/parse.h"

static bool path(const char *p, const char *kind, int64_t id)
{
	char k[WS_KIND_SIZE];
	int64_t i = -7;
	return ws_parse_path(p, k, &i) && !strcmp(k, kind) && i == id;
}

static bool path_refused(const char *p)
{
	char k[WS_KIND_SIZE];
	int64_t i;
	return !ws_parse_path(p, k, &i);
}

TEST(ws_path_accepted)
{
	CHECK(path("/ws/notifications", "notifications", 0));
	CHECK(path("/ws/support/1", "support", 1));
	CHECK(path("/ws/support/12", "support", 12));
	CHECK(path("/ws/community/7", "community", 7));
	CHECK(path("/ws/community/0", "community", 0)); /* the hub chat */
	CHECK(path("/ws/support/9223372036854775807", "support", INT64_MAX));
}

TEST(ws_path_refused)
{
	CHECK(path_refused(""));
	CHECK(path_refused("/"));
	CHECK(path_refused("/ws")); /* read past its end before the prefix check */
	CHECK(path_refused("/ws/"));
	CHECK(path_refused("/ws/notifications/"));
	CHECK(path_refused("/ws/notifications/1"));
	CHECK(path_refused("/ws/Notifications"));
	CHECK(path_refused("/ws/support"));
	CHECK(path_refused("/ws/support/"));
	CHECK(path_refused("/ws/support/0"));
	CHECK(path_refused("/ws/support/012"));
	CHECK(path_refused("/ws/support/-1"));
	CHECK(path_refused("/ws/support/+1"));
	CHECK(path_refused("/ws/support/1 "));
	CHECK(path_refused("/ws/support/1/"));
	CHECK(path_refused("/ws/support/1a"));
	CHECK(path_refused("/ws/support/9223372036854775808"));
	CHECK(path_refused("/ws/support/99999999999999999999"));
	CHECK(path_refused("/ws/community/00"));
	CHECK(path_refused("/ws/communityx/1"));
	CHECK(path_refused("/ws/chat/1"));
	/* the kind must follow "/ws/" itself, not any four bytes */
	CHECK(path_refused("/xx/support/1"));
	CHECK(path_refused("abcdcommunity/1"));
}

TEST(ws_header_token)
{
	CHECK(ws_header_has_token("websocket", "websocket"));
	CHECK(ws_header_has_token("WebSocket", "websocket"));
	CHECK(ws_header_has_token("keep-alive, Upgrade", "upgrade"));
	CHECK(ws_header_has_token(" \tupgrade\t ,close", "upgrade"));
	CHECK(ws_header_has_token(",,upgrade,,", "upgrade"));
	CHECK(!ws_header_has_token(NULL, "upgrade"));
	CHECK(!ws_header_has_token("", "upgrade"));
	CHECK(!ws_header_has_token("upgrades", "upgrade"));
	CHECK(!ws_header_has_token("keep-alive upgrade", "upgrade"));
	CHECK(!ws_header_has_token("up grade", "upgrade"));
	/* an empty token is in no header, separators at the end or not */
	CHECK(!ws_header_has_token("websocket,", ""));
	CHECK(!ws_header_has_token("websocket, ", ""));
	CHECK(!ws_header_has_token("", ""));
}

TEST(ws_key)
{
	CHECK(ws_key_ok("dGhlIHNhbXBsZSBub25jZQ=="));
	CHECK(ws_key_ok("AAAAAAAAAAAAAAAAAAAAAA=="));
	CHECK(ws_key_ok("/////////////////////w=="));
	CHECK(!ws_key_ok(NULL));
	CHECK(!ws_key_ok(""));
	CHECK(!ws_key_ok("dGhlIHNhbXBsZSBub25jZQ"));    /* no padding */
	CHECK(!ws_key_ok("dGhlIHNhbXBsZSBub25jZQ===")); /* 25 characters */
	CHECK(!ws_key_ok("dGhlIHNhbXBsZSBub25jZR==")); /* stray low bits */
	CHECK(!ws_key_ok("dGhlIHNhbXBsZSBub25jZQ-="));
	CHECK(!ws_key_ok("dGhl-HNhbXBsZSBub25jZQ=="));   /* base64url */
	CHECK(!ws_key_ok("dGhlIHNhbXBsZSBub25jZXM="));  /* 17 bytes */
	CHECK(!ws_key_ok("dGhlIHNhbXBsZSBub25jZXMh"));  /* 18 bytes */
	/* libsodium 1.0.18 decodes bytes from 0x80 up as digits */
	CHECK(!ws_key_ok("dGhl\x80HNhbXBsZSBub25jZQ=="));
	CHECK(!ws_key_ok("dGhlIHNhbXBsZSBub25jZ\xff=="));
}

TEST(ws_accept_value)
{
	char out[WS_ACCEPT_SIZE];
	/* RFC 6455, 1.3 */
	CHECK(ws_accept("dGhlIHNhbXBsZSBub25jZQ==", out));
	CHECK_STR(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	CHECK(strlen(out) == WS_ACCEPT_LEN);
	memset(out, '#', sizeof(out));
	CHECK(!ws_accept("dGhlIHNhbXBsZSBub25jZR==", out));
	CHECK(!ws_accept(NULL, out));
	CHECK(out[0] == '#' && out[WS_ACCEPT_LEN] == '#');
}

TEST(ws_origin)
{
	const char *url = "https://hwc3d.example/";
	CHECK(ws_origin_ok(NULL, false, url));
	CHECK(ws_origin_ok("https://other.example", true, url));
	CHECK(ws_origin_ok("https://hwc3d.example", false, url));
	CHECK(ws_origin_ok("https://hwc3d.example", false, "https://hwc3d.example"));
	CHECK(ws_origin_ok("https://hwc3d.example", false, "https://hwc3d.example///"));
	CHECK(!ws_origin_ok("https://hwc3d.example/", false, url));
	CHECK(!ws_origin_ok("https://hwc3d.example.evil", false, url));
	CHECK(!ws_origin_ok("https://hwc3d.exampl", false, url));
	CHECK(!ws_origin_ok("HTTPS://hwc3d.example", false, url));
	CHECK(!ws_origin_ok("null", false, url));
	CHECK(!ws_origin_ok("", false, url));
	CHECK(ws_origin_ok("", false, "/"));
}

TEST(ws_credential_choice)
{
	char long_ticket[WS_TICKET_MAX + 1];
	memset(long_ticket, 'a', WS_TICKET_MAX);
	long_ticket[WS_TICKET_MAX] = '\0';
	CHECK(ws_credential(NULL, NULL) == WS_CRED_NONE);
	CHECK(ws_credential("", "") == WS_CRED_NONE);
	CHECK(ws_credential("t", NULL) == WS_CRED_TICKET);
	CHECK(ws_credential("t", "jwt") == WS_CRED_TICKET);
	CHECK(ws_credential("", "jwt") == WS_CRED_TOKEN);
	CHECK(ws_credential(NULL, "jwt") == WS_CRED_TOKEN);
	CHECK(ws_credential(long_ticket, "jwt") == WS_CRED_TICKET_TOO_LONG);
	long_ticket[WS_TICKET_MAX - 1] = '\0';
	CHECK(ws_credential(long_ticket, NULL) == WS_CRED_TICKET);
}

static int text(const char *s, size_t n)
{
	const char *reason = NULL;
	int code = ws_text_check((const uint8_t *)s, n, &reason);
	if (code && !reason)
		return -1;
	return code;
}

#define TEXT(s) text(s, sizeof(s) - 1)

TEST(ws_text_frame)
{
	CHECK(TEXT("") == 0);
	CHECK(TEXT("{\"type\":\"ping\"}") == 0);
	CHECK(TEXT("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") == 0);
	CHECK(TEXT("a\0b") == 1007);
	CHECK(TEXT("\xc0\xaf") == 1007);         /* overlong */
	CHECK(TEXT("\xed\xa0\x80") == 1007);     /* a surrogate */
	CHECK(TEXT("\xf4\x90\x80\x80") == 1007); /* past U+10FFFF */
	CHECK(TEXT("\xe2\x82") == 1007);         /* cut short */
	CHECK(TEXT("\xff") == 1007);
}

static ws_msg_kind_t msg(const char *s, ws_client_msg_t *m)
{
	ws_msg_kind_t k = ws_msg_parse((const uint8_t *)s, strlen(s), m);
	return k;
}

TEST(ws_client_message)
{
	ws_client_msg_t m;
	CHECK(msg("{\"type\":\"ping\"}", &m) == WS_MSG_PING && m.kind == WS_MSG_PING);
	CHECK_STR(m.type, "ping");
	json_decref(m.json);

	CHECK(msg("{\"type\":\"typing_indicator\"}", &m) == WS_MSG_TYPING && m.is_typing);
	json_decref(m.json);
	CHECK(msg("{\"type\":\"typing_indicator\",\"data\":{\"is_typing\":false}}", &m) == WS_MSG_TYPING);
	CHECK(!m.is_typing);
	json_decref(m.json);
	CHECK(msg("{\"type\":\"typing_indicator\",\"data\":{\"is_typing\":true}}", &m) == WS_MSG_TYPING);
	CHECK(m.is_typing);
	json_decref(m.json);
	/* not a boolean: not typing; data not an object: as if missing */
	CHECK(msg("{\"type\":\"typing_indicator\",\"data\":{\"is_typing\":1}}", &m) == WS_MSG_TYPING);
	CHECK(!m.is_typing);
	json_decref(m.json);
	CHECK(msg("{\"type\":\"typing_indicator\",\"data\":[false]}", &m) == WS_MSG_TYPING);
	CHECK(m.is_typing);
	json_decref(m.json);

	CHECK(msg("{\"type\":\"post\",\"data\":{\"body\":\"hi\"}}", &m) == WS_MSG_OTHER);
	CHECK_STR(m.type, "post");
	CHECK(json_is_object(m.json));
	json_decref(m.json);

	static const char *const bad[] = {
		"", "nope", "[]", "\"ping\"", "{}", "{\"type\":1}", "{\"type\":null}",
		"{\"Type\":\"ping\"}", "{\"type\":\"ping\",\"type\":\"ping\"}", "{\"type\":\"ping\"", "{\"type\":\"ping\"} x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(msg(bad[i], &m) == WS_MSG_BAD);
		CHECK(m.type == NULL && !m.is_typing);
		json_decref(m.json);
	}
}
