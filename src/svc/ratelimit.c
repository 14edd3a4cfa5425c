#include <arpa/inet.h>
#include <pthread.h>
#include <hiredis.h>
#include "ratelimit.h"
#include "redis_target.h"
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
static int64_t (*clock_fn)(void) = now_ms; /* tests set a fake one */
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

/* The entry of key in its shard (lock held), or NULL.  The table comes
 * back after ratelimit_shutdown() (unit tests run on after it). */
static struct entry *mem_find(struct shard *s, uint64_t h, const char *key)
{
	if (!s->buckets) {
		s->nbuckets = 256;
		s->buckets = xcalloc(s->nbuckets, sizeof(struct entry *));
	}
	struct entry *e = s->buckets[(h / SHARDS) & (s->nbuckets - 1)];
	while (e && !(e->hash == h && !strcmp(e->key, key)))
		e = e->next;
	return e;
}

/* The shard that holds key, locked; *h is the key's hash. */
static struct shard *shard_lock(enum rl_class cls, const char *key, uint64_t *h)
{
	pthread_once(&mem_once, mem_init);
	*h = hash_key(cls, key);
	struct shard *s = &shards[*h % SHARDS];
	pthread_mutex_lock(&s->lock);
	return s;
}

bool ratelimit_mem_hit(enum rl_class cls, const char *key, const struct rate_rule *rule,
		       int64_t now, int *retry_after_s)
{
	uint64_t h;
	struct shard *s = shard_lock(cls, key, &h);
	struct entry *e = mem_find(s, h, key);
	if (!e) {
		if (s->len >= MAX(s->sweep_at, sweep_base)) {
			sweep(s, now);
			s->sweep_at = MAX(sweep_base, 2 * s->len);
		}
		size_t b = (h / SHARDS) & (s->nbuckets - 1);
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

void ratelimit_mem_clock(int64_t (*fn)(void))
{
	clock_fn = fn ? fn : now_ms;
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

bool ratelimit_mem_peek(enum rl_class cls, const char *key, const struct rate_rule *rule,
			int64_t now, int *retry_after_s)
{
	uint64_t h;
	struct shard *s = shard_lock(cls, key, &h);
	struct entry *e = mem_find(s, h, key);
	bool ok = !e || now - e->start >= e->window || e->count < rule->limit;
	if (!ok)
		*retry_after_s = (int)MAX(1, (e->start + e->window - now + 999) / 1000);
	pthread_mutex_unlock(&s->lock);
	return ok;
}

void ratelimit_mem_reset(enum rl_class cls, const char *key)
{
	uint64_t h;
	struct shard *s = shard_lock(cls, key, &h);
	struct entry *e = mem_find(s, h, key);
	if (e)
		e->count = 0; /* the entry goes with the next sweep */
	pthread_mutex_unlock(&s->lock);
}

/* ---- Redis ---- */

/* Counting: INCR, with the window set on the first hit. */
static const char *redis_script =
	"local c = redis.call('INCR', KEYS[1]) "
	"if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end "
	"local t = redis.call('PTTL', KEYS[1]) "
	"if t < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) t = tonumber(ARGV[1]) end "
	"return {c, t}";
/* Peeking: the count and the time left, without counting. */
static const char *redis_peek_script =
	"local c = tonumber(redis.call('GET', KEYS[1]) or '0') "
	"local t = redis.call('PTTL', KEYS[1]) "
	"return {c, t}";

/* One connection per thread, tagged with the breaker generation it was
 * made in: when the breaker opens, every older connection is dropped
 * rather than tried (a half-dead socket would re-open the breaker). */
struct redis_tls {
	redisContext *c;
	unsigned gen;
};

static pthread_key_t redis_key;
static pthread_once_t redis_once = PTHREAD_ONCE_INIT;
static redis_target_t redis;

/* The circuit breaker.  Closed: every check goes to Redis.  Open (after a
 * failure): checks are counted in memory at once, and one request at a
 * time (the probe) tries Redis again every probe_ms.  Each change is
 * logged once. */
static int breaker_open;        /* 0 closed, 1 open */
static int breaker_probing;     /* 1 while one thread probes */
static int64_t breaker_next_probe;
static unsigned breaker_gen;
static const int64_t probe_ms = 3000;

static void redis_tls_free(void *p)
{
	struct redis_tls *t = p;
	if (t->c)
		redisFree(t->c);
	free(t);
}

static void redis_key_init(void)
{
	pthread_key_create(&redis_key, redis_tls_free);
}

static redisContext *redis_conn(void)
{
	pthread_once(&redis_once, redis_key_init);
	struct redis_tls *t = pthread_getspecific(redis_key);
	if (!t) {
		t = xcalloc(1, sizeof(*t));
		pthread_setspecific(redis_key, t);
	}
	unsigned gen = __atomic_load_n(&breaker_gen, __ATOMIC_ACQUIRE);
	if (t->c && !t->c->err && t->gen == gen)
		return t->c;
	if (t->c) {
		redisFree(t->c);
		t->c = NULL;
	}
	redisContext *c = redis_target_connect(&redis, (struct timeval){ 0, 250000 });
	if (!c)
		return NULL;
	t->c = c;
	t->gen = gen;
	return c;
}

static void redis_key_for(char *out, size_t n, enum rl_class cls, const char *key, const struct rate_rule *rule)
{
	snprintf(out, n, "hwc3d:rl:%d:%lld:%lld:%s", (int)cls, (long long)rule->limit,
		 (long long)rule->window_ms, key);
}

/* Runs script on key; {count, ttl ms} or -1 when Redis is unavailable. */
static int redis_eval(const char *script, enum rl_class cls, const char *key, const struct rate_rule *rule,
		      long long *count, long long *ttl)
{
	redisContext *c = redis_conn();
	if (!c)
		return -1;
	char rkey[512];
	redis_key_for(rkey, sizeof(rkey), cls, key, rule);
	char win[24];
	snprintf(win, sizeof(win), "%lld", (long long)rule->window_ms);
	redisReply *r = redisCommand(c, "EVAL %s 1 %s %s", script, rkey, win);
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER || r->element[1]->type != REDIS_REPLY_INTEGER) {
		if (r)
			freeReplyObject(r);
		c->err = c->err ? c->err : REDIS_ERR_IO; /* reconnect next time */
		return -1;
	}
	*count = r->element[0]->integer;
	*ttl = r->element[1]->integer;
	freeReplyObject(r);
	return 0;
}

/* Should this check go to Redis?  *probe is set when this thread is the
 * one allowed to try it while the breaker is open. */
static bool breaker_allows(bool *probe)
{
	*probe = false;
	if (!__atomic_load_n(&breaker_open, __ATOMIC_ACQUIRE))
		return true;
	if (now_ms() < __atomic_load_n(&breaker_next_probe, __ATOMIC_RELAXED))
		return false;
	int idle = 0;
	if (!__atomic_compare_exchange_n(&breaker_probing, &idle, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return false;
	*probe = true;
	return true;
}

static void breaker_result(bool ok, bool probe)
{
	if (ok) {
		int was = 1;
		if (__atomic_compare_exchange_n(&breaker_open, &was, 0, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			log_info("Redis at %s reachable again: rate limits are shared again", cfg.redis_url);
	} else {
		__atomic_store_n(&breaker_next_probe, now_ms() + probe_ms, __ATOMIC_RELAXED);
		int was = 0;
		if (__atomic_compare_exchange_n(&breaker_open, &was, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
			__atomic_add_fetch(&breaker_gen, 1, __ATOMIC_ACQ_REL);
			log_warn("Redis at %s unavailable: rate limits are counted in this process only;"
				 " retrying every %lld ms", cfg.redis_url, (long long)probe_ms);
		}
	}
	if (probe)
		__atomic_store_n(&breaker_probing, 0, __ATOMIC_RELEASE);
}

/* Redis in use at all (a parsable REDIS_URL). */
static bool redis_configured(void)
{
	return cfg.redis_url && (redis.host[0] || redis.socket[0]);
}

/* Runs script through the breaker; 0 with count and ttl, or -1 when the
 * caller must use memory. */
static int redis_call(const char *script, enum rl_class cls, const char *key, const struct rate_rule *rule,
		      long long *count, long long *ttl)
{
	bool probe;
	if (!redis_configured() || !breaker_allows(&probe))
		return -1;
	int rc = redis_eval(script, cls, key, rule, count, ttl);
	breaker_result(rc == 0, probe);
	return rc;
}

void ratelimit_init(void)
{
	pthread_once(&mem_once, mem_init);
	if (cfg.redis_url && !redis_target_parse(cfg.redis_url, &redis))
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
	long long count, ttl;
	if (redis_call(redis_script, cls, key, rule, &count, &ttl) == 0) {
		if (count <= rule->limit)
			return true;
		*retry_after_s = (int)MAX(1, (ttl + 999) / 1000);
		return false;
	}
	return ratelimit_mem_hit(cls, key, rule, clock_fn(), retry_after_s);
}

bool ratelimit_peek_rule(enum rl_class cls, const char *key, const struct rate_rule *rule, int *retry_after_s)
{
	long long count, ttl;
	if (redis_call(redis_peek_script, cls, key, rule, &count, &ttl) == 0) {
		if (count < rule->limit || ttl <= 0)
			return true;
		*retry_after_s = (int)MAX(1, (ttl + 999) / 1000);
		return false;
	}
	return ratelimit_mem_peek(cls, key, rule, clock_fn(), retry_after_s);
}

void ratelimit_reset_rule(enum rl_class cls, const char *key, const struct rate_rule *rule)
{
	bool probe;
	if (redis_configured() && breaker_allows(&probe)) {
		redisContext *c = redis_conn();
		redisReply *r = NULL;
		if (c) {
			char rkey[512];
			redis_key_for(rkey, sizeof(rkey), cls, key, rule);
			r = redisCommand(c, "DEL %s", rkey);
			if (!r)
				c->err = c->err ? c->err : REDIS_ERR_IO;
		}
		breaker_result(r != NULL, probe);
		if (r) {
			freeReplyObject(r);
			return;
		}
	}
	ratelimit_mem_reset(cls, key);
}

void ratelimit_client_prefix(const char *ip, char *out, size_t n)
{
	struct in6_addr a6;
	if (!strchr(ip, ':') || inet_pton(AF_INET6, ip, &a6) != 1) {
		snprintf(out, n, "%s", ip);
		return;
	}
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (!memcmp(a6.s6_addr, mapped, 12)) {
		char v4[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, a6.s6_addr + 12, v4, sizeof(v4));
		snprintf(out, n, "%s", v4);
		return;
	}
	/* One customer usually holds a whole /64: key by it. */
	memset(a6.s6_addr + 8, 0, 8);
	char v6[INET6_ADDRSTRLEN];
	inet_ntop(AF_INET6, &a6, v6, sizeof(v6));
	snprintf(out, n, "%s/64", v6);
}
