#include <microhttpd.h>
#include <unistd.h>
#include "reply.h"
#include "../core/log.h"
#include "../core/util.h"

static const struct {
	int status;
	const char *code;
} errors[ERR_COUNT] = {
	[ERR_VALIDATION] = { 422, "VALIDATION_ERROR" },
	[ERR_INVALID_CREDENTIALS] = { 401, "INVALID_CREDENTIALS" },
	[ERR_UNAUTHORIZED] = { 401, "UNAUTHORIZED" },
	[ERR_FORBIDDEN] = { 403, "FORBIDDEN" },
	[ERR_EMAIL_NOT_VERIFIED] = { 403, "EMAIL_NOT_VERIFIED" },
	[ERR_NOT_FOUND] = { 404, "NOT_FOUND" },
	[ERR_METHOD_NOT_ALLOWED] = { 405, "METHOD_NOT_ALLOWED" },
	[ERR_EMAIL_EXISTS] = { 409, "EMAIL_ALREADY_EXISTS" },
	[ERR_CONFLICT] = { 409, "CONFLICT" },
	[ERR_PAYMENT_FAILED] = { 402, "PAYMENT_FAILED" },
	[ERR_FILE_TOO_LARGE] = { 413, "FILE_TOO_LARGE" },
	[ERR_INVALID_FILE_TYPE] = { 415, "INVALID_FILE_TYPE" },
	[ERR_UNSUPPORTED_MEDIA] = { 415, "VALIDATION_ERROR" },
	[ERR_RATE_LIMITED] = { 429, "RATE_LIMIT_EXCEEDED" },
	[ERR_INTERNAL] = { 500, "INTERNAL_ERROR" },
	[ERR_BAD_GATEWAY] = { 502, "BAD_GATEWAY" },
	[ERR_UNAVAILABLE] = { 503, "SERVICE_UNAVAILABLE" },
};

int err_status(err_t e)
{
	return errors[e].status;
}

static char *json_dump_alloc(const json_t *v, size_t *len)
{
	/* One pass in the common case: most bodies fit the first buffer. */
	const size_t flags = JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15);
	size_t cap = 16384;
	char *buf = xmalloc(cap);
	size_t n = json_dumpb(v, buf, cap, flags);
	if (n > cap) {
		cap = n;
		buf = xrealloc(buf, cap);
		n = json_dumpb(v, buf, cap, flags);
	}
	*len = n;
	return buf;
}

