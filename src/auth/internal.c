#include <arpa/inet.h>
#include <sodium.h>
#include <strings.h>
#include "internal.h"
#include "../core/config.h"
#include "../core/util.h"

bool addr_is_loopback(const char *ip)
{
	unsigned char a[16];
	if (inet_pton(AF_INET, ip, a) == 1)
		return a[0] == 127;
	if (inet_pton(AF_INET6, ip, a) != 1)
		return false;
	static const unsigned char one[16] = { [15] = 1 };
	static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };
	return !memcmp(a, one, 16) || (!memcmp(a, mapped, 12) && a[12] == 127);
}

static bool addr_is_trusted_proxy(const char *ip)
{
	for (size_t i = 0; i < cfg.n_trusted_proxies; i++)
		if (cidr_match(&cfg.trusted_proxies[i], ip))
			return true;
	return false;
}

static bool local_hop(const char *ip)
{
	return ip && (addr_is_loopback(ip) || addr_is_trusted_proxy(ip));
}

/* Compares hashes, so neither the content nor the length of the token
 * leaks through timing. */
static bool token_matches(const char *authorization)
{
	if (!cfg.metrics_token || !authorization || strncasecmp(authorization, "Bearer ", 7))
		return false;
	const char *given = authorization + 7;
	while (*given == ' ')
		given++;
	unsigned char h1[crypto_generichash_BYTES], h2[crypto_generichash_BYTES];
	crypto_generichash(h1, sizeof(h1), (const unsigned char *)given, strlen(given), NULL, 0);
	crypto_generichash(h2, sizeof(h2), (const unsigned char *)cfg.metrics_token, strlen(cfg.metrics_token),
			   NULL, 0);
	return sodium_memcmp(h1, h2, sizeof(h1)) == 0;
}

bool internal_access_allowed(const char *peer, const char *client, const char *authorization)
{
	if (token_matches(authorization))
		return true;
	return local_hop(peer) && local_hop(client);
}
