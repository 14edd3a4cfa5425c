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

void events_publish(const char *channel, const char *type, json_t *data);

/* events_publish to "user:<user_id>". */
void events_publish_user(long long user_id, const char *type, json_t *data);

#endif
