/*
 * password.h: password hashing with argon2id (libsodium).
 *
 * Parameters: 64 MiB and 2 passes (libsodium's INTERACTIVE), about 150 ms on
 * this class of machine.  At most PASSWORD_MAX_PARALLEL hashes run at once
 * (a semaphore), so a burst of logins queues instead of taking every core
 * and all memory.  Thread safe.
 */
#ifndef HWC_PASSWORD_H
#define HWC_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define PASSWORD_MIN_CHARS 12
#define PASSWORD_MAX_CHARS 128
#define PASSWORD_HASH_LEN 128 /* crypto_pwhash_STRBYTES */
#define PASSWORD_MAX_PARALLEL 2

/* out receives the encoded hash; false on failure (out of memory). */
bool password_hash(const char *password, char out[PASSWORD_HASH_LEN]);
bool password_verify(const char *password, const char *hash);
/* Burns the same time as a verify, for accounts that do not exist. */
void password_dummy_verify(const char *password);
/* NULL when acceptable, else the reason (length, a common password). */
const char *password_problem(const char *password);

#endif
