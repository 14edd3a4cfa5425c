#include "arena.h"
#include "util.h"

#define ARENA_CHUNK 8192
#define ARENA_ALIGN 16

struct chunk {
	struct chunk *next;
	size_t size, used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

struct cleanup {
	struct cleanup *next;
	void (*fn)(void *);
	void *arg;
};

struct arena {
	struct chunk *head;     /* current chunk, bump allocated */
	struct chunk *big;      /* oversized allocations, one chunk each */
	struct cleanup *cleanups;
	size_t total;
};

static struct chunk *chunk_new(size_t size)
{
	struct chunk *c = xmalloc(sizeof(*c) + size);
	c->next = NULL;
	c->size = size;
	c->used = 0;
	return c;
}

arena_t *arena_new(void)
{
	arena_t *a = xcalloc(1, sizeof(*a));
	a->head = chunk_new(ARENA_CHUNK);
	return a;
}

void arena_free(arena_t *a)
{
	if (!a)
		return;
	for (struct cleanup *c = a->cleanups; c; c = c->next)
		c->fn(c->arg);
	struct chunk *lists[2] = { a->head, a->big };
	for (int i = 0; i < 2; i++) {
		struct chunk *c = lists[i];
		while (c) {
			struct chunk *next = c->next;
			free(c);
			c = next;
		}
	}
	free(a);
}

void *arena_alloc(arena_t *a, size_t n)
{
	size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (need < n)
		die("arena: allocation of %zu bytes overflows", n);
	a->total += need;
	if (need > ARENA_CHUNK / 4) {
		struct chunk *c = chunk_new(need);
		c->next = a->big;
		a->big = c;
		return c->data;
	}
	if (a->head->size - a->head->used < need) {
		struct chunk *c = chunk_new(ARENA_CHUNK);
		c->next = a->head;
		a->head = c;
	}
	void *p = a->head->data + a->head->used;
	a->head->used += need;
	return p;
}

void *arena_calloc(arena_t *a, size_t n)
{
	void *p = arena_alloc(a, n);
	memset(p, 0, n);
	return p;
}

char *arena_strndup(arena_t *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(arena_t *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

static char *arena_vprintf(arena_t *a, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	HWC_ASSERT(n >= 0);
	char *p = arena_alloc(a, (size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *arena_printf(arena_t *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

void arena_defer(arena_t *a, void (*fn)(void *), void *arg)
{
	struct cleanup *c = arena_alloc(a, sizeof(*c));
	c->fn = fn;
	c->arg = arg;
	c->next = a->cleanups;
	a->cleanups = c;
}

size_t arena_used(const arena_t *a)
{
	return a->total;
}
