#include <errno.h>
#include <jwt.h>
#include "token.h"
#include "../core/config.h"
#include "../core/util.h"

char *token_issue(int64_t user_id, const char *role, int ttl_s, int64_t version)
{
	jwt_t *jwt = NULL;
	if (jwt_new(&jwt))
		return NULL;
	int64_t ms = now_ms();
	char sub[24];
	snprintf(sub, sizeof(sub), "%lld", (long long)user_id);
	char *out = NULL;
	if (!jwt_add_grant(jwt, "sub", sub) && !jwt_add_grant(jwt, "role", role) &&
	    !jwt_add_grant_int(jwt, "iat", ms / 1000) && !jwt_add_grant_int(jwt, "ims", ms) &&
	    !jwt_add_grant_int(jwt, "exp", ms / 1000 + ttl_s) && !jwt_add_grant_int(jwt, "tv", version) &&
	    !jwt_set_alg(jwt, JWT_ALG_HS256, cfg.jwt_secret, (int)cfg.jwt_secret_len))
		out = jwt_encode_str(jwt);
	jwt_free(jwt);
	return out;
}

bool token_verify(const char *token, struct token_claims *out)
{
	if (!token || !*token || cfg.jwt_secret_len < 32 || strlen(token) > 4096)
		return false;
	jwt_t *jwt = NULL;
	if (jwt_decode(&jwt, token, cfg.jwt_secret, (int)cfg.jwt_secret_len) || !jwt)
		return false;
	bool ok = false;
	if (jwt_get_alg(jwt) != JWT_ALG_HS256)
		goto done;
	errno = 0;
	long exp = jwt_get_grant_int(jwt, "exp");
	if (errno || exp <= 0 || (int64_t)exp <= now_ms() / 1000)
		goto done;
	const char *sub = jwt_get_grant(jwt, "sub");
	const char *role = jwt_get_grant(jwt, "role");
	if (!sub || !role || strlen(role) >= sizeof(out->role))
		goto done;
	char *end = NULL;
	errno = 0;
	long long id = strtoll(sub, &end, 10);
	if (errno || !end || *end || id <= 0)
		goto done;
	errno = 0;
	long ims = jwt_get_grant_int(jwt, "ims");
	if (errno || ims <= 0) {
		errno = 0;
		long iat = jwt_get_grant_int(jwt, "iat");
		if (errno || iat <= 0)
			goto done;
		ims = iat * 1000L;
	}
	out->sub = id;
	snprintf(out->role, sizeof(out->role), "%s", role);
	out->iat_ms = ims;
	out->exp = exp;
	errno = 0;
	long tv = jwt_get_grant_int(jwt, "tv");
	if (errno == ENOENT)
		out->version = -1;
	else if (errno || tv < 0)
		goto done;
	else
		out->version = tv;
	ok = true;
done:
	jwt_free(jwt);
	return ok;
}
