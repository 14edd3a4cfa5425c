#include <pthread.h>
#include <hiredis.h>
#include "ratelimit.h"
#include "../core/log.h"
#include "../core/util.h"

#define SHARDS 64
static size_t sweep_base = 4096; /* entries in a shard before expired ones are swept */

struct entry {
	struct entry *next;
	uint64_t hash;
	int64_t start, window;
	int64_t count;
	char key[];
};

struct shard {
	pthread_mutex_t lock;
	struct entry **buckets;
	size_t nbuckets, len;
	size_t sweep_at; /* sweep when len reaches this */
};

static struct shard shards[SHARDS];
static pthread_once_t mem_once = PTHREAD_ONCE_INIT;

static void mem_init(void)
{
	for (int i = 0; i < SHARDS; i++) {
		pthread_mutex_init(&shards[i].lock, NULL);
		shards[i].nbuckets = 256;
		shards[i].buckets = xcalloc(256, sizeof(struct entry *));
	}
}

static uint64_t hash_key(enum rl_class cls, const char *key)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)cls;
	for (const char *p = key; *p; p++) {
		h ^= (unsigned char)*p;
		h *= 1099511628211ULL;
	}
	return h;
}

static void sweep(struct shard *s, int64_t now)
{
	for (size_t b = 0; b < s->nbuckets; b++) {
		struct entry **pp = &s->buckets[b];
		while (*pp) {
			struct entry *e = *pp;
			if (now - e->start >= e->window) {
				*pp = e->next;
				free(e);
				s->len--;
			} else {
				pp = &e->next;
			}
		}
	}
	if (s->len * 2 > s->nbuckets) {
		/* Still crowded after the sweep: grow the table. */
		size_t nb = s->nbuckets * 2;
		struct entry **nbk = xcalloc(nb, sizeof(*nbk));
		for (size_t b = 0; b < s->nbuckets; b++) {
			struct entry *e = s->buckets[b];
			while (e) {
				struct entry *next = e->next;
				size_t i = (e->hash / SHARDS) & (nb - 1);
				e->next = nbk[i];
				nbk[i] = e;
				e = next;
			}
		}
		free(s->buckets);
		s->buckets = nbk;
		s->nbuckets = nb;
	}
}

bool ratelimit_mem_hit(enum rl_class cls, const char *key, const struct rate_rule *rule,
		       int64_t now, int *retry_after_s)
{
	pthread_once(&mem_once, mem_init);
	uint64_t h = hash_key(cls, key);
	struct shard *s = &shards[h % SHARDS];
	pthread_mutex_lock(&s->lock);
	size_t b = (h / SHARDS) & (s->nbuckets - 1);
	struct entry *e = s->buckets[b];
	while (e && !(e->hash == h && !strcmp(e->key, key)))
		e = e->next;
	if (!e) {
		if (s->len >= MAX(s->sweep_at, sweep_base)) {
			sweep(s, now);
			s->sweep_at = MAX(sweep_base, 2 * s->len);
		}
		b = (h / SHARDS) & (s->nbuckets - 1);
		size_t kl = strlen(key);
		e = xmalloc(sizeof(*e) + kl + 1);
		memcpy(e->key, key, kl + 1);
		e->hash = h;
		e->start = now;
		e->window = rule->window_ms;
		e->count = 0;
		e->next = s->buckets[b];
		s->buckets[b] = e;
		s->len++;
	}
	if (now - e->start >= rule->window_ms) {
		e->start = now;
		e->count = 0;
	}
	e->window = rule->window_ms;
	bool ok = ++e->count <= rule->limit;
	if (!ok) {
		e->count = rule->limit + 1; /* no creeping past int range */
		int64_t left = e->start + rule->window_ms - now;
		*retry_after_s = (int)MAX(1, (left + 999) / 1000);
	}
	pthread_mutex_unlock(&s->lock);
	return ok;
}

void ratelimit_mem_sweep_threshold(size_t n)
{
	sweep_base = n;
}

size_t ratelimit_mem_size(void)
{
	pthread_once(&mem_once, mem_init);
	size_t n = 0;
	for (int i = 0; i < SHARDS; i++) {
		pthread_mutex_lock(&shards[i].lock);
		n += shards[i].len;
		pthread_mutex_unlock(&shards[i].lock);
	}
	return n;
}

/* ---- Redis ---- */

static const char *redis_script =
	"local c = redis.call('INCR', KEYS[1]) "
	"if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end "
	"local t = redis.call('PTTL', KEYS[1]) "
	"if t < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) t = tonumber(ARGV[1]) end "
	"return {c, t}";

static pthread_key_t redis_key;
static pthread_once_t redis_once = PTHREAD_ONCE_INIT;
static char redis_host[256];
static int redis_port = 6379, redis_db;
static char redis_socket[256];
static int64_t last_redis_warn;

static void redis_free(void *p)
{
	redisFree(p);
}

static void redis_key_init(void)
{
	pthread_key_create(&redis_key, redis_free);
}

