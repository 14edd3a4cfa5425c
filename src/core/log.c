#include <stdarg.h>
#include <unistd.h>
#include "log.h"
#include "strbuf.h"
#include "util.h"

static enum log_level min_level = LOG_INFO;
static int access_enabled = 1;
static const char *level_names[] = { "debug", "info", "warn", "error" };
static __thread const char *context_rid;

void log_context(const char *request_id)
{
	context_rid = request_id && *request_id ? request_id : NULL;
}

const char *log_context_get(void)
{
	return context_rid;
}

/* A log line's strbuf cap.  Every request-controlled text is cut before it
 * is escaped (at most 6 bytes per byte), so a line always fits whole:
 * log_msg: 2047 bytes of message and a 64-byte request id -> < 12.7 KB; log_access: path 2048,
 * method 32, route 256, ip 64, request id 40 bytes -> < 14.7 KB. */
#define LOG_LINE_MAX 16384
#define LOG_PATH_MAX 2048

void log_set_level(enum log_level lvl)
{
	min_level = lvl;
}

void log_set_access(int enabled)
{
	access_enabled = enabled;
}

static void emit(strbuf_t *sb)
{
	if (sb->overflow) { /* cannot happen with the cuts above; never a broken line */
		sb_reset(sb);
		sb_adds(sb, "{\"level\":\"error\",\"msg\":\"log line too long\"}");
	}
	sb_addc(sb, '\n');
	const char *p = sb->buf;
	size_t left = sb->len;
	while (left > 0) {
		ssize_t n = write(STDERR_FILENO, p, left);
		if (n <= 0)
			break;
		p += n;
		left -= (size_t)n;
	}
}

static void add_ts(strbuf_t *sb)
{
	char ts[32];
	int64_t ms = now_ms();
	iso8601_ms(ms, ts);
	ts[19] = '\0'; /* drop the Z, add milliseconds */
	sb_addf(sb, "{\"ts\":\"%s.%03dZ\"", ts, (int)(ms % 1000));
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	if (lvl < min_level)
		return;
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	strbuf_t sb;
	sb_init(&sb, LOG_LINE_MAX);
	add_ts(&sb);
	sb_addf(&sb, ",\"level\":\"%s\"", level_names[lvl]);
	if (context_rid) {
		char rid[65]; /* ids are short (server.c takes < 40); cut all the same */
		snprintf(rid, sizeof(rid), "%s", context_rid);
		sb_adds(&sb, ",\"request_id\":");
		sb_add_json_str(&sb, rid);
	}
	sb_adds(&sb, ",\"msg\":");
	sb_add_json_str(&sb, msg);
	sb_addc(&sb, '}');
	emit(&sb);
	sb_release(&sb);
}

void log_access(const struct access_entry *e)
{
	if (!access_enabled)
		return;
	strbuf_t sb;
	sb_init(&sb, LOG_LINE_MAX);
	add_ts(&sb);
	sb_adds(&sb, ",\"level\":\"info\",\"type\":\"access\",\"request_id\":");
	sb_add_json_strn(&sb, e->request_id, 40);
	sb_adds(&sb, ",\"method\":");
	sb_add_json_strn(&sb, e->method, 32);
	sb_adds(&sb, ",\"path\":");
	/* Only the path: query strings may carry tokens and are never logged. */
	sb_add_json_strn(&sb, e->path, LOG_PATH_MAX);
	if (e->route) {
		sb_adds(&sb, ",\"route\":");
		sb_add_json_strn(&sb, e->route, 256);
	}
	sb_addf(&sb, ",\"status\":%d,\"duration_ms\":%.3f,\"bytes_in\":%llu,\"ip\":",
		e->status, e->duration_ms, (unsigned long long)e->bytes_in);
	sb_add_json_strn(&sb, e->ip, 64);
	if (e->user_id)
		sb_addf(&sb, ",\"user_id\":%lld", (long long)e->user_id);
	sb_addc(&sb, '}');
	emit(&sb);
	sb_release(&sb);
}
