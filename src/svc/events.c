/*
 * events.c: events to WebSocket subscribers (events.h).
 *
 * An event becomes one text frame, {"type", "data"}, built once on the
 * publishing thread.  Without REDIS_URL it goes to this instance's hub
 * (ws/hub.h), which fans it out.  With REDIS_URL it is queued for the
 * publisher thread, which PUBLISHes it on one Redis channel; every
 * instance's subscriber thread (this one's included) hands what it
 * receives to its hub.  Neither thread ever runs on a request's thread:
 * publishing only appends to a bounded queue.
 *
 * The Redis message is "<instance> <skip> <channel>\n<frame>": instance is
 * this process's random id, so that skip (a socket id, meaningful only
 * here) is applied by this instance alone.
 */
#include <errno.h>
#include <hiredis.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include "events.h"
#include "redis_target.h"
#include "../core/config.h"
#include "../core/log.h"
#include "../core/util.h"
#include "../ws/hub.h"

#define PUB_QUEUE_MAX 65536
#define PUB_RETRY_MS 2000          /* after a failed PUBLISH, deliver locally this long */
#define SUB_BACKOFF_MIN_MS 100
#define SUB_BACKOFF_MAX_MS 2000

static char instance[17];
static redis_target_t redis;
static char bus_channel[64];

struct pub {
	struct pub *next;
	char *channel, *frame;
	size_t len;
	uint64_t skip;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queued = PTHREAD_COND_INITIALIZER;  /* the publisher's: an event queued, or stopping */
static pthread_cond_t stopped = PTHREAD_COND_INITIALIZER; /* the subscriber's naps: stopping */
static struct pub *pub_head, *pub_tail;
static size_t pub_len;
static bool stopping, started;
static pthread_t pub_thread, sub_thread;
static int sub_fd = -1; /* the subscriber's socket, shut down to stop it */

/* ---- publishing ---- */

static void pub_free(struct pub *p)
{
	free(p->channel);
	free(p->frame);
	free(p);
}

void events_publish_skip(const char *channel, const char *type, json_t *data, uint64_t skip)
{
	json_t *ev = json_pack("{s:s, s:o}", "type", type, "data", data ? data : json_object());
	if (!ev)
		return;
	char *frame = json_dumps(ev, JSON_COMPACT);
	json_decref(ev);
	if (!frame)
		return;
	size_t len = strlen(frame);
	pthread_mutex_lock(&lock);
	bool via_redis = started && !stopping;
	if (via_redis && pub_len < PUB_QUEUE_MAX) {
		struct pub *p = xcalloc(1, sizeof(*p));
		p->channel = xstrdup(channel);
		p->frame = frame;
		p->len = len;
		p->skip = skip;
		if (pub_tail)
			pub_tail->next = p;
		else
			pub_head = p;
		pub_tail = p;
		pub_len++;
		pthread_cond_signal(&queued);
		pthread_mutex_unlock(&lock);
		return;
	}
	pthread_mutex_unlock(&lock);
	if (via_redis)
		log_warn("events: the Redis queue is full; an event for %s was dropped", channel);
	else
		hub_deliver(channel, frame, len, skip);
	free(frame);
}

void events_publish(const char *channel, const char *type, json_t *data)
{
	events_publish_skip(channel, type, data, 0);
}

void events_publish_user(long long user_id, const char *type, json_t *data)
{
	char channel[32];
	snprintf(channel, sizeof(channel), "user:%lld", user_id);
	events_publish(channel, type, data);
}

/* ---- Redis ---- */

static redisContext *connect_redis(void)
{
	return redis_target_connect(&redis, (struct timeval){ 0, 500000 });
}

/* Sleeps ms unless stopping; false when stopping. */
static bool nap(int64_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&lock);
	if (!stopping)
		pthread_cond_timedwait(&stopped, &lock, &ts);
	bool go_on = !stopping;
	pthread_mutex_unlock(&lock);
	return go_on;
}

static void *publisher_main(void *arg)
{
	UNUSED(arg);
	redisContext *c = NULL;
	int64_t local_until = 0;
	bool down_logged = false;
	pthread_mutex_lock(&lock);
	for (;;) {
		while (!pub_head && !stopping)
			pthread_cond_wait(&queued, &lock);
		if (!pub_head && stopping)
			break;
		struct pub *p = pub_head;
		pub_head = p->next;
		if (!pub_head)
			pub_tail = NULL;
		pub_len--;
		pthread_mutex_unlock(&lock);

		bool sent = false;
		if (mono_us() / 1000 >= local_until) {
			if (!c) {
				c = connect_redis();
				if (c) {
					struct timeval tv = { 0, 500000 };
					redisSetTimeout(c, tv);
				}
			}
			if (c) {
				char head[128];
				int hn = snprintf(head, sizeof(head), "%s %llu ", instance, (unsigned long long)p->skip);
				size_t cl = strlen(p->channel);
				size_t n = (size_t)hn + cl + 1 + p->len;
				char *msg = xmalloc(n);
				memcpy(msg, head, (size_t)hn);
				memcpy(msg + hn, p->channel, cl);
				msg[hn + cl] = '\n';
				memcpy(msg + hn + cl + 1, p->frame, p->len);
				redisReply *r = redisCommand(c, "PUBLISH %s %b", bus_channel, msg, n);
				free(msg);
				sent = r && r->type == REDIS_REPLY_INTEGER;
				if (r)
					freeReplyObject(r);
				if (!sent) {
					redisFree(c);
					c = NULL;
				}
			}
			if (!sent)
				local_until = mono_us() / 1000 + PUB_RETRY_MS;
		}
		if (sent && down_logged) {
			log_info("events: Redis is back; events go through it again");
			down_logged = false;
		} else if (!sent && !down_logged) {
			log_warn("events: Redis unavailable; events reach this instance's subscribers only");
			down_logged = true;
		}
		if (!sent) /* this instance's subscribers get it at least */
			hub_deliver(p->channel, p->frame, p->len, p->skip);
		pub_free(p);
		pthread_mutex_lock(&lock);
	}
	pthread_mutex_unlock(&lock);
	if (c)
		redisFree(c);
	return NULL;
}

