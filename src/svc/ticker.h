/*
 * ticker.h: a thread that runs one piece of housekeeping now and then
 * (the upload sweeper, the order reconciler): first after first_s, then
 * every every_s, each run with this thread's own database connection
 * (db_thread, released when the thread ends), never on an HTTP poll
 * thread.  ticker_stop wakes a waiting ticker at once; a run in progress
 * sees ticker_stopping and may end early.
 */
#ifndef HWC_TICKER_H
#define HWC_TICKER_H

#include <stdbool.h>
#include "../db/db.h"

typedef struct ticker ticker_t;
/* One run: db is NULL when the database cannot be reached (the run is
 * skipped, and retried at the next tick). */
typedef void (*ticker_fn)(db_t *db, ticker_t *t, void *arg);

/* NULL (logged) when the thread cannot start. */
ticker_t *ticker_start(const char *name, int first_s, int every_s, ticker_fn fn, void *arg);
/* True once ticker_stop was called: a long run checks it between steps. */
bool ticker_stopping(const ticker_t *t);
/* Stops, joins and frees t (NULL is fine). */
void ticker_stop(ticker_t *t);

#endif
