#include "throttle.h"
#include "identity.h"
#include "../core/util.h"
#include "../svc/ratelimit.h"

static const struct rate_rule pair_rules[] = {
	{ 5, 60 * 1000 }, { 10, 15 * 60 * 1000 }, { 20, 60 * 60 * 1000 },
};
static const struct rate_rule prefix_rules[] = {
	{ 20, 15 * 60 * 1000 }, { 100, 24 * 60 * 60 * 1000 },
};
static const struct rate_rule account_rule = { 50, 60 * 60 * 1000 };
static const struct rate_rule guard_rule = { 1, 10 * 60 * 1000 };

struct keys {
	char pair[ARRAY_LEN(pair_rules)][EMAIL_MAX + 96];
	char prefix[ARRAY_LEN(prefix_rules)][96];
	char account[EMAIL_MAX + 16];
	char guard[EMAIL_MAX + 96];
};

static void keys_init(const char *email, const char *ip, struct keys *k)
{
	char pfx[64];
	ratelimit_client_prefix(ip, pfx, sizeof(pfx));
	for (size_t i = 0; i < ARRAY_LEN(pair_rules); i++)
		snprintf(k->pair[i], sizeof(k->pair[i]), "lf:p%zu:%s|%s", i, email, pfx);
	for (size_t i = 0; i < ARRAY_LEN(prefix_rules); i++)
		snprintf(k->prefix[i], sizeof(k->prefix[i]), "lf:i%zu:%s", i, pfx);
	snprintf(k->account, sizeof(k->account), "lf:a:%s", email);
	snprintf(k->guard, sizeof(k->guard), "lf:g:%s|%s", email, pfx);
}

static void spent(const char *key, const struct rate_rule *rule, bool *blocked, int *retry)
{
	int r = 0;
	if (!ratelimit_peek_rule(RL_AUTH, key, rule, &r)) {
		*blocked = true;
		*retry = MAX(*retry, r);
	}
}

bool login_throttle_blocked(const char *email, const char *ip, int *retry_after_s)
{
	struct keys k;
	keys_init(email, ip, &k);
	bool blocked = false;
	*retry_after_s = 0;
	for (size_t i = 0; i < ARRAY_LEN(pair_rules); i++)
		spent(k.pair[i], &pair_rules[i], &blocked, retry_after_s);
	for (size_t i = 0; i < ARRAY_LEN(prefix_rules); i++)
		spent(k.prefix[i], &prefix_rules[i], &blocked, retry_after_s);
	int r = 0;
	if (!ratelimit_peek_rule(RL_AUTH, k.account, &account_rule, &r))
		spent(k.guard, &guard_rule, &blocked, retry_after_s);
	return blocked;
}

void login_throttle_result(const char *email, const char *ip, bool password_ok)
{
	struct keys k;
	keys_init(email, ip, &k);
	if (password_ok) {
		for (size_t i = 0; i < ARRAY_LEN(pair_rules); i++)
			ratelimit_reset_rule(RL_AUTH, k.pair[i], &pair_rules[i]);
		ratelimit_reset_rule(RL_AUTH, k.guard, &guard_rule);
		return;
	}
	int r;
	for (size_t i = 0; i < ARRAY_LEN(pair_rules); i++)
		ratelimit_hit_rule(RL_AUTH, k.pair[i], &pair_rules[i], &r);
	for (size_t i = 0; i < ARRAY_LEN(prefix_rules); i++)
		ratelimit_hit_rule(RL_AUTH, k.prefix[i], &prefix_rules[i], &r);
	ratelimit_hit_rule(RL_AUTH, k.account, &account_rule, &r);
	ratelimit_hit_rule(RL_AUTH, k.guard, &guard_rule, &r);
}
