/*
 * safety.c: POST /api/models/safety-scan (issue 13, point 4), the gate
 * that keeps unsafe uploads from being published, and the scan summary of
 * admin moderation.
 *
 * A scan is three steps, none on the poll thread: the file checks
 * (media/safety.h, with ClamAV) on POOL_ANALYZE, over the stored file (a
 * local one through its open descriptor; from S3 a copy fetched on
 * POOL_NET first); then the duplicate lookup on POOL_DB: the upload's
 * geometry fingerprint (from its analysis) against the stored fingerprints
 * of every model in the same coarse key or its neighbours
 * (media/fingerprint.h), at most DUP_MAX_CANDIDATES of them; then, on the
 * poll thread, the row in upload_scans and the answer.
 */
#include <curl/curl.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include "api.h"
#include "safety.h"
#include "../core/log.h"
#include "../core/util.h"
#include "../http/pool.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "../media/fingerprint.h"
#include "../media/safety.h"
#include "../svc/storage.h"

#define DUP_MAX_CANDIDATES 200000
#define DUP_KEEP 5 /* best matches checked against models */
#define DUP_MIN_TRIANGLES 64
#define FETCH_TIMEOUT_S 120

struct scan {
	req_t *req; /* for POOL_DB work: its db is the worker's then */
	arena_t *arena;
	int64_t upload_id;
	const char *key, *format;
	json_t *analysis;
	int fd;
	char path[PATH_MAX];
	bool tmp_copy;
	json_t *findings;
	char err[256];
	/* the likely original */
	int64_t dup_id, dup_creator;
	double dup_sim;
	const char *dup_title, *dup_username;
	int64_t candidates;
	bool lookup_ran;
	safety_then_fn then;
	void *ctx;
};

static void json_release(void *p)
{
	json_decref(p);
}

static void scan_cleanup(void *p)
{
	struct scan *s = p;
	if (s->fd >= 0)
		close(s->fd);
	if (s->tmp_copy)
		unlink(s->path);
}

/* ---- the scan document ---- */

static json_t *scan_doc(int64_t upload_id, const char *verdict, json_t *findings, int64_t dup_id, const char *title,
			int64_t creator_id, const char *username, double sim, int64_t at_ms)
{
	char at[32];
	iso8601_ms(at_ms, at);
	json_t *dup = json_null();
	if (dup_id > 0)
		dup = json_pack("{s:I, s:s?, s:{s:I, s:s?}, s:f}", "model_id", (json_int_t)dup_id, "title", title,
				"creator", "id", (json_int_t)creator_id, "username", username,
				"similarity", round(sim * 1000) / 1000);
	return json_pack("{s:I, s:s, s:O, s:o, s:s}", "upload_id", (json_int_t)upload_id, "verdict", verdict,
			 "findings", findings, "duplicate_of", dup, "scanned_at", at);
}

/* The latest scan of an upload from upload_scans (NULL when none). */
static json_t *latest_scan(req_t *req, const char *where, int64_t id, bool *failed)
{
	*failed = false;
	char *sql = arena_printf(req->arena,
		"SELECT s.upload_id, s.verdict, s.findings, s.duplicate_of, s.similarity, s.created_at, d.title,"
		" d.creator_id, u.username FROM upload_scans s"
		" LEFT JOIN models d ON d.id = s.duplicate_of LEFT JOIN users u ON u.id = d.creator_id"
		" WHERE %s ORDER BY s.id DESC LIMIT 1", where);
	db_rows_t *r = DBQ(req->db, sql, P_INT(id));
	if (!r) {
		*failed = true;
		return NULL;
	}
	json_t *doc = NULL;
	if (db_next(r)) {
		json_t *f = json_loads(db_text(r, 2) ? db_text(r, 2) : "[]", 0, NULL);
		if (!json_is_array(f)) {
			json_decref(f);
			f = json_array();
		}
		doc = scan_doc(db_int(r, 0), db_text(r, 1), f, db_isnull(r, 3) ? 0 : db_int(r, 3), db_text(r, 6),
			       db_int(r, 7), db_text(r, 8), db_double(r, 4), db_int(r, 5));
		json_decref(f);
	}
	*failed = db_failed(r);
	db_done(r);
	return doc;
}