/* redis://[:password@]host[:port][/db] or unix:///path */
static bool parse_redis_url(const char *url)
{
	if (str_has_prefix(url, "unix://")) {
		snprintf(redis_socket, sizeof(redis_socket), "%s", url + 7);
		return true;
	}
	const char *p = url + 8;
	const char *at = strchr(p, '@');
	if (at)
		p = at + 1; /* credentials: AUTH is sent below when present */
	const char *colon = strchr(p, ':'), *slash = strchr(p, '/');
	size_t hl = colon ? (size_t)(colon - p) : slash ? (size_t)(slash - p) : strlen(p);
	if (hl == 0 || hl >= sizeof(redis_host))
		return false;
	memcpy(redis_host, p, hl);
	redis_host[hl] = '\0';
	if (colon)
		redis_port = (int)strtol(colon + 1, NULL, 10);
	if (slash)
		redis_db = (int)strtol(slash + 1, NULL, 10);
	return redis_port > 0 && redis_port < 65536;
}

static redisContext *redis_conn(void)
{
	pthread_once(&redis_once, redis_key_init);
	redisContext *c = pthread_getspecific(redis_key);
	if (c && !c->err)
		return c;
	if (c) {
		redisFree(c);
		pthread_setspecific(redis_key, NULL);
	}
	struct timeval tv = { 0, 250000 };
	c = redis_socket[0] ? redisConnectUnixWithTimeout(redis_socket, tv)
			    : redisConnectWithTimeout(redis_host, redis_port, tv);
	if (!c || c->err) {
		if (c)
			redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, tv);
	const char *at = strchr(cfg.redis_url + 8, '@');
	if (at && !redis_socket[0]) {
		const char *cred = cfg.redis_url + 8;
		const char *colon = memchr(cred, ':', (size_t)(at - cred));
		const char *pw = colon ? colon + 1 : cred;
		redisReply *r = redisCommand(c, "AUTH %b", pw, (size_t)(at - pw));
		freeReplyObject(r);
	}
	if (redis_db) {
		redisReply *r = redisCommand(c, "SELECT %d", redis_db);
		freeReplyObject(r);
	}
	pthread_setspecific(redis_key, c);
	return c;
}

/* 1 allowed, 0 refused, -1 Redis unavailable. */
static int redis_hit(enum rl_class cls, const char *key, const struct rate_rule *rule, int *retry)
{
	redisContext *c = redis_conn();
	if (!c)
		return -1;
	char rkey[512];
	snprintf(rkey, sizeof(rkey), "hwc3d:rl:%d:%lld:%lld:%s", (int)cls, (long long)rule->limit,
		 (long long)rule->window_ms, key);
	char win[24];
	snprintf(win, sizeof(win), "%lld", (long long)rule->window_ms);
	redisReply *r = redisCommand(c, "EVAL %s 1 %s %s", redis_script, rkey, win);
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER || r->element[1]->type != REDIS_REPLY_INTEGER) {
		if (r)
			freeReplyObject(r);
		else
			c->err = c->err ? c->err : REDIS_ERR_IO; /* reconnect next time */
		return -1;
	}
	long long count = r->element[0]->integer, ttl = r->element[1]->integer;
	freeReplyObject(r);
	if (count <= rule->limit)
		return 1;
	*retry = (int)MAX(1, (ttl + 999) / 1000);
	return 0;
}

void ratelimit_init(void)
{
	pthread_once(&mem_once, mem_init);
	if (cfg.redis_url && !parse_redis_url(cfg.redis_url))
		log_warn("REDIS_URL %s could not be parsed; rate limits stay in memory", cfg.redis_url);
}

void ratelimit_shutdown(void)
{
	for (int i = 0; i < SHARDS; i++) {
		if (!shards[i].buckets)
			continue;
		for (size_t b = 0; b < shards[i].nbuckets; b++) {
			struct entry *e = shards[i].buckets[b];
			while (e) {
				struct entry *next = e->next;
				free(e);
				e = next;
			}
		}
		free(shards[i].buckets);
		shards[i].buckets = NULL;
		shards[i].len = 0;
	}
}

bool ratelimit_hit(enum rl_class cls, const char *key, int *retry_after_s)
{
	if (!cfg.rate_limit_enabled || cls == RL_NONE)
		return true;
	return ratelimit_hit_rule(cls, key, &cfg.rate[cls], retry_after_s);
}

bool ratelimit_hit_rule(enum rl_class cls, const char *key, const struct rate_rule *rule, int *retry_after_s)
{
	if (cfg.redis_url && (redis_host[0] || redis_socket[0])) {
		int rc = redis_hit(cls, key, rule, retry_after_s);
		if (rc >= 0)
			return rc == 1;
		int64_t now = now_ms();
		if (now - __atomic_load_n(&last_redis_warn, __ATOMIC_RELAXED) > 10000) {
			__atomic_store_n(&last_redis_warn, now, __ATOMIC_RELAXED);
			log_warn("Redis at %s unavailable: rate limits counted in this process only", cfg.redis_url);
		}
	}
	return ratelimit_mem_hit(cls, key, rule, now_ms(), retry_after_s);
}
