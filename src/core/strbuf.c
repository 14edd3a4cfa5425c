#include <stdarg.h>
#include "strbuf.h"
#include "util.h"

/* What an empty strbuf points at (Git's strbuf_slopbuf): buf is never NULL,
 * so a caller that reads sb.buf after a failed first append gets "" rather
 * than a NULL.  It is only ever read; every write goes through grow(),
 * which allocates first (cap 0 means "not ours"). */
static char sb_slop[1];

void sb_init(strbuf_t *sb, size_t max)
{
	sb->buf = sb_slop;
	sb->len = sb->cap = 0;
	sb->max = max ? max : SB_DEFAULT_MAX;
	sb->overflow = false;
}

void sb_release(strbuf_t *sb)
{
	if (sb->cap)
		free(sb->buf);
	sb_init(sb, sb->max);
}

char *sb_detach(strbuf_t *sb, size_t *len)
{
	/* Never the shared empty string: the caller free()s what it gets. */
	char *p = sb->cap ? sb->buf : xcalloc(1, 1);
	if (len)
		*len = sb->len;
	sb->buf = sb_slop;
	sb->len = sb->cap = 0;
	return p;
}

void sb_reset(strbuf_t *sb)
{
	sb->len = 0;
	sb->overflow = false;
	if (sb->cap)
		sb->buf[0] = '\0';
}

static bool grow(strbuf_t *sb, size_t extra)
{
	if (extra > sb->max || sb->len > sb->max - extra) {
		sb->overflow = true;
		return false;
	}
	size_t need = sb->len + extra + 1;
	if (need <= sb->cap)
		return true;
	size_t cap = sb->cap ? sb->cap : 256;
	while (cap < need)
		cap *= 2;
	if (cap > sb->max + 1)
		cap = sb->max + 1;
	sb->buf = xrealloc(sb->cap ? sb->buf : NULL, cap);
	sb->cap = cap;
	return true;
}

bool sb_reserve(strbuf_t *sb, size_t n)
{
	return grow(sb, n);
}

bool sb_add(strbuf_t *sb, const void *data, size_t n)
{
	if (!grow(sb, n))
		return false;
	if (n)
		memcpy(sb->buf + sb->len, data, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
	return true;
}

bool sb_adds(strbuf_t *sb, const char *s)
{
	return sb_add(sb, s, strlen(s));
}

bool sb_addc(strbuf_t *sb, char c)
{
	return sb_add(sb, &c, 1);
}

bool sb_addf(strbuf_t *sb, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return false;
	if ((size_t)n < sizeof(small))
		return sb_add(sb, small, (size_t)n);
	if (!grow(sb, (size_t)n))
		return false;
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
	return true;
}

bool sb_add_uri_encoded(strbuf_t *sb, const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p;
		bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			     c == '-' || c == '.' || c == '_' || c == '~' || (c == '/' && keep_slash);
		if (plain) {
			sb_addc(sb, (char)c);
		} else {
			char esc[3] = { '%', hex[c >> 4], hex[c & 15] };
			sb_add(sb, esc, 3);
		}
	}
	return !sb->overflow;
}

bool sb_add_json_str(strbuf_t *sb, const char *s)
{
	return sb_add_json_strn(sb, s, SIZE_MAX);
}

bool sb_add_json_strn(strbuf_t *sb, const char *s, size_t max_bytes)
{
	static const char hex[] = "0123456789abcdef";
	bool ok = sb_addc(sb, '"');
	size_t n = strlen(s);
	if (n > max_bytes) {
		/* cut before a UTF-8 continuation byte, never inside a character */
		n = max_bytes;
		while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	for (const unsigned char *p = (const unsigned char *)s, *end = p + n; p < end; p++) {
		unsigned char c = *p;
		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };
			ok &= sb_add(sb, esc, 2);
		} else if (c < 0x20) {
			char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			ok &= sb_add(sb, esc, 6);
		} else {
			ok &= sb_addc(sb, (char)c);
		}
	}
	return sb_addc(sb, '"') && ok;
}
