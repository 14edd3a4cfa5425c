#include <semaphore.h>
#include <pthread.h>
#include <sodium.h>
#include <strings.h>
#include "password.h"
#include "../http/validate.h"
#include "../core/util.h"

static sem_t slots;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init(void)
{
	sem_init(&slots, 0, PASSWORD_MAX_PARALLEL);
}

static void take(void)
{
	pthread_once(&once, init);
	while (sem_wait(&slots) != 0)
		;
}

static void give(void)
{
	sem_post(&slots);
}

bool password_hash(const char *password, char out[PASSWORD_HASH_LEN])
{
	take();
	int rc = crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
				   crypto_pwhash_MEMLIMIT_INTERACTIVE);
	give();
	return rc == 0;
}

bool password_verify(const char *password, const char *hash)
{
	if (!hash || !*hash)
		return false;
	take();
	int rc = crypto_pwhash_str_verify(hash, password, strlen(password));
	give();
	return rc == 0;
}

static char dummy_hash[PASSWORD_HASH_LEN];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy(void)
{
	unsigned char raw[16];
	char pw[33];
	random_bytes(raw, sizeof(raw));
	sodium_bin2hex(pw, sizeof(pw), raw, sizeof(raw));
	password_hash(pw, dummy_hash);
}

void password_dummy_verify(const char *password)
{
	pthread_once(&dummy_once, make_dummy);
	password_verify(password, dummy_hash);
}

/* The most common passwords of at least 12 characters in public breach
 * lists; the length rule already refuses the shorter ones. */
static const char *common[] = {
	"123456789012", "1234567890123", "12345678910", "123456789101", "qwertyuiopas",
	"qwertyuiop123", "password1234", "password12345", "passwordpassword", "111111111111",
	"000000000000", "123123123123", "abcdefghijkl", "abc123456789", "iloveyou1234",
	"qwerty123456", "1q2w3e4r5t6y", "1qaz2wsx3edc", "zaq12wsxcde3", "qazwsxedcrfv",
	"asdfghjkl123", "letmein12345", "welcome12345", "administrator", "adminadmin123",
	"monkey123456", "dragon123456", "football1234", "baseball1234", "superman1234",
	"trustno1trustno1", "changeme1234", "p@ssw0rd1234", "passw0rd1234", "qwertyqwerty",
	"aaaaaaaaaaaa", "123qweasdzxc", "987654321098", "q1w2e3r4t5y6", "hwc3dpassword",
};

const char *password_problem(const char *password)
{
	size_t n = utf8_chars(password);
	if (n < PASSWORD_MIN_CHARS)
		return "Password must be at least 12 characters";
	if (n > PASSWORD_MAX_CHARS)
		return "Password must be at most 128 characters";
	for (size_t i = 0; i < ARRAY_LEN(common); i++)
		if (!strcasecmp(password, common[i]))
			return "This password is too common; choose another";
	return NULL;
}
