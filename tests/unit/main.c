#include <stdlib.h>
#include <sodium.h>
#include "t.h"
#include "core/config.h"

#define MAX_TESTS 512

static struct { const char *name; t_fn fn; } tests[MAX_TESTS];
static int ntests, failed_checks;

void t_register(const char *name, t_fn fn)
{
	if (ntests < MAX_TESTS) {
		tests[ntests].name = name;
		tests[ntests].fn = fn;
		ntests++;
	}
}

void t_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "    FAIL %s:%d: %s\n", file, line, what);
	failed_checks++;
}

const char *t_pg_url(void)
{
	const char *u = getenv("TEST_PG_URL");
	return u && *u ? u : NULL;
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	int passed = 0, failed = 0;
	for (int i = 0; i < ntests; i++) {
		if (argc > 1 && !strstr(tests[i].name, argv[1]))
			continue;
		int before = failed_checks;
		tests[i].fn();
		if (failed_checks == before) {
			passed++;
		} else {
			failed++;
			fprintf(stderr, "  FAILED %s\n", tests[i].name);
		}
	}
	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
