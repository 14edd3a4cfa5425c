#include <pthread.h>
#include <time.h>
#include "cache.h"
#include "../core/config.h"
#include "../core/util.h"

#define SHARDS 16
#define BUCKETS 1024

/*
 * Two stores, each with its own bound: the responses (RESPONSE_CACHE_MB)
 * and the model lists' id windows (LIST_WINDOW_CACHE_MB).  In one shared
 * bound, a run of random model pages (50,000 documents of ~1 KB) evicted
 * the search windows (up to 40 KB each, 15-20 ms of PostgreSQL to
 * recompute): random search after random model pages measured p99 250-294
 * ms against 66 ms when it ran first (make bench, PostgreSQL).
 */
enum store { STORE_RESPONSES, STORE_IDS, STORES };

/*
 * Eviction is second-chance FIFO (CLOCK): a full shard drops its oldest
 * entries, except those read since they were last looked at, which go
 * round once more.  So a burst of one-off keys (random model ids) passes
 * through without flushing the hot pages and id windows.
 */
struct centry {
	struct centry *next;          /* bucket chain */
	struct centry *older, *newer; /* the shard's FIFO */
	bool referenced;
	uint64_t hash;
	enum cache_area area;
	uint64_t gen;
	int64_t expires;
	size_t len;
	char *key;
	char *body;
};

struct cshard {
	pthread_mutex_t lock;
	struct centry *buckets[BUCKETS];
	struct centry *oldest, *newest;
	size_t bytes;
};

static struct cshard shards[STORES][SHARDS] = {
	[0 ... STORES - 1] = { [0 ... SHARDS - 1] = { .lock = PTHREAD_MUTEX_INITIALIZER } },
};
static uint64_t generation[CACHE_AREAS];

/* The area whose generation an area's entries follow. */
static enum cache_area gen_area(enum cache_area area)
{
	return area == CACHE_MODEL_IDS ? CACHE_MODELS : area;
}

static enum store store_of(enum cache_area area)
{
	return area == CACHE_MODEL_IDS ? STORE_IDS : STORE_RESPONSES;
}

static size_t shard_bytes(enum store store)
{
	int64_t mb = store == STORE_IDS ? cfg.list_window_cache_mb : cfg.response_cache_mb;
	return (size_t)mb * ((size_t)1 << 20) / SHARDS;
}

static struct cshard *shard_of(enum cache_area area, uint64_t h)
{
	return &shards[store_of(area)][h % SHARDS];
}

/* RESPONSE_CACHE=off turns off the cached responses, not derived data. */
static bool area_off(enum cache_area area)
{
	return cfg.response_cache_off && area != CACHE_MODEL_IDS;
}

static uint64_t hash(enum cache_area area, const char *key)
{
	uint64_t h = 1469598103934665603ULL ^ ((uint64_t)area * 0x9e3779b97f4a7c15ULL);
	for (const char *p = key; *p; p++) {
		h ^= (unsigned char)*p;
		h *= 1099511628211ULL;
	}
	return h;
}

static void entry_free(struct centry *e)
{
	free(e->key);
	free(e->body);
	free(e);
}

static void shard_clear(struct cshard *s)
{
	for (int b = 0; b < BUCKETS; b++) {
		struct centry *e = s->buckets[b];
		while (e) {
			struct centry *next = e->next;
			entry_free(e);
			e = next;
		}
		s->buckets[b] = NULL;
	}
	s->oldest = s->newest = NULL;
	s->bytes = 0;
}

static size_t entry_bytes(const struct centry *e)
{
	return sizeof(*e) + e->len + strlen(e->key) + 1;
}

static void fifo_unlink(struct cshard *s, struct centry *e)
{
	if (e->older)
		e->older->newer = e->newer;
	else
		s->oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		s->newest = e->older;
	e->older = e->newer = NULL;
}

static void fifo_push(struct cshard *s, struct centry *e)
{
	e->older = s->newest;
	e->newer = NULL;
	if (s->newest)
		s->newest->newer = e;
	else
		s->oldest = e;
	s->newest = e;
}

/* Takes e out of the shard and frees it. */
static void entry_remove(struct cshard *s, struct centry *e)
{
	struct centry **pp = &s->buckets[(e->hash / SHARDS) % BUCKETS];
	while (*pp && *pp != e)
		pp = &(*pp)->next;
	if (*pp)
		*pp = e->next;
	fifo_unlink(s, e);
	s->bytes -= entry_bytes(e);
	entry_free(e);
}

/* Makes room for `need` bytes under `bound`: the oldest unreferenced
 * entries go first; every entry is looked at most twice. */
static void make_room(struct cshard *s, size_t need, size_t bound)
{
	while (s->oldest && s->bytes + need > bound) {
		struct centry *e = s->oldest;
		if (e->referenced) {
			e->referenced = false;
			fifo_unlink(s, e);
			fifo_push(s, e);
		} else {
			entry_remove(s, e);
		}
	}
}

/*
 * Single flight: when many requests miss the same key at once (a cold
 * cache under load), one computes it and the others wait for its
 * cache_put, instead of all running the same query.  A computation that
 * never stores (an error) is given up on after INFLIGHT_MS.
 */
#define INFLIGHT_SLOTS 64
#define INFLIGHT_MS 1000

