/*
 * clam.c: see clam.h.  One engine per process, built under a mutex by the
 * first scan that needs it; later scans only read it.
 */
#include <clamav.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include "clam.h"
#include "../core/config.h"
#include "../core/log.h"
#include "../core/util.h"

static pthread_mutex_t engine_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cl_engine *engine;
static bool tried;
static char why_not[200];

/* At exit (after the server has stopped its workers): the engine goes, so
 * that leak checkers see only real leaks. */
static void engine_release(void)
{
	pthread_mutex_lock(&engine_lock);
	if (engine)
		cl_engine_free(engine);
	engine = NULL;
	pthread_mutex_unlock(&engine_lock);
}

/* Loads and compiles the engine once; NULL with why_not set otherwise. */
static struct cl_engine *engine_get(void)
{
	pthread_mutex_lock(&engine_lock);
	if (tried) {
		pthread_mutex_unlock(&engine_lock);
		return engine;
	}
	tried = true;
	const char *dir = config_get("CLAMAV_DB_DIR");
	if (!dir)
		dir = "/var/lib/clamav";
	struct stat st;
	unsigned int sigs = 0;
	cl_error_t rc;
	struct cl_engine *e = NULL;
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		snprintf(why_not, sizeof(why_not), "no ClamAV signature database installed (%s)", dir);
		goto out;
	}
	if ((rc = cl_init(CL_INIT_DEFAULT)) != CL_SUCCESS) {
		snprintf(why_not, sizeof(why_not), "ClamAV failed to start: %s", cl_strerror(rc));
		goto out;
	}
	e = cl_engine_new();
	if (!e) {
		snprintf(why_not, sizeof(why_not), "ClamAV failed to start");
		goto out;
	}
	/* Bounds on what one scan may unpack (archives inside models). */
	cl_engine_set_num(e, CL_ENGINE_MAX_FILESIZE, 200LL << 20);
	cl_engine_set_num(e, CL_ENGINE_MAX_SCANSIZE, 400LL << 20);
	cl_engine_set_num(e, CL_ENGINE_MAX_SCANTIME, 60000);
	rc = cl_load(dir, e, &sigs, CL_DB_STDOPT);
	if (rc != CL_SUCCESS || sigs == 0) {
		snprintf(why_not, sizeof(why_not), "no ClamAV signatures loaded from %s%s%s", dir,
			 rc != CL_SUCCESS ? ": " : "", rc != CL_SUCCESS ? cl_strerror(rc) : "");
		goto out;
	}
	if ((rc = cl_engine_compile(e)) != CL_SUCCESS) {
		snprintf(why_not, sizeof(why_not), "ClamAV signatures failed to compile: %s", cl_strerror(rc));
		goto out;
	}
	engine = e;
	e = NULL;
	atexit(engine_release);
	log_info("clamav: %u signatures loaded from %s", sigs, dir);
out:
	if (e)
		cl_engine_free(e);
	if (!engine)
		log_info("clamav: malware scan disabled: %s", why_not);
	pthread_mutex_unlock(&engine_lock);
	return engine;
}

enum clam_result clam_scan_fd(int fd, char *what, size_t whatlen)
{
	struct cl_engine *e = engine_get();
	if (!e) {
		snprintf(what, whatlen, "%s", why_not);
		return CLAM_SKIPPED;
	}
	struct cl_scan_options opts = { 0 };
	opts.parse = ~0u; /* look inside archives and documents */
	opts.general = CL_SCAN_GENERAL_HEURISTICS;
	const char *virname = NULL;
	unsigned long scanned = 0;
	cl_error_t rc = cl_scandesc(fd, NULL, &virname, &scanned, e, &opts);
	if (rc == CL_VIRUS) {
		snprintf(what, whatlen, "%s", virname ? virname : "unknown signature");
		return CLAM_FOUND;
	}
	if (rc == CL_CLEAN)
		return CLAM_CLEAN;
	snprintf(what, whatlen, "ClamAV could not scan the file: %s", cl_strerror(rc));
	return CLAM_ERROR;
}
