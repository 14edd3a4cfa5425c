/*
 * main.c: the hwc3d command line.
 *
 *   hwc3d [serve]            migrate, then serve HTTP until SIGTERM/SIGINT
 *   hwc3d migrate            apply pending migrations
 *   hwc3d create-admin --email E --password P [--username U]
 *   hwc3d seed-demo [--scale N]
 *   hwc3d routes             the route table as JSON, with handler names (cli/routes.c)
 *   hwc3d sweep              one housekeeping sweep (svc/sweep.h), then exit
 *   hwc3d job-enqueue KIND JSON [--owner ID]   queue a background job (svc/jobs.h)
 *   hwc3d fingerprint-backfill [--limit N]   fingerprints of models made before them (cli/fingerprints.c)
 *   hwc3d convert-models [--all | --model ID]  queue GLB conversions (svc/model_convert.h)
 *   hwc3d render-thumbnails  queue a thumbnail render for every model without one
 *   hwc3d backup FILE [--force]  a consistent copy of the SQLite database, beside a running server (cli/backup.c)
 *   hwc3d restore FILE       the SQLite database replaced by a backup (server stopped), then migrated
 *   hwc3d version
 *
 * Exit codes: 0 ok, 1 runtime failure, 2 bad usage or a bad setting.
 */
#include <curl/curl.h>
#include <errno.h>
#include <locale.h>
#include <jansson.h>
#include <sodium.h>
#include <sys/stat.h>
#include "api/api.h"
#include "cli/cli.h"
#include "core/config.h"
#include "core/log.h"
#include "core/util.h"
#include "db/db.h"
#include "db/migrate.h"
#include "http/server.h"
#include "http/static.h"
#include "media/analyze.h"
#include "media/render.h"
#include "media/blend.h"
#include "media/convert.h"
#include "media/image.h"
#include "media/specsheet.h"
#include "svc/jobs.h"
#include "svc/mail.h"
#include "svc/model_convert.h"
#include "svc/storage.h"
#include "svc/sweep.h"
#include "svc/orders.h"
#include "svc/events.h"
#include "svc/metrics.h"
#include "svc/ratelimit.h"
#include "svc/rollup.h"
#include "svc/queue_gauges.h"
#include "version.h"

static int usage(void)
{
	fputs("usage: hwc3d [serve | migrate | create-admin --email E --password P [--username U] |\n"
	      "              seed-demo [--scale N] | routes | sweep | job-enqueue KIND JSON [--owner ID] |\n"
	      "              fingerprint-backfill [--limit N] |\n"
	      "              convert-models [--all | --model ID] |\n"
	      "              render-thumbnails | backup FILE [--force] | restore FILE | version]\n", stderr);
	return 2;
}

static int cmd_migrate(void)
{
	db_t *db;
	int rc = cli_open_db(&db);
	if (rc)
		return rc;
	log_info("database schema at version %d", migrate_current(db));
	db_close(db);
	return 0;
}

/* One sweep now, beside a running server or not: temp files and orphans
 * younger than SWEEP_GRACE_MS stay, expired unused uploads go. */
static int cmd_sweep(void)
{
	char err[512];
	if (cli_make_data_dir())
		return 1;
	if (!store_init(err, sizeof(err))) {
		fprintf(stderr, "hwc3d: %s\n", err);
		return 2;
	}
	db_t *db;
	int rc = cli_open_db(&db);
	if (rc)
		return rc;
	struct sweep_stats st;
	sweep_once(db, &st);
	db_close(db);
	printf("{\"expired_uploads\": %lld, \"orphan_files\": %lld, \"temp_files\": %lld}\n",
	       (long long)st.expired_uploads, (long long)st.orphan_files, (long long)st.temp_files);
	if (st.failed) {
		fputs("hwc3d: the sweep stopped early on a database error (see the log above)\n", stderr);
		return 1;
	}
	return 0;
}

