/*
 * t.h: a minimal unit-test harness.
 *
 *	TEST(arena_grows) { CHECK(x == 1); CHECK_STR(a, "b"); }
 *
 * Tests register themselves; main.c runs them all and prints
 * "N passed, N failed".  A failed CHECK marks the test failed and goes on.
 */
#ifndef HWC_T_H
#define HWC_T_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

typedef void (*t_fn)(void);
void t_register(const char *name, t_fn fn);
void t_fail(const char *file, int line, const char *what);
/* True when the test may use PostgreSQL (TEST_PG_URL set). */
const char *t_pg_url(void);

#define TEST(name)                                                     \
	static void name(void);                                        \
	__attribute__((constructor)) static void reg_##name(void)       \
	{                                                              \
		t_register(#name, name);                               \
	}                                                              \
	static void name(void)

#define CHECK(cond) \
	do { if (!(cond)) t_fail(__FILE__, __LINE__, #cond); } while (0)
#define CHECK_STR(a, b) \
	do { const char *a_ = (a), *b_ = (b); \
	     if (!a_ || !b_ || strcmp(a_, b_)) t_fail(__FILE__, __LINE__, #a " == " #b); } while (0)

#endif
