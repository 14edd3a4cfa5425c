/* jobs.c: `hwc3d job-enqueue KIND JSON [--owner ID]`, the operator's (and
 * the test suite's) way to queue a background job of a registered kind. */
#include <jansson.h>
#include "cli.h"
#include "../core/num.h"
#include "../core/util.h"
#include "../svc/jobs.h"
#include "../svc/render_jobs.h"

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

/* `hwc3d render-thumbnails`: a "model_thumbnail" job (render_jobs.h) for
 * every live model without a thumbnail and without such a job queued or
 * running, for models made before thumbnails were automatic.  Prints the
 * number queued. */
int cli_render_thumbnails(int argc, char **argv)
{
	UNUSED(argv);
	if (argc) {
		fputs("usage: hwc3d render-thumbnails\n", stderr);
		return 2;
	}
	job_init();
	db_t *db;
	int rc = cli_open_db(&db);
	if (rc)
		return rc;
	db_rows_t *r = DBQ0(db, "SELECT id, creator_id FROM models WHERE deleted_at IS NULL"
			   " AND (thumbnail_url IS NULL OR thumbnail_url = '') ORDER BY id");
	size_t n = 0, cap = 64;
	int64_t *ids = xmalloc(cap * 2 * sizeof(int64_t));
	bool ok = r != NULL;
	while (ok && db_next(r)) {
		if (n == cap) {
			cap *= 2;
			ids = xrealloc(ids, cap * 2 * sizeof(int64_t));
		}
		ids[2 * n] = db_int(r, 0);
		ids[2 * n + 1] = db_int(r, 1);
		n++;
	}
	ok = ok && !db_failed(r);
	db_done(r);
	int64_t queued = 0;
	for (size_t i = 0; ok && i < n; i++) {
		char payload[96], like[64];
		snprintf(payload, sizeof(payload), "{\"model_id\":%lld,\"notify\":\"failed\"}", (long long)ids[2 * i]);
		snprintf(like, sizeof(like), "%%\"model_id\":%lld,%%", (long long)ids[2 * i]);
		int64_t busy = 0;
		ok = DBS(db, &busy, "SELECT COUNT(*) FROM jobs WHERE kind = $1 AND status IN ('queued', 'running')"
			 " AND payload LIKE $2", P_TEXT(RENDER_THUMB_JOB), P_TEXT(like)) == 1;
		if (ok && !busy) {
			ok = job_enqueue(db, RENDER_THUMB_JOB, payload, ids[2 * i + 1], NULL);
			queued += ok;
		}
	}
	free(ids);
	if (!ok)
		fprintf(stderr, "hwc3d: render-thumbnails: %s\n", db_errmsg(db));
	else
		printf("{\"queued\": %lld}\n", (long long)queued);
	db_close(db);
	return ok ? 0 : 1;
}
