/* convert.c: `hwc3d convert-models [--all | --model ID]`, the backfill of
 * GLB conversions and quality reports (svc/model_convert.h): queues a
 * model_convert job for every undeleted model with a file that is not a
 * GLB and has no viewer file yet (conversion_status other than 'done') or
 * has no quality report; with --all for every model with a file; with
 * --model for that one.  The server's job workers do the work. */
#include "cli.h"
#include "../core/num.h"
#include "../core/util.h"
#include "../svc/jobs.h"
#include "../svc/model_convert.h"

static int usage(void)
{
	fputs("usage: hwc3d convert-models [--all | --model ID]\n", stderr);
	return 2;
}

int cli_convert_models(int argc, char **argv)
{
	bool all = false;
	int64_t one = 0;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--all"))
			all = true;
		else if (!strcmp(argv[i], "--model") && i + 1 < argc && parse_i64_range(argv[i + 1], 1, INT64_MAX, &one))
			i++;
		else
			return usage();
	}
	if (all && one)
		return usage();
	job_init();
	model_convert_register();
	db_t *db;
	int rc = cli_open_db(&db);
	if (rc)
		return rc;
	db_rows_t *r = DBQ(db, "SELECT id, creator_id, file_format <> 'GLB' AND conversion_status = 'done'"
			       " AND viewer_key IS NOT NULL FROM models WHERE deleted_at IS NULL AND file_key IS NOT NULL"
			       " AND ($1 = 0 OR id = $1) AND ($2 OR $1 <> 0 OR quality IS NULL"
			       " OR (file_format <> 'GLB' AND conversion_status <> 'done')) ORDER BY id",
			   P_INT(one), P_BOOL(all));
	int64_t (*ids)[3] = NULL;
	size_t n = 0, cap = 0;
	while (r && db_next(r)) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			ids = xrealloc(ids, cap * sizeof(*ids));
		}
		ids[n][0] = db_int(r, 0);
		ids[n][1] = db_int(r, 1);
		ids[n][2] = !all && !one && db_bool(r, 2); /* converted: only the report is missing */
		n++;
	}
	bool ok = r && !db_failed(r);
	db_done(r);
	size_t queued = 0;
	for (size_t i = 0; ok && i < n; i++) {
		ok = (ids[i][2] || DBX(db, "UPDATE models SET conversion_status = 'pending', conversion_error = NULL"
					   " WHERE id = $1 AND file_format <> 'GLB'", P_INT(ids[i][0])) >= 0) &&
		     model_convert_enqueue(db, ids[i][0], ids[i][1], ids[i][2]);
		queued += ok;
	}
	free(ids);
	if (!ok)
		fprintf(stderr, "hwc3d: %s\n", db_errmsg(db));
	else
		printf("{\"queued\": %zu}\n", queued);
	db_close(db);
	return ok ? 0 : 1;
}