json_t *safety_summary(req_t *req, int64_t model_id)
{
	bool failed;
	json_t *doc = latest_scan(req, "s.upload_id = (SELECT upload_id FROM models WHERE id = $1)", model_id, &failed);
	return doc ? doc : json_null();
}

/* ---- pool work: files, children, the network; no MHD ---- */

static size_t fetch_write(char *ptr, size_t size, size_t n, void *fd)
{
	ssize_t w = write(*(int *)fd, ptr, size * n);
	return w < 0 ? 0 : (size_t)w;
}

/* S3: a copy of the stored file in the temp directory. */
static void fetch_work(void *ctx)
{
	struct scan *s = ctx;
	char *url = store_presigned_url_as(s->key, 300, NULL);
	snprintf(s->path, sizeof(s->path), "%s/scan-XXXXXX", store_tmp_dir());
	int fd = url ? mkstemp(s->path) : -1;
	if (fd < 0) {
		free(url);
		snprintf(s->err, sizeof(s->err), "cannot fetch the stored file");
		return;
	}
	s->tmp_copy = true;
	CURL *c = curl_easy_init();
	long status = 0;
	CURLcode rc = CURLE_FAILED_INIT;
	if (c) {
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)FETCH_TIMEOUT_S);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fetch_write);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &fd);
		rc = curl_easy_perform(c);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_cleanup(c);
	}
	free(url);
	if (rc != CURLE_OK || status != 200) {
		close(fd);
		snprintf(s->err, sizeof(s->err), "cannot fetch the stored file");
		return;
	}
	s->fd = fd;
}

static void file_work(void *ctx)
{
	struct scan *s = ctx;
	if (!s->tmp_copy)
		snprintf(s->path, sizeof(s->path), "/proc/self/fd/%d", s->fd);
	s->findings = safety_scan_file(s->path, s->format, s->analysis, s->err, sizeof(s->err));
	if (s->findings)
		arena_defer(s->arena, json_release, s->findings);
	if (s->tmp_copy) { /* the S3 copy is not needed any more */
		unlink(s->path);
		s->tmp_copy = false;
	}
}

/* POOL_DB: req->db is this worker's connection. */
static void dup_work(void *ctx)
{
	struct scan *s = ctx;
	req_t *req = s->req;
	fingerprint_t fp, other;
	json_t *j = json_object_get(s->analysis, "fingerprint");
	if (!j || !fingerprint_from_json(j, &fp)) {
		safety_add(s->findings, "duplicate", SEV_INFO,
			   "no geometry fingerprint for this upload (analysed before fingerprints existed)");
		return;
	}
	if (fp.triangles < DUP_MIN_TRIANGLES) {
		/* every cube is every other cube: not worth a moderator's time */
		safety_add(s->findings, "duplicate", SEV_INFO, "%llu triangles: too simple to compare",
			   (unsigned long long)fp.triangles);
		return;
	}
	if (!req->db) {
		safety_add(s->findings, "duplicate", SEV_LOW, "the duplicate lookup could not run");
		return;
	}
	/* The index alone, in key order; the best few over the threshold are
	 * then checked against models (deleted, or this upload's own). */
	int key = fingerprint_key(fp.triangles);
	struct { int64_t id; double sim; } best[DUP_KEEP] = { { 0, 0 } };
	db_rows_t *r = DBQ(req->db, "SELECT model_id, vec FROM model_fingerprints WHERE fp_key BETWEEN $1 AND $2"
			   " LIMIT $3", P_INT(key - 1), P_INT(key + 1), P_INT(DUP_MAX_CANDIDATES));
	while (r && db_next(r)) {
		s->candidates++;
		if (!fingerprint_decode(db_text(r, 1), &other))
			continue;
		double sim = fingerprint_similarity(&fp, &other);
		if (sim < FP_DUPLICATE || sim <= best[DUP_KEEP - 1].sim)
			continue;
		int k = DUP_KEEP - 1;
		for (; k > 0 && best[k - 1].sim < sim; k--)
			best[k] = best[k - 1];
		best[k].id = db_int(r, 0);
		best[k].sim = sim;
	}
	bool failed = !r || db_failed(r);
	db_done(r);
	if (failed) {
		safety_add(s->findings, "duplicate", SEV_LOW, "the duplicate lookup failed");
		return;
	}
	s->lookup_ran = true;
	for (int k = 0; k < DUP_KEEP && best[k].id && !s->dup_id; k++) {
		r = DBQ(req->db, "SELECT m.title, m.creator_id, u.username FROM models m JOIN users u ON u.id = m.creator_id"
			" WHERE m.id = $1 AND m.deleted_at IS NULL AND (m.upload_id IS NULL OR m.upload_id <> $2)",
			P_INT(best[k].id), P_INT(s->upload_id));
		if (r && db_next(r)) {
			s->dup_id = best[k].id;
			s->dup_sim = best[k].sim;
			s->dup_title = arena_strdup(s->arena, db_text(r, 0));
			s->dup_creator = db_int(r, 1);
			s->dup_username = arena_strdup(s->arena, db_text(r, 2));
		}
		db_done(r);
	}
}

