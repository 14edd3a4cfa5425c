/*
 * token.h: access tokens (JWT, HS256 only).
 *
 * libjwt 1.10.2 trusts the token's own "alg", never checks "exp" and skips
 * verification with an empty key, so token_verify() checks all three itself:
 * the algorithm must be HS256, the signature must verify with the configured
 * secret (which config refuses to leave empty or short), and "exp" must be
 * present and in the future.  Thread safe.
 */
#ifndef HWC_TOKEN_H
#define HWC_TOKEN_H

#include <stdbool.h>
#include <stdint.h>

#define ACCESS_TOKEN_TTL_S 900

struct token_claims {
	int64_t sub;
	char role[16];
	int64_t iat_ms;  /* issue time in ms ("ims"), or iat * 1000 */
	int64_t exp;
	int64_t version; /* "tv": the user's token_version at issue (migration
			    0025), or -1 for a token issued before it */
};

/* Returns a malloc'd token for the user, valid ttl_s seconds, carrying the
 * user's current token_version. */
char *token_issue(int64_t user_id, const char *role, int ttl_s, int64_t version);
/* True when the token is a valid, unexpired HS256 token of ours. */
bool token_verify(const char *token, struct token_claims *out);

#endif