int reply_bytes(req_t *req, int status, const char *content_type, const void *data, size_t len)
{
	if (req->resp) {
		/* A handler answered twice: keep the first, it is a bug. */
		log_error("request %s: second response ignored", req->request_id);
		return DONE;
	}
	req->resp = MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
	req->status = status;
	if (content_type)
		MHD_add_response_header(req->resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	return DONE;
}

int reply_file(req_t *req, int status, const char *content_type, int fd, uint64_t offset, uint64_t len)
{
	if (req->resp) {
		log_error("request %s: second response ignored", req->request_id);
		close(fd);
		return DONE;
	}
	if (offset > INT64_MAX || len > INT64_MAX - offset ||
	    !(req->resp = MHD_create_response_from_fd_at_offset64(len, fd, (int64_t)offset))) {
		close(fd);
		return reply_internal(req, "cannot serve file");
	}
	req->status = status;
	if (content_type)
		MHD_add_response_header(req->resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	return DONE;
}

int reply_json(req_t *req, int status, json_t *body)
{
	if (req->resp) {
		log_error("request %s: second response ignored", req->request_id);
		json_decref(body);
		return DONE;
	}
	size_t len;
	char *buf = json_dump_alloc(body, &len);
	json_decref(body);
	req->resp = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	req->status = status;
	MHD_add_response_header(req->resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	return DONE;
}

static bool reply_cache_hit(req_t *req, char *buf, size_t len)
{
	req->resp = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	req->status = 200;
	MHD_add_response_header(req->resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	return true;
}

bool reply_from_cache(req_t *req, enum cache_area area, const char *key)
{
	char *buf;
	size_t len;
	return !req->resp && cache_get(area, key, &buf, &len, &req->cache_claim) && reply_cache_hit(req, buf, len);
}

bool reply_from_cache_now(req_t *req, enum cache_area area, const char *key)
{
	char *buf;
	size_t len;
	return !req->resp && cache_peek(area, key, &buf, &len) && reply_cache_hit(req, buf, len);
}

int reply_json_cached(req_t *req, json_t *body, enum cache_area area, const char *key, uint64_t gen)
{
	if (req->resp) {
		json_decref(body);
		return DONE;
	}
	size_t len;
	char *buf = json_dump_alloc(body, &len);
	json_decref(body);
	cache_put(area, key, gen, buf, len);
	req->resp = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	req->status = 200;
	MHD_add_response_header(req->resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	return DONE;
}

int reply_json_text(req_t *req, int status, char *text, size_t len)
{
	if (req->resp) {
		log_error("request %s: second response ignored", req->request_id);
		free(text);
		return DONE;
	}
	req->resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	req->status = status;
	MHD_add_response_header(req->resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	return DONE;
}

int reply_json_text_cached(req_t *req, char *text, size_t len, enum cache_area area, const char *key, uint64_t gen)
{
	if (!req->resp)
		cache_put(area, key, gen, text, len);
	return reply_json_text(req, 200, text, len);
}

int reply_ok(req_t *req, json_t *body)
{
	return reply_json(req, 200, body);
}

int reply_created(req_t *req, json_t *body)
{
	return reply_json(req, 201, body);
}

int reply_no_content(req_t *req)
{
	return reply_bytes(req, 204, NULL, "", 0);
}

static int error_body(req_t *req, int status, err_t e, const char *detail, json_t *fields)
{
	json_t *body = json_object();
	json_object_set_new(body, "detail", json_string(detail));
	json_object_set_new(body, "error_code", json_string(errors[e].code));
	if (fields)
		json_object_set_new(body, "field_errors", fields);
	if (e == ERR_RATE_LIMITED)
		json_object_set_new(body, "retry_after", json_integer(req->retry_after));
	if (status >= 500)
		json_object_set_new(body, "request_id", json_string(req->request_id));
	return reply_json(req, status, body);
}

int reply_error_status(req_t *req, int status, err_t e, const char *detail)
{
	return error_body(req, status, e, detail, NULL);
}

int reply_error(req_t *req, err_t e, const char *detail)
{
	return error_body(req, errors[e].status, e, detail, NULL);
}

int reply_error_fields(req_t *req, err_t e, const char *detail, json_t *field_errors)
{
	return error_body(req, errors[e].status, e, detail, field_errors);
}

int reply_invalid(req_t *req, json_t *field_errors)
{
	return error_body(req, 422, ERR_VALIDATION, "Validation failed", field_errors);
}

int reply_invalid1(req_t *req, const char *field, const char *message)
{
	json_t *f = json_object();
	json_object_set_new(f, field, json_pack("[s]", message));
	return reply_invalid(req, f);
}

int reply_internal(req_t *req, const char *what)
{
	log_error("request %s: %s %s failed: %s", req->request_id, req->method, req->path,
		  what ? what : "internal error");
	char detail[96];
	snprintf(detail, sizeof(detail), "Internal server error (request id %s)", req->request_id);
	return error_body(req, 500, ERR_INTERNAL, detail, NULL);
}

int reply_db_error(req_t *req, const char *what)
{
	if (!req->db)
		return reply_error(req, ERR_UNAVAILABLE, "The database is unavailable; try again shortly");
	switch (db_error(req->db)) {
	case DB_ERR_UNIQUE:
		return reply_error(req, ERR_CONFLICT, "A record with these values already exists");
	case DB_ERR_BUSY:
	case DB_ERR_CONN:
		log_warn("request %s: database busy or unreachable during %s", req->request_id, what);
		return reply_error(req, ERR_UNAVAILABLE, "The database is busy; try again shortly");
	case DB_ERR_FULL:
		log_error("request %s: the database has no room during %s: %s", req->request_id, what,
			  db_errmsg(req->db));
		req->retry_after = 300;
		return reply_error(req, ERR_UNAVAILABLE, "The server is out of storage; try again later");
	default:
		return reply_internal(req, what);
	}
}