static void on_bus_message(const char *msg, size_t n)
{
	const char *nl = memchr(msg, '\n', n);
	if (!nl || n < 19 || msg[16] != ' ')
		return;
	char head[320];
	size_t hl = (size_t)(nl - msg);
	if (hl >= sizeof(head))
		return;
	memcpy(head, msg, hl);
	head[hl] = '\0';
	char *sp = strchr(head + 17, ' ');
	if (!sp)
		return;
	*sp = '\0';
	uint64_t skip = strtoull(head + 17, NULL, 10);
	if (memcmp(head, instance, 16))
		skip = 0; /* another instance's socket id */
	hub_deliver(sp + 1, nl + 1, n - hl - 1, skip);
}

static void *subscriber_main(void *arg)
{
	UNUSED(arg);
	int64_t backoff = SUB_BACKOFF_MIN_MS;
	bool logged = false;
	for (;;) {
		pthread_mutex_lock(&lock);
		bool stop = stopping;
		pthread_mutex_unlock(&lock);
		if (stop)
			break;
		redisContext *c = connect_redis();
		redisReply *r = NULL;
		if (c) {
			r = redisCommand(c, "SUBSCRIBE %s", bus_channel);
			if (!r || r->type == REDIS_REPLY_ERROR) {
				if (r)
					freeReplyObject(r);
				r = NULL;
			}
		}
		if (!r) {
			if (c)
				redisFree(c);
			if (!logged)
				log_warn("events: cannot subscribe to Redis; retrying");
			logged = true;
			if (!nap(backoff))
				break;
			backoff = MIN(backoff * 2, SUB_BACKOFF_MAX_MS);
			continue;
		}
		freeReplyObject(r);
		pthread_mutex_lock(&lock);
		sub_fd = c->fd;
		stop = stopping;
		pthread_mutex_unlock(&lock);
		if (logged)
			log_info("events: subscribed to Redis again");
		logged = false;
		backoff = SUB_BACKOFF_MIN_MS;
		while (!stop) {
			void *rep = NULL;
			if (redisGetReply(c, &rep) != REDIS_OK)
				break;
			r = rep;
			if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 && r->element[2]->type == REDIS_REPLY_STRING &&
			    !strcmp(r->element[0]->str, "message"))
				on_bus_message(r->element[2]->str, r->element[2]->len);
			freeReplyObject(r);
			pthread_mutex_lock(&lock);
			stop = stopping;
			pthread_mutex_unlock(&lock);
		}
		pthread_mutex_lock(&lock);
		sub_fd = -1;
		stop = stopping;
		pthread_mutex_unlock(&lock);
		redisFree(c);
		if (!stop) {
			log_warn("events: lost the Redis subscription; reconnecting");
			logged = true;
		}
	}
	return NULL;
}

void events_start(void)
{
	if (!cfg.redis_url || started)
		return;
	if (!redis_target_parse(cfg.redis_url, &redis)) {
		log_warn("events: REDIS_URL cannot be parsed; events stay on this instance");
		return;
	}
	random_hex(instance, (sizeof(instance) - 1) / 2);
	snprintf(bus_channel, sizeof(bus_channel), "hwc3d:events:%d", redis.db);
	stopping = false;
	if (pthread_create(&pub_thread, NULL, publisher_main, NULL) != 0) {
		log_warn("events: cannot start the Redis publisher; events stay on this instance");
		return;
	}
	if (pthread_create(&sub_thread, NULL, subscriber_main, NULL) != 0) {
		pthread_mutex_lock(&lock);
		stopping = true;
		pthread_cond_broadcast(&queued);
		pthread_cond_broadcast(&stopped);
		pthread_mutex_unlock(&lock);
		pthread_join(pub_thread, NULL);
		log_warn("events: cannot start the Redis subscriber; events stay on this instance");
		return;
	}
	pthread_mutex_lock(&lock);
	started = true;
	pthread_mutex_unlock(&lock);
	log_info("events: WebSocket events go through Redis pub/sub (%s)", bus_channel);
}

void events_stop(void)
{
	pthread_mutex_lock(&lock);
	if (!started) {
		pthread_mutex_unlock(&lock);
		return;
	}
	stopping = true;
	if (sub_fd >= 0)
		shutdown(sub_fd, SHUT_RDWR);
	pthread_cond_broadcast(&queued);
	pthread_cond_broadcast(&stopped);
	pthread_mutex_unlock(&lock);
	pthread_join(pub_thread, NULL);
	pthread_join(sub_thread, NULL);
	pthread_mutex_lock(&lock);
	started = false;
	while (pub_head) {
		struct pub *p = pub_head;
		pub_head = p->next;
		pub_free(p);
	}
	pub_tail = NULL;
	pub_len = 0;
	pthread_mutex_unlock(&lock);
}
