/*
 * fuzz_multipart: multipart/form-data bodies through src/http/multipart.c.
 *
 * Input: the Content-Type header value, a newline, then the body.  It is
 * sent as a POST over a socketpair to an in-process libmicrohttpd daemon
 * (multipart.c runs on MHD's post processor, which needs a real
 * connection); the access handler does what server.c does for an upload
 * route: multipart_begin when the type is multipart/form-data, feeds every
 * piece, then multipart_end, the checks of upload_ready, and
 * multipart_discard.  The route's file limit is small (2 KB) so that the
 * too-large path is reached.  Checked: the file part's size and hash match
 * the bytes written, the temp file is gone after discard, the form fields
 * keep their limits, and a response is always sent.
 */
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fuzz.h"
#include "core/util.h"
#include "http/multipart.h"
#include "http/reply.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FILE_LIMIT 2048

static int upload_handler(req_t *req)
{
	UNUSED(req);
	return DONE;
}

static const route_t upload_route = {
	M_POST, "/api/uploads/fuzz", upload_handler, ACCESS_PUBLIC, RL_NONE, BODY_MULTIPART, FILE_LIMIT, 0, "fuzz",
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	UNUSED(argc);
	UNUSED(argv);
	fz_setup(false);
	return 0;
}

#define ASSERT(c) do { if (!(c)) { fprintf(stderr, "fuzz_multipart: %s\n", #c); abort(); } } while (0)

/* server.c's content_type_is */
static bool content_type_is(const char *ct, const char *want)
{
	if (!ct)
		return false;
	while (*ct == ' ')
		ct++;
	size_t n = strlen(want);
	return !strncasecmp(ct, want, n) && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}


static enum MHD_Result finish(req_t *req, struct MHD_Connection *conn)
{
	if (req->early_status) {
		reply_error_status(req, req->early_status, ERR_VALIDATION, "refused");
	} else {
		multipart_end(req);
		upload_part_t *u = req->upload;
		if (u) {
			ASSERT(u->done && u->filename && *u->filename && strlen(u->filename) <= 200);
			ASSERT(!strchr(u->filename, '/') && !strchr(u->filename, '\\'));
			for (const unsigned char *p = (const unsigned char *)u->filename; *p; p++)
				ASSERT(*p >= 0x20 && *p != 0x7f && *p != '"');
			if (u->too_large)
				ASSERT(!u->tmp_path && u->fd < 0);
			if (u->tmp_path && !u->failed) {
				struct stat st;
				ASSERT(stat(u->tmp_path, &st) == 0 && (uint64_t)st.st_size == u->size);
				ASSERT(u->size <= FILE_LIMIT && strlen(u->sha256) == 64);
			}
		}
		ASSERT(json_object_size(req->form) <= 32);
		const char *k;
		json_t *v;
		json_object_foreach(req->form, k, v)
			ASSERT(json_string_length(v) <= 4096);
		reply_ok(req, json_pack("{s:O, s:s?, s:I, s:b}", "form", req->form, "file", u ? u->filename : NULL,
					"size", (json_int_t)(u ? u->size : 0), "too_large", u && u->too_large));
	}
	const char *kept = req->upload ? req->upload->tmp_path : NULL;
	char *path = kept ? arena_strdup(req->arena, kept) : NULL;
	multipart_discard(req);
	if (path)
		ASSERT(access(path, F_OK) != 0);
	enum MHD_Result rc = MHD_queue_response(conn, (unsigned)req->status, req->resp);
	MHD_destroy_response(req->resp);
	req->resp = NULL;
	req->queued = true;
	return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *data, size_t *size, void **con_cls)
{
	UNUSED(cls);
	UNUSED(url);
	UNUSED(method);
	UNUSED(version);
	req_t *req = *con_cls;
	if (!req) {
		req = fz_req_new(M_POST, "/", 1, FZ_ANON, NULL);
		req->conn = conn;
		req->route = &upload_route;
		*con_cls = req;
		const char *ct = req_header(req, "Content-Type");
		if (!content_type_is(ct, "multipart/form-data"))
			req->early_status = 415;
		else if (!multipart_begin(req))
			req->early_status = 400;
		return MHD_YES;
	}
	if (req->queued) {
		*size = 0;
		return MHD_YES;
	}
	if (*size) {
		if (!req->early_status && !multipart_feed(req, data, *size))
			req->early_status = 400;
		*size = 0;
		return MHD_YES;
	}
	return finish(req, conn);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	UNUSED(cls);
	UNUSED(conn);
	UNUSED(toe);
	req_t *req = *con_cls;
	if (!req)
		return;
	*con_cls = NULL;
	req->conn = NULL;
	multipart_discard(req);
	fz_req_free(req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	const uint8_t *nl = memchr(data, '\n', size);
	if (!nl)
		return 0;
	strbuf_t rq;
	sb_init(&rq, 0);
	sb_adds(&rq, "POST /api/uploads/fuzz HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\nContent-Type: ");
	/* the header value: one line, no NUL (MHD would refuse the request) */
	for (const uint8_t *p = data; p < nl; p++)
		if (*p != '\r' && *p != '\0')
			sb_addc(&rq, (char)*p);
	size_t body = size - (size_t)(nl + 1 - data);
	sb_addf(&rq, "\r\nContent-Length: %zu\r\n\r\n", body);
	sb_add(&rq, nl + 1, body);
	strbuf_t answer;
	sb_init(&answer, 1 << 20);
	fz_http(rq.buf, rq.len, on_request, on_completed, &answer);
	sb_release(&answer);
	sb_release(&rq);
	return 0;
}
