/*
 * uploads.c: files from the browser (guide section 15) and their serving.
 *
 * The dispatcher has already streamed the file part to a temp file, counted
 * and hashed it, and enforced the size limit.  Here the bytes decide the type
 * (with the extension agreeing), images are re-encoded without metadata,
 * models are analysed in a sandboxed child, and only then is the file stored
 * and its row written: a failure at any step leaves neither behind.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "api.h"
#include "files.h"
#include "../core/log.h"
#include "../core/num.h"
#include "../core/util.h"
#include "../http/pool.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "../svc/settings.h"
#include "../media/analyze.h"
#include "../media/blend.h"
#include "../media/image.h"
#include "../media/sniff.h"
#include "../svc/storage.h"
#include "../svc/sweep.h"

#define MB ((size_t)1 << 20)
#define AVATAR_SIDE 512

struct upload_kind {
	const char *kind, *area;
	enum file_type types[8];
	const char *allowed; /* for the error message */
};

static const struct upload_kind K_MODEL = { "model", "models",
	{ FT_GLB, FT_GLTF, FT_FBX, FT_OBJ, FT_BLEND }, ".glb, .gltf, .fbx, .obj, .blend" };
static const struct upload_kind K_IMAGE = { "image", "images",
	{ FT_JPEG, FT_PNG, FT_WEBP }, ".jpg, .jpeg, .png, .webp" };
static const struct upload_kind K_AVATAR = { "avatar", "avatars",
	{ FT_JPEG, FT_PNG }, ".jpg, .jpeg, .png" };
static const struct upload_kind K_ATTACHMENT = { "attachment", "attachments",
	{ FT_JPEG, FT_PNG, FT_WEBP, FT_PDF, FT_TXT, FT_ZIP }, "images (.jpg, .png, .webp), .pdf, .txt, .zip" };

struct stored {
	int64_t id;
	enum file_type type;
	char *key;
	uint64_t size;
	int width, height;
	json_t *analysis;
};

/* Sniffs the temp file; replies 415 and returns FT_UNKNOWN when the bytes
 * are not one of the kind's types or the name's extension disagrees. */
static enum file_type check_type(req_t *req, const struct upload_kind *k)
{
	upload_part_t *u = req->upload;
	enum file_type t = sniff_file(u->tmp_path);
	bool allowed = false;
	for (size_t i = 0; i < ARRAY_LEN(k->types) && k->types[i]; i++)
		allowed |= k->types[i] == t;
	if (!allowed || !file_ext_matches(u->filename, t)) {
		reply_error(req, ERR_INVALID_FILE_TYPE,
			    arena_printf(req->arena, "Unsupported file type: accepted are %s, and the file's "
					 "contents must match its extension", k->allowed));
		return FT_UNKNOWN;
	}
	return t;
}

static void json_release(void *p)
{
	json_decref(p);
}

/*
 * Type check, processing, storage, row.  The slow steps run on the worker
 * pool (http/pool.h) while the connection is suspended: image re-encoding
 * (POOL_IMAGE), model analysis (POOL_ANALYZE), Blender conversion
 * (POOL_BLEND) and storing (POOL_NET: an S3 transfer, or a local move with
 * its fsyncs); the database work stays on
 * the poll thread, between them.  answer() replies with the stored file.
 */
struct upload_job {
	const struct upload_kind *k;
	upload_part_t *u;
	arena_t *arena;
	struct stored s;
	int (*answer)(req_t *req, struct stored *s);
	bool ok, unavailable;
	char err[256];
};

/* ---- pool work: files and children only, no MHD, no database ---- */

