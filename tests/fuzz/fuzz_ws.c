/*
 * fuzz_ws: the WebSocket hub's parsers of untrusted input (ws/parse.c):
 * the path, the Connection/Upgrade token check, Sec-WebSocket-Key and the
 * accept value, Origin, the ?ticket= / ?token= choice, and a client's text
 * frame (the UTF-8 check, then its JSON "type").
 *
 * Input: six lines split at '\n', then the rest:
 *   1. the request target, "path?query" as sent: the path is
 *      percent-decoded as the server does, the query split as
 *      libmicrohttpd does (fz_parse_query), and ticket/token looked up
 *      without regard to case, the first one winning;
 *   2. the Upgrade header;
 *   3. the Connection header;
 *   4. the Sec-WebSocket-Key header;
 *   5. the Origin header;
 *   6. the server's PUBLIC_URL (missing: http://localhost:8000);
 *   7. the rest of the input (every byte, '\n' and NUL too): a client's
 *      text frame.
 * A missing line is an absent header (NULL); each line is a C string, so
 * it ends at its first NUL, as a header value does.  Every string is in a
 * buffer of its exact size, so that ASan sees a read past its end.
 *
 * Checked, besides ASan and UBSan on every read:
 *  - every parser is deterministic (a second call gives the same answer);
 *  - the path: an accepted one is "/ws/notifications" with id 0, or
 *    "/ws/support/<id>" with 1 <= id, or "/ws/community/<id>" with
 *    0 <= id, and printing kind and id back gives the path itself (no
 *    leading zero, sign or other spelling); a path is accepted exactly
 *    when a reference reading (below) accepts it; every prefix of the path
 *    is parsed too (no read past a short path's end);
 *  - the header check agrees with a reference that splits a copy at ','
 *    and trims spaces and tabs, for "websocket", "upgrade" and a token
 *    made from the Origin line; "x, " + a header holding the token, and
 *    that header + ", x", hold it too;
 *  - the key: accepted exactly when it is 24 characters of base64 whose
 *    decoding is 16 bytes with no stray bits (reference below), and then
 *    it is the canonical encoding of its bytes; base64 of the first n
 *    bytes of the input (n from 0 to 32) is accepted only for n == 16; a
 *    valid key with one character changed to one outside the alphabet is
 *    refused;
 *  - the accept value: computed exactly when the key is accepted, 28
 *    base64 characters ending in one '=' that decode to 20 bytes; left
 *    untouched when the key is refused;
 *  - Origin: agrees with a reference; no Origin, or one CORS allowed, is
 *    always fine; PUBLIC_URL without its trailing slashes is;
 *  - the credential: a non-empty ticket wins, under WS_TICKET_MAX bytes
 *    it is looked up, longer not; else a non-empty token; else none;
 *  - the frame: refused (1007, with a reason) exactly when it holds a NUL
 *    or is not UTF-8 by an independent validator (RFC 3629: no overlong
 *    forms, no surrogates, nothing past U+10FFFF);
 *  - the message: BAD exactly when it is no JSON object with a string
 *    "type"; then PING for "ping", TYPING for "typing_indicator" (with
 *    is_typing true when data.is_typing is true or missing), OTHER else;
 *    type points into the JSON; dumping the JSON and parsing it again
 *    gives the same answer.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "fuzz.h"
#include "core/arena.h"
#include "core/util.h"
#include "ws/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c) do { if (!(c)) { fprintf(stderr, "fuzz_ws: %s\n", #c); abort(); } } while (0)

#define N_LINES 6
#define DEFAULT_PUBLIC_URL "http://localhost:8000"

/* A malloc'd copy of n bytes with a NUL, in a buffer of that size. */
static char *copy(const void *p, size_t n)
{
	char *s = malloc(n + 1);
	ASSERT(s);
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/* ---------------------------------------------------------- references */

static bool ref_digits_id(const char *s, bool zero_ok, int64_t *id)
{
	size_t n = strlen(s);
	if (!n || n > 19)
		return false;
	if (s[0] == '0')
		return zero_ok && n == 1 && (*id = 0, true);
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0'); /* 19 digits cannot overflow 64 bits */
	}
	if (v > (uint64_t)INT64_MAX)
		return false;
	*id = (int64_t)v;
	return true;
}

static bool ref_path(const char *path, const char **kind, int64_t *id)
{
	if (!strcmp(path, "/ws/notifications")) {
		*kind = "notifications";
		*id = 0;
		return true;
	}
	if (!strncmp(path, "/ws/support/", 12)) {
		*kind = "support";
		return ref_digits_id(path + 12, false, id);
	}
	if (!strncmp(path, "/ws/community/", 14)) {
		*kind = "community";
		return ref_digits_id(path + 14, true, id);
	}
	return false;
}

