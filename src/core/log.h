/*
 * log.h: one JSON object per line on stderr.
 *
 * Each line is written with a single write(2), so lines from different
 * threads never interleave.  log_access() is the per-request line; the
 * others carry a free-text message.  Thread safe.
 */
#ifndef HWC_LOG_H
#define HWC_LOG_H

#include <stdint.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level lvl);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

struct access_entry {
	const char *request_id, *method, *path, *route, *ip;
	int status;
	int64_t user_id;
	double duration_ms;
	uint64_t bytes_in;
};

void log_access(const struct access_entry *e);

/* The request id this thread works for: every log_msg line it writes
 * carries it as "request_id" until it is set again (NULL: none).  The
 * dispatcher sets it around each request's handler; a job or a mail keeps
 * the id of the request that made it and its worker sets it while running
 * it, so one id joins a request's lines across threads and instances.
 * The pointer is kept, not copied: it must outlive its use. */
void log_context(const char *request_id);
const char *log_context_get(void);
void log_set_access(int enabled);

#endif
