/*
 * fingerprints.c: `hwc3d fingerprint-backfill [--limit N]`: the geometry
 * fingerprint (media/fingerprint.h) of every model that has none yet (the
 * models made before issue 13, demo models), so that duplicate lookups
 * compare against the whole platform.
 *
 * A model's upload analysis carries the fingerprint when it was analysed
 * by a build that computes it; otherwise the stored file is analysed again
 * in the sandboxed child (local storage; Blender-converted .blend files
 * are skipped: they need the jail and minutes).  Models are taken in id
 * order, N at a time (default all); run it again to go on.  Exit 0 when
 * every model it looked at was filled or skipped, 1 on a database error.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "../core/log.h"
#include "../core/num.h"
#include "../core/util.h"
#include "../media/analyze.h"
#include "../media/fingerprint.h"
#include "../svc/storage.h"

static bool from_analysis(const char *text, fingerprint_t *fp)
{
	json_t *a = text ? json_loads(text, 0, NULL) : NULL;
	bool ok = fingerprint_from_json(json_object_get(a, "fingerprint"), fp);
	json_decref(a);
	return ok;
}

/* Analyses the stored file again; true with fp set. */
static bool from_file(const char *key, const char *format, fingerprint_t *fp, char *err, size_t errlen)
{
	if (!strcmp(format, "BLEND")) {
		snprintf(err, errlen, ".blend files need Blender: skipped");
		return false;
	}
	uint64_t size;
	int fd = store_open_local(key, &size);
	if (fd < 0) {
		snprintf(err, errlen, "file not found in local storage");
		return false;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	json_t *a = model_analyze(path, format, err, errlen);
	close(fd);
	bool ok = a && fingerprint_from_json(json_object_get(a, "fingerprint"), fp);
	if (a && !ok)
		snprintf(err, errlen, "no measurable geometry");
	json_decref(a);
	return ok;
}

int cli_fingerprint_backfill(int argc, char **argv)
{
	int64_t limit = INT64_MAX;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--limit") && i + 1 < argc && parse_i64_range(argv[i + 1], 1, INT64_MAX, &limit)) {
			i++;
			continue;
		}
		fputs("usage: hwc3d fingerprint-backfill [--limit N]\n", stderr);
		return 2;
	}
	char err[256];
	if (!store_init(err, sizeof(err))) {
		fprintf(stderr, "hwc3d: %s\n", err);
		return 1;
	}
	db_t *db;
	int rc = cli_open_db(&db);
	if (rc)
		return rc;
	int64_t done = 0, skipped = 0, after = 0;
	bool failed = false;
	while (done + skipped < limit && !failed) {
		db_rows_t *r = DBQ(db, "SELECT m.id, u.analysis, u.storage_key, u.file_format FROM models m"
			" JOIN uploads u ON u.id = m.upload_id LEFT JOIN model_fingerprints f ON f.model_id = m.id"
			" WHERE f.model_id IS NULL AND m.deleted_at IS NULL AND m.id > $1 ORDER BY m.id LIMIT 100",
			P_INT(after));
		if (!r) {
			failed = true;
			break;
		}
		struct { int64_t id; char *analysis, *key, *format; } batch[100];
		size_t n = 0;
		while (db_next(r) && n < 100) {
			batch[n].id = db_int(r, 0);
			batch[n].analysis = db_text(r, 1) ? xstrdup(db_text(r, 1)) : NULL;
			batch[n].key = xstrdup(db_text(r, 2));
			batch[n].format = xstrdup(db_text(r, 3));
			n++;
		}
		failed = db_failed(r);
		db_done(r);
		for (size_t i = 0; i < n; i++) {
			fingerprint_t fp;
			after = batch[i].id;
			if (!failed && done + skipped < limit) {
				if (from_analysis(batch[i].analysis, &fp) ||
				    from_file(batch[i].key, batch[i].format, &fp, err, sizeof(err))) {
					char *vec = fingerprint_encode(&fp);
					failed = DBX(db, "INSERT INTO model_fingerprints (model_id, fp_key, vec, created_at)"
						     " VALUES ($1, $2, $3, $4)", P_INT(batch[i].id),
						     P_INT(fingerprint_key(fp.triangles)), P_TEXT(vec), P_INT(now_ms())) != 1;
					free(vec);
					done++;
				} else {
					log_info("fingerprint-backfill: model %lld: %s", (long long)batch[i].id, err);
					skipped++;
				}
			}
			free(batch[i].analysis);
			free(batch[i].key);
			free(batch[i].format);
		}
		if (n < 100)
			break;
	}
	db_close(db);
	printf("fingerprint-backfill: %lld model(s) fingerprinted, %lld skipped\n", (long long)done, (long long)skipped);
	if (failed)
		fprintf(stderr, "hwc3d: fingerprint-backfill: database error\n");
	return failed ? 1 : 0;
}