/* ---- the steps on the poll thread ---- */

static int dup_done(req_t *req, void *ctx)
{
	struct scan *s = ctx;
	int64_t owner = 0;
	DBS(req->db, &owner, "SELECT user_id FROM uploads WHERE id = $1", P_INT(s->upload_id));
	if (s->dup_id) {
		bool own = s->dup_creator == owner;
		safety_add(s->findings, "duplicate", own ? SEV_INFO : SEV_HIGH,
			   "%s model #%lld \"%.120s\" by @%.60s (similarity %.3f)",
			   own ? "the same geometry as your" : "looks like a copy of", (long long)s->dup_id,
			   s->dup_title, s->dup_username, s->dup_sim);
	} else if (s->lookup_ran) {
		safety_add(s->findings, "duplicate", SEV_INFO, "no model on the platform has this geometry "
			   "(%lld compared)", (long long)s->candidates);
	}
	const char *verdict = safety_verdict(s->findings);
	char *text = json_dumps(s->findings, JSON_COMPACT);
	int64_t now = now_ms();
	int64_t rc = DBX(req->db, "INSERT INTO upload_scans (upload_id, verdict, findings, duplicate_of, similarity,"
			 " created_at) VALUES ($1, $2, $3, $4, $5, $6)", P_INT(s->upload_id), P_TEXT(verdict),
			 P_TEXT(text), s->dup_id ? P_INT(s->dup_id) : P_NULL,
			 s->dup_id ? P_DOUBLE(s->dup_sim) : P_NULL, P_INT(now));
	free(text);
	if (rc != 1)
		return reply_db_error(req, "record scan");
	/* Only the latest few scans of an upload are kept. */
	DBX(req->db, "DELETE FROM upload_scans WHERE upload_id = $1 AND id NOT IN"
	    " (SELECT id FROM upload_scans WHERE upload_id = $1 ORDER BY id DESC LIMIT 5)", P_INT(s->upload_id));
	json_t *doc = scan_doc(s->upload_id, verdict, s->findings, s->dup_id, s->dup_title, s->dup_creator,
			       s->dup_username, s->dup_sim, now);
	arena_defer(req->arena, json_release, doc);
	return s->then(req, s->ctx, verdict, doc);
}

static int files_done(req_t *req, void *ctx)
{
	struct scan *s = ctx;
	if (!s->findings) {
		log_warn("safety scan of upload %lld: %s", (long long)s->upload_id, s->err);
		return reply_internal(req, s->err);
	}
	return pool_defer(req, POOL_DB, dup_work, dup_done, s);
}