static int cmd_serve(void)
{
	char err[512];
	server_block_signals(); /* before any thread: see server.h */
	if (cli_make_data_dir())
		return 1;
	if (config_load_secret(err, sizeof(err))) {
		fprintf(stderr, "hwc3d: %s\n", err);
		return 2;
	}
	/* Settings first: a bad one stops us before the database is touched. */
	if (!mail_init(err, sizeof(err)) || !store_init(err, sizeof(err))) {
		fprintf(stderr, "hwc3d: %s\n", err);
		return 2;
	}
	/* Whatever a killed predecessor was writing is garbage now. */
	log_info("startup: removed %lld leftover temp files from %s", (long long)sweep_clean_tmp(0),
		 store_tmp_dir());
	db_t *db;
	int rc = cli_open_db(&db);
	if (rc)
		return rc;
	db_close(db);
	if (!image_init()) {
		fprintf(stderr, "hwc3d: libvips failed to initialise\n");
		return 1;
	}
	blend_init();
	router_t *r = routes_build();
	if (!ws_channels_register()) { /* a full table: a programming error */
		log_error("cannot register the WebSocket channels");
		router_free(r);
		return 1;
	}
	size_t nroutes = router_count(r);
	metrics_route_t *labels = xcalloc(nroutes ? nroutes : 1, sizeof(*labels));
	for (size_t i = 0; i < nroutes; i++) {
		const route_t *rt = router_get(r, i);
		labels[i] = (metrics_route_t){ method_name(rt->method), rt->pattern };
	}
	metrics_init(labels, nroutes);
	free(labels);
	ratelimit_init();
	mail_worker_start();
	job_init();
	model_convert_register();
	job_workers_start();
	sweep_start();
	orders_reconciler_start(); /* pending orders a crash left: settled, once */
	rollup_advancer_start();   /* model_window rows brought to today after midnight */
	queue_gauges_start();      /* job and outbox depths for /metrics */
	static_init();             /* the web client's asset table, before the first page */
	events_start();            /* with REDIS_URL: WebSocket events through pub/sub */
	rc = server_run(r);
	events_stop();
	queue_gauges_stop();
	rollup_advancer_stop();
	orders_reconciler_stop();
	sweep_stop();
	job_workers_stop();
	mail_worker_stop();
	image_shutdown();
	specsheet_shutdown();
	db_thread_release();
	ratelimit_shutdown();
	metrics_free();
	router_free(r);
	return rc;
}

int main(int argc, char **argv)
{
	/* Characters, not bytes, for lowercasing tags and names; numbers and
	 * messages stay in the C locale. */
	setlocale(LC_CTYPE, "C.UTF-8");
	const char *cmd = argc > 1 ? argv[1] : "serve";
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("hwc3d %s\n", HWC_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage();
		return 0;
	}
	if (!strcmp(cmd, "analyze-model")) /* the sandboxed child: needs no settings */
		return analyze_child_main(argc - 2, argv + 2);
	if (!strcmp(cmd, "convert-model")) /* the GLB conversion child, likewise */
		return convert_child_main(argc - 2, argv + 2);
	if (!strcmp(cmd, "render-model")) /* the render child, likewise */
		return render_child_main(argc - 2, argv + 2);
	if (!strcmp(cmd, "blend-convert")) /* the Blender child, likewise */
		return blend_child_main(argc - 2, argv + 2);
	if (!strcmp(cmd, "image-process")) /* the libvips child, likewise */
		return image_child_main(argc - 2, argv + 2);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fputs("hwc3d: libcurl failed to initialise\n", stderr);
		return 1;
	}
	atexit(curl_global_cleanup);
	if (sodium_init() < 0) {
		fputs("hwc3d: libsodium failed to initialise\n", stderr);
		return 1;
	}
	char err[512];
	if (config_load(err, sizeof(err))) {
		fprintf(stderr, "hwc3d: %s\n", err);
		return 2;
	}
	if (!strcmp(cmd, "serve"))
		return argc > 2 ? usage() : cmd_serve();
	if (!strcmp(cmd, "migrate"))
		return argc > 2 ? usage() : cmd_migrate();
	if (!strcmp(cmd, "routes"))
		return cli_routes();
	if (!strcmp(cmd, "sweep"))
		return argc > 2 ? usage() : cmd_sweep();
	if (!strcmp(cmd, "create-admin"))
		return cli_create_admin(argc - 2, argv + 2);
	if (!strcmp(cmd, "seed-demo"))
		return cli_seed_demo(argc - 2, argv + 2);
	if (!strcmp(cmd, "convert-models"))
		return cli_convert_models(argc - 2, argv + 2);
	if (!strcmp(cmd, "job-enqueue"))
		return cli_job_enqueue(argc - 2, argv + 2);
	if (!strcmp(cmd, "fingerprint-backfill"))
		return cli_fingerprint_backfill(argc - 2, argv + 2);
	if (!strcmp(cmd, "render-thumbnails"))
		return cli_render_thumbnails(argc - 2, argv + 2);
	if (!strcmp(cmd, "backup"))
		return cli_backup(argc - 2, argv + 2);
	if (!strcmp(cmd, "restore"))
		return cli_restore(argc - 2, argv + 2);
	return usage();
}
