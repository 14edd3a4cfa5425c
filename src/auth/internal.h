/*
 * internal.h: who may read the operator endpoints (/metrics).
 *
 * The decision takes the socket peer and the resolved client address (the
 * X-Forwarded-For walk of server.c, which believes the header only from
 * TRUSTED_PROXIES).  Both must be loopback or a trusted proxy: the peer
 * alone is not enough, since behind a reverse proxy every request arrives
 * from the proxy; the forwarded address alone is not enough either, since
 * it is only as good as the hop that wrote it.  So a forwarded address can
 * refuse but never grant.  A bearer METRICS_TOKEN grants from anywhere.
 * Pure functions of their arguments and cfg; thread safe.
 */
#ifndef HWC_INTERNAL_H
#define HWC_INTERNAL_H

#include <stdbool.h>

/* 127.0.0.0/8, ::1, and IPv4-mapped loopback. */
bool addr_is_loopback(const char *ip);
/* May this caller read /metrics?  authorization is the raw header or NULL. */
bool internal_access_allowed(const char *peer, const char *client, const char *authorization);

#endif
