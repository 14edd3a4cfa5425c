/*
 * arena.h: a region allocator owned by one request (or one job).
 *
 * Everything allocated from an arena is freed at once by arena_free(); the
 * cleanups registered with arena_defer() run first, newest first, so that
 * statements, temp files and JSON values tied to a request are released in
 * one place.  An arena is not thread safe: one owner at a time.
 */
#ifndef HWC_ARENA_H
#define HWC_ARENA_H

#include <stdarg.h>
#include <stddef.h>

typedef struct arena arena_t;

arena_t *arena_new(void);
void arena_free(arena_t *a);

/* Aligned to 16 bytes; never NULL (out of memory aborts). */
void *arena_alloc(arena_t *a, size_t n);
void *arena_calloc(arena_t *a, size_t n);
char *arena_strdup(arena_t *a, const char *s);
char *arena_strndup(arena_t *a, const char *s, size_t n);
char *arena_printf(arena_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Run fn(arg) when the arena is freed. */
void arena_defer(arena_t *a, void (*fn)(void *), void *arg);

/* Bytes handed out so far (for tests and metrics). */
size_t arena_used(const arena_t *a);

#endif
