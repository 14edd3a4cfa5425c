/*
 * events.h: real-time events for WebSocket subscribers (issue 12), on
 * this instance and, with REDIS_URL, on every other.
 *
 * Channels:
 *   "user:<id>"        that user's /ws/notifications (notifications, direct
 *                      messages, follows)
 *   "community:<id>"   /ws/community/<id> (posts, comments, reactions,
 *                      members, the hub chat)
 *   "support:<id>"     /ws/support/<ticket id> (messages, typing, status)
 *
 * A frame is {"type": type, "data": data}.  Publish after the transaction
 * that made the event has committed, never inside it: a rolled-back event
 * must not reach anyone.  Never blocks: the event is queued for the hub;
 * a full queue drops it (a client that reconnects fetches what it missed
 * through the API).  Takes ownership of data.  Thread safe.
 */
#ifndef HWC_EVENTS_H
#define HWC_EVENTS_H

#include <jansson.h>
#include <stdint.h>

void events_publish(const char *channel, const char *type, json_t *data);

/* events_publish to "user:<user_id>". */
void events_publish_user(long long user_id, const char *type, json_t *data);

/* events_publish, except to the socket skip of this instance (the hub's
 * id of a sender that should not hear its own typing indicator). */
void events_publish_skip(const char *channel, const char *type, json_t *data, uint64_t skip);

/* With REDIS_URL: starts the publisher and subscriber threads (every
 * event goes through Redis pub/sub, so that each instance's hub delivers
 * it; a subscriber that loses Redis reconnects with backoff, and an event
 * Redis refuses is delivered here at least).  Without: nothing to start,
 * events go straight to this instance's hub.  Call before serving;
 * events_stop after the hub has stopped. */
void events_start(void);
void events_stop(void);

#endif