static void image_work(void *ctx)
{
	struct upload_job *j = ctx;
	upload_part_t *u = j->u;
	char *clean = arena_printf(j->arena, "%s.img", u->tmp_path);
	j->ok = image_process(u->tmp_path, clean, j->s.type, !strcmp(j->k->kind, "avatar") ? AVATAR_SIDE : 0,
			      &j->s.width, &j->s.height, j->err, sizeof(j->err));
	if (!j->ok) {
		unlink(clean);
		return;
	}
	unlink(u->tmp_path);
	u->tmp_path = clean; /* the request's cleanup now removes this one */
	struct stat st;
	j->s.size = stat(clean, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static void keep_analysis(struct upload_job *j)
{
	if (j->s.analysis)
		arena_defer(j->arena, json_release, j->s.analysis); /* ours until the request ends */
}

static void analyze_work(void *ctx)
{
	struct upload_job *j = ctx;
	j->s.analysis = model_analyze(j->u->tmp_path, file_type_name(j->s.type), j->err, sizeof(j->err));
	keep_analysis(j);
}

static void blend_work(void *ctx)
{
	struct upload_job *j = ctx;
	j->s.analysis = blend_analyze(j->u->tmp_path, &j->unavailable, j->err, sizeof(j->err));
	keep_analysis(j);
}

static void store_work(void *ctx)
{
	struct upload_job *j = ctx;
	j->ok = store_put(j->u->tmp_path, j->s.key, file_type_mime(j->s.type), j->err, sizeof(j->err));
	j->u->tmp_path = NULL; /* consumed by the store, either way */
}

/* ---- the steps on the poll thread ---- */

static int stored_done(req_t *req, void *ctx)
{
	struct upload_job *j = ctx;
	struct stored *out = &j->s;
	upload_part_t *u = j->u;
	if (!j->ok)
		return reply_internal(req, j->err);
	char *analysis = out->analysis ? json_dumps(out->analysis, JSON_COMPACT) : NULL;
	int rc = DBS(req->db, &out->id,
		"INSERT INTO uploads (user_id, kind, storage_key, original_name, content_type, file_format,"
		" size_bytes, sha256, width, height, analysis, created_at)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
		P_INT(req->user->id), P_TEXT(j->k->kind), P_TEXT(out->key), P_TEXT(u->filename),
		P_TEXT(file_type_mime(out->type)), P_TEXT(file_type_name(out->type)), P_INT((int64_t)out->size),
		P_TEXT(u->sha256), out->width ? P_INT(out->width) : P_NULL, out->height ? P_INT(out->height) : P_NULL,
		P_TEXT(analysis), P_INT(now_ms()));
	free(analysis);
	if (rc != 1) {
		store_delete_later(req->db, out->key);
		return reply_db_error(req, "record upload");
	}
	return j->answer(req, out);
}

static int processed_done(req_t *req, void *ctx)
{
	struct upload_job *j = ctx;
	struct stored *out = &j->s;
	bool image = out->type == FT_JPEG || out->type == FT_PNG || out->type == FT_WEBP;
	if (image && !j->ok)
		return reply_invalid1(req, "file", arena_strdup(req->arena, j->err));
	if (!strcmp(j->k->kind, "model")) {
		if (j->unavailable) { /* no Blender or no sandbox: not the file's fault */
			req->retry_after = 300; /* Retry-After, added for every 503 by the server */
			return reply_error(req, ERR_UNAVAILABLE,
					   arena_printf(req->arena, "This model cannot be read now: %s", j->err));
		}
		if (!out->analysis)
			return reply_invalid1(req, "file",
					      arena_printf(req->arena, "This model could not be read: %s", j->err));
	}
	/* The quota again, with the size that will be stored (multipart.c
	 * checked what Content-Length announced, if it did). */
	char detail[300];
	enum quota_result q = upload_quota_check(req->db, req->user->id, req->user->is_admin, out->size, detail,
						 sizeof(detail));
	if (q != QUOTA_OK) {
		if (q == QUOTA_OVER)
			return reply_error(req, ERR_FILE_TOO_LARGE, arena_strdup(req->arena, detail));
		return reply_db_error(req, "check the upload quota");
	}
	char name[40];
	random_hex(name, 16);
	out->key = arena_printf(req->arena, "%s/%s.%s", j->k->area, name, file_type_ext(out->type));
	/* On the pool either way: an S3 transfer, or a local move whose fsyncs
	 * (file and directory) can take tens of ms on a busy disk. */
	return pool_defer(req, POOL_NET, store_work, stored_done, j);
}

static int analyzed_done(req_t *req, void *ctx)
{
	struct upload_job *j = ctx;
	/* Blender 2.8 and later: assimp cannot, Blender converts. */
	if (!j->s.analysis && j->s.type == FT_BLEND)
		return pool_defer(req, POOL_BLEND, blend_work, processed_done, j);
	return processed_done(req, j);
}

/* Checks the type and starts the chain; replies (or defers) either way. */
static int store_upload(req_t *req, const struct upload_kind *k, int (*answer)(req_t *req, struct stored *s))
{
	upload_part_t *u = req->upload;
	struct upload_job *j = arena_calloc(req->arena, sizeof(*j));
	j->k = k;
	j->u = u;
	j->arena = req->arena;
	j->answer = answer;
	j->s.type = check_type(req, k);
	if (j->s.type == FT_UNKNOWN)
		return DONE;
	j->s.size = u->size;
	if (j->s.type == FT_JPEG || j->s.type == FT_PNG || j->s.type == FT_WEBP)
		return pool_defer(req, POOL_IMAGE, image_work, processed_done, j);
	if (!strcmp(k->kind, "model"))
		return pool_defer(req, POOL_ANALYZE, analyze_work, analyzed_done, j);
	return processed_done(req, j);
}

static json_t *url_of(const char *key)
{
	char *u = store_public_url(key);
	json_t *j = json_string(u);
	free(u);
	return j;
}

static json_t *num_or_null(json_t *analysis, const char *key)
{
	json_t *v = analysis ? json_object_get(analysis, key) : NULL;
	return v ? json_incref(v) : json_null();
}

static int model_stored(req_t *req, struct stored *sp)
{
	const struct stored s = *sp;
	return reply_created(req, json_pack("{s:o, s:I, s:s, s:o, s:o, s:I}",
		"file_url", url_of(s.key), "file_size", (json_int_t)s.size, "file_format", file_type_name(s.type),
		"poly_count", num_or_null(s.analysis, "poly_count"), "vertex_count", num_or_null(s.analysis, "vertex_count"),
		"upload_id", (json_int_t)s.id));
}

/* The admins' limit (svc/settings.h), at most the route's (the guide's
 * maximum, enforced while the body streams in): 413 past it. */
static bool within_setting_or_413(req_t *req, int64_t mb, const char *what)
{
	if (!req->upload || req->upload->size <= (uint64_t)mb * MB)
		return true;
	reply_error(req, ERR_FILE_TOO_LARGE, arena_printf(req->arena, "%s files may be at most %lld MB", what, (long long)mb));
	return false;
}

static int upload_model(req_t *req)
{
	platform_settings_t ps;
	settings_get(req->db, &ps);
	if (!within_setting_or_413(req, ps.max_model_upload_mb, "Model"))
		return DONE;
	return store_upload(req, &K_MODEL, model_stored);
}

static int image_stored(req_t *req, struct stored *sp)
{
	const struct stored s = *sp;
	return reply_created(req, json_pack("{s:o, s:i, s:i, s:I, s:I}", "image_url", url_of(s.key),
		"width", s.width, "height", s.height, "file_size", (json_int_t)s.size, "upload_id", (json_int_t)s.id));
}

static int upload_image(req_t *req)
{
	platform_settings_t ps;
	settings_get(req->db, &ps);
	if (!within_setting_or_413(req, ps.max_image_upload_mb, "Image"))
		return DONE;
	return store_upload(req, &K_IMAGE, image_stored);
}

static int avatar_stored(req_t *req, struct stored *sp)
{
	const struct stored s = *sp;
	char *url = store_public_url(s.key);
	int64_t rc = DBX(req->db, "UPDATE users SET avatar_url = $2, updated_at = $3 WHERE id = $1",
			 P_INT(req->user->id), P_TEXT(url), P_INT(now_ms()));
	json_t *body = json_pack("{s:s, s:i, s:i, s:I}", "avatar_url", url, "width", s.width, "height", s.height,
				 "upload_id", (json_int_t)s.id);
	free(url);
	if (rc != 1) {
		json_decref(body);
		return reply_db_error(req, "set avatar");
	}
	/* The previous avatars are no longer shown anywhere: remove them, each
	 * row before its file (a crash in between leaves an orphan file for the
	 * sweep, never a row without its file). */
	db_rows_t *r = DBQ(req->db, "SELECT id, storage_key FROM uploads WHERE user_id = $1 AND kind = 'avatar' AND id <> $2",
			   P_INT(req->user->id), P_INT(s.id));
	struct { int64_t id; const char *key; } old[16];
	size_t n_old = 0;
	while (r && db_next(r) && n_old < ARRAY_LEN(old)) {
		old[n_old].id = db_int(r, 0);
		old[n_old++].key = arena_strdup(req->arena, db_text(r, 1));
	}
	db_done(r);
	for (size_t i = 0; i < n_old; i++)
		if (DBX(req->db, "DELETE FROM uploads WHERE id = $1", P_INT(old[i].id)) == 1)
			store_delete_later(req->db, old[i].key);
	return reply_created(req, body);
}

static int upload_avatar(req_t *req)
{
	platform_settings_t ps;
	settings_get(req->db, &ps);
	if (!within_setting_or_413(req, ps.max_avatar_upload_mb, "Avatar"))
		return DONE;
	return store_upload(req, &K_AVATAR, avatar_stored);
}

static int attachment_stored(req_t *req, struct stored *sp)
{
	const struct stored s = *sp;
	return reply_created(req, json_pack("{s:o, s:I, s:s, s:s, s:s, s:I}", "file_url", url_of(s.key),
		"file_size", (json_int_t)s.size, "file_format", file_type_name(s.type),
		"content_type", file_type_mime(s.type), "filename", req->upload->filename, "upload_id", (json_int_t)s.id));
}

static int upload_attachment(req_t *req)
{
	return store_upload(req, &K_ATTACHMENT, attachment_stored);
}

static int models_analyze(req_t *req)
{
	valid_t v;
	v_init(&v, req, req_body(req));
	int64_t id = v_int(&v, "upload_id", V_REQUIRED, 1, INT64_MAX, 0);
	if (!v_ok(&v))
		return v_reply(&v);
	db_rows_t *r = DBQ(req->db,
		"SELECT analysis, file_format, size_bytes, original_name FROM uploads"
		" WHERE id = $1 AND kind = 'model' AND (user_id = $2 OR $3 = TRUE)",
		P_INT(id), P_INT(req->user->id), P_BOOL(req->user->is_admin));
	if (!r)
		return reply_db_error(req, "read upload");
	if (!db_next(r)) {
		db_done(r);
		/* Someone else's upload looks exactly like a missing one. */
		return reply_error(req, ERR_NOT_FOUND, "Upload not found");
	}
	json_error_t jerr;
	json_t *a = db_text(r, 0) ? json_loads(db_text(r, 0), 0, &jerr) : NULL;
	if (!json_is_object(a)) {
		json_decref(a);
		a = json_object();
	}
	json_object_set_new(a, "upload_id", json_integer(id));
	json_object_set_new(a, "file_format", json_string(db_text(r, 1)));
	json_object_set_new(a, "file_size", json_integer(db_int(r, 2)));
	json_object_set_new(a, "filename", json_string(db_text(r, 3)));
	db_done(r);
	return reply_ok(req, a);
}

/* "bytes=a-b", "bytes=a-", "bytes=-n": one range within size, else false
 * (several ranges are served whole). */
static bool parse_range(const char *h, uint64_t size, uint64_t *from, uint64_t *to, bool *unsatisfiable)
{
	*unsatisfiable = false;
	if (!h || strncmp(h, "bytes=", 6) || strchr(h, ','))
		return false;
	const char *spec = h + 6, *dash = strchr(spec, '-');
	if (!dash)
		return false;
	char a[24] = "", b[24] = "";
	size_t al = (size_t)(dash - spec), bl = strlen(dash + 1);
	if (al >= sizeof(a) || bl >= sizeof(b))
		return false;
	memcpy(a, spec, al);
	memcpy(b, dash + 1, bl + 1);
	int64_t x, y;
	if (!al) {
		if (!parse_i64_range(b, 1, INT64_MAX, &y))
			return false;
		*from = (uint64_t)y >= size ? 0 : size - (uint64_t)y;
		*to = size - 1;
	} else {
		if (!parse_i64_range(a, 0, INT64_MAX, &x))
			return false;
		*from = (uint64_t)x;
		if (*from >= size) {
			*unsatisfiable = true;
			return false;
		}
		*to = bl ? (parse_i64_range(b, 0, INT64_MAX, &y) ? (uint64_t)y : UINT64_MAX) : size - 1;
		if (*to == UINT64_MAX || *to < *from)
			return false;
		if (*to >= size)
			*to = size - 1;
	}
	if (size == 0 || *from >= size) {
		*unsatisfiable = true;
		return false;
	}
	return true;
}

/* `kind; filename="<ASCII fallback>"; filename*=UTF-8''<name percent-encoded>`
 * (RFC 6266): the fallback has one '_' per character that is not plain
 * printable ASCII or is one of " \\ ; % (which a browser may read as
 * syntax or decode); the name itself travels only percent-encoded, so no
 * byte of it can end or split the header. */
static const char *content_disposition(req_t *req, const char *kind, const char *fname)
{
	const unsigned char *n = (const unsigned char *)(fname && *fname ? fname : "download");
	char *safe = arena_alloc(req->arena, strlen((const char *)n) + 1);
	size_t i = 0;
	for (const unsigned char *p = n; *p; p++)
		if (!(*p >= 0x80 && *p < 0xc0)) /* a continuation byte: its character has its '_' */
			safe[i++] = *p < 0x20 || *p >= 0x7f || strchr("\"\\;%", *p) ? '_' : (char)*p;
	safe[i] = '\0';
	strbuf_t star;
	sb_init(&star, 0);
	sb_add_uri_encoded(&star, (const char *)n, false);
	const char *out = arena_printf(req->arena, "%s; filename=\"%s\"; filename*=UTF-8''%s", kind, safe,
				       star.buf ? star.buf : "");
	sb_release(&star);
	return out;
}

int reply_stored_file(req_t *req, const char *key, const char *ctype, const char *etag, const char *fname,
		      bool public_area)
{
	req->own_cache_headers = true;
	req_add_header(req, "Cache-Control", public_area ? "public, max-age=31536000, immutable" : "private, no-store");
	req_add_header(req, "Content-Security-Policy", "sandbox; default-src 'none'");
	req_add_header(req, "ETag", etag);
	req_add_header(req, "Accept-Ranges", "bytes");
	bool image = str_has_prefix(ctype, "image/");
	const char *disposition = content_disposition(req, image ? "inline" : "attachment", fname);
	req_add_header(req, "Content-Disposition", disposition);
	if (store_is_s3()) {
		char *url = store_presigned_url_as(key, 300, disposition);
		if (!url)
			return reply_internal(req, "presign failed");
		req_add_header(req, "Location", arena_strdup(req->arena, url));
		free(url);
		return reply_bytes(req, 302, NULL, "", 0);
	}
	const char *inm = req_header(req, "If-None-Match");
	if (inm && !strcmp(inm, etag))
		return reply_bytes(req, 304, NULL, "", 0);
	uint64_t size;
	int fd = store_open_local(key, &size);
	if (fd < 0)
		return reply_error(req, ERR_NOT_FOUND, "Not found");
	uint64_t from = 0, to = size ? size - 1 : 0;
	bool bad = false;
	bool ranged = parse_range(req_header(req, "Range"), size, &from, &to, &bad);
	if (bad) {
		close(fd);
		req_add_header(req, "Content-Range", arena_printf(req->arena, "bytes */%llu", (unsigned long long)size));
		return reply_bytes(req, 416, NULL, "", 0);
	}
	uint64_t len = ranged ? to - from + 1 : size;
	reply_file(req, ranged ? 206 : 200, ctype, fd, ranged ? from : 0, len);
	if (req->status == 206)
		req_add_header(req, "Content-Range", arena_printf(req->arena, "bytes %llu-%llu/%llu",
			(unsigned long long)from, (unsigned long long)to, (unsigned long long)size));
	return DONE;
}

static int files_get(req_t *req)
{
	const char *area = req_param(req, "area"), *name = req_param(req, "name");
	bool public_area = !strcmp(area, "images") || !strcmp(area, "avatars");
	if (!public_area && strcmp(area, "models") && strcmp(area, "attachments"))
		return reply_error(req, ERR_NOT_FOUND, "Not found");
	char *key = arena_printf(req->arena, "%s/%s", area, name);
	db_rows_t *r = DBQ(req->db, "SELECT user_id, content_type, sha256, original_name FROM uploads WHERE storage_key = $1",
			   P_TEXT(key));
	if (!r)
		return reply_db_error(req, "find file");
	if (!db_next(r)) {
		db_done(r);
		return reply_error(req, ERR_NOT_FOUND, "Not found");
	}
	int64_t owner = db_int(r, 0);
	const char *ctype = arena_strdup(req->arena, db_text(r, 1));
	const char *etag = arena_printf(req->arena, "\"%s\"", db_text(r, 2));
	const char *fname = arena_strdup(req->arena, db_text(r, 3));
	db_done(r);
	/* Model sources and attachments: only their owner and admins (paid
	 * downloads go through signed links instead). */
	if (!public_area && !(req->user && (req->user->id == owner || req->user->is_admin)))
		return reply_error(req, ERR_NOT_FOUND, "Not found");
	return reply_stored_file(req, key, ctype, etag, fname, public_area);
}

#define UPLOAD(path, fn, limit, summary) \
	{ M_POST, path, fn, ACCESS_VERIFIED, RL_UPLOAD, BODY_MULTIPART, limit, 0, summary }

const route_t upload_routes[] = {
	UPLOAD("/api/upload/model", upload_model, 100 * MB, "Upload a 3D model (.glb .gltf .fbx .obj .blend, 100 MB)"),
	UPLOAD("/api/upload/image", upload_image, 10 * MB, "Upload an image (.jpg .jpeg .png .webp, 10 MB)"),
	UPLOAD("/api/upload/avatar", upload_avatar, 2 * MB, "Upload the avatar (.jpg .jpeg .png, 2 MB)"),
	UPLOAD("/api/upload/attachment", upload_attachment, 25 * MB, "Upload a support attachment (images, .pdf, .txt, .zip, 25 MB)"),
	{ M_POST, "/api/models/analyze", models_analyze, ACCESS_USER, RL_GENERAL, BODY_JSON, 0, 0, "The analysis of an uploaded model" },
	{ M_GET, "/files/{area}/{name}", files_get, ACCESS_OPTIONAL, RL_NONE, BODY_NONE, 0, 0, "A stored file (models and attachments: owner and admins only)" },
};
EXPORT_ROUTES(upload_routes);
