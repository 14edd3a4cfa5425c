/*
 * fuzz_lists: every GET endpoint's query handling, in-process, against a
 * SQLite database filled by seed-demo (tests/fuzz/fuzz.c).
 *
 * Input: one byte choosing the caller (anonymous, buyer, creator, admin:
 * its value mod 4; the corpus uses '0'..'3'), then "/path?query" as sent.
 * The request is routed with the real table; a GET route whose access the
 * caller has runs its real handler (model lists and search, users search,
 * categories, leaderboard, home lists, comments, profiles...).  Any answer
 * of 500 or more, or no answer at all, is a finding (abort).
 * Routes without a database (health, metrics) are skipped.
 */
#include <stdlib.h>
#include "fuzz.h"
#include "core/util.h"
#include "http/reply.h"
#include "svc/cache.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	UNUSED(argc);
	UNUSED(argv);
	fz_setup(true);
	return 0;
}

static bool may_call(const req_t *req)
{
	const route_t *rt = req->route;
	if (!rt || rt->method != M_GET || (rt->flags & ROUTE_NO_DB))
		return false;
	if (rt->access >= ACCESS_USER && !req->user)
		return false;
	if (rt->access == ACCESS_VERIFIED && !req->user->is_email_verified)
		return false;
	if (rt->access == ACCESS_ADMIN && !req->user->is_admin)
		return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || size > 65536)
		return 0;
	enum fz_who who = (enum fz_who)(data[0] % FZ_WHO_COUNT);
	const char *target = (const char *)data + 1;
	size_t len = size - 1;
	const char *nul = memchr(target, '\0', len);
	if (nul)
		len = (size_t)(nul - target); /* the wire cannot carry a NUL in the target */
	/* Every input starts from the same state: nothing cached. */
	cache_clear();
	req_t *req = fz_req_new(M_GET, target, len, who, NULL);
	if (req->match.status == MATCH_OK && may_call(req)) {
		req->route->handler(req);
		if (!req->resp) {
			fprintf(stderr, "fuzz_lists: GET %s gave no response\n", req->path);
			abort();
		}
		fz_check_status(req);
	}
	fz_req_free(req);
	return 0;
}
