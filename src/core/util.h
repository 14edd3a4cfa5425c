/*
 * util.h: the program-wide basics every file includes.
 *
 * Out of memory is fatal everywhere (xmalloc and friends print a message and
 * abort), so callers never test for NULL from these.  Times are integer
 * milliseconds since the Unix epoch (now_ms) or monotonic (mono_ms).
 */
#ifndef HWC_UTIL_H
#define HWC_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define UNUSED(x) ((void)(x))
#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif
#ifndef MAX
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#endif

/* A broken invariant: a bug, not bad input.  Aborts with the location. */
#define HWC_ASSERT(cond) \
	do { if (!(cond)) hwc_assert_fail(#cond, __FILE__, __LINE__); } while (0)

_Noreturn void hwc_assert_fail(const char *what, const char *file, int line);
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a malloc'd string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int64_t now_ms(void);
int64_t mono_us(void);

/* Format a millisecond timestamp as ISO 8601 UTC ("2024-02-16T10:30:00Z")
 * into out (at least 25 bytes). */
void iso8601_ms(int64_t ms, char out[32]);

/* Fill buf with n random bytes from the OS CSPRNG (libsodium). */
void random_bytes(void *buf, size_t n);
/* The value of a hexadecimal digit, or -1. */
int hex_digit(char c);

/* Percent-decodes s in place and returns its new length.  "%00" stays
 * encoded: a decoded NUL would silently cut "/api/categories%00/x" to
 * "/api/categories". */
size_t percent_decode_keep_nul(char *s);

/* n random bytes as 2n lowercase hex chars plus NUL into out. */
void random_hex(char *out, size_t n);
/* 16 hex digits that differ on every call (per thread: a random seed
 * stepped by splitmix64), without a system call: request ids, not secrets. */
void unique_hex(char out[17]);

bool str_has_prefix(const char *s, const char *prefix);
bool str_eq_nocase(const char *a, const char *b);

#include "banned.h"
#endif
