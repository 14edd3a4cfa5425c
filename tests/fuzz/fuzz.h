/*
 * fuzz.h: what the libFuzzer targets in tests/fuzz share (fuzz.c).
 *
 * Each target is one tests/fuzz/fuzz_<name>.c defining
 * LLVMFuzzerTestOneInput; `make fuzz` links it with the project objects
 * built with -fsanitize=fuzzer-no-link,address,undefined (see the Makefile
 * and scripts/fuzz.sh).
 *
 * fz_setup() gives a target the server's world without its network side:
 * settings from a fixed environment (a temp DATA_DIR on tmpfs, a fixed JWT
 * secret, rate limits off), local storage, and optionally a SQLite database
 * migrated and filled by `seed-demo` (categories, demo users and models,
 * testimonials, slides) plus an admin.  Everything lives in the temp
 * directory, removed when the fuzzer exits.
 *
 * Requests are built two ways:
 *  - fz_req_new(): a req_t without libmicrohttpd (conn NULL), its query
 *    arguments and headers carried on the request (request.h, query_kv),
 *    parsed here the way libmicrohttpd 0.9.75 parses a request target;
 *  - fz_http(): real HTTP through an in-process libmicrohttpd daemon with
 *    no listening socket, over a socketpair, for code that needs a real
 *    MHD_Connection (MHD's post processor, its cookie parser).
 * Responses are built by the real reply helpers (MHD_Response objects need
 * no daemon) and freed by fz_req_free().
 */
#ifndef HWC_FUZZ_H
#define HWC_FUZZ_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/strbuf.h"
#include "db/db.h"
#include "http/request.h"
#include "http/router.h"

enum fz_who { FZ_ANON, FZ_BUYER, FZ_CREATOR, FZ_ADMIN, FZ_WHO_COUNT };

/* Once, from LLVMFuzzerInitialize: with_db also migrates and seeds. */
void fz_setup(bool with_db);
db_t *fz_db(void);
router_t *fz_router(void);
/* A valid access token for who (NULL for FZ_ANON); admin's carries the
 * admin role claim, as after the admin login. */
const char *fz_token(enum fz_who who);

/* A request for "path?query" (the target as sent, percent-encoded) with
 * the given extra headers (name, value, ..., NULL; may be NULL), routed
 * with the real route table and, unless anonymous, signed in through
 * auth_identify.  Never NULL. */
req_t *fz_req_new(method_t m, const char *target, size_t len, enum fz_who who, const char *const *headers);
/* Frees the request with its response, like the server's on_completed. */
void fz_req_free(req_t *req);

/* Query arguments as libmicrohttpd 0.9.75 makes them: split at '&', then
 * at the first '=', '+' to space, percent-decoded like the server's
 * unescape callback (which keeps %00 encoded).  An argument without '='
 * has a NULL value.  NULL-terminated name/value pairs in a. */
const char **fz_parse_query(arena_t *a, char *query);
/* The server's percent-decoding (server.c unescape), in place. */
size_t fz_unescape(char *s);

/* Sends request (raw bytes) over a socketpair to an in-process MHD daemon
 * whose access handler is h (and completion callback done, may be NULL),
 * and collects the answer in out (may be NULL).  Bounded: gives up after
 * a few thousand event-loop rounds.  True when a response came back. */
bool fz_http(const void *request, size_t len, MHD_AccessHandlerCallback h,
	     MHD_RequestCompletedCallback done, strbuf_t *out);

/* Aborts (a finding) when a response is a server error: no input may make
 * a handler answer 500 (503, a deliberate "not configured" or "busy", is
 * allowed). */
void fz_check_status(const req_t *req);

#endif
