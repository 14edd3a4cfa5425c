/*
 * ticker.c: periodic housekeeping threads (ticker.h).
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include "ticker.h"
#include "../core/log.h"
#include "../core/util.h"

struct ticker {
	const char *name;
	int first_s, every_s;
	ticker_fn fn;
	void *arg;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
};

bool ticker_stopping(const ticker_t *t)
{
	return __atomic_load_n(&t->stopping, __ATOMIC_RELAXED);
}

/* Sleeps s seconds unless stopped first; false when stopped. */
static bool sleep_unless_stopped(ticker_t *t, int s)
{
	pthread_mutex_lock(&t->lock);
	if (!t->stopping && s > 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += s;
		while (!t->stopping && pthread_cond_timedwait(&t->wake, &t->lock, &ts) != ETIMEDOUT)
			;
	}
	bool go = !t->stopping;
	pthread_mutex_unlock(&t->lock);
	return go;
}

static void *ticker_main(void *arg)
{
	ticker_t *t = arg;
	for (int wait_s = t->first_s; sleep_unless_stopped(t, wait_s); wait_s = t->every_s)
		t->fn(db_thread(), t, t->arg);
	db_thread_release();
	return NULL;
}

ticker_t *ticker_start(const char *name, int first_s, int every_s, ticker_fn fn, void *arg)
{
	ticker_t *t = xcalloc(1, sizeof(*t));
	*t = (ticker_t){ .name = name, .first_s = first_s, .every_s = MAX(1, every_s), .fn = fn, .arg = arg };
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->wake, NULL);
	if (pthread_create(&t->thread, NULL, ticker_main, t) != 0) {
		log_error("cannot start the %s thread", name);
		pthread_mutex_destroy(&t->lock);
		pthread_cond_destroy(&t->wake);
		free(t);
		return NULL;
	}
	return t;
}

void ticker_stop(ticker_t *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	__atomic_store_n(&t->stopping, true, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&t->wake);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	pthread_mutex_destroy(&t->lock);
	pthread_cond_destroy(&t->wake);
	free(t);
}