static bool ref_has_token(const char *v, const char *token)
{
	if (!v)
		return false;
	char *dup = strdup(v), *rest = dup, *part;
	ASSERT(dup);
	bool found = false;
	while ((part = strsep(&rest, ",")) != NULL) {
		while (*part == ' ' || *part == '\t')
			part++;
		size_t n = strlen(part);
		while (n && (part[n - 1] == ' ' || part[n - 1] == '\t'))
			n--;
		part[n] = '\0';
		if (n && !strcasecmp(part, token))
			found = true;
	}
	free(dup);
	return found;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* 16 bytes of base64: 22 characters, the last with its low 4 bits zero
 * (they hold no data), then "==". */
static bool ref_key(const char *k)
{
	if (!k || strlen(k) != 24 || k[22] != '=' || k[23] != '=')
		return false;
	for (int i = 0; i < 22; i++)
		if (b64_value(k[i]) < 0)
			return false;
	return (b64_value(k[21]) & 0xf) == 0;
}

static bool ref_origin(const char *origin, bool cors, const char *url)
{
	if (!origin || cors)
		return true;
	size_t n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	return strlen(origin) == n && memcmp(origin, url, n) == 0;
}

/* RFC 3629, section 4, byte by byte. */
static bool ref_utf8(const uint8_t *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = s[i];
		size_t more;
		uint8_t lo = 0x80, hi = 0xbf;
		if (c <= 0x7f) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			more = 1;
		} else if (c == 0xe0) {
			more = 2;
			lo = 0xa0;
		} else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef) {
			more = 2;
		} else if (c == 0xed) {
			more = 2;
			hi = 0x9f;
		} else if (c == 0xf0) {
			more = 3;
			lo = 0x90;
		} else if (c >= 0xf1 && c <= 0xf3) {
			more = 3;
		} else if (c == 0xf4) {
			more = 3;
			hi = 0x8f;
		} else {
			return false;
		}
		if (n - i - 1 < more)
			return false;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t k = 2; k <= more; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return false;
		i += more + 1;
	}
	return true;
}

/* The first value of name in a libmicrohttpd-style query list. */
static const char *query_get(const char **kv, const char *name)
{
	for (; kv && kv[0]; kv += 2)
		if (!strcasecmp(kv[0], name))
			return kv[1];
	return NULL;
}

/* ---------------------------------------------------------- the checks */

static void check_path_one(const char *path)
{
	char kind[WS_KIND_SIZE], kind2[WS_KIND_SIZE];
	int64_t id = -7, id2 = -7;
	bool ok = ws_parse_path(path, kind, &id);
	ASSERT(ws_parse_path(path, kind2, &id2) == ok);
	const char *rkind = NULL;
	int64_t rid = -7;
	bool rok = ref_path(path, &rkind, &rid);
	if (rok != ok) {
		fprintf(stderr, "fuzz_ws: path \"%s\": parser %d, reference %d\n", path, ok, rok);
		abort();
	}
	if (!ok)
		return;
	ASSERT(!strcmp(kind, kind2) && id == id2);
	ASSERT(!strcmp(kind, rkind) && id == rid);
	char back[64];
	if (!strcmp(kind, "notifications")) {
		ASSERT(id == 0);
		snprintf(back, sizeof(back), "/ws/notifications");
	} else {
		ASSERT(!strcmp(kind, "support") || !strcmp(kind, "community"));
		ASSERT(id >= (strcmp(kind, "support") ? 0 : 1));
		snprintf(back, sizeof(back), "/ws/%s/%lld", kind, (long long)id);
	}
	ASSERT(!strcmp(back, path));
}

static void check_path(const char *path)
{
	check_path_one(path);
	/* every prefix, each in a buffer of its size ("/ws" among them) */
	size_t n = strlen(path);
	for (size_t i = 0; i < n && i < 40; i++) {
		char *p = copy(path, i);
		check_path_one(p);
		free(p);
	}
}

static void check_token(const char *h, const char *token)
{
	bool has = ws_header_has_token(h, token);
	ASSERT(ws_header_has_token(h, token) == has);
	if (has != ref_has_token(h, token)) {
		fprintf(stderr, "fuzz_ws: header \"%s\", token \"%s\": parser %d\n", h ? h : "(null)", token, has);
		abort();
	}
	if (!has || !h)
		return;
	size_t n = strlen(h);
	char *s = malloc(n + 4);
	ASSERT(s);
	memcpy(s, "x, ", 3);
	memcpy(s + 3, h, n + 1);
	ASSERT(ws_header_has_token(s, token));
	memcpy(s, h, n);
	memcpy(s + n, ",x", 3);
	ASSERT(ws_header_has_token(s, token));
	free(s);
}

