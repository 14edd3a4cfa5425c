#include <errno.h>
#include <microhttpd.h>
#include <sodium.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>
#include "multipart.h"
#include "reply.h"
#include "validate.h"
#include "../core/log.h"
#include "../core/num.h"
#include "../core/util.h"
#include "../svc/storage.h"
#include "../svc/sweep.h"

#define MAX_FIELDS 32
#define MAX_FIELD_BYTES 4096

static void part_cleanup(void *arg)
{
	upload_part_t *u = arg;
	if (u->fd >= 0)
		close(u->fd);
	if (u->tmp_path)
		unlink(u->tmp_path);
	free(u->hash);
}

/* "C:\\fakepath\\my model.glb" -> "my model.glb"; control characters and
 * quotes dropped; at most 200 bytes of UTF-8. */
static const char *clean_name(req_t *req, const char *name)
{
	if (!name)
		return "upload";
	const char *base = name;
	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	char *out = arena_alloc(req->arena, 201);
	size_t j = 0;
	for (const unsigned char *p = (const unsigned char *)base; *p && j < 200; p++)
		if (*p >= 0x20 && *p != 0x7f && *p != '"')
			out[j++] = (char)*p;
	out[j] = '\0';
	/* A cut inside a character, or bytes that are not UTF-8 (which
	 * PostgreSQL refuses to store): never kept as they are. */
	for (int k = 0; k < 3 && j && (unsigned char)out[j - 1] >= 0x80 && !utf8_valid(out); k++)
		out[--j] = '\0';
	if (!utf8_valid(out))
		for (char *p = out; *p; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '_';
	return j ? out : "upload";
}

static bool open_part(req_t *req, const char *key, const char *filename)
{
	upload_part_t *u = arena_calloc(req->arena, sizeof(*u));
	u->fd = -1;
	u->tmp_path = arena_printf(req->arena, "%s/up-XXXXXX", store_tmp_dir());
	u->fd = mkstemp(u->tmp_path);
	if (u->fd < 0) {
		log_error("request %s: cannot create a temp file: %s", req->request_id, strerror(errno));
		u->no_space = errno == ENOSPC || errno == EDQUOT;
		u->tmp_path = NULL;
		u->failed = true;
	} else {
		/* While we write, the lock tells the temp-file sweep (sweep.h) of
		 * this or another instance that the file is alive.  A killed
		 * process loses it, and the next start removes the file. */
		(void)flock(u->fd, LOCK_EX | LOCK_NB);
	}
	u->hash = xmalloc(sizeof(crypto_hash_sha256_state));
	crypto_hash_sha256_init(u->hash);
	u->filename = clean_name(req, filename);
	u->field = arena_strdup(req->arena, key ? key : "file");
	arena_defer(req->arena, part_cleanup, u);
	req->upload = u;
	return !u->failed;
}

static enum MHD_Result on_part(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
			       const char *content_type, const char *transfer_encoding, const char *data,
			       uint64_t off, size_t size)
{
	UNUSED(kind);
	UNUSED(content_type);
	UNUSED(transfer_encoding);
	req_t *req = cls;
	if (!filename) {
		/* An ordinary field, possibly in several pieces. */
		if (!key || !req->form)
			return MHD_YES;
		json_t *cur = json_object_get(req->form, key);
		size_t have = cur ? json_string_length(cur) : 0;
		if (!cur && json_object_size(req->form) >= MAX_FIELDS)
			return MHD_YES;
		if (have + size > MAX_FIELD_BYTES)
			return MHD_YES;
		char *joined = arena_alloc(req->arena, have + size + 1);
		if (have)
			memcpy(joined, json_string_value(cur), have);
		memcpy(joined + have, data, size);
		joined[have + size] = '\0';
		json_object_set_new(req->form, key, json_stringn_nocheck(joined, have + size));
		return MHD_YES;
	}
	upload_part_t *u = req->upload;
	if (!u) {
		if (off != 0)
			return MHD_YES;
		open_part(req, key, filename);
		u = req->upload;
	} else if (strcmp(u->field, key ? key : "file") || u->done || u->sealed) {
		return MHD_YES; /* only the first file part is kept */
	} else if (off == 0 && (u->size > 0 || u->too_large)) {
		/* A second part under the same name starts over at offset 0:
		 * it must not be appended to the first (found by fuzz_multipart). */
		u->sealed = true;
		return MHD_YES;
	}
	if (u->failed || u->too_large || size == 0)
		return MHD_YES;
	size_t limit = req->route->body_limit;
	if (u->size + size > limit) {
		u->too_large = true;
		close(u->fd);
		u->fd = -1;
		unlink(u->tmp_path);
		u->tmp_path = NULL;
		return MHD_YES;
	}
	const char *p = data;
	size_t left = size;
	while (left > 0) {
		ssize_t w = write(u->fd, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			log_error("request %s: cannot write the upload: %s", req->request_id, strerror(errno));
			u->no_space = w < 0 && (errno == ENOSPC || errno == EDQUOT);
			u->failed = true;
			/* What was written is of no use: give the room back now. */
			close(u->fd);
			u->fd = -1;
			unlink(u->tmp_path);
			u->tmp_path = NULL;
			return MHD_YES;
		}
		p += w;
		left -= (size_t)w;
	}
	crypto_hash_sha256_update(u->hash, (const unsigned char *)data, size);
	u->size += size;
	return MHD_YES;
}

static void pp_release(void *arg)
{
	MHD_destroy_post_processor(arg);
}

static void form_release(void *arg)
{
	json_decref(arg);
}

/* Over the upload quota already by what Content-Length announces (less
 * the framing allowance): answered before a byte of the body is read.
 * uploads.c checks again with the real size at the end. */
static void check_quota(req_t *req)
{
	const char *cl = req_header(req, "Content-Length");
	int64_t n;
	if (!req->user || !req->db || !cl || !parse_i64(cl, &n) || n < 0)
		return;
	uint64_t file = (uint64_t)n > MULTIPART_SLACK ? (uint64_t)n - MULTIPART_SLACK : 0;
	char detail[300];
	enum quota_result q = upload_quota_check(req->db, req->user->id, req->user->is_admin, file, detail,
						 sizeof(detail));
	if (q == QUOTA_OK || req->early_status)
		return;
	req->early_err = q == QUOTA_OVER ? ERR_FILE_TOO_LARGE : ERR_UNAVAILABLE;
	req->early_status = err_status((err_t)req->early_err);
	req->retry_after = 5;
	req->early_detail = q == QUOTA_OVER ? arena_strdup(req->arena, detail)
					    : "The database is unavailable; try again shortly";
}

bool multipart_begin(req_t *req)
{
	req->form = json_object();
	arena_defer(req->arena, form_release, req->form);
	req->pp = MHD_create_post_processor(req->conn, 65536, on_part, req);
	if (!req->pp)
		return false;
	arena_defer(req->arena, pp_release, req->pp);
	check_quota(req);
	return true;
}

bool multipart_feed(req_t *req, const char *data, size_t n)
{
	return MHD_post_process(req->pp, data, n) == MHD_YES;
}

void multipart_end(req_t *req)
{
	upload_part_t *u = req->upload;
	if (!u || u->done)
		return;
	u->done = true;
	/* No fsync here, on the poll thread (tens of ms for a big file on a
	 * busy disk): the file reaches the disk in store_put, on the pool,
	 * before any row names it. */
	if (u->fd >= 0) {
		if (close(u->fd))
			u->failed = true;
		u->fd = -1;
	}
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_final(u->hash, h);
	sodium_bin2hex(u->sha256, sizeof(u->sha256), h, sizeof(h));
}

void multipart_discard(req_t *req)
{
	upload_part_t *u = req->upload;
	if (!u)
		return;
	if (u->fd >= 0) {
		close(u->fd);
		u->fd = -1;
	}
	if (u->tmp_path) {
		unlink(u->tmp_path);
		u->tmp_path = NULL;
	}
}
