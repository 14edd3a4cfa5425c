/*
 * redis_target.h: where REDIS_URL points, and a connection there, shared
 * by the rate limiter (ratelimit.c) and the WebSocket event bus (events.c).
 */
#ifndef HWC_REDIS_TARGET_H
#define HWC_REDIS_TARGET_H

#include <stdbool.h>
#include <sys/time.h>
#include <hiredis.h>

typedef struct redis_target {
	char host[256], socket[256], password[256];
	int port, db;
} redis_target_t;

/* redis://[[user]:password@]host[:port][/db] or unix:///path; false when
 * it cannot be read (t is then unusable). */
bool redis_target_parse(const char *url, redis_target_t *t);

/* A connection with timeout tv for connecting and for commands, after
 * AUTH (when a password is given) and SELECT (a database other than 0);
 * NULL when any of it fails. */
redisContext *redis_target_connect(const redis_target_t *t, struct timeval tv);

#endif
