/*
 * parse.c: the WebSocket hub's parsers of untrusted input (parse.h): the
 * path, the handshake's headers, the credential in the query, and a
 * client's text frame.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "parse.h"
#include "sha1.h"
#include "../core/num.h"
#include "../core/util.h"
#include "../http/validate.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_KEY_LEN 24

bool ws_parse_path(const char *path, char kind[WS_KIND_SIZE], int64_t *id)
{
	if (!strcmp(path, "/ws/notifications")) {
		snprintf(kind, WS_KIND_SIZE, "notifications");
		*id = 0;
		return true;
	}
	/* The prefix first: "/ws" alone (ws_path lets it through) has no
	 * byte at path + 4 to compare. */
	if (!str_has_prefix(path, "/ws/"))
		return false;
	static const char *const kinds_with_id[] = { "support", "community" };
	for (size_t i = 0; i < ARRAY_LEN(kinds_with_id); i++) {
		size_t n = strlen(kinds_with_id[i]);
		if (strncmp(path + 4, kinds_with_id[i], n) || path[4 + n] != '/')
			continue;
		const char *digits = path + 4 + n + 1;
		bool hub = !strcmp(kinds_with_id[i], "community") && !strcmp(digits, "0");
		if (!*digits || strlen(digits) > WS_MAX_ID_LEN || (*digits == '0' && !hub))
			return false;
		for (const char *p = digits; *p; p++)
			if (*p < '0' || *p > '9')
				return false;
		if (!parse_i64(digits, id) || (*id <= 0 && !hub))
			return false;
		snprintf(kind, WS_KIND_SIZE, "%s", kinds_with_id[i]);
		return true;
	}
	return false;
}

bool ws_header_has_token(const char *v, const char *token)
{
	size_t n = strlen(token);
	while (v && *v) {
		while (*v == ' ' || *v == '\t' || *v == ',')
			v++;
		const char *end = v;
		while (*end && *end != ',')
			end++;
		const char *e = end;
		while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e > v && (size_t)(e - v) == n && !strncasecmp(v, token, n))
			return true;
		v = end;
	}
	return false;
}

/* libsodium 1.0.18's decoder takes any byte from 0x80 up for a base64
 * digit (fuzz_ws found it), so the alphabet is checked here first: 22
 * digits and "==" are 16 bytes; sodium then refuses stray low bits. */
bool ws_key_ok(const char *key)
{
	static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char raw[18];
	size_t n = 0;
	return key && strlen(key) == WS_KEY_LEN && strspn(key, digits) == WS_KEY_LEN - 2 &&
	       !strcmp(key + WS_KEY_LEN - 2, "==") &&
	       sodium_base642bin(raw, sizeof(raw), key, WS_KEY_LEN, NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL) == 0 &&
	       n == 16;
}

bool ws_accept(const char *key, char out[WS_ACCEPT_SIZE])
{
	if (!ws_key_ok(key))
		return false;
	char concat[WS_KEY_LEN + sizeof(WS_GUID)];
	snprintf(concat, sizeof(concat), "%s" WS_GUID, key);
	unsigned char digest[20];
	sha1(concat, strlen(concat), digest);
	sodium_bin2base64(out, WS_ACCEPT_SIZE, digest, sizeof(digest), sodium_base64_VARIANT_ORIGINAL);
	return true;
}

bool ws_origin_ok(const char *origin, bool cors_allowed, const char *public_url)
{
	if (!origin || cors_allowed) /* no Origin: not a browser; else CORS_ORIGINS allowed it */
		return true;
	size_t n = strlen(public_url);
	while (n && public_url[n - 1] == '/')
		n--;
	return strlen(origin) == n && !strncmp(origin, public_url, n);
}

ws_cred_t ws_credential(const char *ticket, const char *token)
{
	if (ticket && *ticket)
		return strlen(ticket) < WS_TICKET_MAX ? WS_CRED_TICKET : WS_CRED_TICKET_TOO_LONG;
	if (token && *token)
		return WS_CRED_TOKEN;
	return WS_CRED_NONE;
}

int ws_text_check(const uint8_t *msg, size_t len, const char **reason)
{
	/* A NUL inside is valid UTF-8 but no JSON: refused as well. */
	if (memchr(msg, 0, len)) {
		*reason = "Invalid text";
		return 1007;
	}
	char *s = xstrndup((const char *)msg, len);
	bool ok = utf8_valid(s);
	free(s);
	if (!ok) {
		*reason = "Invalid UTF-8";
		return 1007;
	}
	return 0;
}

ws_msg_kind_t ws_msg_parse(const uint8_t *msg, size_t len, ws_client_msg_t *out)
{
	json_error_t jerr;
	json_t *j = json_loadb((const char *)msg, len, JSON_REJECT_DUPLICATES, &jerr);
	const char *type = j && json_is_object(j) ? json_string_value(json_object_get(j, "type")) : NULL;
	*out = (ws_client_msg_t){ .kind = WS_MSG_BAD, .json = j };
	if (!type)
		return out->kind;
	out->type = type;
	if (!strcmp(type, "ping")) {
		out->kind = WS_MSG_PING;
	} else if (!strcmp(type, "typing_indicator")) {
		json_t *d = json_object_get(j, "data");
		json_t *flag = json_is_object(d) ? json_object_get(d, "is_typing") : NULL;
		out->kind = WS_MSG_TYPING;
		out->is_typing = flag ? json_is_true(flag) : true;
	} else {
		out->kind = WS_MSG_OTHER;
	}
	return out->kind;
}
