/* jobs.c: `hwc3d job-enqueue KIND JSON [--owner ID]`, the operator's (and
 * the test suite's) way to queue a background job of a registered kind. */
#include <jansson.h>
#include "cli.h"
#include "../core/num.h"
#include "../core/util.h"
#include "../svc/jobs.h"

static int enqueue_usage(void)
{
	fputs("usage: hwc3d job-enqueue KIND JSON [--owner USER_ID]\n", stderr);
	return 2;
}

int cli_job_enqueue(int argc, char **argv)
{
	const char *kind = NULL, *payload = NULL;
	int64_t owner = 0;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--owner")) {
			if (i + 1 >= argc || !parse_i64_range(argv[i + 1], 1, INT64_MAX, &owner))
				return enqueue_usage();
			i++;
		} else if (!kind) {
			kind = argv[i];
		} else if (!payload) {
			payload = argv[i];
		} else {
			return enqueue_usage();
		}
	}
	if (!kind || !payload)
		return enqueue_usage();
	job_init();
	if (!job_kind_known(kind)) {
		fprintf(stderr, "hwc3d: unknown job kind \"%s\"\n", kind);
		return 2;
	}
	json_error_t jerr;
	json_t *p = json_loads(payload, JSON_DECODE_ANY, &jerr);
	if (!p) {
		fprintf(stderr, "hwc3d: the payload is not JSON: %s\n", jerr.text);
		return 2;
	}
	json_decref(p);
	db_t *db;
	int rc = cli_open_db(&db);
	if (rc)
		return rc;
	int64_t id = 0;
	bool ok = job_enqueue(db, kind, payload, owner, &id);
	if (!ok)
		fprintf(stderr, "hwc3d: cannot enqueue the job: %s\n",
			db_error(db) == DB_ERR_FOREIGN_KEY ? "no such owner" : db_errmsg(db));
	else
		printf("{\"id\": %lld}\n", (long long)id);
	db_close(db);
	return ok ? 0 : 1;
}