static int fetched_done(req_t *req, void *ctx)
{
	struct scan *s = ctx;
	if (s->fd < 0) {
		log_warn("safety scan of upload %lld: %s", (long long)s->upload_id, s->err);
		return reply_internal(req, s->err);
	}
	return pool_defer(req, POOL_ANALYZE, file_work, files_done, s);
}

/* Reads the upload (of any owner: callers check) and starts its scan. */
static int scan_start(req_t *req, int64_t upload_id, safety_then_fn then, void *ctx)
{
	db_rows_t *r = DBQ(req->db, "SELECT storage_key, file_format, analysis FROM uploads WHERE id = $1 AND kind = 'model'",
			   P_INT(upload_id));
	if (!r)
		return reply_db_error(req, "read upload");
	if (!db_next(r)) {
		db_done(r);
		return reply_error(req, ERR_NOT_FOUND, "Upload not found");
	}
	struct scan *s = arena_calloc(req->arena, sizeof(*s));
	s->req = req;
	s->arena = req->arena;
	s->upload_id = upload_id;
	s->fd = -1;
	s->key = arena_strdup(req->arena, db_text(r, 0));
	s->format = arena_strdup(req->arena, db_text(r, 1));
	s->analysis = db_text(r, 2) ? json_loads(db_text(r, 2), 0, NULL) : NULL;
	db_done(r);
	if (!json_is_object(s->analysis)) {
		json_decref(s->analysis);
		s->analysis = json_object();
	}
	arena_defer(req->arena, json_release, s->analysis);
	arena_defer(req->arena, scan_cleanup, s);
	s->then = then;
	s->ctx = ctx;
	if (store_is_s3())
		return pool_defer(req, POOL_NET, fetch_work, fetched_done, s);
	uint64_t size;
	s->fd = store_open_local(s->key, &size);
	if (s->fd < 0)
		return reply_internal(req, "the stored file is missing");
	return pool_defer(req, POOL_ANALYZE, file_work, files_done, s);
}

int safety_gate(req_t *req, int64_t upload_id, safety_then_fn then, void *ctx)
{
	bool failed;
	json_t *doc = latest_scan(req, "s.upload_id = $1", upload_id, &failed);
	if (failed)
		return reply_db_error(req, "read scan");
	if (!doc)
		return scan_start(req, upload_id, then, ctx);
	arena_defer(req->arena, json_release, doc);
	return then(req, ctx, json_string_value(json_object_get(doc, "verdict")), doc);
}

/* ---- POST /api/models/safety-scan ---- */

static int reply_scan(req_t *req, void *ctx, const char *verdict, json_t *scan)
{
	UNUSED(ctx);
	UNUSED(verdict);
	return reply_ok(req, json_incref(scan));
}

static int models_safety_scan(req_t *req)
{
	valid_t v;
	v_init(&v, req, req_body(req));
	int64_t id = v_int(&v, "upload_id", V_REQUIRED, 1, INT64_MAX, 0);
	if (!v_ok(&v))
		return v_reply(&v);
	int64_t found = 0;
	int rc = DBS(req->db, &found, "SELECT id FROM uploads WHERE id = $1 AND kind = 'model' AND (user_id = $2 OR $3 = TRUE)",
		     P_INT(id), P_INT(req->user->id), P_BOOL(req->user->is_admin));
	if (rc < 0)
		return reply_db_error(req, "read upload");
	if (rc == 0) /* someone else's upload looks exactly like a missing one */
		return reply_error(req, ERR_NOT_FOUND, "Upload not found");
	return scan_start(req, id, reply_scan, NULL);
}

const route_t safety_routes[] = {
	{ M_POST, "/api/models/safety-scan", models_safety_scan, ACCESS_USER, RL_GENERAL, BODY_JSON, 0, 0,
	  "Safety scan of an uploaded model: malware, format, glTF uris and bounds, .blend scripts, polyglots, "
	  "geometry, duplicates" },
};
EXPORT_ROUTES(safety_routes);
