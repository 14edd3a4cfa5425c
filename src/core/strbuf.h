/*
 * strbuf.h: a growable byte string with a hard size cap (curl's dynbuf).
 *
 * The buffer is heap allocated and owned by the strbuf until sb_detach()
 * hands it to the caller (who then free()s it) or sb_release() frees it.
 * An append that would pass the cap fails, sets sb->overflow and leaves the
 * contents as they were, so a caller may append freely and check once.
 * The contents are always NUL terminated, and buf is never NULL (an empty
 * strbuf points at a shared ""), so reading sb.buf after any failed append
 * is safe; whether the text is whole is what sb->overflow says.
 */
#ifndef HWC_STRBUF_H
#define HWC_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct strbuf {
	char *buf;
	size_t len, cap, max;
	bool overflow;
} strbuf_t;

#define SB_DEFAULT_MAX ((size_t)64 << 20)

void sb_init(strbuf_t *sb, size_t max);
void sb_release(strbuf_t *sb);
char *sb_detach(strbuf_t *sb, size_t *len);
void sb_reset(strbuf_t *sb);

/* Makes room for n more bytes now (one allocation instead of a doubling
 * per growth, for a large text of a known size); false past the cap. */
bool sb_reserve(strbuf_t *sb, size_t n);
bool sb_add(strbuf_t *sb, const void *data, size_t n);
bool sb_adds(strbuf_t *sb, const char *s);
bool sb_addc(strbuf_t *sb, char c);
bool sb_addf(strbuf_t *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s percent-encoded (RFC 3986): A-Z a-z 0-9 - . _ ~ stay, every
 * other byte becomes %XX (upper-case hex), '/' stays only when keep_slash
 * (a path).  UTF-8 is encoded byte by byte; this is also AWS SigV4's
 * canonical form. */
bool sb_add_uri_encoded(strbuf_t *sb, const char *s, bool keep_slash);
/* Append s as a JSON string literal, quotes included. */
bool sb_add_json_str(strbuf_t *sb, const char *s);
/* The same with at most max_bytes of s (cut on a UTF-8 character boundary). */
bool sb_add_json_strn(strbuf_t *sb, const char *s, size_t max_bytes);

#endif
