/*
 * sigv4.h: AWS Signature Version 4, the pieces S3 needs.
 *
 * libcurl's CURLOPT_AWS_SIGV4 signs the requests storage_s3.c sends; this
 * module signs what libcurl cannot: presigned (query-string) URLs handed to
 * clients.  It also computes a header signature, so tests can check it, and
 * libcurl's, against the examples AWS publishes.  SHA-256 and HMAC-SHA256
 * come from libsodium.
 *
 * Every function takes its time explicitly (struct sigv4_scope.when), so
 * tests can pin the date.  Returned strings are heap allocated, the caller
 * frees them; NULL means an input was absurdly large (over 64 KB of output).
 * No global state: thread safe.
 */
#ifndef HWC_SIGV4_H
#define HWC_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>
#include "../core/strbuf.h"

#define SIGV4_HEX_LEN 65 /* 64 lower-case hex digits and a NUL */
#define SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
/* The longest validity AWS accepts for a presigned URL: 7 days. */
#define SIGV4_MAX_EXPIRES 604800

/* Who signs, for which region and service, and when. */
struct sigv4_scope {
	const char *access_key, *secret_key;
	const char *region;  /* "us-east-1" */
	const char *service; /* "s3" */
	time_t when;
};

/* One header to sign.  Names are compared without case and values are
 * trimmed and have runs of spaces folded, as SigV4 says; names must be
 * unique. */
struct sigv4_header {
	const char *name, *value;
};

struct sigv4_request {
	const char *method;          /* "GET" */
	const char *canonical_uri;   /* the path as sent, already encoded: "/test.txt" */
	const char *canonical_query; /* sorted "a=1&b=2", already encoded; "" or NULL for none */
	const struct sigv4_header *headers;
	size_t n_headers;
	const char *payload_hash;    /* hex SHA-256 of the body, or "UNSIGNED-PAYLOAD" */
};

/* "YYYYMMDDTHHMMSSZ" (UTC) into out[17]. */
void sigv4_amz_date(time_t when, char out[17]);

void sigv4_sha256_hex(const void *data, size_t n, char out[SIGV4_HEX_LEN]);
/* The SHA-256 of f from its current position to the end, in one streaming
 * pass; f is rewound afterwards.  False on a read error. */
bool sigv4_sha256_file(FILE *f, char out[SIGV4_HEX_LEN]);

/* "host;range;x-amz-date": the sorted, lower-cased header names. */
char *sigv4_signed_headers(const struct sigv4_request *r);
/* The canonical request: method, URI, query, headers, signed headers and
 * payload hash, one per line. */
char *sigv4_canonical_request(const struct sigv4_request *r);
/* "AWS4-HMAC-SHA256\n<date>\n<scope>\n<hex sha256 of canonical request>". */
char *sigv4_string_to_sign(const struct sigv4_scope *s, const char *canonical_request);
/* The hex HMAC of string_to_sign under the key derived from the secret,
 * the day, the region and the service. */
void sigv4_signature(const struct sigv4_scope *s, const char *string_to_sign, char out[SIGV4_HEX_LEN]);

/* The Authorization header value for r (without "Authorization: "). */
char *sigv4_authorization(const struct sigv4_scope *s, const struct sigv4_request *r);

/* A query parameter, not encoded yet. */
struct sigv4_param {
	const char *name, *value;
};

/* A presigned URL: origin + canonical_uri + "?X-Amz-Algorithm=…" with
 * only the host header signed and an unsigned payload.  origin is
 * "scheme://host[:port]", host the Host header a client will send (no
 * default port).  expires_s must be 1..SIGV4_MAX_EXPIRES.  extra adds
 * signed query parameters such as response-content-disposition (n_extra
 * at most 8; none may start with "X-Amz-"). */
char *sigv4_presign(const struct sigv4_scope *s, const char *method, const char *origin, const char *host,
		    const char *canonical_uri, int expires_s, const struct sigv4_param *extra, size_t n_extra);

#endif
