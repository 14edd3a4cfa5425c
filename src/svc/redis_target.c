/* redis_target.c: REDIS_URL, read once, and connections to it. */
#include <stdlib.h>
#include <string.h>
#include "redis_target.h"
#include "../core/util.h"

bool redis_target_parse(const char *url, redis_target_t *t)
{
	memset(t, 0, sizeof(*t));
	t->port = 6379;
	if (str_has_prefix(url, "unix://")) {
		snprintf(t->socket, sizeof(t->socket), "%s", url + 7);
		return t->socket[0] != '\0';
	}
	const char *p = url + 8; /* "redis://": config.c checked the scheme */
	const char *at = strchr(p, '@');
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		const char *pw = colon ? colon + 1 : p;
		size_t n = (size_t)(at - pw);
		if (n >= sizeof(t->password))
			return false;
		memcpy(t->password, pw, n);
		t->password[n] = '\0';
		p = at + 1;
	}
	const char *colon = strchr(p, ':'), *slash = strchr(p, '/');
	size_t hl = colon ? (size_t)(colon - p) : slash ? (size_t)(slash - p) : strlen(p);
	if (hl == 0 || hl >= sizeof(t->host))
		return false;
	memcpy(t->host, p, hl);
	t->host[hl] = '\0';
	if (colon)
		t->port = (int)strtol(colon + 1, NULL, 10);
	if (slash)
		t->db = (int)strtol(slash + 1, NULL, 10);
	return t->port > 0 && t->port < 65536;
}

/* A command whose answer must not be an error. */
static bool command_ok(redisContext *c, redisReply *r)
{
	bool ok = r && r->type != REDIS_REPLY_ERROR && !c->err;
	if (r)
		freeReplyObject(r);
	return ok;
}

redisContext *redis_target_connect(const redis_target_t *t, struct timeval tv)
{
	redisContext *c = t->socket[0] ? redisConnectUnixWithTimeout(t->socket, tv)
				       : redisConnectWithTimeout(t->host, t->port, tv);
	if (!c || c->err)
		goto fail;
	redisSetTimeout(c, tv);
	if (t->password[0] && !command_ok(c, redisCommand(c, "AUTH %s", t->password)))
		goto fail;
	if (t->db && !command_ok(c, redisCommand(c, "SELECT %d", t->db)))
		goto fail;
	return c;
fail:
	if (c)
		redisFree(c);
	return NULL;
}