static void check_accept(const char *key)
{
	char out[WS_ACCEPT_SIZE + 8], out2[WS_ACCEPT_SIZE + 8];
	memset(out, '#', sizeof(out));
	memset(out2, '#', sizeof(out2));
	bool ok = ws_accept(key, out);
	ASSERT(ok == ws_key_ok(key));
	ASSERT(ws_accept(key, out2) == ok);
	if (!ok) {
		for (size_t i = 0; i < sizeof(out); i++)
			ASSERT(out[i] == '#');
		return;
	}
	ASSERT(!memcmp(out, out2, WS_ACCEPT_SIZE));
	ASSERT(out[WS_ACCEPT_LEN] == '\0' && strlen(out) == WS_ACCEPT_LEN);
	for (size_t i = WS_ACCEPT_SIZE; i < sizeof(out); i++)
		ASSERT(out[i] == '#');
	for (int i = 0; i < WS_ACCEPT_LEN - 1; i++)
		ASSERT(b64_value(out[i]) >= 0);
	ASSERT(out[WS_ACCEPT_LEN - 1] == '=');
	unsigned char raw[24];
	size_t n = 0;
	ASSERT(sodium_base642bin(raw, sizeof(raw), out, WS_ACCEPT_LEN, NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL) == 0);
	ASSERT(n == 20);
}

