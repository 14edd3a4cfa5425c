/* Access tokens: what verifies and what must not. */
#include <jwt.h>
#include <sodium.h>
#include "t.h"
#include "auth/token.h"
#include "auth/password.h"
#include "core/config.h"
#include "core/util.h"

static void set_secret(const char *s)
{
	cfg.jwt_secret_len = strlen(s);
	memcpy(cfg.jwt_secret, s, cfg.jwt_secret_len);
}

static char *b64url(const char *s)
{
	size_t n = sodium_base64_encoded_len(strlen(s), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *out = xmalloc(n);
	sodium_bin2base64(out, n, (const unsigned char *)s, strlen(s), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return out;
}

/* header.payload with an HMAC-SHA256 (or no) signature. */
static char *forge(const char *header, const char *payload, bool sign)
{
	char *h = b64url(header), *p = b64url(payload);
	char msg[1024];
	snprintf(msg, sizeof(msg), "%s.%s", h, p);
	char out[2048];
	if (sign) {
		unsigned char mac[crypto_auth_hmacsha256_BYTES];
		crypto_auth_hmacsha256_state st;
		crypto_auth_hmacsha256_init(&st, cfg.jwt_secret, cfg.jwt_secret_len);
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, strlen(msg));
		crypto_auth_hmacsha256_final(&st, mac);
		char sig[64];
		sodium_bin2base64(sig, sizeof(sig), mac, sizeof(mac), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		snprintf(out, sizeof(out), "%s.%s", msg, sig);
	} else {
		snprintf(out, sizeof(out), "%s.", msg);
	}
	free(h);
	free(p);
	return xstrdup(out);
}

TEST(token_roundtrip_and_attacks)
{
	set_secret("0123456789abcdef0123456789abcdef0123456789abcdef");
	struct token_claims c;
	char *t = token_issue(42, "admin", 900, 7);
	CHECK(t && token_verify(t, &c));
	CHECK(c.sub == 42 && !strcmp(c.role, "admin") && c.iat_ms > 0 && c.version == 7);
	/* tampered payload */
	char *tampered = xstrdup(t);
	char *dot = strchr(tampered, '.');
	dot[2] = dot[2] == 'A' ? 'B' : 'A';
	CHECK(!token_verify(tampered, &c));
	free(tampered);
	free(t);

	long now = (long)(now_ms() / 1000);
	char payload[256];
	snprintf(payload, sizeof(payload), "{\"sub\":\"1\",\"role\":\"admin\",\"iat\":%ld,\"exp\":%ld}", now, now + 600);
	char *good = forge("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, true);
	CHECK(token_verify(good, &c));
	free(good);
	char *none = forge("{\"alg\":\"none\",\"typ\":\"JWT\"}", payload, false);
	CHECK(!token_verify(none, &c));
	free(none);
	char *nosig = forge("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, false);
	CHECK(!token_verify(nosig, &c));
	free(nosig);
	/* HS512 with the right key */
	jwt_t *j;
	jwt_new(&j);
	jwt_add_grant(j, "sub", "1");
	jwt_add_grant(j, "role", "admin");
	jwt_add_grant_int(j, "exp", now + 600);
	jwt_set_alg(j, JWT_ALG_HS512, cfg.jwt_secret, (int)cfg.jwt_secret_len);
	char *hs512 = jwt_encode_str(j);
	jwt_free(j);
	CHECK(hs512 && !token_verify(hs512, &c));
	free(hs512);
	/* expired, and no exp at all */
	snprintf(payload, sizeof(payload), "{\"sub\":\"1\",\"role\":\"user\",\"iat\":%ld,\"exp\":%ld}", now - 1000, now - 1);
	char *expired = forge("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, true);
	CHECK(!token_verify(expired, &c));
	free(expired);
	snprintf(payload, sizeof(payload), "{\"sub\":\"1\",\"role\":\"user\",\"iat\":%ld}", now);
	char *noexp = forge("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, true);
	CHECK(!token_verify(noexp, &c));
	free(noexp);
	/* bad subjects */
	snprintf(payload, sizeof(payload), "{\"sub\":\"1x\",\"role\":\"user\",\"iat\":%ld,\"exp\":%ld}", now, now + 60);
	char *badsub = forge("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, true);
	CHECK(!token_verify(badsub, &c));
	free(badsub);
	CHECK(!token_verify("", &c));
	CHECK(!token_verify("a.b.c", &c));
	CHECK(!token_verify("garbage", &c));
	/* a short secret disables verification entirely */
	set_secret("short");
	char *any = forge("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, true);
	CHECK(!token_verify(any, &c));
	free(any);
}

TEST(password_policy_and_hash)
{
	CHECK(password_problem("short") != NULL);
	CHECK(password_problem("password1234") != NULL);
	CHECK(password_problem("PASSWORD1234") != NULL);
	CHECK(password_problem("a-quite-unusual-phrase") == NULL);
	char long_pw[200];
	memset(long_pw, 'z', 129);
	long_pw[129] = '\0';
	CHECK(password_problem(long_pw) != NULL);
	char hash[PASSWORD_HASH_LEN];
	CHECK(password_hash("a-quite-unusual-phrase", hash));
	CHECK(str_has_prefix(hash, "$argon2id$"));
	CHECK(password_verify("a-quite-unusual-phrase", hash));
	CHECK(!password_verify("a-quite-unusual-phrasE", hash));
	CHECK(!password_verify("x", ""));
}
