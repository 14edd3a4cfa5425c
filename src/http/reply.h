/*
 * reply.h: building responses.
 *
 * Each helper creates the response for req (it is queued by the server after
 * the handler returns) and returns DONE.  JSON values passed in are stolen.
 * Errors use the guide's body {"detail", "error_code", "field_errors"?};
 * the status comes from the error code (err_status), so a handler names what
 * went wrong, not a number.
 */
#ifndef HWC_REPLY_H
#define HWC_REPLY_H

#include <jansson.h>
#include "request.h"
#include "../svc/cache.h"

typedef enum {
	ERR_VALIDATION,          /* 422 (400 for malformed JSON) */
	ERR_INVALID_CREDENTIALS, /* 401 */
	ERR_UNAUTHORIZED,        /* 401 */
	ERR_FORBIDDEN,           /* 403 */
	ERR_EMAIL_NOT_VERIFIED,  /* 403 */
	ERR_NOT_FOUND,           /* 404 */
	ERR_METHOD_NOT_ALLOWED,  /* 405 */
	ERR_EMAIL_EXISTS,        /* 409 */
	ERR_CONFLICT,            /* 409 */
	ERR_PAYMENT_FAILED,      /* 402 */
	ERR_FILE_TOO_LARGE,      /* 413 */
	ERR_INVALID_FILE_TYPE,   /* 415 */
	ERR_UNSUPPORTED_MEDIA,   /* 415, a body that is not JSON where JSON is due */
	ERR_RATE_LIMITED,        /* 429 */
	ERR_INTERNAL,            /* 500 */
	ERR_BAD_GATEWAY,         /* 502, an upstream (OAuth, payments) failed */
	ERR_UNAVAILABLE,         /* 503 */
	ERR_COUNT
} err_t;

/* Every 503 carries Retry-After (added with the common headers): the
 * request's retry_after when a handler set one, else this. */
#define RETRY_AFTER_503_S 5

int err_status(err_t e);

int reply_json(req_t *req, int status, json_t *body);
int reply_ok(req_t *req, json_t *body); /* 200 */
int reply_created(req_t *req, json_t *body); /* 201 */
int reply_no_content(req_t *req);
int reply_error(req_t *req, err_t e, const char *detail);
/* The same with an explicit status (400 for malformed JSON, 415). */
int reply_error_status(req_t *req, int status, err_t e, const char *detail);
/* An error with field_errors (stolen), e.g. 409 naming the field that clashes. */
int reply_error_fields(req_t *req, err_t e, const char *detail, json_t *field_errors);
/* 422 with field_errors {field: [message, ...]} (stolen). */
int reply_invalid(req_t *req, json_t *field_errors);
/* 422 for one field. */
int reply_invalid1(req_t *req, const char *field, const char *message);
/* 500: logs what happened with the request id; the client sees only the id. */
int reply_internal(req_t *req, const char *what);
/* Maps a failed database call: unique -> 409, busy -> 503, else 500. */
int reply_db_error(req_t *req, const char *what);
int reply_bytes(req_t *req, int status, const char *content_type, const void *data, size_t len);
/* len bytes of the open file fd from offset, sent straight from the file
 * (200, or 206 for a range; content_type may be NULL).  The response takes
 * fd and closes it when sent; on failure fd is closed and the answer is a
 * 500. */
int reply_file(req_t *req, int status, const char *content_type, int fd, uint64_t offset, uint64_t len);

/* Public-response cache: serve a stored body for key (true when served),
 * or send body and store it under the generation read before the query. */
bool reply_from_cache(req_t *req, enum cache_area area, const char *key);
/* The same without waiting for a request that computes key (cache_peek):
 * for a handler that computes on the pool (POOL_DB) and calls
 * reply_from_cache there. */
bool reply_from_cache_now(req_t *req, enum cache_area area, const char *key);
int reply_json_cached(req_t *req, json_t *body, enum cache_area area, const char *key, uint64_t gen);
/* The same for JSON text written by hand (core/jsonw.h): text is a malloc'd
 * buffer that the reply takes. */
int reply_json_text(req_t *req, int status, char *text, size_t len);
int reply_json_text_cached(req_t *req, char *text, size_t len, enum cache_area area, const char *key, uint64_t gen);

#endif