static void check_key(const char *key, const uint8_t *bytes, size_t nbytes)
{
	bool ok = ws_key_ok(key);
	ASSERT(ws_key_ok(key) == ok);
	if (ok != ref_key(key)) {
		fprintf(stderr, "fuzz_ws: key \"%s\": parser %d\n", key ? key : "(null)", ok);
		abort();
	}
	check_accept(key);
	if (ok) {
		/* canonical: decoding and encoding again gives the key back */
		unsigned char raw[18];
		size_t n = 0;
		char back[32];
		ASSERT(sodium_base642bin(raw, sizeof(raw), key, 24, NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL) == 0);
		ASSERT(n == 16);
		sodium_bin2base64(back, sizeof(back), raw, n, sodium_base64_VARIANT_ORIGINAL);
		ASSERT(!strcmp(back, key));
		/* one character outside the alphabet spoils it, wherever it is */
		char *bad = copy(key, 24);
		static const char outside[] = { '-', '_', ' ', '.', '\t', '\x80' };
		for (size_t i = 0; i < 24; i++) {
			char was = bad[i];
			bad[i] = outside[(i + (size_t)(unsigned char)key[i]) % sizeof(outside)];
			ASSERT(!ws_key_ok(bad));
			ASSERT(!ws_accept(bad, back));
			bad[i] = was;
		}
		free(bad);
	}
	/* base64 of n bytes (any bytes) is a key only when n is 16 */
	size_t want = bytes ? nbytes % 33 : 16;
	uint8_t src[32] = { 0 };
	if (bytes)
		memcpy(src, bytes, MIN(nbytes, want));
	char enc[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
	sodium_bin2base64(enc, sizeof(enc), src, want, sodium_base64_VARIANT_ORIGINAL);
	char *e = copy(enc, strlen(enc));
	ASSERT(ws_key_ok(e) == (want == 16));
	check_accept(e);
	free(e);
}

static void check_origin(const char *origin, const char *url)
{
	for (int cors = 0; cors < 2; cors++) {
		bool ok = ws_origin_ok(origin, cors, url);
		ASSERT(ws_origin_ok(origin, cors, url) == ok);
		ASSERT(ok == ref_origin(origin, cors, url));
	}
	ASSERT(ws_origin_ok(NULL, false, url));
	size_t n = strlen(url);
	while (n && url[n - 1] == '/')
		n--;
	char *bare = copy(url, n);
	ASSERT(ws_origin_ok(bare, false, url));
	free(bare);
}

static void check_credential(const char *target)
{
	const char *q = strchr(target, '?');
	if (!q)
		return;
	arena_t *a = arena_new();
	char *query = arena_strdup(a, q + 1);
	const char **kv = fz_parse_query(a, query);
	const char *ticket = query_get(kv, "ticket"), *token = query_get(kv, "token");
	ws_cred_t c = ws_credential(ticket, token);
	ASSERT(ws_credential(ticket, token) == c);
	ws_cred_t want = WS_CRED_NONE;
	if (ticket && *ticket)
		want = strlen(ticket) < WS_TICKET_MAX ? WS_CRED_TICKET : WS_CRED_TICKET_TOO_LONG;
	else if (token && *token)
		want = WS_CRED_TOKEN;
	ASSERT(c == want);
	arena_free(a);
}

static void check_msg_parsed(const ws_client_msg_t *m, ws_msg_kind_t k)
{
	ASSERT(m->kind == k);
	json_t *j = m->json;
	const char *type = j && json_is_object(j) ? json_string_value(json_object_get(j, "type")) : NULL;
	if (!type) {
		ASSERT(k == WS_MSG_BAD && m->type == NULL);
		return;
	}
	ASSERT(m->type == type); /* points into the JSON */
	if (!strcmp(type, "ping")) {
		ASSERT(k == WS_MSG_PING);
	} else if (!strcmp(type, "typing_indicator")) {
		ASSERT(k == WS_MSG_TYPING);
		json_t *d = json_object_get(j, "data");
		json_t *f = json_is_object(d) ? json_object_get(d, "is_typing") : NULL;
		ASSERT(m->is_typing == (!f || json_is_true(f)));
	} else {
		ASSERT(k == WS_MSG_OTHER);
	}
}

static void check_frame(const uint8_t *msg, size_t len)
{
	uint8_t *buf = (uint8_t *)copy(msg, len); /* exact size, no NUL read */
	const char *reason = NULL, *reason2 = NULL;
	int code = ws_text_check(buf, len, &reason);
	ASSERT(ws_text_check(buf, len, &reason2) == code);
	bool want_ok = !memchr(buf, 0, len) && ref_utf8(buf, len);
	if (want_ok != (code == 0)) {
		fprintf(stderr, "fuzz_ws: frame of %zu bytes: code %d, reference %s\n", len, code, want_ok ? "ok" : "bad");
		abort();
	}
	if (code) {
		ASSERT(code == 1007 && reason && *reason && reason2 && !strcmp(reason, reason2));
	}

	ws_client_msg_t m, m2;
	ws_msg_kind_t k = ws_msg_parse(buf, len, &m);
	check_msg_parsed(&m, k);
	ws_msg_kind_t k2 = ws_msg_parse(buf, len, &m2);
	ASSERT(k2 == k && m2.is_typing == m.is_typing);
	ASSERT((m.type == NULL) == (m2.type == NULL) && (!m.type || !strcmp(m.type, m2.type)));
	ASSERT((m.json == NULL) == (m2.json == NULL));
	if (m.json) {
		ASSERT(m.json->refcount == 1);
		ASSERT(json_equal(m.json, m2.json));
		char *dump = json_dumps(m.json, JSON_ENCODE_ANY | JSON_COMPACT);
		if (dump) {
			ws_client_msg_t m3;
			ws_msg_kind_t k3 = ws_msg_parse((const uint8_t *)dump, strlen(dump), &m3);
			ASSERT(k3 == k && m3.is_typing == m.is_typing);
			ASSERT((m3.type == NULL) == (m.type == NULL) && (!m.type || !strcmp(m.type, m3.type)));
			json_decref(m3.json);
			free(dump);
		}
	}
	json_decref(m.json);
	json_decref(m2.json);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line[N_LINES] = { NULL };
	size_t off = 0;
	for (int i = 0; i < N_LINES && off < size; i++) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t end = nl ? (size_t)(nl - data) : size;
		/* a C string: it ends at its first NUL, in a buffer of its size */
		line[i] = copy(data + off, strnlen((const char *)data + off, end - off));
		off = nl ? end + 1 : size;
	}
	const char *target = line[0], *upgrade = line[1], *connection = line[2], *key = line[3], *origin = line[4];
	const char *url = line[5] ? line[5] : DEFAULT_PUBLIC_URL;

	if (target) {
		const char *q = strchr(target, '?');
		char *path = copy(target, q ? (size_t)(q - target) : strlen(target));
		fz_unescape(path);
		char *exact = copy(path, strlen(path));
		check_path(exact);
		free(exact);
		free(path);
		check_credential(target);
	}

	static const char *const tokens[] = { "websocket", "upgrade" };
	for (size_t i = 0; i < ARRAY_LEN(tokens); i++) {
		check_token(upgrade, tokens[i]);
		check_token(connection, tokens[i]);
	}
	if (origin) {
		check_token(upgrade, origin);
		check_token(connection, origin);
	}

	check_key(key, off < size ? data + off : NULL, size - off);
	check_origin(origin, url);
	if (off <= size)
		check_frame(data + off, size - off);

	for (int i = 0; i < N_LINES; i++)
		free(line[i]);
	return 0;
}