struct inflight {
	uint64_t hash;
	int64_t started;
};

static pthread_mutex_t inflight_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t inflight_done = PTHREAD_COND_INITIALIZER;
static struct inflight inflight[INFLIGHT_SLOTS];

static bool lookup(enum cache_area area, const char *key, uint64_t h, char **body, size_t *len);
static void inflight_release(uint64_t h);

/* True when another request is computing h (and we should wait). */
static bool inflight_claim_or_busy(uint64_t h, int64_t now)
{
	int free_slot = -1;
	for (int i = 0; i < INFLIGHT_SLOTS; i++) {
		if (inflight[i].hash == h && now - inflight[i].started < INFLIGHT_MS)
			return true;
		if (free_slot < 0 && (!inflight[i].hash || now - inflight[i].started >= INFLIGHT_MS))
			free_slot = i;
	}
	if (free_slot >= 0) {
		inflight[free_slot].hash = h;
		inflight[free_slot].started = now;
	}
	return false;
}

void cache_release_claim(uint64_t h)
{
	if (h)
		inflight_release(h);
}

static void inflight_release(uint64_t h)
{
	pthread_mutex_lock(&inflight_lock);
	for (int i = 0; i < INFLIGHT_SLOTS; i++)
		if (inflight[i].hash == h)
			inflight[i].hash = 0;
	pthread_cond_broadcast(&inflight_done);
	pthread_mutex_unlock(&inflight_lock);
}

bool cache_get(enum cache_area area, const char *key, char **body, size_t *len, uint64_t *claim)
{
	*claim = 0;
	if (area_off(area))
		return false;
	uint64_t h = hash(area, key);
	if (lookup(area, key, h, body, len))
		return true;
	int64_t deadline = now_ms() + INFLIGHT_MS;
	pthread_mutex_lock(&inflight_lock);
	while (inflight_claim_or_busy(h, now_ms()) && now_ms() < deadline) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 20 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&inflight_done, &inflight_lock, &ts);
		pthread_mutex_unlock(&inflight_lock);
		if (lookup(area, key, h, body, len))
			return true;
		pthread_mutex_lock(&inflight_lock);
	}
	pthread_mutex_unlock(&inflight_lock);
	*claim = h; /* ours to compute: released by cache_put or cache_release_claim */
	return false;
}

bool cache_peek(enum cache_area area, const char *key, char **body, size_t *len)
{
	return !area_off(area) && lookup(area, key, hash(area, key), body, len);
}

static bool lookup(enum cache_area area, const char *key, uint64_t h, char **body, size_t *len)
{
	struct cshard *s = shard_of(area, h);
	uint64_t gen = __atomic_load_n(&generation[gen_area(area)], __ATOMIC_ACQUIRE);
	int64_t now = now_ms();
	bool hit = false;
	pthread_mutex_lock(&s->lock);
	for (struct centry *e = s->buckets[(h / SHARDS) % BUCKETS]; e; e = e->next) {
		if (e->hash == h && e->area == area && !strcmp(e->key, key)) {
			if (e->gen == gen && e->expires > now) {
				*body = xmalloc(e->len);
				memcpy(*body, e->body, e->len);
				*len = e->len;
				e->referenced = true;
				hit = true;
			}
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return hit;
}

uint64_t cache_generation(enum cache_area area)
{
	return __atomic_load_n(&generation[gen_area(area)], __ATOMIC_ACQUIRE);
}

void cache_put(enum cache_area area, const char *key, uint64_t gen, const char *body, size_t len)
{
	if (area_off(area))
		return;
	uint64_t h = hash(area, key);
	size_t bound = shard_bytes(store_of(area));
	if (len > bound / 8) {
		inflight_release(h);
		return;
	}
	struct cshard *s = shard_of(area, h);
	struct centry *n = xcalloc(1, sizeof(*n));
	n->hash = h;
	n->area = area;
	n->gen = gen;
	/* TTL spread over 75-100%: entries made together (a cold start) do
	 * not all expire in the same second and come back as one burst. */
	n->expires = now_ms() + CACHE_TTL_MS - (int64_t)(h % (CACHE_TTL_MS / 4));
	n->len = len;
	n->key = xstrdup(key);
	n->body = xmalloc(len);
	memcpy(n->body, body, len);
	size_t b = (h / SHARDS) % BUCKETS;
	pthread_mutex_lock(&s->lock);
	for (struct centry *e = s->buckets[b]; e; e = e->next) {
		if (e->hash == h && e->area == area && !strcmp(e->key, key)) {
			entry_remove(s, e);
			break;
		}
	}
	make_room(s, entry_bytes(n), bound);
	n->next = s->buckets[b];
	s->buckets[b] = n;
	fifo_push(s, n);
	s->bytes += entry_bytes(n);
	pthread_mutex_unlock(&s->lock);
	inflight_release(h);
}

void cache_invalidate(enum cache_area area)
{
	__atomic_add_fetch(&generation[gen_area(area)], 1, __ATOMIC_RELEASE);
}

void cache_clear(void)
{
	for (int k = 0; k < STORES; k++) {
		for (int i = 0; i < SHARDS; i++) {
			pthread_mutex_lock(&shards[k][i].lock);
			shard_clear(&shards[k][i]);
			pthread_mutex_unlock(&shards[k][i].lock);
		}
	}
}
